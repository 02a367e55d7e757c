//! Performance samples: request throughput and latency percentiles from the tower layer,
//! CPU and memory of the process from `/proc`.
//!
//! Request durations go into a fixed log-linear histogram of atomic counters (32 buckets per
//! power of two, so a percentile is within about 2 % of the truth): recording is one relaxed
//! atomic increment, memory is fixed (8 KiB) whatever the request rate, and the background
//! thread empties it once per sampling window.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Values below this many microseconds get one bucket each.
const LINEAR: u64 = 32;
/// Sub-buckets per power of two above that.
const SUB_BUCKETS: u64 = 32;
const SUB_BITS: u32 = 5;
/// Powers of two covered: up to 2^40 µs (about 12 days); longer durations share the last
/// bucket.
const OCTAVES: u64 = 36;
const BUCKETS: usize = (LINEAR + OCTAVES * SUB_BUCKETS) as usize;

/// What the tower layer records about requests, shared with the background thread.
#[derive(Debug)]
pub(crate) struct RequestMetrics {
    in_flight: AtomicI64,
    buckets: Box<[AtomicU64]>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self {
            in_flight: AtomicI64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// One window's request statistics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RequestWindow {
    pub(crate) count: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
}

impl RequestMetrics {
    /// Counts a request as open, until [`exit`](Self::exit).
    pub(crate) fn enter(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an open request as finished.
    pub(crate) fn exit(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed).max(0)
    }

    /// Records one finished request.
    pub(crate) fn record(&self, duration: Duration) {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
    }

    /// Empties the histogram and summarises what it held; `None` without requests.
    pub(crate) fn take_window(&self) -> Option<RequestWindow> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|bucket| bucket.swap(0, Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return None;
        }
        let percentile = |fraction: f64| {
            // The rank of the percentile, 1-based, as nearest-rank defines it.
            let rank = ((fraction * count as f64).ceil() as u64).clamp(1, count);
            let mut seen = 0;
            for (index, bucket_count) in counts.iter().enumerate() {
                seen += bucket_count;
                if seen >= rank {
                    return bucket_midpoint_micros(index) / 1000.0;
                }
            }
            bucket_midpoint_micros(BUCKETS - 1) / 1000.0
        };
        Some(RequestWindow {
            count,
            p50_ms: percentile(0.50),
            p95_ms: percentile(0.95),
            p99_ms: percentile(0.99),
        })
    }
}

fn bucket_of(micros: u64) -> usize {
    if micros < LINEAR {
        return micros as usize;
    }
    let octave = u64::from(63 - micros.leading_zeros()) - u64::from(SUB_BITS);
    let sub = (micros >> octave) - SUB_BUCKETS;
    let index = LINEAR + octave * SUB_BUCKETS + sub;
    (index as usize).min(BUCKETS - 1)
}

/// The middle of a bucket, in microseconds.
fn bucket_midpoint_micros(index: usize) -> f64 {
    let index = index as u64;
    if index < LINEAR {
        return index as f64;
    }
    let octave = (index - LINEAR) / SUB_BUCKETS;
    let sub = (index - LINEAR) % SUB_BUCKETS;
    let lower = (SUB_BUCKETS + sub) << octave;
    let width = 1_u64 << octave;
    lower as f64 + width as f64 / 2.0
}

/// CPU and memory of this process, read from `/proc` on Linux.
#[derive(Debug)]
pub(crate) struct ProcessSampler {
    last: Option<(Instant, f64)>,
}

/// One reading of the process's resources; fields are absent where the platform has no
/// `/proc`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ProcessSample {
    pub(crate) cpu_percent: Option<f64>,
    pub(crate) memory_rss_bytes: Option<u64>,
}

/// Clock ticks per second of `/proc/self/stat`'s times: the kernel's `USER_HZ`, 100 on every
/// mainstream architecture (reading it properly needs `sysconf`, which needs unsafe code).
const USER_HZ: f64 = 100.0;

impl ProcessSampler {
    /// Starts measuring CPU from now.
    pub(crate) fn new() -> Self {
        Self {
            last: read_cpu_seconds().map(|cpu| (Instant::now(), cpu)),
        }
    }

