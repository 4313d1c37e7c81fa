//! Model Markdown as the HTML subset Telegram renders (`b`, `i`, `s`, `code`, `pre`, `a`,
//! `blockquote`); everything else becomes text. Raw HTML in the Markdown is shown as text, and
//! links go out only for web and mail addresses. When Telegram still rejects the entities, the
//! sender falls back to the plain text.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Escapes text for Telegram HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:", "tg://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// Renders Markdown as Telegram HTML.
pub fn render(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 32);
    // Ordered list counters (None: bullet list), innermost last.
    let mut lists: Vec<Option<u64>> = Vec::new();
    // Whether the open link was rendered as <a> (its end must close it).
    let mut links: Vec<bool> = Vec::new();
    // The open code block has an inner `<code>` (it named its language).
    let mut pre_code = false;
    let opts = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    for ev in Parser::new_ext(markdown, opts) {
        match ev {
            Event::Start(tag) => match tag {
                Tag::Paragraph | Tag::TableHead | Tag::TableRow => {}
                Tag::Heading { .. } => out.push_str("<b>"),
                Tag::BlockQuote(_) => out.push_str("<blockquote>"),
                Tag::CodeBlock(CodeBlockKind::Fenced(lang)) => {
                    let lang: String = lang
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_'))
                        .collect();
                    pre_code = !lang.is_empty();
                    if lang.is_empty() {
                        out.push_str("<pre>");
                    } else {
                        out.push_str(&format!("<pre><code class=\"language-{lang}\">"));
                    }
                }
                Tag::CodeBlock(CodeBlockKind::Indented) => {
                    pre_code = false;
                    out.push_str("<pre>");
                }
                Tag::List(start) => lists.push(start),
                Tag::Item => {
                    let depth = lists.len().saturating_sub(1);
                    out.push_str(&"  ".repeat(depth));
                    match lists.last_mut() {
                        Some(Some(n)) => {
                            out.push_str(&format!("{n}. "));
                            *n += 1;
                        }
                        _ => out.push_str("• "),
                    }
                }
                Tag::Emphasis => out.push_str("<i>"),
                Tag::Strong => out.push_str("<b>"),
                Tag::Strikethrough => out.push_str("<s>"),
                Tag::Link { dest_url, .. } => {
                    let ok = safe_link(&dest_url);
                    if ok {
                        out.push_str(&format!("<a href=\"{}\">", escape(&dest_url)));
                    }
                    links.push(ok);
                }
                Tag::Image { dest_url, .. } => {
                    out.push_str("[image: ");
                    links.push(false);
                    if safe_link(&dest_url) {
                        out.push_str(&escape(&dest_url));
                        out.push(' ');
                    }
                }
                Tag::TableCell => out.push_str(" | "),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("\n\n"),
                TagEnd::Heading(level) => {
                    out.push_str("</b>");
                    out.push_str(if level == HeadingLevel::H1 {
                        "\n\n"
                    } else {
                        "\n"
                    });
                }
                TagEnd::BlockQuote(_) => {
                    trim_newlines(&mut out);
                    out.push_str("</blockquote>\n\n");
                }
                TagEnd::CodeBlock => {
                    trim_newlines(&mut out);
                    out.push_str(if pre_code {
                        "</code></pre>\n\n"
                    } else {
                        "</pre>\n\n"
                    });
                }
                TagEnd::List(_) => {
                    lists.pop();
                    if lists.is_empty() {
                        out.push('\n');
                    }
                }
                TagEnd::Item => {
                    trim_newlines(&mut out);
                    out.push('\n');
                }
                TagEnd::Emphasis => out.push_str("</i>"),
                TagEnd::Strong => out.push_str("</b>"),
                TagEnd::Strikethrough => out.push_str("</s>"),
                TagEnd::Link if links.pop().unwrap_or(false) => out.push_str("</a>"),
                TagEnd::Image => {
                    links.pop();
                    out.push(']');
                }
                TagEnd::TableRow | TagEnd::TableHead => out.push('\n'),
                _ => {}
            },
            Event::Text(t) => out.push_str(&escape(&t)),
            Event::Code(t) => {
                out.push_str("<code>");
                out.push_str(&escape(&t));
                out.push_str("</code>");
            }
            Event::Html(t) | Event::InlineHtml(t) => out.push_str(&escape(&t)),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Rule => out.push_str("———\n\n"),
            Event::TaskListMarker(done) => out.push_str(if done { "☑ " } else { "☐ " }),
            Event::FootnoteReference(t) => out.push_str(&escape(&t)),
            _ => {}
        }
    }
    trim_newlines(&mut out);
    out
}

fn trim_newlines(s: &mut String) {
    while s.ends_with('\n') {
        s.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_telegram_html() {
        assert_eq!(
            render("**bold** and _it_ and `x<y`"),
            "<b>bold</b> and <i>it</i> and <code>x&lt;y</code>"
        );
        assert_eq!(render("# Title\n\ntext"), "<b>Title</b>\n\ntext");
        assert_eq!(
            render("```rust\nfn a() {}\n```"),
            "<pre><code class=\"language-rust\">fn a() {}</code></pre>"
        );
        assert_eq!(render("```\n1 < 2\n```"), "<pre>1 &lt; 2</pre>");
        assert_eq!(render("- a\n- b"), "• a\n• b");
        assert_eq!(render("3. a\n4. b"), "3. a\n4. b");
    }

    #[test]
    fn raw_html_and_unsafe_links_are_text() {
        assert_eq!(
            render("<b onclick=x>hi</b>"),
            "&lt;b onclick=x&gt;hi&lt;/b&gt;"
        );
        assert_eq!(render("[x](javascript:alert(1))"), "x");
        assert_eq!(
            render("[x](https://a.example/?q=\"1\"&b)"),
            "<a href=\"https://a.example/?q=&quot;1&quot;&amp;b\">x</a>"
        );
    }
}
