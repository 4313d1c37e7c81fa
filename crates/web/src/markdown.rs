//! Markdown to HTML for untrusted text (model answers, tool results, channel messages). Raw HTML
//! in the source is never passed through — it is shown as text — links keep only `http`,
//! `https` and `mailto` targets, and images become plain links (a remote image would be a request
//! leaving the machine, and `img-src` forbids it anyway). This is why no HTML sanitizer is
//! needed: nothing but pulldown-cmark's own escaped output reaches the page.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Renders `source` as safe HTML.
pub fn render(source: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_GFM;
    let events = Parser::new_ext(source, options).map(|event| match event {
        // Raw HTML is text here.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // An image is shown as a link to its target, labelled by its alt text.
        Event::Start(
            Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }
            | Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            },
        ) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::with_capacity(source.len() + source.len() / 4);
    html::push_html(&mut out, events);
    out
}

/// Keeps `http:`, `https:` and `mailto:` targets and in-page anchors; anything else (including
/// `javascript:`, `data:`, `vbscript:` and scheme tricks with whitespace or entities) becomes `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let ok = cleaned.starts_with("http://")
        || cleaned.starts_with("https://")
        || cleaned.starts_with("mailto:")
        || (cleaned.starts_with('#') && !cleaned.contains(':'));
    if ok { url } else { CowStr::Borrowed("#") }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn raw_html_is_text() {
        let out = render("hi <script>alert(1)</script> <img src=x onerror=alert(1)>");
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        let block = render("<div onclick=\"x()\">\n\n<svg><script>alert(1)</script></svg>\n</div>");
        assert!(
            !block.contains("<div") && !block.contains("<svg"),
            "{block}"
        );
    }

    #[test]
    fn dangerous_links_are_neutralised() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](<javascript:alert(1)>)",
            "[x]: javascript:alert(1)\n\n[x]",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "<javascript:alert(1)>",
            "[x](&#106;avascript:alert(1))",
        ] {
            assert_links_safe(src);
        }
        assert!(render("[x](https://example.com)").contains("href=\"https://example.com\""));
    }

    #[test]
    fn images_become_links() {
        let out = render("![alt](https://tracker.example/p.png) ![y](javascript:alert(1))");
        assert!(!out.contains("<img"), "{out}");
        assert!(
            out.contains("href=\"https://tracker.example/p.png\""),
            "{out}"
        );
        assert_links_safe("![y](javascript:alert(1)) ![z](<javascript:x>)");
    }

    /// Text may mention a scheme; no link may point anywhere but the web, mail or the page.
    fn assert_links_safe(src: &str) {
        let out = render(src);
        assert!(!out.contains("<img"), "{src} → {out}");
        for href in out.split("href=\"").skip(1) {
            assert!(
                ["http://", "https://", "mailto:", "#"]
                    .iter()
                    .any(|ok| href.starts_with(ok)),
                "{src} → {out}"
            );
        }
    }

    #[test]
    fn code_and_quotes_are_escaped() {
        let out = render("```html\n<b onmouseover=\"x\">\n```\n\n`<i>` \"q\" ' &");
        assert!(out.contains("&lt;b onmouseover="), "{out}");
        assert!(!out.contains("<b "), "{out}");
    }
}
