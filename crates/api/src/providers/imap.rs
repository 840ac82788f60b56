//! Reading a mailbox over IMAP (RFC 3501) with async-imap, over our own TCP connection made
//! through the network policy: connecting stage by stage (TCP, TLS or STARTTLS, the greeting,
//! LOGIN) so a test names exactly what failed; the folders and their special use (RFC 6154); and
//! read-only access to a folder. A folder is opened with EXAMINE (read-only: nothing is ever
//! marked `\Seen`, moved or deleted) and mail is fetched with `BODY.PEEK[]`; new mail is awaited
//! with IDLE (RFC 2177). Every command has a timeout.

use crate::domain::mailbox::ServerFields;
use crate::providers::policy::{ConnectFailure, NetPolicy};
use async_imap::types::{NameAttribute, UnsolicitedResponse};
use aura_types::{SmtpSecurity, TestStage};
use futures_util::TryStreamExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    pub timeout: Duration,
    pub network: NetPolicy,
}

impl Server {
    pub fn new(
        f: &ServerFields,
        password: Option<String>,
        timeout: Duration,
        network: &NetPolicy,
    ) -> Self {
        Self {
            host: f.host.clone(),
            port: f.port,
            security: f.security,
            username: f.username.clone(),
            password: password.unwrap_or_default(),
            timeout,
            network: network.clone(),
        }
    }
}

/// What went wrong, and at which stage (`connect`, `tls`, `greeting`, `starttls`, `login`,
/// `folders`, or the command that failed).
#[derive(Clone, Debug)]
pub struct ImapError {
    pub stage: &'static str,
    pub detail: String,
}

impl std::fmt::Display for ImapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.stage, self.detail)
    }
}

impl std::error::Error for ImapError {}

fn err(stage: &'static str, e: impl std::fmt::Display) -> ImapError {
    ImapError {
        stage,
        detail: e.to_string(),
    }
}

/// The connection under the IMAP client: plain (a local server only) or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Stream::Plain",
            Self::Tls(_) => "Stream::Tls",
        })
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

async fn tls(host: &str, tcp: TcpStream) -> Result<Stream, ImapError> {
    let roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| err("tls", e))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(
        crate::domain::address::bare_host(host).to_owned(),
    )
    .map_err(|e| {
        err(
            "tls",
            format!("{host} cannot be checked against a certificate: {e}"),
        )
    })?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| err("tls", e))?;
    Ok(Stream::Tls(Box::new(stream)))
}

/// What a folder is for, to Aura.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Inbox,
    Junk,
    Sent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::Junk => "junk",
            Self::Sent => "sent",
        }
    }
}

/// A folder Aura reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    pub name: String,
    pub role: Role,
}

/// The folders Aura reads among those listed (name, special-use attributes): INBOX, and the
/// folders marked `\Junk` and `\Sent` — or, on a server without special-use, the one with a
/// usual name.
pub fn choose_folders(listed: &[(String, Vec<Role>)]) -> Vec<Folder> {
    let mut chosen = vec![Folder {
        name: "INBOX".into(),
        role: Role::Inbox,
    }];
    for (role, usual) in [
        (
            Role::Junk,
            &[
                "Junk",
                "Spam",
                "Junk E-mail",
                "Junk Email",
                "[Gmail]/Spam",
                "INBOX.Junk",
                "INBOX.Spam",
            ][..],
        ),
        (
            Role::Sent,
            &[
                "Sent",
                "Sent Items",
                "Sent Messages",
                "Sent Mail",
                "[Gmail]/Sent Mail",
                "INBOX.Sent",
            ][..],
        ),
    ] {
        let marked = listed.iter().find(|(_, roles)| roles.contains(&role));
        let named = || {
            usual
                .iter()
                .find_map(|u| listed.iter().find(|(n, _)| n.eq_ignore_ascii_case(u)))
        };
        if let Some((name, _)) = marked.or_else(named) {
            chosen.push(Folder {
                name: name.clone(),
                role,
            });
        }
    }
    chosen
}

/// A folder opened read-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    pub uid_validity: u32,
    pub uid_next: Option<u32>,
    pub exists: u32,
}

/// An open, logged-in connection.
pub struct Connection {
    session: async_imap::Session<Stream>,
    timeout: Duration,
    /// The server offers IDLE.
    pub idle: bool,
}

/// Runs one command within the timeout, naming it on failure.
async fn within<T>(
    timeout: Duration,
    what: &'static str,
    f: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(timeout, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(err(what, e)),
        Err(_) => Err(err(
            what,
            format!("no answer within {} s", timeout.as_secs()),
        )),
    }
}

