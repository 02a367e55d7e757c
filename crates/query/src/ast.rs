//! The internal query language every Elasticsearch query type is translated into, and the
//! only thing [`crate::build`] turns into tantivy queries.
//!
//! Values stay as JSON here: their meaning depends on the field's mapping (a `term` of `"42"`
//! on a `long` field compares numerically, on a `keyword` field compares strings), which is
//! only known per target when the query is built.

use serde_json::Value;

/// One bound of a range, with Elasticsearch's inclusivity.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeBound {
    /// The bound as given (number, date string, date math).
    pub value: Value,
    /// `gte`/`lte` rather than `gt`/`lt`.
    pub inclusive: bool,
}

/// How a `match` combines the analysed terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// Any (or all) of the terms, anywhere.
    Terms,
    /// The terms in order, at most `slop` positions apart.
    Phrase {
        /// Allowed distance.
        slop: u32,
    },
    /// A phrase whose last term is a prefix.
    PhrasePrefix {
        /// How many terms the prefix may expand to.
        max_expansions: u32,
    },
    /// Any (or all) of the terms anywhere, the last one as a prefix (`match_bool_prefix`).
    BoolPrefix {
        /// How many terms the prefix may expand to.
        max_expansions: u32,
    },
}

/// The edit settings of a fuzzy match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuzzySettings {
    /// How many edits.
    pub fuzziness: Fuzziness,
    /// Leading characters that must match exactly.
    pub prefix_length: usize,
    /// A swap of two adjacent characters counts as one edit.
    pub transpositions: bool,
}

/// How many edits a fuzzy term may be from the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fuzziness {
    /// Exactly this many (0, 1 or 2).
    Edits(u8),
    /// By length: none below `low` characters, one below `high`, two from `high` on.
    Auto {
        /// Shortest term allowed one edit.
        low: usize,
        /// Shortest term allowed two edits.
        high: usize,
    },
}

impl Fuzziness {
    /// Elasticsearch's `AUTO`, which is `AUTO:3,6`.
    pub const AUTO: Fuzziness = Fuzziness::Auto { low: 3, high: 6 };

    /// The edits allowed for `term`.
    pub fn edits_for(self, term: &str) -> u8 {
        match self {
            Fuzziness::Edits(edits) => edits,
            Fuzziness::Auto { low, high } => {
                let length = term.chars().count();
                if length < low {
                    0
                } else if length < high {
                    1
                } else {
                    2
                }
            }
        }
    }
}