    /// CPU used since the previous sample, as percent of one core, and the resident memory.
    pub(crate) fn sample(&mut self) -> ProcessSample {
        let now = Instant::now();
        let cpu_now = read_cpu_seconds();
        let cpu_percent = match (self.last, cpu_now) {
            (Some((then, cpu_then)), Some(cpu)) => {
                let wall = now.duration_since(then).as_secs_f64();
                (wall > 0.0).then(|| ((cpu - cpu_then) / wall * 100.0).max(0.0))
            }
            _ => None,
        };
        self.last = cpu_now.map(|cpu| (now, cpu));
        ProcessSample {
            cpu_percent,
            memory_rss_bytes: read_rss_bytes(),
        }
    }
}

/// User plus system CPU time of the process, in seconds, from `/proc/self/stat`.
fn read_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_seconds(&stat)
}

fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    // The command name (field 2) is in parentheses and may contain spaces; fields after the
    // last `)` start with the state (field 3), so utime (14) and stime (15) are the 12th and
    // 13th of them.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user_ticks: u64 = fields.next()?.parse().ok()?;
    let system_ticks: u64 = fields.next()?.parse().ok()?;
    Some((user_ticks + system_ticks) as f64 / USER_HZ)
}

/// Resident memory: `VmRSS` of `/proc/self/status`, in KiB. `/proc/self/statm` has the same
/// figure in pages, but the page size varies (4 KiB to 64 KiB) and reading it needs
/// `sysconf`.
fn read_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kibibytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kibibytes * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_precise_to_a_few_percent() {
        let mut previous = 0;
        for micros in [
            0, 1, 31, 32, 33, 63, 64, 100, 1_000, 12_345, 1_000_000, 60_000_000,
        ] {
            let bucket = bucket_of(micros);
            assert!(bucket >= previous, "{micros}");
            previous = bucket;
            let midpoint = bucket_midpoint_micros(bucket);
            let error = (midpoint - micros as f64).abs() / (micros.max(1) as f64);
            assert!(error <= 0.02, "{micros}: midpoint {midpoint}");
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn window_percentiles_follow_nearest_rank_and_reset() {
        let metrics = RequestMetrics::default();
        assert_eq!(metrics.take_window(), None);
        for millis in 1..=100 {
            metrics.record(Duration::from_millis(millis));
        }
        let window = metrics.take_window().unwrap();
        assert_eq!(window.count, 100);
        let close = |actual: f64, expected: f64| (actual - expected).abs() / expected < 0.02;
        assert!(close(window.p50_ms, 50.0), "{window:?}");
        assert!(close(window.p95_ms, 95.0), "{window:?}");
        assert!(close(window.p99_ms, 99.0), "{window:?}");
        assert_eq!(metrics.take_window(), None);
    }

    #[test]
    fn in_flight_counts_open_requests() {
        let metrics = RequestMetrics::default();
        metrics.enter();
        metrics.enter();
        assert_eq!(metrics.in_flight(), 2);
        metrics.exit();
        assert_eq!(metrics.in_flight(), 1);
        metrics.exit();
        assert_eq!(metrics.in_flight(), 0);
    }

    #[test]
    fn parses_proc_files() {
        let stat = "1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 8 0";
        assert_eq!(parse_cpu_seconds(stat), Some(3.0));
        let status = "Name:\tx\nVmPeak:\t  2000 kB\nVmRSS:\t    1536 kB\n";
        assert_eq!(parse_vm_rss(status), Some(1536 * 1024));
        assert_eq!(parse_vm_rss("Name: x"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn samples_this_process() {
        let mut sampler = ProcessSampler::new();
        let mut spin = 0_u64;
        for index in 0..2_000_000_u64 {
            spin = spin.wrapping_add(index * index);
        }
        assert!(spin > 0);
        let sample = sampler.sample();
        assert!(sample.cpu_percent.is_some_and(|cpu| cpu >= 0.0));
        assert!(sample.memory_rss_bytes.is_some_and(|rss| rss > 1024 * 1024));
    }
}
