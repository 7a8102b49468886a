//! Escaping text for HTML and XML.
//!
//! Written here rather than taken from a crate on purpose: each format needs five replacements,
//! and XML 1.0 also forbids some characters outright (most C0 controls, U+FFFE, U+FFFF), which
//! no HTML-escaping crate drops. A forbidden character becomes U+FFFD, so the output stays
//! well formed whatever a delegation typed.

const REPLACEMENT: char = '\u{fffd}';

/// Text or an attribute value in HTML: `&`, `<`, `>`, `"` and `'` become references, NUL
/// becomes U+FFFD.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push(REPLACEMENT),
            c => out.push(c),
        }
    }
    out
}

/// Text or an attribute value in XML 1.0. Tab, line feed and carriage return are written as
/// character references so that attribute-value normalisation keeps them.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if allowed_in_xml(c) => out.push(c),
            _ => out.push(REPLACEMENT),
        }
    }
    out
}

/// XML 1.0 `Char`, less tab, line feed and carriage return (handled by the caller).
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped_in_html_and_xml() {
        let hostile = r#"<script>alert("x")</script> & 'y'"#;
        assert_eq!(
            html(hostile),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(
            xml(hostile),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;y&apos;"
        );
    }

    #[test]
    fn characters_xml_forbids_are_replaced_and_line_breaks_kept() {
        assert_eq!(xml("a\u{0}b\u{1b}c\u{fffe}"), "a\u{fffd}b\u{fffd}c\u{fffd}");
        assert_eq!(xml("a\nb\tc"), "a&#10;b&#9;c");
        assert_eq!(xml("élaborée قرار"), "élaborée قرار");
    }
}
