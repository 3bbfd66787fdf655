//! The harness: guest components built from source once, a real server on
//! 127.0.0.1, and the real `molotov` binary run with a time limit.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// No run in these tests may take longer; a run that does has hung.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The repository's root. Read when the tests run, not when they compile,
/// so that a build cache shared by clones at other paths cannot point the
/// tests at another checkout.
pub fn workspace() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test");
    Path::new(&manifest_dir)
        .ancestors()
        .nth(2)
        .expect("host/cli/ is two levels down")
        .to_path_buf()
}

/// The components the tests run, compiled for wasm32-wasip2 on first use.
pub struct Guests {
    pub hello: PathBuf,
    pub read_write: PathBuf,
    pub suite: PathBuf,
    pub lifecycle: PathBuf,
    pub events: PathBuf,
    pub live: PathBuf,
    pub grpc: PathBuf,
    /// Built against contract 0.4.0, as it was released.
    pub contract_0_4_0: PathBuf,
}

pub fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(|| {
        // A target directory of its own: the outer `cargo test` holds the lock on ours.
        let target = workspace().join("target").join("e2e-guests");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace())
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .args([
                "-p",
                "hello",
                "-p",
                "read-write",
                "-p",
                "events",
                "-p",
                "live",
                "-p",
                "test-suite",
                "-p",
                "test-lifecycle",
                "-p",
                "grpc",
                "-p",
                "test-contract-0-4-0",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the guest components failed");
        let out = target.join("wasm32-wasip2").join("release");
        Guests {
            hello: out.join("hello.wasm"),
            read_write: out.join("read_write.wasm"),
            suite: out.join("test_suite.wasm"),
            lifecycle: out.join("test_lifecycle.wasm"),
            events: out.join("events.wasm"),
            live: out.join("live.wasm"),
            grpc: out.join("grpc.wasm"),
            contract_0_4_0: out.join("test_contract_0_4_0.wasm"),
        }
    })
}

/// An example of `guest-examples/<language>/<name>`, built once by
/// `molotov build` (Rust examples come from [`guests`]).
pub fn example(language: &str, name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let key = format!("{language}-{name}");
    if let Some((_, path)) = BUILT.lock().unwrap().iter().find(|(k, _)| *k == key) {
        return path.clone();
    }
    let path = match (language, name) {
        ("rust", "hello") => guests().hello.clone(),
        ("rust", "read-write") => guests().read_write.clone(),
        ("rust", "events") => guests().events.clone(),
        ("rust", "live") => guests().live.clone(),
        ("rust", "grpc") => guests().grpc.clone(),
        _ => build(
            &workspace().join("guest-examples").join(language).join(name),
            &key,
        ),
    };
    BUILT.lock().unwrap().push((key, path.clone()));
    path
}

/// Runs `molotov build PROJECT -o target/e2e-guests/NAME.wasm`.
pub fn build(project: &Path, name: &str) -> PathBuf {
    let out = workspace().join("target").join("e2e-guests");
    std::fs::create_dir_all(&out).expect("guest output dir");
    let component = out.join(format!("{name}.wasm"));
    // From another directory than the project's, as users build: a
    // JavaScript build once failed when run from `/`.
    let built = molotov()
        .current_dir("/")
        .arg("build")
        .arg(project)
        .arg("-o")
        .arg(&component)
        .output()
        .expect("molotov build starts");
    assert!(
        built.status.success(),
        "building {} failed (toolchains missing? run tests/toolchains.sh): {}",
        project.display(),
        String::from_utf8_lossy(&built.stderr)
    );
    component
}

/// The built-in target, served in-process on 127.0.0.1 by a runtime of its own.
pub struct Server {
    pub url: String,
}

impl Server {
    pub fn start() -> Self {
        let address = Self::serve(|any| Box::pin(molotov::serve::spawn(any)));
        Self {
            url: format!("http://{address}"),
        }
    }

    /// Over TLS, as `localhost`, with HTTP/2 offered by ALPN.
    pub fn start_tls(config: rustls::ServerConfig) -> Self {
        let address = Self::serve(move |any| Box::pin(molotov::serve::spawn_tls(any, config)));
        Self {
            url: format!("https://localhost:{}", address.port()),
        }
    }

    /// Runs `spawn` on a runtime of its own thread, on a free port of 127.0.0.1.
    fn serve<F>(spawn: F) -> SocketAddr
    where
        F: FnOnce(SocketAddr) -> Pin<Box<dyn Future<Output = anyhow::Result<SocketAddr>>>>
            + Send
            + 'static,
    {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let address = spawn(([127, 0, 0, 1], 0).into()).await.expect("bind");
                sender.send(address).expect("report the address");
                std::future::pending::<()>().await
            });
        });
        receiver.recv().expect("the server starts")
    }

    /// Requests the server answered so far (this one included).
    pub fn served(&self) -> u64 {
        count(&self.stats()["requests"])
    }

    /// The server's own counts (`/stats`): requests, socket messages, events.
    pub fn stats(&self) -> Value {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        use std::io::{Read, Write};
        write!(
            stream,
            "GET /stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read");
        let body = text.split("\r\n\r\n").nth(1).expect("a body");
        serde_json::from_str(body).expect("JSON")
    }
}

pub fn count(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

/// A finished run of the binary.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` results, when the run wrote them.
    pub json: Option<Value>,
}