/// A query, after parsing and before mapping-aware building.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryAst {
    /// Every document.
    MatchAll,
    /// A query whose values that do not convert to their field's type match nothing
    /// (`lenient`); see [`QueryAst::lenient`].
    Lenient(Box<QueryAst>),
    /// No document.
    MatchNone,
    /// Exact value.
    Term {
        /// Field path.
        field: String,
        /// Value.
        value: Value,
        /// Compare keywords case-insensitively.
        case_insensitive: bool,
    },
    /// Any of several exact values.
    Terms {
        /// Field path.
        field: String,
        /// Values.
        values: Vec<Value>,
    },
    /// Values within bounds.
    Range {
        /// Field path.
        field: String,
        /// Lower bound.
        lower: Option<RangeBound>,
        /// Upper bound.
        upper: Option<RangeBound>,
        /// Date format of string bounds (`strict_date_optional_time` when absent).
        format: Option<String>,
        /// Time zone of date bounds without one (`+01:00`).
        time_zone: Option<String>,
    },
    /// The field has a value.
    Exists {
        /// Field path (or object path).
        field: String,
    },
    /// Documents by `_id`.
    Ids {
        /// The ids.
        values: Vec<String>,
    },
    /// Boolean combination.
    Bool {
        /// Must match, scored.
        must: Vec<QueryAst>,
        /// Must match, not scored.
        filter: Vec<QueryAst>,
        /// Should match.
        should: Vec<QueryAst>,
        /// Must not match.
        must_not: Vec<QueryAst>,
        /// How many `should` clauses must match.
        minimum_should_match: Option<usize>,
    },
    /// Full-text match on one field (`match`, `match_phrase`, `match_phrase_prefix`).
    Match {
        /// Field path.
        field: String,
        /// The text (or value, on exact-value fields).
        query: Value,
        /// Every term required (`operator: and`) rather than any.
        operator_and: bool,
        /// How many terms must match with `operator: or`.
        minimum_should_match: Option<Value>,
        /// Terms, phrase or phrase prefix.
        kind: MatchKind,
    },
    /// The same match over several fields (`multi_match`); field names may use `*`.
    MultiMatch {
        /// Field paths or patterns.
        fields: Vec<String>,
        /// The text.
        query: Value,
        /// Every term required.
        operator_and: bool,
        /// Terms, phrase or phrase prefix.
        kind: MatchKind,
        /// Fuzzy terms (`fuzziness`), for the terms kind.
        fuzzy: Option<FuzzySettings>,
    },
    /// Values (terms, for text) matching a regular expression (`wildcard` and `regexp`).
    Regex {
        /// Field path.
        field: String,
        /// The whole value must match this regular expression.
        regex: String,
        /// Ignore letter case.
        case_insensitive: bool,
    },
    /// Values within a number of single-character edits (`fuzzy`, `match` with
    /// `fuzziness`, Lucene's `term~`).
    Fuzzy {
        /// Field path.
        field: String,
        /// The value; analysed into terms on text fields when `analyzed`.
        value: String,
        /// How many edits.
        fuzziness: Fuzziness,
        /// Leading characters that must match exactly.
        prefix_length: usize,
        /// A swap of two adjacent characters counts as one edit.
        transpositions: bool,
        /// Analyse `value` (as `match` does) rather than take it as one term (as `fuzzy`).
        analyzed: bool,
        /// With `analyzed`: every term required rather than any.
        operator_and: bool,
    },
    /// Values starting with a prefix.
    Prefix {
        /// Field path.
        field: String,
        /// The prefix.
        value: String,
    },
    /// A query with a score multiplier.
    Boost {
        /// The query.
        query: Box<QueryAst>,
        /// Multiplier.
        boost: f32,
    },
    /// A query whose matches all get the same score.
    ConstantScore {
        /// The query.
        query: Box<QueryAst>,
        /// The score.
        score: f32,
    },
}

impl QueryAst {
    /// Wraps in a boost unless the boost is the neutral 1.
    pub fn boosted(self, boost: Option<f32>) -> QueryAst {
        match boost {
            Some(boost) if (boost - 1.0).abs() > f32::EPSILON => QueryAst::Boost {
                query: Box::new(self),
                boost,
            },
            _ => self,
        }
    }

    /// This query with each of its leaves lenient: a clause whose value does not convert to
    /// its field's type matches nothing, and the rest of the query still runs (`lenient` of
    /// `query_string`, `simple_query_string`, `match` and `multi_match`).
    pub fn lenient(self) -> QueryAst {
        let all = |queries: Vec<QueryAst>| queries.into_iter().map(QueryAst::lenient).collect();
        match self {
            QueryAst::Bool {
                must,
                filter,
                should,
                must_not,
                minimum_should_match,
            } => QueryAst::Bool {
                must: all(must),
                filter: all(filter),
                should: all(should),
                must_not: all(must_not),
                minimum_should_match,
            },
            QueryAst::Boost { query, boost } => QueryAst::Boost {
                query: Box::new(query.lenient()),
                boost,
            },
            QueryAst::ConstantScore { query, score } => QueryAst::ConstantScore {
                query: Box::new(query.lenient()),
                score,
            },
            QueryAst::MatchAll | QueryAst::MatchNone | QueryAst::Lenient(_) => self,
            leaf => QueryAst::Lenient(Box::new(leaf)),
        }
    }
}
