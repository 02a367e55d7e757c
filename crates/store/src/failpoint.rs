//! Failpoints: places where the store stops dead, so that crash tests can SIGKILL the
//! process at exactly that moment instead of at a random one.
//!
//! A testing aid, armed only by the environment of the process:
//! `LOGFLEET_FAILPOINT=<name>` makes a thread that reaches the named place print
//! `failpoint reached: <name>` on standard error and then sleep until the process is
//! killed; every other place runs as usual. The variable is read once, the first time any
//! place is reached, so an unset variable costs one atomic load per place after that, and
//! nothing over HTTP or in the configuration can arm a failpoint.
//!
//! The places ([`Failpoint`]):
//!
//! - `commit-before-publish`: a partition's segment is written (tantivy's prepared commit)
//!   but its `meta.json` is not;
//! - `commit-after-publish`: a commit is durable but the write-ahead log not yet trimmed
//!   behind it;
//! - `merge`: a merge thread has written one file of the merged segment;
//! - `replay`: half of the write-ahead log has been replayed at start-up.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable that arms a failpoint.
pub const FAILPOINT_VARIABLE: &str = "LOGFLEET_FAILPOINT";

/// A place where the store can be stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failpoint {
    CommitBeforePublish,
    CommitAfterPublish,
    Merge,
    Replay,
}

impl Failpoint {
    const ALL: [Failpoint; 4] = [
        Failpoint::CommitBeforePublish,
        Failpoint::CommitAfterPublish,
        Failpoint::Merge,
        Failpoint::Replay,
    ];

    /// The failpoint named `name`, as `LOGFLEET_FAILPOINT` names it.
    fn parse(name: &str) -> Option<Failpoint> {
        Failpoint::ALL
            .into_iter()
            .find(|failpoint| failpoint.name() == name.trim())
    }

    fn name(self) -> &'static str {
        match self {
            Failpoint::CommitBeforePublish => "commit-before-publish",
            Failpoint::CommitAfterPublish => "commit-after-publish",
            Failpoint::Merge => "merge",
            Failpoint::Replay => "replay",
        }
    }
}

/// The failpoint armed in this process, read from the environment once.
fn armed_failpoint() -> Option<Failpoint> {
    static ARMED: OnceLock<Option<Failpoint>> = OnceLock::new();
    *ARMED.get_or_init(|| {
        let name = std::env::var(FAILPOINT_VARIABLE).ok()?;
        let failpoint = Failpoint::parse(&name);
        if failpoint.is_none() {
            tracing::warn!(variable = FAILPOINT_VARIABLE, %name, "unknown failpoint ignored");
        }
        failpoint
    })
}

/// Whether `failpoint` is armed in this process.
pub(crate) fn armed(failpoint: Failpoint) -> bool {
    armed_failpoint() == Some(failpoint)
}

/// Stops the calling thread for good if `failpoint` is armed, after saying so on standard
/// error; returns at once otherwise.
pub(crate) fn reach(failpoint: Failpoint) {
    if !armed(failpoint) {
        return;
    }
    // Straight to standard error rather than through `tracing`, whose level may hide it:
    // a test waits for this line before it kills the process.
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "failpoint reached: {}", failpoint.name());
    let _ = stderr.flush();
    drop(stderr);
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failpoint_is_armed_by_its_own_name_only() {
        for failpoint in Failpoint::ALL {
            assert_eq!(Failpoint::parse(failpoint.name()), Some(failpoint));
        }
        assert_eq!(
            Failpoint::parse(" replay\n"),
            Some(Failpoint::Replay),
            "as a shell may pass it"
        );
        assert_eq!(Failpoint::parse("commit"), None);
        assert_eq!(Failpoint::parse(""), None);
        // The test process has no failpoint armed: every place runs through.
        if std::env::var_os(FAILPOINT_VARIABLE).is_none() {
            reach(Failpoint::Replay);
            assert!(!armed(Failpoint::Merge));
        }
    }
}