impl Run {
    pub fn json(&self) -> &Value {
        self.json
            .as_ref()
            .unwrap_or_else(|| panic!("no JSON results; stderr: {}", self.stderr))
    }

    /// The lines a guest printed under `label` (`W:0`, `global`), without the label.
    pub fn printed_by(&self, label: &str) -> Vec<&str> {
        let prefix = format!("[{label}] ");
        self.stderr
            .lines()
            .filter_map(|line| line.strip_prefix(prefix.as_str()))
            .collect()
    }

    /// Exit code 2, one clear line naming `expected`, and no panic.
    pub fn assert_cannot_run(&self, expected: &str) {
        assert_eq!(self.code, Some(2), "stderr: {}", self.stderr);
        assert!(
            self.stderr.contains(expected),
            "expected {expected:?} in: {}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "panicked: {}",
            self.stderr
        );
    }
}

pub fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = scratch_dir("molotov-e2e");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(format!("{}-{name}", NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// This test process's directory `{prefix}-{pid}` in the temporary
/// directory. Those of earlier runs whose process is gone (hundreds of MB
/// each: built components, projects) are removed first, once per prefix.
pub fn scratch_dir(prefix: &str) -> PathBuf {
    static SWEPT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let temp = std::env::temp_dir();
    let mut swept = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
    if !swept.iter().any(|done| done == prefix) {
        swept.push(prefix.to_string());
        let stale = std::fs::read_dir(&temp)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                let name = entry.file_name();
                let pid = name
                    .to_str()
                    .and_then(|n| n.strip_prefix(prefix)?.strip_prefix('-'));
                pid.and_then(|pid| pid.parse::<u32>().ok())
                    .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
            });
        for entry in stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    temp.join(format!("{prefix}-{}", std::process::id()))
}

/// A file holding `bytes`, for the bad-input tests.
pub fn file_with(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("write scratch file");
    path
}

/// The compile cache every test's runs share.
pub fn e2e_cache() -> PathBuf {
    workspace().join("target").join("e2e-cache")
}

pub fn molotov() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_molotov"));
    command.env("MOLOTOV_CACHE_DIR", e2e_cache());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `molotov run COMPONENT --target SERVER ARGS… --json FILE`.
pub fn run_against(server: &Server, component: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--target", server.url.as_str()];
    all.extend_from_slice(args);
    run(component, &all)
}

/// The built-in target over TLS as `localhost`, with a self-signed
/// certificate and these ALPN protocols (h2 and http/1.1 if none), and the
/// PEM file that trusts it (for `--ca-cert`).
pub fn self_signed_server(alpn: Vec<Vec<u8>>) -> (Server, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("server config");
    config.alpn_protocols = alpn;
    let ca = file_with("ca.pem", certified.cert.pem().as_bytes());
    (Server::start_tls(config), ca)
}

/// A server written in Python (`python3 -c SCRIPT ARGS…`) on 127.0.0.1,
/// which prints its port on its first line; stopped when dropped.
pub struct PythonServer {
    child: Child,
    pub url: String,
}

impl PythonServer {
    pub fn start(script: &str, args: &[&std::ffi::OsStr]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut port = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut port)
            .expect("the server prints its port");
        Self {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `websockets` echo server on 127.0.0.1, stopped when dropped.
pub fn websockets_echo() -> PythonServer {
    let script = r#"
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
"#;
    PythonServer::start(script, &[])
}

/// The runs of `scenario` that passed, in a run's JSON results.
pub fn ok(json: &Value, scenario: &str) -> u64 {
    count(&json["scenarios"]["by_name"][scenario]["ok"])
}

/// Runs `molotov run COMPONENT ARGS… --json FILE` and reads the results.
pub fn run(component: &Path, args: &[&str]) -> Run {
    let component = component.to_str().expect("utf-8 path");
    let mut all = vec![component];
    all.extend_from_slice(args);
    run_args(&all)
}

/// Runs `molotov run ARGS… --json FILE` and reads the results.
pub fn run_args(args: &[&str]) -> Run {
    run_in(Path::new("."), args)
}

/// Runs `molotov run ARGS… --json FILE` in the directory `dir`, and reads
/// the results.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let json = scratch("results.json");
    let mut command = molotov();
    command.current_dir(dir);
    command.arg("run").args(args).arg("--json").arg(&json);
    let mut run = finish(command.spawn().expect("molotov starts"));
    run.json = read_json(&json);
    run
}

/// Runs `molotov run COMPONENT ARGS… --json FILE`, sends it Ctrl+C (SIGINT)
/// after `after`, and reads the results.
pub fn run_interrupted(component: &Path, args: &[&str], after: Duration) -> Run {
    let json = scratch("interrupted.json");
    let mut command = molotov();
    command
        .arg("run")
        .arg(component)
        .args(args)
        .arg("--json")
        .arg(&json);
    let child = command.spawn().expect("molotov starts");
    std::thread::sleep(after);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(status.expect("kill runs").success());
    let mut run = finish(child);
    run.json = read_json(&json);
    run
}

/// The `--json` results, when the run wrote them.
fn read_json(path: &Path) -> Option<Value> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| serde_json::from_str(&text).expect("valid JSON"))
}

/// Waits for a started `molotov`, killing it if it hangs.
fn finish(mut child: std::process::Child) -> Run {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("molotov hung for {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("output");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        json: None,
    }
}
