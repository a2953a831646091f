//! Post-mortem Markdown to HTML, on the server only (neither crate reaches the WASM). The
//! HTML is sanitized after rendering, because Markdown passes raw HTML through: whatever a
//! writer pastes, no script, event handler, style or `javascript:`/`data:` URL survives.

use std::collections::HashSet;

use pulldown_cmark::{html, Options, Parser};

/// The sanitized HTML of `markdown`.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        // Links to the web and mail only: no javascript:, data:, vbscript: or app schemes.
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        // Relative links resolve against Switchyard itself (another incident, a deployment).
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        // Task-list checkboxes render, read-only.
        .add_tags(["input"])
        .add_tag_attribute_values("input", "type", ["checkbox"])
        .add_tag_attribute_values("input", "disabled", [""])
        .add_tag_attribute_values("input", "checked", [""])
        .clean(&unsafe_html)
        .to_string()
}

/// What in sanitized `html` could run, if anything: a script, style or embedding element, an
/// event handler, `style` or `srcdoc` attribute, or a URL whose scheme is not http, https or
/// mailto as a browser parses it. The property the sanitizer must keep, checked by the tests
/// and by the fuzzer (`fuzz/fuzz_targets/markdown.rs`).
#[cfg(any(test, fuzzing))]
pub fn live(html: &str) -> Option<String> {
    const DANGEROUS: &[&str] = &[
        "script", "style", "iframe", "object", "embed", "form", "svg", "math", "meta", "link",
        "base", "body", "video", "source", "marquee", "noscript", "template",
    ];
    const URL_ATTRIBUTES: &[&str] = &[
        "href",
        "src",
        "action",
        "formaction",
        "data",
        "poster",
        "cite",
        "background",
        "srcset",
        "xlink:href",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "ping",
        "manifest",
        "codebase",
    ];
    for (name, attributes) in start_tags(html) {
        if DANGEROUS.contains(&name.as_str()) {
            return Some(format!("a <{name}> element"));
        }
        for (attribute, value) in attributes {
            if attribute.starts_with("on") || attribute == "style" || attribute == "srcdoc" {
                return Some(format!("a {attribute} attribute on <{name}>"));
            }
            // Only attributes a browser follows or loads are URLs; a title is just text.
            if !URL_ATTRIBUTES.contains(&attribute.as_str()) {
                continue;
            }
            // The URL as a browser reads it (WHATWG URL): leading and trailing controls and
            // spaces dropped, tabs and newlines dropped anywhere. A scheme is what comes
            // before the first ':' when it is a valid scheme name; `java\x18script:` is not
            // one, so that is a harmless relative URL.
            let url: String = value
                .trim_matches(|c: char| c <= ' ')
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect();
            let scheme = url.split_once(':').map(|(head, _)| head).filter(|head| {
                head.starts_with(|c: char| c.is_ascii_alphabetic())
                    && head
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            });
            if scheme.is_some_and(|s| {
                !["http", "https", "mailto"].contains(&s.to_ascii_lowercase().as_str())
            }) {
                return Some(format!("{attribute}={value:?} on <{name}>"));
            }
        }
    }
    None
}

/// The start tags of serialized HTML, lowercased, with their attributes (entity-decoded
/// values). Text never holds a raw `<` (the serializer escapes it); quoted values may hold `>`.
#[cfg(any(test, fuzzing))]
fn start_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with(['/', '!']) {
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = &rest[end..];
        let mut attributes = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if rest.is_empty() || rest.starts_with('>') {
                break;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '=' || c == '>')
                .unwrap_or(rest.len());
            let attribute = rest[..end].to_ascii_lowercase();
            rest = &rest[end..];
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let (text, remainder) = match after.chars().next() {
                    Some(quote @ ('"' | '\'')) => {
                        let body = &after[1..];
                        let end = body.find(quote).unwrap_or(body.len());
                        (&body[..end], body.get(end + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = after
                            .find(|c: char| c.is_whitespace() || c == '>')
                            .unwrap_or(after.len());
                        after.split_at(end)
                    }
                };
                value = decode_entities(text);
                rest = remainder;
            }
            attributes.push((attribute, value));
        }
        tags.push((name, attributes));
    }
    tags
}

/// Named entities the serializer writes, and numeric ones.
#[cfg(any(test, fuzzing))]
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest.find(';').map(|semi| &rest[1..semi]);
        let decoded = entity.and_then(|entity| match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        });
        match (entity, decoded) {
            (Some(entity), Some(c)) => {
                out.push(c);
                rest = &rest[entity.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads from the usual XSS cheat sheets, raw and inside Markdown constructs.
    const PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"javascript:alert(1)\">",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<body onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"java&#x09;script:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "![x](javascript:alert(1))",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "[x]: javascript:alert(1)\n\n[x]",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<p style=\"expression(alert(1))\">x</p>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<form action=\"javascript:alert(1)\"><button>x</button></form>",
        "<input onfocus=alert(1) autofocus>",
        "<details open ontoggle=alert(1)>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<link rel=stylesheet href=\"javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "<video><source onerror=alert(1)></video>",
        "<a href=\"#\" onclick=\"alert(1)\">x</a>",
        "<marquee onstart=alert(1)>x</marquee>",
        "`<script>` stays text, <scr<script>ipt>alert(1)</script>",
        "<style>@import 'javascript:alert(1)';</style>",
        "<img src=x:alert(1) onerror=eval(src)>",
        "<a href=\"  javascript:alert(1)\">x</a>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    ];

    #[test]
    fn every_xss_payload_comes_out_inert() {
        assert!(PAYLOADS.len() >= 30);
        for payload in PAYLOADS {
            for markdown in [
                payload.to_string(),
                format!("# Title\n\nText {payload} more\n\n- {payload}"),
            ] {
                let html = render(&markdown);
                assert_eq!(live(&html), None, "{payload:?} rendered as {html:?}");
            }
        }
    }

    #[test]
    fn the_detector_itself_catches_live_html() {
        // Without this, a detector that never fires would pass the test above.
        for html in [
            "<script>x</script>",
            "<img src=\"x\" onerror=\"y\">",
            "<a href=\"javascript:x\">",
            "<a href=\"data:x\">",
            "<p style=\"x\">",
            "<a title='a>b' href=' java\tscript:x'>",
            "<a title=\"x:y\" href=\"vbscript:x\">",
            "<img src=\"&#106;avascript:x\">",
        ] {
            assert!(live(html).is_some(), "{html}");
        }
    }

    #[test]
    fn the_detector_lets_harmless_html_be() {
        // A title is text, not a URL; a relative link stays on Switchyard (found by fuzzing).
        for html in [
            "<a title=\"JaVa:x\" href=\"/incidents/7\">",
            "<a href=\"java\u{18}script:x\">",
            "<img src=\"https://example.com/x.png\" alt=\"a:b\">",
        ] {
            assert_eq!(live(html), None, "{html}");
        }
    }

    #[test]
    fn ordinary_markdown_renders() {
        let html = render("## Impact\n\n- **40%** of [checkouts](https://shop.example/c) failed\n- [ ] follow up\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h2>Impact</h2>"), "{html}");
        assert!(html.contains("<strong>40%</strong>"));
        assert!(html.contains("href=\"https://shop.example/c\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
        assert!(html.contains("<table>"));
        assert!(html.contains("type=\"checkbox\""));
    }
}
