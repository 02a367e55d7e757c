//! Reads uap-core's `regexes.yaml` into the `ua-parser` crate's parser descriptions.
//!
//! The file uses a small, regular corner of YAML: three top-level keys
//! (`user_agent_parsers`, `os_parsers`, `device_parsers`), each a list of flat maps whose
//! values are quoted scalars (`'…'` with `''` for a quote, or `"…"`) or `null`. This reader
//! takes exactly that and refuses anything else with the line at fault, which keeps a YAML
//! library out of the binary; the file is embedded, so the refusal can only meet a developer
//! updating it, and the tests read the whole file. Values borrow from the embedded text.

use std::borrow::Cow;

use ua_parser::{Regexes, device, os, user_agent};

/// One entry of a list: its keys and values in file order.
type Entry = Vec<(&'static str, Option<Cow<'static, str>>)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    UserAgent,
    Os,
    Device,
}

/// The parser descriptions of `text`, in the file's order.
pub fn parse(text: &'static str) -> Result<Regexes<'static>, String> {
    let mut regexes = Regexes {
        user_agent_parsers: Vec::new(),
        os_parsers: Vec::new(),
        device_parsers: Vec::new(),
    };
    let mut section = None;
    let mut current: Option<(Section, Entry, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.len() == line.len() {
            // A top-level key starts a section and ends the entry before it.
            if let Some((kind, entry, line)) = current.take() {
                push(&mut regexes, kind, entry, line)?;
            }
            section = Some(match content.trim_end() {
                "user_agent_parsers:" => Section::UserAgent,
                "os_parsers:" => Section::Os,
                "device_parsers:" => Section::Device,
                other => return Err(format!("line {number}: unknown section [{other}]")),
            });
            continue;
        }
        let Some(kind) = section else {
            return Err(format!("line {number}: an entry outside of any section"));
        };
        let (starts_entry, pair) = match content.strip_prefix("- ") {
            Some(pair) => (true, pair),
            None => (false, content),
        };
        let (key, value) = pair
            .split_once(':')
            .filter(|(key, _)| {
                !key.is_empty()
                    && key.bytes().all(|byte| {
                        byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_'
                    })
            })
            .ok_or_else(|| format!("line {number}: expected `key: value`"))?;
        let value = scalar(value.trim()).map_err(|reason| format!("line {number}: {reason}"))?;
        if starts_entry {
            if let Some((kind, entry, line)) = current.take() {
                push(&mut regexes, kind, entry, line)?;
            }
            current = Some((kind, vec![(key, value)], number));
        } else {
            let Some((_, entry, _)) = current.as_mut() else {
                return Err(format!("line {number}: a key outside of any entry"));
            };
            entry.push((key, value));
        }
    }
    if let Some((kind, entry, line)) = current.take() {
        push(&mut regexes, kind, entry, line)?;
    }
    Ok(regexes)
}

/// A scalar value: quoted, `null`, or plain, with an optional trailing comment.
fn scalar(raw: &'static str) -> Result<Option<Cow<'static, str>>, String> {
    if let Some(quoted) = raw.strip_prefix('\'') {
        let mut end = None;
        let mut escaped = false;
        let bytes = quoted.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] == b'\'' {
                if bytes.get(index + 1) == Some(&b'\'') {
                    escaped = true;
                    index += 2;
                    continue;
                }
                end = Some(index);
                break;
            }
            index += 1;
        }
        let end = end.ok_or("an unterminated single-quoted string")?;
        only_comment(&quoted[end + 1..])?;
        let body = &quoted[..end];
        return Ok(Some(if escaped {
            Cow::Owned(body.replace("''", "'"))
        } else {
            Cow::Borrowed(body)
        }));
    }
    if let Some(quoted) = raw.strip_prefix('"') {
        let mut text = String::new();
        let mut characters = quoted.char_indices();
        while let Some((index, character)) = characters.next() {
            match character {
                '"' => {
                    only_comment(&quoted[index + 1..])?;
                    return Ok(Some(Cow::Owned(text)));
                }
                '\\' => match characters.next().map(|(_, escaped)| escaped) {
                    Some('\\') => text.push('\\'),
                    Some('"') => text.push('"'),
                    Some('/') => text.push('/'),
                    Some('t') => text.push('\t'),
                    Some('n') => text.push('\n'),
                    other => return Err(format!("an unsupported escape [\\{other:?}]")),
                },
                other => text.push(other),
            }
        }
        return Err("an unterminated double-quoted string".to_owned());
    }
    let plain = match raw.find(" #") {
        Some(comment) => raw[..comment].trim_end(),
        None => raw,
    };
    Ok(match plain {
        "" | "null" | "~" => None,
        text => Some(Cow::Borrowed(text)),
    })
}

