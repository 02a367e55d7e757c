//! Name expressions as Elasticsearch reads them in paths and bodies: a comma-separated list of
//! names, `*` wildcards, `-` exclusions of what earlier parts matched, and `_all`.
//!
//! Index expressions (`logs-*,-logs-debug-*`), alias names (`GET /_alias/a*,-ab`), template,
//! pipeline and policy names all share this grammar; this module is the one place that reads
//! it. What a part resolves *to* (targets, aliases, backing indexes, hidden names) is the
//! caller's business: [`crate::Store::resolve`] for indexes, the catalog for the rest.

use std::collections::BTreeMap;

/// Elasticsearch's simple wildcard match (`Regex.simpleMatch`): `*` matches any run of
/// characters, everything else matches itself.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == name;
    };
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    let (middle, last) = rest.rsplit_once('*').unwrap_or(("", rest));
    for part in middle.split('*').filter(|part| !part.is_empty()) {
        match remaining.find(part) {
            Some(position) => remaining = &remaining[position + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// One comma-separated part of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// `_all` or a lone `*`: everything.
    All,
    /// A name with `*` wildcards.
    Pattern(&'a str),
    /// A name without wildcards.
    Name(&'a str),
    /// `-pattern`: takes back what earlier parts selected.
    Exclude(&'a str),
}

impl<'a> Part<'a> {
    fn parse(text: &'a str) -> Self {
        match text {
            "_all" | "*" => Part::All,
            _ => match text.strip_prefix('-') {
                Some(excluded) if !excluded.is_empty() => Part::Exclude(excluded),
                _ if text.contains('*') => Part::Pattern(text),
                _ => Part::Name(text),
            },
        }
    }

    /// Whether this part, read as an inclusion, selects `name`.
    fn selects(self, name: &str) -> bool {
        match self {
            Part::All => true,
            Part::Pattern(pattern) => wildcard_match(pattern, name),
            Part::Name(exact) => exact == name,
            Part::Exclude(_) => false,
        }
    }
}

/// A parsed expression: its parts in order, blanks dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression<'a> {
    parts: Vec<Part<'a>>,
}

impl<'a> Expression<'a> {
    /// Splits `text` at commas and reads each trimmed, non-empty part.
    pub fn parse(text: &'a str) -> Self {
        Self {
            parts: text
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(Part::parse)
                .collect(),
        }
    }

    /// The parts, in the order written.
    pub fn parts(&self) -> &[Part<'a>] {
        &self.parts
    }

    /// Whether the expression means everything: empty, or only `_all` and `*`.
    pub fn is_all(&self) -> bool {
        self.parts.iter().all(|part| *part == Part::All)
    }

    /// Whether any part has a wildcard (or is `_all`), so that matching nothing is not an
    /// error.
    pub fn has_wildcards(&self) -> bool {
        self.parts
            .iter()
            .any(|part| matches!(part, Part::All | Part::Pattern(_)))
    }

    /// Whether `name` is selected: the last part that speaks of it decides, so an exclusion
    /// takes back only what the parts before it selected (`a*,-ab` selects `ac`, not `ab`;
    /// `-ab,a*` selects both). An empty expression selects everything, as `_all` does.
    pub fn matches(&self, name: &str) -> bool {
        if self.parts.is_empty() {
            return true;
        }
        let mut selected = false;
        for part in &self.parts {
            match part {
                Part::Exclude(excluded) => {
                    if selected && wildcard_match(excluded, name) {
                        selected = false;
                    }
                }
                part => selected |= part.selects(name),
            }
        }
        selected
    }

    /// The values of a map keyed by name whose names the expression selects, in name order.
    pub fn select<T: Clone>(&self, named: &BTreeMap<String, T>) -> Vec<T> {
        named
            .iter()
            .filter(|(name, _)| self.matches(name))
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// The names written without wildcards, which must exist.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Name(name) => Some(*name),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("logs-*", "logs-a-b"));
        assert!(wildcard_match("*", "x"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
        assert!(wildcard_match("a**c", "abc"));
        assert!(wildcard_match("*-app-*", "logs-app-default"));
        assert!(!wildcard_match("logs-*", "logs"));
        assert!(wildcard_match("logs", "logs"));
        assert!(!wildcard_match("logs", "logs-a"));
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(wildcard_match("ab*ba", "abba"));
    }

    #[test]
    fn parts_are_read_in_order_and_blanks_dropped() {
        let expression = Expression::parse(" logs-*, ,-logs-debug-*,audit,_all,*");
        assert_eq!(
            expression.parts(),
            [
                Part::Pattern("logs-*"),
                Part::Exclude("logs-debug-*"),
                Part::Name("audit"),
                Part::All,
                Part::All,
            ]
        );
        assert_eq!(expression.names().collect::<Vec<_>>(), ["audit"]);
        assert!(expression.has_wildcards());
        assert!(!expression.is_all());
        assert_eq!(Expression::parse("-").parts(), [Part::Name("-")]);
    }

    #[test]
    fn everything() {
        assert!(Expression::parse("").is_all());
        assert!(Expression::parse("_all").is_all());
        assert!(Expression::parse("*,_all").is_all());
        assert!(!Expression::parse("*,-a").is_all());
        assert!(!Expression::parse("a").has_wildcards());
    }

    #[test]
    fn exclusions_take_back_only_what_came_before() {
        let expression = Expression::parse("a*,-ab*");
        assert!(expression.matches("ac"));
        assert!(!expression.matches("abc"));
        assert!(!expression.matches("b"));
        let reincluded = Expression::parse("a*,-ab*,abc");
        assert!(reincluded.matches("abc"));
        assert!(!reincluded.matches("abd"));
        let first = Expression::parse("-ab,a*");
        assert!(first.matches("ab"));
        assert!(Expression::parse("_all,-b").matches("a"));
        assert!(!Expression::parse("_all,-b").matches("b"));
        assert!(Expression::parse("").matches("a"));
    }

    #[test]
    fn alias_names_include_then_exclude() {
        let patterns = Expression::parse("logs*,-logs-old,metrics");
        assert!(patterns.matches("logs"));
        assert!(patterns.matches("logs-new"));
        assert!(!patterns.matches("logs-old"));
        assert!(patterns.matches("metrics"));
        assert!(!patterns.matches("other"));
        assert_eq!(patterns.names().collect::<Vec<_>>(), ["metrics"]);
    }
}
