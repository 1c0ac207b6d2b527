//! A running `chatroom` process on its own address and database.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use regex::Regex;

use crate::*;

/// A running `chatroom` process.
pub struct TestServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub db: Arc<TestDb>,
    env: Vec<(String, String)>,
    log: Arc<Mutex<Vec<String>>>,
    tmp: Arc<tempfile::TempDir>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Starts a server with extra `CHATROOM_*` settings.
    pub fn start_with(env: &[(&str, &str)]) -> TestServer {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let data_dir = tmp.path().join("data");
        let db = TestDb::create(tmp.path());
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut server = TestServer {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir,
            db: Arc::new(db),
            env,
            log: Arc::default(),
            tmp: Arc::new(tmp),
        };
        server.spawn();
        server
    }

    /// Starts a server that reaches its database at the URL `url` makes of the test
    /// database's own (through a proxy, say).
    pub fn start_with_db_url(env: &[(&str, &str)], url: impl FnOnce(&TestDb) -> String) -> TestServer {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let db = TestDb::create(tmp.path());
        let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.push(("CHATROOM_DATABASE_URL".into(), url(&db)));
        let mut server = TestServer {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir: tmp.path().join("data"),
            db: Arc::new(db),
            env,
            log: Arc::default(),
            tmp: Arc::new(tmp),
        };
        server.spawn();
        server
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server runs").id()
    }

    /// The server's resident memory, in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// Another node on the same database and data directory (so the same session key:
    /// a cookie from one node is good on every node), with its own settings.
    pub fn another_node(&self, env: &[(&str, &str)]) -> TestServer {
        let mut node = TestServer {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir: self.data_dir.clone(),
            db: self.db.clone(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            log: Arc::default(),
            tmp: self.tmp.clone(),
        };
        node.spawn();
        node
    }

    /// The `chatroom` command with this server's settings (its database, data
    /// directory, and extra settings), not yet started.
    fn command(&self) -> Command {
        let mut command = Command::new(chatroom_binary());
        for (key, _) in std::env::vars() {
            if key.starts_with("CHATROOM_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .current_dir(self.tmp.path())
            .env("CHATROOM_BIND", self.addr.to_string())
            .env("CHATROOM_DATA_DIR", &self.data_dir)
            .env("CHATROOM_DATABASE_URL", &self.db.url)
            .env("CHATROOM_BCRYPT_COST", "10")
            .env("CHATROOM_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs `chatroom <args>` (say `admin grant <phone>`) against this server's database:
    /// its exit status and what it printed (stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (std::process::ExitStatus, String, String) {
        let output = self.command().args(args).output().expect("run target/.../chatroom");
        let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
        (output.status, text(output.stdout), text(output.stderr))
    }

    fn spawn(&mut self) {
        let mut command = self.command();
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("start target/.../chatroom");
        let (tx, rx) = mpsc::channel();
        let log = self.log.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let pattern = Regex::new(r"listening on http://(\S+)").unwrap();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = pattern.captures(&line) {
                    let _ = tx.send(addr[1].to_owned());
                }
                if std::env::var_os("CHATROOM_TEST_LOG").is_some() {
                    eprintln!("[server] {line}");
                }
                log.lock().unwrap().push(line);
            }
        });
        let log = self.log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[server stderr] {line}");
                log.lock().unwrap().push(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => self.addr = addr.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start:\n{}", self.log.lock().unwrap().join("\n"));
            }
        }
        self.child = Some(child);
    }

    /// Kills the process (SIGKILL: no graceful anything) and starts it again on the
    /// same port, data directory and database.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// A new client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client::new(self)
    }

    /// Registers a new account through the page and returns a client logged in as it.
    pub async fn user(&self) -> Client {
        let mut client = self.client();
        client.register_fresh().await;
        client
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `chatroom` binary cargo built next to the test binaries (target/<profile>/).
pub fn chatroom_binary() -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/chatroom
    let profile_dir = test_binary.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join("chatroom");
    assert!(binary.exists(), "{} is missing: cargo builds it with the integration tests", binary.display());
    binary
}
