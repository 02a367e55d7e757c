//! Joining lines into events, as Filebeat's `multiline` with `type: pattern` does: a line
//! that matches `pattern` (or, with `negate`, one that does not) belongs to the line before
//! it (`match: after`) or to the line after it (`match: before`).
//!
//! Java stack traces, for example, with `pattern: '^[[:space:]]+(at|\.{3})|^Caused by:'`,
//! `negate: false`, `match: after`; or every line not starting with a date joined to the
//! one that does, with `pattern: '^\d{4}-\d{2}-\d{2}'`, `negate: true`, `match: after`.

use regex::Regex;

/// Where matching lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// To the event of the line before them.
    After,
    /// To the event of the line after them.
    Before,
}

/// The joining rules.
#[derive(Debug, Clone)]
pub struct Multiline {
    /// Lines that continue an event match this…
    pub pattern: Regex,
    /// …or, with `negate`, do not.
    pub negate: bool,
    /// Which event they continue.
    pub match_: Match,
    /// Lines beyond this many in one event are dropped (the event is kept).
    pub max_lines: usize,
}

/// One event: its text and where it ends in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The lines, joined with `\n`.
    pub text: String,
    /// The file offset of its first byte.
    pub start: u64,
    /// The file offset just past its last line.
    pub end: u64,
    /// Lines were dropped for `max_lines`.
    pub truncated: bool,
}

/// Lines in, events out.
#[derive(Debug)]
pub struct Joiner {
    rules: Option<Multiline>,
    pending: Option<Joined>,
    pending_lines: usize,
}

impl Joiner {
    /// A joiner; with no rules every line is an event.
    pub fn new(rules: Option<Multiline>) -> Joiner {
        Joiner {
            rules,
            pending: None,
            pending_lines: 0,
        }
    }

    /// Takes the line at `[start, end)`; returns the event it completes, if any.
    pub fn push(&mut self, line: &str, start: u64, end: u64) -> Option<Joined> {
        let Some(rules) = &self.rules else {
            return Some(Joined {
                text: line.to_owned(),
                start,
                end,
                truncated: false,
            });
        };
        let continues = rules.pattern.is_match(line) != rules.negate;
        match rules.match_ {
            Match::After => {
                if continues && self.pending.is_some() {
                    self.append(line, end);
                    None
                } else {
                    let done = self.take();
                    self.begin(line, start, end);
                    done
                }
            }
            Match::Before => {
                if self.pending.is_some() {
                    self.append(line, end);
                } else {
                    self.begin(line, start, end);
                }
                if continues { None } else { self.take() }
            }
        }
    }

    /// The event in progress, ended now (at a timeout, or the end of a file).
    pub fn flush(&mut self) -> Option<Joined> {
        self.take()
    }

    /// The offset where the event in progress starts: reading resumes there after a restart.
    pub fn pending_start(&self) -> Option<u64> {
        self.pending.as_ref().map(|pending| pending.start)
    }

    fn begin(&mut self, line: &str, start: u64, end: u64) {
        self.pending = Some(Joined {
            text: line.to_owned(),
            start,
            end,
            truncated: false,
        });
        self.pending_lines = 1;
    }

    fn append(&mut self, line: &str, end: u64) {
        let max_lines = self
            .rules
            .as_ref()
            .map_or(usize::MAX, |rules| rules.max_lines);
        if let Some(pending) = &mut self.pending {
            if self.pending_lines < max_lines {
                pending.text.push('\n');
                pending.text.push_str(line);
                self.pending_lines += 1;
            } else {
                pending.truncated = true;
            }
            pending.end = end;
        }
    }

    fn take(&mut self) -> Option<Joined> {
        self.pending_lines = 0;
        self.pending.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(rules: Multiline, lines: &[&str]) -> Vec<String> {
        let mut joiner = Joiner::new(Some(rules));
        let mut offset = 0;
        let mut events = Vec::new();
        for line in lines {
            let end = offset + line.len() as u64 + 1;
            events.extend(joiner.push(line, offset, end).map(|joined| joined.text));
            offset = end;
        }
        events.extend(joiner.flush().map(|joined| joined.text));
        events
    }

    #[test]
    fn stack_traces_join_the_line_before_them() {
        let rules = Multiline {
            pattern: Regex::new(r"^[[:space:]]+(at|\.{3})|^Caused by:").unwrap(),
            negate: false,
            match_: Match::After,
            max_lines: 500,
        };
        let events = join(
            rules,
            &[
                "Exception in thread \"main\" java.lang.IllegalStateException: boom",
                "    at com.example.Main.run(Main.java:10)",
                "Caused by: java.io.IOException: disk",
                "    ... 3 more",
                "next event",
            ],
        );
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(events[0].ends_with("... 3 more"));
        assert_eq!(events[1], "next event");
    }

    #[test]
    fn lines_without_a_date_join_the_dated_one_and_max_lines_caps() {
        let rules = Multiline {
            pattern: Regex::new(r"^\d{4}-\d{2}-\d{2}").unwrap(),
            negate: true,
            match_: Match::After,
            max_lines: 2,
        };
        let mut joiner = Joiner::new(Some(rules));
        assert_eq!(joiner.push("2026-12-07 one", 0, 15), None);
        assert_eq!(joiner.push("  detail", 15, 24), None);
        assert_eq!(joiner.push("  dropped", 24, 34), None);
        assert_eq!(joiner.pending_start(), Some(0));
        let first = joiner.push("2026-12-07 two", 34, 49).unwrap();
        assert_eq!(first.text, "2026-12-07 one\n  detail");
        assert!(first.truncated);
        assert_eq!((first.start, first.end), (0, 34));
        assert_eq!(joiner.flush().unwrap().start, 34);
    }

    #[test]
    fn match_before_joins_the_line_after() {
        let rules = Multiline {
            pattern: Regex::new(r"\\$").unwrap(),
            negate: false,
            match_: Match::Before,
            max_lines: 500,
        };
        let events = join(rules, &["a \\", "b \\", "c", "d"]);
        assert_eq!(events, vec!["a \\\nb \\\nc", "d"]);
    }
}