fn only_comment(rest: &str) -> Result<(), String> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!("unexpected [{rest}] after a quoted string"))
    }
}

/// Adds one entry to its section's parsers, refusing keys the section does not have.
fn push(
    regexes: &mut Regexes<'static>,
    section: Section,
    entry: Entry,
    line: usize,
) -> Result<(), String> {
    let mut regex = None;
    let mut flag = None;
    let mut replacements: [Option<Cow<'static, str>>; 5] = Default::default();
    let slots: [&str; 5] = match section {
        Section::UserAgent => [
            "family_replacement",
            "v1_replacement",
            "v2_replacement",
            "v3_replacement",
            "v4_replacement",
        ],
        Section::Os => [
            "os_replacement",
            "os_v1_replacement",
            "os_v2_replacement",
            "os_v3_replacement",
            "os_v4_replacement",
        ],
        Section::Device => [
            "device_replacement",
            "brand_replacement",
            "model_replacement",
            "",
            "",
        ],
    };
    for (key, value) in entry {
        if key == "regex" {
            regex = value;
        } else if key == "regex_flag" && section == Section::Device {
            flag = value;
        } else if let Some(slot) = slots.iter().position(|slot| *slot == key) {
            replacements[slot] = value;
        } else {
            return Err(format!("entry at line {line}: unknown key [{key}]"));
        }
    }
    let regex = regex.ok_or_else(|| format!("entry at line {line}: no regex"))?;
    let [first, second, third, fourth, fifth] = replacements;
    match section {
        Section::UserAgent => regexes.user_agent_parsers.push(user_agent::Parser {
            regex,
            family_replacement: first,
            v1_replacement: second,
            v2_replacement: third,
            v3_replacement: fourth,
            v4_replacement: fifth,
        }),
        Section::Os => regexes.os_parsers.push(os::Parser {
            regex,
            os_replacement: first,
            os_v1_replacement: second,
            os_v2_replacement: third,
            os_v3_replacement: fourth,
            os_v4_replacement: fifth,
        }),
        Section::Device => {
            let regex_flag = match flag.as_deref() {
                None => None,
                Some("i") => Some(device::Flag::IgnoreCase),
                Some(other) => {
                    return Err(format!(
                        "entry at line {line}: unknown regex_flag [{other}]"
                    ));
                }
            };
            regexes.device_parsers.push(device::Parser {
                regex,
                regex_flag,
                device_replacement: first,
                brand_replacement: second,
                model_replacement: third,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_yaml_subset() {
        let text = "# comment\nuser_agent_parsers:\n  - regex: '(Foo)/(\\d+)'\n    \
                    family_replacement: 'It''s $1' # note\n\n  - regex: \"Bar\\\\d\"\n    \
                    v1_replacement: null\nos_parsers:\n  - regex: 'Win'\n    os_replacement: \
                    'Windows'\ndevice_parsers:\n  - regex: 'ipad'\n    regex_flag: 'i'\n    \
                    device_replacement: 'iPad'\n    brand_replacement: 'Apple'\n";
        let regexes = parse(text).unwrap();
        assert_eq!(regexes.user_agent_parsers.len(), 2);
        assert_eq!(regexes.user_agent_parsers[0].regex, "(Foo)/(\\d+)");
        assert_eq!(
            regexes.user_agent_parsers[0].family_replacement.as_deref(),
            Some("It's $1")
        );
        assert_eq!(regexes.user_agent_parsers[1].regex, "Bar\\d");
        assert!(regexes.user_agent_parsers[1].v1_replacement.is_none());
        assert_eq!(
            regexes.os_parsers[0].os_replacement.as_deref(),
            Some("Windows")
        );
        let device = &regexes.device_parsers[0];
        assert!(device.regex_flag == Some(device::Flag::IgnoreCase));
        assert_eq!(device.brand_replacement.as_deref(), Some("Apple"));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        let error = |text: &'static str| parse(text).err().unwrap();
        assert_eq!(error("other:\n"), "line 1: unknown section [other:]");
        assert_eq!(
            error("os_parsers:\n  - regex: 'x'\n    colour: 'red'\n"),
            "entry at line 2: unknown key [colour]"
        );
        assert_eq!(
            error("os_parsers:\n  - regex: 'x\n"),
            "line 2: an unterminated single-quoted string"
        );
        assert_eq!(
            error("os_parsers:\n  - os_replacement: 'x'\n"),
            "entry at line 2: no regex"
        );
        assert_eq!(
            error("  - regex: 'x'\n"),
            "line 1: an entry outside of any section"
        );
    }
}
