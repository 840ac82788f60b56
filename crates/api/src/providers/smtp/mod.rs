//! Campaign email over SMTP, through each organization's own servers: connecting stage by stage
//! (TCP, TLS or STARTTLS, EHLO, AUTH) so a test names exactly what failed, and sending one
//! message on an open connection with an outcome that says whether the server could have
//! accepted it. Where the server offers PIPELINING (RFC 2920), a message's envelope (MAIL, RCPT,
//! DATA) goes out in one write and its answers are read in order, and on a run of messages
//! ([`send_all`]) each message's data travels with the next message's envelope: one round trip
//! a message instead of four.

pub mod pool;

use crate::domain::mailbox::ServerFields;
use crate::providers::policy::{ConnectFailure, NetPolicy};
use aura_types::{SmtpSecurity, TestStage};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use std::future::Future;
use std::time::Duration;

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: Option<String>,
    /// The name given in EHLO (the mailbox's domain).
    pub hello: String,
    pub timeout: Duration,
    /// Which addresses may be reached (checked after resolution, before any connection).
    pub network: NetPolicy,
}

impl Server {
    pub fn new(
        f: &ServerFields,
        password: Option<String>,
        from_email: &str,
        timeout: Duration,
        network: &NetPolicy,
    ) -> Self {
        Self {
            host: f.host.clone(),
            port: f.port,
            security: f.security,
            username: f.username.clone(),
            password,
            hello: from_email
                .rsplit_once('@')
                .map_or("localhost", |(_, d)| d)
                .to_owned(),
            timeout,
            network: network.clone(),
        }
    }
}

/// Why a connection could not be made.
#[derive(Clone, Debug)]
pub struct ConnectError {
    /// `connect`, `tls`, `ehlo`, `starttls` or `auth`.
    pub stage: &'static str,
    pub detail: String,
}

impl ConnectError {
    pub fn is_auth(&self) -> bool {
        self.stage == "auth"
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.stage, self.detail)
    }
}

fn err(stage: &'static str, e: impl std::fmt::Display) -> ConnectError {
    ConnectError {
        stage,
        detail: e.to_string(),
    }
}

/// An open, authenticated connection.
pub struct Connection {
    inner: AsyncSmtpConnection,
    /// The server takes pipelined commands (RFC 2920).
    pub pipelining: bool,
}

impl Connection {
    pub fn has_broken(&self) -> bool {
        self.inner.has_broken()
    }

    /// Asks the server (NOOP) whether the connection still works.
    pub async fn test_connected(&mut self) -> bool {
        self.inner.test_connected().await
    }

    /// Closes the connection without waiting for the transaction in progress.
    pub async fn abort(&mut self) {
        self.inner.abort().await;
    }

    pub async fn quit(&mut self) {
        self.inner.quit().await.ok();
    }
}

/// Whether an EHLO answer offers `keyword`.
fn offers(ehlo: &Response, keyword: &str) -> bool {
    ehlo.message().skip(1).any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
    })
}

