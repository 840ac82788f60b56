//! A small SMTP server for tests. It speaks the protocol lettre uses (EHLO, AUTH PLAIN/LOGIN,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT), with PIPELINING (RFC 2920) offered unless told not to,
//! keeps every message it accepts with its envelope and whether its envelope came pipelined,
//! and misbehaves on request, chosen by the recipient's local part:
//! `tempfail…` → 451 to RCPT, `unknown…` → 550 5.1.1 to RCPT, `busy…` → 421 after the data
//! (and hangs up), `drop…` → hangs up after the data without answering.

use base64::{engine::general_purpose::STANDARD, Engine};
use std::sync::{Arc, Mutex};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// One accepted (or dropped-after-data) message.
#[derive(Clone, Debug)]
pub struct Received {
    pub rcpt: Vec<String>,
    /// The data, quoted-printable decoded.
    pub data: String,
    /// The data as it came (dot-stuffing undone), for checking signatures.
    pub raw: String,
    /// False when the server hung up instead of accepting it.
    pub accepted: bool,
    /// MAIL arrived together with the commands after it (one write).
    pub pipelined: bool,
    /// The connection it came on (numbered from 0 in the order they were accepted).
    pub connection: usize,
    /// The next message's MAIL came right behind the end of this data, before the server
    /// answered it (only watched with [`Options::watch_next_envelope`]).
    pub next_envelope_with_data: bool,
}

impl Received {
    /// A header's value (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        aura_types::mime::header(&self.data, name)
    }
}

pub struct SmtpSink {
    pub url: String,
    pub port: u16,
    pub messages: Arc<Mutex<Vec<String>>>,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// Accepted messages, quoted-printable decoded (soft line breaks joined, `=HH` escapes
    /// turned back into bytes).
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    /// Everything received, accepted or dropped after the data.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.accepted).collect()
    }

    /// How many messages were accepted (without copying them).
    pub fn accepted_count(&self) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.accepted)
            .count()
    }
}

/// How the server behaves.
#[derive(Clone, Default)]
pub struct Options {
    /// Every RCPT gets a permanent 550.
    pub refuse_recipients: bool,
    /// Offer AUTH and accept only this user and password.
    pub auth: Option<(String, String)>,
    /// Do not offer PIPELINING.
    pub no_pipelining: bool,
    /// After each message's data, wait up to 50 ms for more before answering, to see whether
    /// the client wrote the next envelope behind the data (see `Received`).
    pub watch_next_envelope: bool,
    /// Take this many messages a connection; then answer MAIL with 421 and close it.
    pub messages_per_connection: Option<usize>,
}

/// Starts the server on a free port. With `refuse_recipients`, every RCPT gets a permanent 550.
pub async fn start(refuse_recipients: bool) -> SmtpSink {
    start_with(Options {
        refuse_recipients,
        ..Options::default()
    })
    .await
}