/// Opens a logged-in connection, reporting each stage it passed to `report`.
pub async fn connect(
    s: &Server,
    report: &mut (dyn FnMut(&'static str, String) + Send),
) -> Result<Connection, ImapError> {
    let (tcp, _) = s
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
    let stream = if s.security == SmtpSecurity::Tls {
        let stream = tokio::time::timeout(s.timeout, tls(&s.host, tcp))
            .await
            .map_err(|_| err("tls", "no TLS handshake in time"))??;
        report("tls", "TLS established".into());
        stream
    } else {
        Stream::Plain(tcp)
    };
    let mut client = async_imap::Client::new(stream);
    let greeting = tokio::time::timeout(s.timeout, client.read_response())
        .await
        .map_err(|_| err("greeting", "the server sent no greeting in time"))?
        .map_err(|e| err("greeting", e))?;
    if greeting.is_none() {
        return Err(err("greeting", "the server closed the connection"));
    }
    report("greeting", "the server greeted us".into());
    if s.security == SmtpSecurity::Starttls {
        within(
            s.timeout,
            "starttls",
            client.run_command_and_check_ok("STARTTLS", None),
        )
        .await
        .map_err(|e| {
            err(
                "starttls",
                format!("{} (choose TLS on port 993, or check the port)", e.detail),
            )
        })?;
        let Stream::Plain(tcp) = client.into_inner() else {
            return Err(err("starttls", "already encrypted"));
        };
        let stream = tokio::time::timeout(s.timeout, tls(&s.host, tcp))
            .await
            .map_err(|_| err("starttls", "no TLS handshake in time"))??;
        client = async_imap::Client::new(stream);
        report("starttls", "upgraded to TLS".into());
    }
    let mut session =
        match tokio::time::timeout(s.timeout, client.login(&s.username, &s.password)).await {
            Err(_) => return Err(err("login", "no answer in time")),
            Ok(Err((async_imap::error::Error::No(text), _))) => {
                return Err(err(
                    "login",
                    format!(
                        "the server refused the user name or password: {}",
                        text.trim()
                    ),
                ))
            }
            Ok(Err((e, _))) => return Err(err("login", e)),
            Ok(Ok(session)) => session,
        };
    report("login", format!("logged in as {}", s.username));
    let capabilities = within(s.timeout, "capability", session.capabilities()).await?;
    Ok(Connection {
        idle: capabilities.has_str("IDLE"),
        session,
        timeout: s.timeout,
    })
}

/// "Test": log in, list the folders, log out; each stage up to the first that failed.
pub async fn test(s: &Server) -> Vec<TestStage> {
    let mut stages = Vec::new();
    let mut report = |stage: &'static str, detail: String| {
        stages.push(TestStage {
            stage: stage.into(),
            ok: true,
            detail,
        });
    };
    let outcome = async {
        let mut conn = connect(s, &mut report).await?;
        let folders = conn.folders().await?;
        conn.logout().await;
        Ok::<_, ImapError>(folders)
    }
    .await;
    match outcome {
        Ok(folders) => stages.push(TestStage {
            stage: "folders".into(),
            ok: true,
            detail: folders
                .iter()
                .map(|f| format!("{} ({})", f.name, f.role.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        }),
        Err(e) => stages.push(TestStage {
            stage: e.stage.into(),
            ok: false,
            detail: e.detail,
        }),
    }
    stages
}

/// Whether an unsolicited answer says new mail arrived.
fn says_new_mail(u: &UnsolicitedResponse) -> bool {
    matches!(
        u,
        UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
    )
}

impl Connection {
    /// The folders Aura reads (see [`choose_folders`]).
    pub async fn folders(&mut self) -> Result<Vec<Folder>, ImapError> {
        let timeout = self.timeout;
        let listed = within(timeout, "folders", async {
            let names: Vec<_> = self
                .session
                .list(Some(""), Some("*"))
                .await?
                .try_collect()
                .await?;
            Ok(names
                .iter()
                .filter(|n| !n.attributes().contains(&NameAttribute::NoSelect))
                .map(|n| {
                    let roles = n
                        .attributes()
                        .iter()
                        .filter_map(|a| match a {
                            NameAttribute::Junk => Some(Role::Junk),
                            NameAttribute::Sent => Some(Role::Sent),
                            _ => None,
                        })
                        .collect();
                    (n.name().to_owned(), roles)
                })
                .collect::<Vec<_>>())
        })
        .await?;
        Ok(choose_folders(&listed))
    }

    /// Opens `folder` read-only (EXAMINE).
    pub async fn examine(&mut self, folder: &str) -> Result<Opened, ImapError> {
        let m = within(self.timeout, "examine", self.session.examine(folder)).await?;
        Ok(Opened {
            uid_validity: m
                .uid_validity
                .ok_or_else(|| err("examine", format!("{folder} has no UIDVALIDITY")))?,
            uid_next: m.uid_next,
            exists: m.exists,
        })
    }

    /// The UIDs above `after` in the open folder (of mail that arrived on or after `since`, when
    /// given), ascending.
    pub async fn uids(
        &mut self,
        after: u32,
        since: Option<time::Date>,
    ) -> Result<Vec<u32>, ImapError> {
        let mut query = format!("UID {}:*", after.saturating_add(1));
        if let Some(since) = since {
            let month = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][usize::from(u8::from(since.month())) - 1];
            query.push_str(&format!(" SINCE {}-{month}-{}", since.day(), since.year()));
        }
        let found = within(self.timeout, "search", self.session.uid_search(query)).await?;
        // `n:*` also answers the highest UID when it is below n (RFC 3501 §6.4.8).
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The whole messages with these UIDs (`BODY.PEEK[]`: nothing is marked read), in the order
    /// the server sends them.
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        self.fetch_part(uids, "BODY.PEEK[]", true).await
    }

    /// The sizes in bytes (`RFC822.SIZE`) of these UIDs' messages, in the order the server
    /// sends them.
    pub async fn sizes(&mut self, uids: &[u32]) -> Result<Vec<(u32, u32)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        within(self.timeout, "fetch", async {
            let fetched: Vec<_> = self
                .session
                .uid_fetch(&set, "(UID RFC822.SIZE)")
                .await?
                .try_collect()
                .await?;
            Ok(fetched
                .iter()
                .filter_map(|f| Some((f.uid?, f.size?)))
                .collect())
        })
        .await
    }

    /// The headers alone of these UIDs.
    pub async fn fetch_headers(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        self.fetch_part(uids, "BODY.PEEK[HEADER]", false).await
    }

    async fn fetch_part(
        &mut self,
        uids: &[u32],
        item: &str,
        whole: bool,
    ) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let query = format!("(UID {item})");
        // A long fetch is given time in proportion to what it asks for.
        let timeout = self.timeout * u32::try_from(uids.len().div_ceil(100)).unwrap_or(1).max(1);
        within(timeout, "fetch", async {
            let fetched: Vec<_> = self
                .session
                .uid_fetch(&set, &query)
                .await?
                .try_collect()
                .await?;
            Ok(fetched
                .iter()
                .filter_map(|f| {
                    let bytes = if whole { f.body() } else { f.header() };
                    Some((f.uid?, bytes?.to_vec()))
                })
                .collect())
        })
        .await
    }

    /// Waits on the open folder for new mail (IDLE) for at most `wait`; answers whether
    /// something arrived. Mail the server announced before the IDLE began counts too.
    pub async fn idle(mut self, wait: Duration) -> Result<(Self, bool), ImapError> {
        let timeout = self.timeout;
        let mut arrived = self.drain();
        if arrived {
            return Ok((self, true));
        }
        let mut handle = self.session.idle();
        within(timeout, "idle", handle.init()).await?;
        {
            let (waiting, stop) = handle.wait_with_timeout(wait);
            // The server's keep-alives restart the library's own timeout: ours is the bound.
            match tokio::time::timeout(wait, waiting).await {
                Ok(Ok(async_imap::extensions::idle::IdleResponse::NewData(_))) => arrived = true,
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(e)) => return Err(err("idle", e)),
            }
            drop(stop);
        }
        self.session = within(timeout, "idle", handle.done()).await?;
        arrived |= self.drain();
        Ok((self, arrived))
    }

    /// Whether the server announced new mail between commands (and forgets what it said).
    fn drain(&mut self) -> bool {
        let mut new = false;
        while let Ok(u) = self.session.unsolicited_responses.try_recv() {
            new |= says_new_mail(&u);
        }
        new
    }

    pub async fn logout(&mut self) {
        within(self.timeout, "logout", self.session.logout())
            .await
            .ok();
    }
}

/// A UID set in ranges: `1:5,7,9:12`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_written_as_ranges() {
        assert_eq!(uid_set(&[5, 1, 2, 3, 9, 7, 8, 12]), "1:3,5,7:9,12");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[2, 2, 3]), "2:3");
    }

    #[test]
    fn special_use_wins_over_usual_names() {
        let listed = vec![
            ("INBOX".to_owned(), vec![]),
            ("Spam".to_owned(), vec![]),
            ("Courrier indésirable".to_owned(), vec![Role::Junk]),
            ("Sent Items".to_owned(), vec![]),
        ];
        let chosen = choose_folders(&listed);
        assert_eq!(
            chosen,
            vec![
                Folder {
                    name: "INBOX".into(),
                    role: Role::Inbox
                },
                Folder {
                    name: "Courrier indésirable".into(),
                    role: Role::Junk
                },
                Folder {
                    name: "Sent Items".into(),
                    role: Role::Sent
                },
            ]
        );
        // Without Junk or Sent, only the inbox is read.
        assert_eq!(choose_folders(&[("INBOX".into(), vec![])]).len(), 1);
    }
}