/// Opens an authenticated connection, reporting each stage it passed to `report`.
pub async fn connect(
    s: &Server,
    report: &mut (dyn FnMut(&'static str, String) + Send),
) -> Result<Connection, ConnectError> {
    let within = |what: &'static str| {
        move |_| err(what, format!("no answer within {} s", s.timeout.as_secs()))
    };
    // The address is resolved and checked by the network policy first: a refused host is never
    // connected to, whatever its name resolves to now. Each allowed address is tried in turn.
    // Our own TCP connection (with Nagle's algorithm off: SMTP is a conversation of small
    // writes, and waiting for delayed acknowledgements would cost ~40 ms a command).
    let (tcp, address) = s
        .network
        .connect(&s.host, s.port, s.timeout)
        .await
        .map_err(|e| match e {
            ConnectFailure::Refused(r) => err("connect", r),
            ConnectFailure::TimedOut => err(
                "connect",
                format!("no answer within {} s", s.timeout.as_secs()),
            ),
            ConnectFailure::Io(e) => err(
                "connect",
                format!("cannot reach {}:{}: {e}", s.host, s.port),
            ),
        })?;
    tcp.set_nodelay(true).ok();
    report("connect", format!("reached {}:{}", s.host, s.port));
    let hello = ClientId::Domain(s.hello.clone());
    let tls = || TlsParameters::new_rustls(s.host.clone()).map_err(|e| err("tls", e));
    let mut conn = if s.security == SmtpSecurity::Tls {
        // Implicit TLS from the first byte: lettre's own connection (its TLS handshake).
        drop(tcp);
        let c = AsyncSmtpConnection::connect_tokio1(
            address,
            Some(s.timeout),
            &hello,
            Some(tls()?),
            None,
        )
        .await
        .map_err(|e| {
            if e.is_tls() {
                err("tls", e)
            } else {
                err("ehlo", e)
            }
        })?;
        report("tls", "TLS established".into());
        c
    } else {
        tokio::time::timeout(
            s.timeout,
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello),
        )
        .await
        .map_err(within("ehlo"))?
        .map_err(|e| err("ehlo", e))?
    };
    report("ehlo", "the server greeted us".into());
    if s.security == SmtpSecurity::Starttls {
        if !conn.can_starttls() {
            return Err(err(
                "starttls",
                "the server does not offer STARTTLS; choose TLS (port 465) or check the port",
            ));
        }
        tokio::time::timeout(s.timeout, conn.starttls(tls()?, &hello))
            .await
            .map_err(within("starttls"))?
            .map_err(|e| err("starttls", e))?;
        report("starttls", "upgraded to TLS".into());
    }
    // lettre keeps only the extensions it uses: whether the server takes pipelined commands is
    // read from the answer to a second EHLO (allowed at any time; before AUTH, which it would
    // otherwise reset on some servers).
    let ehlo = tokio::time::timeout(s.timeout, conn.command(Ehlo::new(hello.clone())))
        .await
        .map_err(within("ehlo"))?
        .map_err(|e| err("ehlo", e))?;
    let pipelining = offers(&ehlo, "PIPELINING");
    if !s.username.is_empty() {
        let credentials =
            Credentials::new(s.username.clone(), s.password.clone().unwrap_or_default());
        tokio::time::timeout(
            s.timeout,
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
        )
        .await
        .map_err(within("auth"))?
        .map_err(|e| err("auth", e))?;
        report("auth", format!("signed in as {}", s.username));
    }
    Ok(Connection {
        inner: conn,
        pipelining,
    })
}

/// "Test": a real connection up to authentication, then QUIT.
pub async fn test(s: &Server) -> Vec<TestStage> {
    let mut stages = Vec::new();
    let mut report = |stage: &'static str, detail: String| {
        stages.push(TestStage {
            stage: stage.into(),
            ok: true,
            detail,
        });
    };
    let outcome = connect(s, &mut report).await;
    match outcome {
        Ok(mut conn) => conn.quit().await,
        Err(e) => stages.push(TestStage {
            stage: e.stage.into(),
            ok: false,
            detail: e.detail,
        }),
    }
    stages
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (2xx after the data); the server's answer.
    Sent(String),
    /// Not accepted, may succeed later (4xx, or the connection failed before the data).
    Transient(String),
    /// Not accepted because the server is closing this connection (421), as servers that take
    /// so many messages a connection do: worth trying again at once on a new connection.
    Closing(String),
    /// Refused for good (5xx).
    Failed(String),
    /// The recipient does not exist (550/551/553 to RCPT, or a 5.1.x status).
    Bounced(String),
    /// The connection failed after the data was sent: the server may have accepted it.
    Unknown(String),
}

fn code_of(e: &lettre::transport::smtp::Error) -> Option<u16> {
    e.status().and_then(|c| c.to_string().parse().ok())
}

/// Whether an answer says the address does not exist.
fn is_bounce(code: u16, text: &str, at_rcpt: bool) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains(" 5.1.")
        || t.contains("(5.1.")
        || t.starts_with("5.1.")
        || (at_rcpt && matches!(code, 550 | 551 | 553))
        || t.contains("user unknown")
        || t.contains("no such user")
}

fn refused(e: &lettre::transport::smtp::Error, at_rcpt: bool) -> Outcome {
    let text = e.to_string();
    match code_of(e) {
        Some(421) => Outcome::Closing(text),
        Some(c) if (400..500).contains(&c) => Outcome::Transient(text),
        Some(c) if c >= 500 && is_bounce(c, &text, at_rcpt) => Outcome::Bounced(text),
        Some(c) if c >= 500 => Outcome::Failed(text),
        // No answer: the connection broke before the data went out.
        _ => Outcome::Transient(text),
    }
}

/// Text written as it is (several commands, or a message's data).
struct Verbatim(String);

