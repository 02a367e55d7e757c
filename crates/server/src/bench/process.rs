//! A `logfleet serve` child process with the resource readings benchmarks need (Linux
//! `/proc`).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A server started for a benchmark; stopped when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
}

impl ServerProcess {
    /// Starts `logfleet serve` on a free loopback port over `data_dir`, with extra
    /// `serve` flags such as `["--refresh-interval", "5s"]`.
    pub fn start(data_dir: &Path, flags: &[&str]) -> anyhow::Result<ServerProcess> {
        let address = {
            let probe = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
            probe.local_addr()?
        };
        let executable = std::env::current_exe().context("locating the logfleet executable")?;
        let child = Command::new(executable)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(address.to_string())
            .args(flags)
            .arg("--log-level")
            .arg("warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("starting logfleet serve")?;
        Ok(ServerProcess { child, address })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET /` answers.
    pub async fn wait_ready(&mut self, client: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("http://{}/", self.address);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited during start-up ({status})");
            }
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|response| response.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not answer within 60 s")
    }

    /// Whether the server process has ended (it exits at once when it cannot start).
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// User plus system CPU time consumed so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        stat_cpu_time(&format!("/proc/{}/stat", self.pid()), 11)
    }

    /// `(current RSS, peak RSS, current anonymous RSS)` in bytes. Anonymous memory is the
    /// heap; the rest of the RSS is memory-mapped index files, i.e. page cache.
    pub fn memory(&self) -> anyhow::Result<(u64, u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let read = |key: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kilobytes| kilobytes.parse::<u64>().ok())
                .map_or(0, |kilobytes| kilobytes * 1024)
        };
        Ok((read("VmRSS:"), read("VmHWM:"), read("RssAnon:")))
    }

    /// Sends SIGKILL and waits for the process to be gone: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a clean exit.
    /// Returns the CPU time the server used over its whole life, shutdown included (the
    /// final commit and the merges it lets finish), when it was this process's only child.
    pub fn stop(mut self) -> anyhow::Result<Duration> {
        terminate(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("the server exited with {status}");
                }
                // The CPU time of waited-for children, in this process's own stat.
                return stat_cpu_time("/proc/self/stat", 13);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        bail!("the server did not stop within 60 s of SIGTERM")
    }
}

/// User plus system time from a `/proc/…/stat` file, reading the two fields from `first`
/// on (counted after the command name): 11 for the process itself, 13 for its waited-for
/// children.
fn stat_cpu_time(path: &str, first: usize) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(path)?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user: u64 = fields.get(first).context("malformed /proc stat")?.parse()?;
    let system: u64 = fields
        .get(first + 1)
        .context("malformed /proc stat")?
        .parse()?;
    let ticks_per_second = 100.0;
    Ok(Duration::from_secs_f64(
        (user + system) as f64 / ticks_per_second,
    ))
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}
