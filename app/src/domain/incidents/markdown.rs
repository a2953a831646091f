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

    /// Whether `html` holds anything that could run: a script or style element, an event
    /// handler attribute, a dangerous URL, or an element that loads or embeds content.
    fn live(html: &str) -> Option<&'static str> {
        let lower = html.to_lowercase();
        let tags = lower
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or_default());
        for tag in tags {
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if matches!(
                name.as_str(),
                "script"
                    | "style"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "form"
                    | "svg"
                    | "math"
                    | "meta"
                    | "link"
                    | "base"
                    | "body"
                    | "video"
                    | "source"
                    | "marquee"
            ) {
                return Some("a dangerous element");
            }
            for attribute in tag.split_whitespace().skip(1) {
                if attribute.starts_with("on") {
                    return Some("an event handler");
                }
                if attribute.starts_with("style") || attribute.starts_with("srcdoc") {
                    return Some("a style or srcdoc attribute");
                }
                if let Some(url) = attribute
                    .strip_prefix("href=\"")
                    .or_else(|| attribute.strip_prefix("src=\""))
                {
                    // A scheme is what comes before the first ':' when no '/', '?' or '#'
                    // comes first; relative links have none and stay on Switchyard.
                    let scheme = url
                        .split_once(':')
                        .map(|(head, _)| head)
                        .filter(|head| !head.contains(['/', '?', '#']));
                    if scheme.is_some_and(|s| !matches!(s, "http" | "https" | "mailto")) {
                        return Some("a URL that is not http, https or mailto");
                    }
                }
            }
        }
        None
    }

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
        ] {
            assert!(live(html).is_some(), "{html}");
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