impl std::fmt::Display for Verbatim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The message's data as one write: dot-stuffed (RFC 5321 §4.5.2) and ended with
/// `<CRLF>.<CRLF>`, so the data and its end travel together.
fn data_with_end(email: &str) -> Verbatim {
    let mut out = String::with_capacity(email.len() + 64);
    let mut from = 0;
    if email.starts_with('.') {
        out.push('.');
    }
    // A line that starts with a dot gets a second one.
    for (at, _) in email.match_indices('\n') {
        if email.as_bytes().get(at + 1) == Some(&b'.') {
            out.push_str(&email[from..=at]);
            out.push('.');
            from = at + 1;
        }
    }
    out.push_str(&email[from..]);
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    Verbatim(out)
}

/// Waits for one answer of the envelope; `Some` outcome when it is not a go-ahead.
async fn envelope_answer(
    timeout: Duration,
    answer: impl Future<Output = Result<Response, lettre::transport::smtp::Error>>,
    at_rcpt: bool,
) -> Option<Outcome> {
    match tokio::time::timeout(timeout, answer).await {
        Err(_) => Some(Outcome::Transient(format!(
            "no answer within {} s",
            timeout.as_secs()
        ))),
        Ok(Err(e)) => Some(refused(&e, at_rcpt)),
        Ok(Ok(_)) => None,
    }
}