pub async fn start_with(options: Options) -> SmtpSink {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("smtp://127.0.0.1:{port}");
    let messages = Arc::new(Mutex::new(Vec::new()));
    let received = Arc::new(Mutex::new(Vec::new()));
    let (store, log) = (messages.clone(), received.clone());
    tokio::spawn(async move {
        let mut connection = 0;
        while let Ok((socket, _)) = listener.accept().await {
            let (store, log, options) = (store.clone(), log.clone(), options.clone());
            tokio::spawn(async move { session(socket, connection, options, store, log).await });
            connection += 1;
        }
    });
    SmtpSink {
        url,
        port,
        messages,
        received,
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    connection: usize,
    options: Options,
    store: Arc<Mutex<Vec<String>>>,
    log: Arc<Mutex<Vec<Received>>>,
) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::with_capacity(64 * 1024, read).lines();
    write.write_all(b"220 sink.test ESMTP\r\n").await.ok();
    let mut rcpt: Vec<String> = Vec::new();
    let mut authed = options.auth.is_none();
    let mut pipelined = false;
    let mut taken = 0;
    let pipelining = if options.no_pipelining {
        ""
    } else {
        "250-PIPELINING\r\n"
    };
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: Vec<u8> = match verb.as_str() {
            "EHLO" if options.auth.is_some() => {
                format!("250-sink.test\r\n{pipelining}250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n")
                    .into_bytes()
            }
            "EHLO" => format!("250-sink.test\r\n{pipelining}250 8BITMIME\r\n").into_bytes(),
            "AUTH" => {
                let given = auth(&line, &mut lines, &mut write).await;
                authed = given.is_some() && given == options.auth;
                if authed {
                    b"235 2.7.0 Authentication successful\r\n".to_vec()
                } else {
                    b"535 5.7.8 Username and Password not accepted\r\n".to_vec()
                }
            }
            "MAIL" if !authed => b"530 5.7.0 Authentication required\r\n".to_vec(),
            "MAIL"
                if options
                    .messages_per_connection
                    .is_some_and(|most| taken >= most) =>
            {
                write
                    .write_all(b"421 4.7.0 Too many messages on one connection, closing\r\n")
                    .await
                    .ok();
                return;
            }
            "MAIL" | "RSET" => {
                rcpt.clear();
                // What the client wrote after MAIL is already here: it did not wait for this answer.
                pipelined = verb == "MAIL" && !lines.get_ref().buffer().is_empty();
                b"250 2.0.0 OK\r\n".to_vec()
            }
            "HELO" | "NOOP" => b"250 2.0.0 OK\r\n".to_vec(),
            "RCPT" => {
                let address = line
                    .split_once('<')
                    .and_then(|(_, r)| r.split_once('>'))
                    .map(|(a, _)| a.to_owned())
                    .unwrap_or_default();
                if options.refuse_recipients || address.starts_with("unknown") {
                    b"550 5.1.1 No such user here\r\n".to_vec()
                } else if address.starts_with("tempfail") {
                    b"451 4.7.1 Greylisted, try again later\r\n".to_vec()
                } else {
                    rcpt.push(address);
                    b"250 2.1.5 OK\r\n".to_vec()
                }
            }
            // RFC 2920: with no recipient accepted, DATA is refused (a pipelining client has
            // already sent it).
            "DATA" if rcpt.is_empty() => b"554 5.5.1 No valid recipients\r\n".to_vec(),
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .ok();
                let mut body = String::new();
                let mut complete = false;
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        complete = true;
                        break;
                    }
                    // Dot-stuffing undone.
                    body.push_str(
                        l.strip_prefix('.')
                            .filter(|_| l.starts_with(".."))
                            .unwrap_or(&l),
                    );
                    body.push_str("\r\n");
                }
                // The client went away before the end of the data: nothing was received.
                if !complete {
                    return;
                }
                let mut next_envelope_with_data = !lines.get_ref().buffer().is_empty();
                if options.watch_next_envelope && !next_envelope_with_data {
                    let more = lines.get_mut().fill_buf();
                    next_envelope_with_data =
                        tokio::time::timeout(std::time::Duration::from_millis(50), more)
                            .await
                            .is_ok_and(|r| r.is_ok_and(|b| !b.is_empty()));
                }
                let data = aura_types::mime::decode_quoted_printable(&body);
                let first = rcpt.first().cloned().unwrap_or_default();
                if first.starts_with("drop") {
                    log.lock().unwrap().push(Received {
                        rcpt: rcpt.clone(),
                        data,
                        raw: body,
                        accepted: false,
                        pipelined,
                        connection,
                        next_envelope_with_data,
                    });
                    return;
                }
                if first.starts_with("busy") {
                    write
                        .write_all(b"421 4.3.2 Service shutting down, try later\r\n")
                        .await
                        .ok();
                    return;
                }
                taken += 1;
                store.lock().unwrap().push(data.clone());
                log.lock().unwrap().push(Received {
                    rcpt: rcpt.clone(),
                    data,
                    raw: body,
                    accepted: true,
                    pipelined,
                    connection,
                    next_envelope_with_data,
                });
                b"250 2.0.0 Queued as 42\r\n".to_vec()
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await.ok();
                break;
            }
            _ => b"502 5.5.2 Command not recognized\r\n".to_vec(),
        };
        if write.write_all(&reply).await.is_err() {
            break;
        }
    }
}

/// Reads an AUTH exchange (PLAIN with or without an initial response, or LOGIN); returns the
/// user and password given.
async fn auth(
    line: &str,
    lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
) -> Option<(String, String)> {
    let mut parts = line.split_whitespace().skip(1);
    let mechanism = parts.next()?.to_ascii_uppercase();
    let decode = |s: &str| {
        STANDARD
            .decode(s.trim())
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    match mechanism.as_str() {
        "PLAIN" => {
            let payload = match parts.next() {
                Some(p) => p.to_owned(),
                None => {
                    write.write_all(b"334 \r\n").await.ok()?;
                    lines.next_line().await.ok()??
                }
            };
            let text = decode(&payload)?;
            let mut fields = text.split('\0').skip(1);
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        }
        "LOGIN" => {
            write.write_all(b"334 VXNlcm5hbWU6\r\n").await.ok()?;
            let user = decode(&lines.next_line().await.ok()??)?;
            write.write_all(b"334 UGFzc3dvcmQ6\r\n").await.ok()?;
            let pass = decode(&lines.next_line().await.ok()??)?;
            Some((user, pass))
        }
        _ => None,
    }
}
