//! The machinery shared by every closed vocabulary of the schema (`log_category`, `level`,
//! `response_category`, `db_action`, mapping types).
//!
//! Each of those is a `keyword` field whose values come from a short fixed list, so they all
//! need the same things: a stable lowercase spelling, parsing back from text (SDKs, ingest and
//! query DSL all hand us strings), and serde as that string. One macro writes them so the
//! enums cannot drift apart in behaviour.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};

/// A string that is not one of the spellings of a closed vocabulary.
///
/// Returned by the `FromStr` implementations of [`LogCategory`](crate::LogCategory),
/// [`Level`](crate::Level), [`ResponseCategory`](crate::ResponseCategory),
/// [`DbAction`](crate::DbAction) and [`FieldKind`](crate::FieldKind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKeywordError {
    vocabulary: &'static str,
    value: String,
    expected: &'static [&'static str],
}

impl ParseKeywordError {
    pub(crate) fn new(
        vocabulary: &'static str,
        value: &str,
        expected: &'static [&'static str],
    ) -> Self {
        Self {
            vocabulary,
            value: value.to_owned(),
            expected,
        }
    }

    /// Which vocabulary was being parsed, e.g. `"log_category"`.
    pub fn vocabulary(&self) -> &'static str {
        self.vocabulary
    }

    /// The rejected input, as given.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The canonical spellings that would have been accepted.
    pub fn expected(&self) -> &'static [&'static str] {
        self.expected
    }
}

impl fmt::Display for ParseKeywordError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "unknown {} `{}`, expected one of: {}",
            self.vocabulary,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for ParseKeywordError {}

/// Deserialises any keyword enum from a string through its `FromStr`.
///
/// Generic rather than generated per enum so the visitor exists once in the binary.
pub(crate) fn deserialize_keyword<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ParseKeywordError>,
{
    struct KeywordVisitor<T>(PhantomData<T>);

    impl<T: FromStr<Err = ParseKeywordError>> Visitor<'_> for KeywordVisitor<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
            value.parse().map_err(E::custom)
        }
    }

    deserializer.deserialize_str(KeywordVisitor(PhantomData))
}

/// Declares a closed keyword vocabulary.
///
/// `Variant = "canonical" | "alias" …`: the first spelling is what `as_str`, `Display` and
/// serde write; every spelling is accepted when parsing, ignoring ASCII case, because the
/// values arrive from many producers (Python's `logging` says `WARNING`, Go's loggers `warn`)
/// and ingest normalises them to the canonical one.
macro_rules! keyword_enum {
    (
        $(#[$enum_meta:meta])*
        $visibility:vis enum $name:ident as $vocabulary:literal {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $canonical:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $visibility enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The canonical spellings, in the same order as [`Self::ALL`].
            const NAMES: &'static [&'static str] = &[$($canonical),+];

            /// Every accepted spelling (canonical ones and aliases) with its value.
            const SPELLINGS: &'static [(&'static str, Self)] =
                &[$(($canonical, Self::$variant), $(($alias, Self::$variant),)*)+];

            /// The canonical spelling, as stored in the event and in the index.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $canonical,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::keyword::ParseKeywordError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::SPELLINGS
                    .iter()
                    .find(|(spelling, _)| spelling.eq_ignore_ascii_case(text))
                    .map(|&(_, value)| value)
                    .ok_or_else(|| {
                        $crate::keyword::ParseKeywordError::new($vocabulary, text, Self::NAMES)
                    })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::keyword::deserialize_keyword(deserializer)
            }
        }

        impl From<$name> for ::serde_json::Value {
            fn from(value: $name) -> Self {
                ::serde_json::Value::String(value.as_str().to_owned())
            }
        }
    };
}

pub(crate) use keyword_enum;