/// A message's envelope as commands: MAIL (with BODY=8BITMIME where the data needs it and the
/// server takes it), one RCPT a recipient, DATA.
fn envelope_commands(conn: &Connection, envelope: &Envelope, email: &[u8]) -> (Mail, Vec<Rcpt>) {
    let mut params = Vec::new();
    if !email.is_ascii()
        && conn
            .inner
            .server_info()
            .supports_feature(Extension::EightBitMime)
    {
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let mail = Mail::new(envelope.from().cloned(), params);
    let rcpts = envelope
        .to()
        .iter()
        .map(|to| Rcpt::new(to.clone(), vec![]))
        .collect();
    (mail, rcpts)
}

/// The envelope's commands as one piece of text, for a pipelined write.
fn envelope_group(mail: &Mail, rcpts: &[Rcpt]) -> String {
    let mut group = mail.to_string();
    for rcpt in rcpts {
        group.push_str(&rcpt.to_string());
    }
    group.push_str(&Data.to_string());
    group
}

/// Reads the answers to a pipelined envelope, its MAIL answer being `first` when already read;
/// `Some` outcome when one is not a go-ahead (the answers after it are left unread: the caller
/// closes a connection whose message was not sent).
async fn pipelined_answers(
    conn: &mut Connection,
    first: Option<Result<Response, lettre::transport::smtp::Error>>,
    rcpts: usize,
    timeout: Duration,
) -> Option<Outcome> {
    let mut refusal = match first {
        Some(answer) => envelope_answer(timeout, std::future::ready(answer), false).await,
        None => envelope_answer(timeout, conn.inner.read_response(), false).await,
    };
    for _ in 0..rcpts {
        if refusal.is_none() {
            refusal = envelope_answer(timeout, conn.inner.read_response(), true).await;
        }
    }
    match refusal {
        None => envelope_answer(timeout, conn.inner.read_response(), false).await,
        some => some,
    }
}

/// Writes an envelope in one piece and reads its answers (see [`pipelined_answers`]).
async fn pipelined_envelope(
    conn: &mut Connection,
    mail: &Mail,
    rcpts: &[Rcpt],
    timeout: Duration,
) -> Option<Outcome> {
    let group = Verbatim(envelope_group(mail, rcpts));
    match tokio::time::timeout(timeout, conn.inner.command(group)).await {
        Err(_) => Some(Outcome::Transient(format!(
            "no answer within {} s",
            timeout.as_secs()
        ))),
        Ok(answer) => pipelined_answers(conn, Some(answer), rcpts.len(), timeout).await,
    }
}

/// What the answer to a message's data (or its absence) means.
fn data_outcome(
    answer: Result<Result<Response, lettre::transport::smtp::Error>, tokio::time::error::Elapsed>,
    timeout: Duration,
) -> Outcome {
    match answer {
        Ok(Ok(r)) => Outcome::Sent(format!(
            "{} {}",
            r.code(),
            r.message().collect::<Vec<_>>().join(" ")
        )),
        Ok(Err(e)) => match code_of(&e) {
            Some(_) => refused(&e, false),
            // The data went out and no answer came back: it may have been accepted.
            None => Outcome::Unknown(e.to_string()),
        },
        Err(_) => Outcome::Unknown(format!(
            "no answer to the data within {} s; it may have been accepted",
            timeout.as_secs()
        )),
    }
}

/// Sends one message on an open connection, each command within `timeout` (what [`send_all`]
/// does where it cannot pipeline). After an outcome other than `Sent`, the connection should
/// not be reused.
async fn send(
    conn: &mut Connection,
    envelope: &Envelope,
    email: &[u8],
    timeout: Duration,
) -> Outcome {
    let (mail, rcpts) = envelope_commands(conn, envelope, email);
    let refusal = if conn.pipelining {
        pipelined_envelope(conn, &mail, &rcpts, timeout).await
    } else {
        let mut refusal = envelope_answer(timeout, conn.inner.command(mail), false).await;
        for rcpt in rcpts {
            if refusal.is_none() {
                refusal = envelope_answer(timeout, conn.inner.command(rcpt), true).await;
            }
        }
        match refusal {
            None => envelope_answer(timeout, conn.inner.command(Data), false).await,
            some => some,
        }
    };
    if let Some(outcome) = refusal {
        return outcome;
    }
    let answer = match std::str::from_utf8(email) {
        Ok(text) => tokio::time::timeout(timeout, conn.inner.command(data_with_end(text))).await,
        Err(_) => tokio::time::timeout(timeout, conn.inner.message(email)).await,
    };
    data_outcome(answer, timeout)
}

/// Sends messages one after another on an open connection and returns their outcomes in order.
/// It stops after the first outcome other than `Sent` (the connection should then not be
/// reused), so it may return fewer outcomes than messages — never none for some. Where the
/// server takes PIPELINING, each message's data goes out in one write together with the next
/// message's envelope (RFC 2920 §3.1: the data may open a group), and the answers come back
/// together: one round trip a message instead of two. A next envelope sent behind data that is
/// then refused is abandoned with the connection; its message was not sent.
pub async fn send_all(
    conn: &mut Connection,
    messages: &[(&Envelope, &[u8])],
    timeout: Duration,
) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(messages.len());
    let texts: Option<Vec<&str>> = messages
        .iter()
        .map(|(_, email)| std::str::from_utf8(email).ok())
        .collect();
    let (Some(texts), true) = (texts, conn.pipelining) else {
        for (envelope, email) in messages {
            let outcome = send(conn, envelope, email, timeout).await;
            let sent = matches!(outcome, Outcome::Sent(_));
            out.push(outcome);
            if !sent {
                break;
            }
        }
        return out;
    };
    let Some((first_envelope, first_email)) = messages.first() else {
        return out;
    };
    // The first envelope on its own: its answers must be read before any data goes out.
    let (mail, rcpts) = envelope_commands(conn, first_envelope, first_email);
    if let Some(refusal) = pipelined_envelope(conn, &mail, &rcpts, timeout).await {
        out.push(refusal);
        return out;
    }
    for (i, text) in texts.iter().enumerate() {
        // This message's data, then the next message's envelope, in one write.
        let mut write = data_with_end(text);
        let next = messages.get(i + 1).map(|(envelope, email)| {
            let (mail, rcpts) = envelope_commands(conn, envelope, email);
            write.0.push_str(&envelope_group(&mail, &rcpts));
            rcpts.len()
        });
        let answer = tokio::time::timeout(timeout, conn.inner.command(write)).await;
        let outcome = data_outcome(answer, timeout);
        let sent = matches!(outcome, Outcome::Sent(_));
        out.push(outcome);
        let (true, Some(rcpts)) = (sent, next) else {
            break;
        };
        if let Some(refusal) = pipelined_answers(conn, None, rcpts, timeout).await {
            out.push(refusal);
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_dot_stuffed_and_ended_once() {
        assert_eq!(
            data_with_end("a\r\n.b\r\n..c\r\n").0,
            "a\r\n..b\r\n...c\r\n.\r\n"
        );
        assert_eq!(data_with_end("no newline").0, "no newline\r\n.\r\n");
        assert_eq!(data_with_end(".").0, "..\r\n.\r\n");
        // After a bare line feed too: a server that ends lines there must not see an end.
        assert_eq!(data_with_end("x\n.\r\n").0, "x\n..\r\n.\r\n");
        assert_eq!(data_with_end("").0, "\r\n.\r\n");
    }

    #[test]
    fn user_unknown_answers_are_bounces() {
        assert!(is_bounce(
            550,
            "permanent error (550): 5.1.1 No such user here",
            true
        ));
        assert!(is_bounce(
            550,
            "permanent error (550): mailbox unavailable",
            true
        ));
        assert!(is_bounce(
            554,
            "permanent error (554): 5.1.1 user unknown",
            false
        ));
        assert!(!is_bounce(
            554,
            "permanent error (554): 5.7.1 message rejected as spam",
            false
        ));
        assert!(!is_bounce(
            552,
            "permanent error (552): message too big",
            false
        ));
    }
}
