//! `html_strip`: HTML tags removed and entities decoded, as Lucene's `HTMLStripCharFilter`
//! does for the common cases: block-level tags become line breaks, `<script>` and `<style>`
//! lose their content, comments vanish.

use crate::PipelineError;

super::strings::string_processor!(
    /// Strips HTML from a field.
    HtmlStrip,
    "html_strip",
    |text: &str| Ok::<_, PipelineError>(strip(text))
);

const BLOCK_TAGS: [&str; 12] = [
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "pre",
];

/// The text of `html`.
pub fn strip(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(['<', '&']) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
        } else if rest.starts_with('<') {
            let Some(end) = rest.find('>') else {
                out.push_str(rest);
                return out;
            };
            let tag = rest[1..end].trim_start_matches('/').trim();
            let name: String = tag
                .chars()
                .take_while(|character| character.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            rest = &rest[end + 1..];
            if (name == "script" || name == "style") && !rest.is_empty() {
                let closing = format!("</{name}");
                let lower = rest.to_ascii_lowercase();
                rest = lower
                    .find(&closing)
                    .and_then(|at| rest[at..].find('>').map(|close| &rest[at + close + 1..]))
                    .unwrap_or("");
            } else if BLOCK_TAGS.contains(&name.as_str()) {
                out.push('\n');
            }
        } else {
            let end = rest[1..].find(';').map(|at| at + 1).filter(|at| *at <= 10);
            match end.and_then(|end| entity(&rest[1..end]).map(|character| (end, character))) {
                Some((end, character)) => {
                    out.push(character);
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "copy" => '©',
        "reg" => '®',
        "euro" => '€',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::testing::run;
    use serde_json::json;

    #[test]
    fn strips_tags_scripts_and_entities() {
        assert_eq!(
            strip("<p>a &amp; b</p><script>alert(1)</script>c&#65;&#x42;"),
            "\na & b\ncAB"
        );
        assert_eq!(
            strip("x <!-- hidden --> y &unknown; <b>bold</b>"),
            "x  y &unknown; bold"
        );
        assert_eq!(strip("unclosed <tag"), "unclosed <tag");
        let out = run(
            json!({"html_strip": {"field": "h"}}),
            json!({"h": "<i>hi</i>"}),
        );
        assert_eq!(out["h"], "hi");
    }
}
