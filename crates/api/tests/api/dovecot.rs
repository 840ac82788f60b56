//! A private Dovecot (the real IMAP server) on loopback for the inbox tests: its own
//! configuration, folders and port under a temporary folder; any user name logs in with
//! [`PASSWORD`]; mail belongs to a numeric uid of 500 or more (Dovecot refuses system uids) when
//! the tests run as root. Stopped by its process id. `make test` installs Debian's
//! `dovecot-imapd`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use tokio::net::TcpStream;

pub const PASSWORD: &str = "imap-test-password";
const BINARY: &str = "/usr/sbin/dovecot";
/// The owner of the test mail when the tests run as root.
const MAIL_UID: u32 = 5000;

pub struct Dovecot {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn current_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Dovecot {
    pub fn start() -> Self {
        assert!(
            Path::new(BINARY).exists(),
            "Dovecot is not installed: `make test` installs it (Debian package dovecot-imapd)"
        );
        // Short: Dovecot's unix sockets live under it (a socket path has at most 108 bytes).
        let dir = PathBuf::from(format!(
            "/tmp/aura-imap-{}",
            &uuid::Uuid::now_v7().simple().to_string()[20..]
        ));
        std::fs::create_dir_all(dir.join("home")).unwrap();
        let root = current_uid() == 0;
        let (uid, internal, login) = if root {
            (MAIL_UID, "dovecot".to_owned(), "dovenull".to_owned())
        } else {
            let me = current_user();
            (current_uid(), me.clone(), me)
        };
        if root {
            Command::new("chown")
                .args([
                    &format!("{uid}:{uid}"),
                    &dir.join("home").display().to_string(),
                ])
                .status()
                .unwrap();
        }
        let port = free_port();
        let config = format!(
            r#"base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
first_valid_uid = {first}
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={d}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \Junk
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \Sent
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"#,
            d = dir.display(),
            first = uid.min(500),
        );
        std::fs::write(dir.join("dovecot.conf"), config).unwrap();
        let mut server = Self {
            port,
            dir,
            child: None,
        };
        server.run();
        server
    }

    fn run(&mut self) {
        let child = Command::new(BINARY)
            .args(["-F", "-c"])
            .arg(self.dir.join("dovecot.conf"))
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "Dovecot did not start: {}",
            std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
        );
    }

    /// Stops the server by its process id and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .arg(child.id().to_string())
                .status()
                .ok();
            child.wait().ok();
            // Its login and mail processes follow the master; wait until the port is free.
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }

    /// Gives `user`'s `folder` a new UIDVALIDITY (as a server restored from a backup, or a
    /// folder recreated, does), the messages keeping their UIDs: the server is stopped, its
    /// UID list edited and its indexes removed, then started again on the same port.
    pub fn renew_uidvalidity(&mut self, user: &str, folder: &str) {
        self.stop();
        let maildir = self.dir.join("home").join(user).join("Maildir");
        let path = if folder == "INBOX" {
            maildir.clone()
        } else {
            maildir.join(format!(".{folder}"))
        };
        let list = path.join("dovecot-uidlist");
        let text = std::fs::read_to_string(&list).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        let renewed: Vec<String> = first
            .split(' ')
            .map(|field| match field.strip_prefix('V') {
                Some(v) => format!("V{}", v.parse::<u64>().unwrap() + 1000),
                None => field.to_owned(),
            })
            .collect();
        std::fs::write(&list, format!("{}\n{rest}", renewed.join(" "))).unwrap();
        for entry in std::fs::read_dir(&path).unwrap() {
            let p = entry.unwrap().path();
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("dovecot.index"))
            {
                std::fs::remove_file(p).unwrap();
            }
        }
        self.run();
    }

    /// A logged-in session of `user` (the test's own client, as the lead's mail would arrive).
    pub async fn session(&self, user: &str) -> async_imap::Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        client
            .login(user, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// Delivers `raw` into `user`'s `folder` (APPEND). Dovecot creates Junk and Sent when a
    /// session starts (`auto = subscribe`); when the worker's session and this one start at once,
    /// one of them may find the folder "deleted under us" while the other creates it, so an
    /// APPEND refused for that reason is made again in a new session.
    pub async fn append(&self, user: &str, folder: &str, raw: &[u8]) {
        for attempt in 1.. {
            let mut s = self.session(user).await;
            let done = s.append(folder, None, None, raw).await;
            s.logout().await.ok();
            match done {
                Ok(()) => return,
                Err(e) if attempt < 5 && e.to_string().contains("deleted under us") => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("APPEND to {folder}: {e}"),
            }
        }
    }

    /// Each message of `folder`: (UID, whether it is marked \Seen).
    pub async fn flags(&self, user: &str, folder: &str) -> Vec<(u32, bool)> {
        use futures_util::TryStreamExt;
        let mut s = self.session(user).await;
        let m = s.examine(folder).await.unwrap();
        if m.exists == 0 {
            return Vec::new();
        }
        let fetched: Vec<_> = s
            .uid_fetch("1:*", "(UID FLAGS)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let out = fetched
            .iter()
            .map(|f| {
                (
                    f.uid.unwrap(),
                    f.flags().any(|x| x == async_imap::types::Flag::Seen),
                )
            })
            .collect();
        s.logout().await.ok();
        out
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
