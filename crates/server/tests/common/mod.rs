//! Starts the real `logfleet` binary on a free port over a temporary data directory.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub data_dir: PathBuf,
    _temporary: Option<tempfile::TempDir>,
    log_path: PathBuf,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub fn start() -> Server {
        let temporary = tempfile::tempdir().unwrap();
        let data_dir = temporary.path().join("data");
        let mut server = Server::start_in(&data_dir, &[]);
        server._temporary = Some(temporary);
        server
    }

    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_command("serve", data_dir, extra)
    }

    /// Starts `logfleet <subcommand>` (`serve`, `quickstart`) with `--data-dir` and
    /// `--listen` and waits until the API answers.
    pub fn start_command(subcommand: &str, data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_on_port(subcommand, data_dir, free_port(), extra)
    }

    /// As [`Server::start_command`], on a given port (to restart a server where its clients
    /// expect it).
    pub fn start_on_port(subcommand: &str, data_dir: &Path, port: u16, extra: &[&str]) -> Server {
        let log_path = data_dir.with_extension(format!("{port}.log"));
        Server::start_logging_to(subcommand, data_dir, port, &log_path, extra)
    }

    /// As [`Server::start_on_port`], with the server's log written to `log_path` (off a
    /// small file system that the test fills, for one).
    pub fn start_logging_to(
        subcommand: &str,
        data_dir: &Path,
        port: u16,
        log_path: &Path,
        extra: &[&str],
    ) -> Server {
        let server = Server::spawn(subcommand, data_dir, port, log_path, extra, &[]);
        server.wait_ready();
        server
    }

    /// `logfleet serve` with `LOGFLEET_FAILPOINT=failpoint`, once the API answers.
    pub fn start_with_failpoint(data_dir: &Path, extra: &[&str], failpoint: &str) -> Server {
        let server = Server::spawn_with_failpoint(data_dir, extra, failpoint);
        server.wait_ready();
        server
    }

    /// `logfleet serve` with `LOGFLEET_FAILPOINT=failpoint`, without waiting for the API
    /// (a failpoint reached during start-up keeps it from ever answering).
    pub fn spawn_with_failpoint(data_dir: &Path, extra: &[&str], failpoint: &str) -> Server {
        let port = free_port();
        let log_path = data_dir.with_extension(format!("{port}.log"));
        let environment = [("LOGFLEET_FAILPOINT", failpoint)];
        Server::spawn("serve", data_dir, port, &log_path, extra, &environment)
    }

    fn spawn(
        subcommand: &str,
        data_dir: &Path,
        port: u16,
        log_path: &Path,
        extra: &[&str],
        environment: &[(&str, &str)],
    ) -> Server {
        let log_path = log_path.to_owned();
        std::fs::create_dir_all(data_dir.parent().unwrap()).unwrap();
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_logfleet"))
            .arg(subcommand)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .envs(environment.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start logfleet");
        Server {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_owned(),
            _temporary: None,
            log_path,
        }
    }

    /// Waits until the server's log holds `line` (a failpoint's `failpoint reached: …`).
    pub fn wait_for_log(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.log().contains(line) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server never logged {line:?}; log:\n{}", self.log());
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if ureq_get(&format!("{}/", self.base)).is_ok_and(|response| response.0 == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "server did not start; log:\n{}",
            std::fs::read_to_string(&self.log_path).unwrap_or_default()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL: no shutdown hook runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status()
                .unwrap();
            let status = child.wait().unwrap();
            assert!(
                status.success(),
                "server exited with {status}; log:\n{}",
                self.log()
            );
        }
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let (status, text) = raw_request(
            method,
            &format!("{}{}", self.base, path),
            body.map(str::as_bytes),
            &[],
        )
        .unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.request("POST", path, Some(body))
    }

    pub fn put(&self, path: &str, body: &str) -> (u16, Value) {
        self.request("PUT", path, Some(body))
    }

    pub fn bulk(&self, path: &str, body: &str) -> (u16, Value) {
        self.request("POST", path, Some(body))
    }

    pub fn count(&self, index: &str) -> u64 {
        let (status, body) = self.get(&format!("/{index}/_count"));
        assert_eq!(status, 200, "{body}");
        body["count"].as_u64().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ureq_get(url: &str) -> std::io::Result<(u16, String)> {
    raw_request("GET", url, None, &[])
}

/// A minimal blocking HTTP/1.1 client over `TcpStream`, so tests control every byte they
/// send (invalid UTF-8, wrong encodings) and need no async runtime.
pub fn raw_request(
    method: &str,
    url: &str,
    body: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    let has_content_type = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    if !has_content_type {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, payload) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let payload = if chunked {
        dechunk(payload)
    } else {
        payload.to_owned()
    };
    Ok((status, payload))
}

/// The response headers of a request, lowercased names.
pub fn response_headers(url: &str) -> Vec<(String, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let head = response.split("\r\n\r\n").next().unwrap();
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect()
}

fn dechunk(mut payload: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, rest)) = payload.split_once(
        "
",
    ) {
        let size = usize::from_str_radix(size_line.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size.min(rest.len())]);
        payload = rest.get(size + 2..).unwrap_or("");
    }
    out
}

/// A bulk body of `count` seed-like events with ids `{prefix}-{n}`, `create` into `index`.
pub fn bulk_body(index: &str, prefix: &str, range: std::ops::Range<usize>) -> String {
    let mut body = String::new();
    for number in range {
        body.push_str(&format!(
            "{{\"create\":{{\"_index\":\"{index}\",\"_id\":\"{prefix}-{number}\"}}}}\n"
        ));
        body.push_str(&format!(
            "{{\"@timestamp\":\"2026-11-26T10:{:02}:{:02}.000Z\",\"log_category\":\"api_request\",\"message\":\"request {number}\",\"status_code\":{},\"duration_ms\":{}.5,\"app_name\":\"svc{}\"}}\n",
            (number / 60) % 60,
            number % 60,
            200 + (number % 3) * 100,
            number % 1000,
            number % 7
        ));
    }
    body
}
