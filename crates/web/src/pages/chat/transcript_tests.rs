use super::*;
use askama::Template;
use pryx_protocol::message::{Message as Conv, ToolCall as ConvCall};
use pryx_protocol::{ErrorCode, MessageStored, Surface};
use pryx_store::{MessageUsage, Role, ToolCallStatus};

fn stored(seq: u64, role: Role, content: &Conv, model: Option<&str>) -> pryx_store::Message {
    pryx_store::Message {
        id: format!("m{seq}"),
        session_id: "s1".into(),
        seq,
        role,
        content: serde_json::to_value(content).unwrap_or_default(),
        text: content.text(),
        tool_call_id: None,
        model: model.map(str::to_string),
        usage: MessageUsage::default(),
        created_at: "2026-01-01T00:00:00Z".into(),
        pinned: false,
    }
}

fn row(id: &str, message: &str, tool: &str, args: serde_json::Value) -> ToolCall {
    ToolCall {
        session_id: "s1".into(),
        id: id.into(),
        message_id: Some(message.into()),
        tool_name: tool.into(),
        arguments: args,
        status: ToolCallStatus::Completed,
        decision: Some("allow".into()),
        rule: None,
        approval_scope: None,
        result: None,
        is_error: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        started_at: None,
        completed_at: None,
        duration_ms: Some(1234),
    }
}

fn event(payload: EventPayload, version: u64) -> Event {
    let mut e = Event::new("s1", Surface::Web, payload, "2026-01-01T00:00:00Z");
    e.version = Some(version);
    e
}

fn render(items: Vec<Item>) -> String {
    Fragment {
        transcript: Transcript {
            session_id: "s1".into(),
            items,
            last_version: 7,
            busy: false,
            tokens_in: 10,
            tokens_out: 20,
            cost_usd: 0.5,
        },
    }
    .render()
    .unwrap_or_else(|e| panic!("the transcript renders: {e}"))
}

fn assistant_with_call(text: &str, call_id: &str, tool: &str, args: &str) -> Conv {
    Conv::Assistant {
        content: vec![
            AssistantPart::Text { text: text.into() },
            AssistantPart::ToolCall(ConvCall {
                id: call_id.into(),
                name: tool.into(),
                arguments: args.into(),
            }),
        ],
    }
}

#[test]
fn messages_tool_cards_and_failures_render_in_order() {
    let messages = vec![
        stored(1, Role::User, &Conv::user("list **files**"), None),
        stored(
            2,
            Role::Assistant,
            &assistant_with_call("Listing.", "r1", "fs.list", r#"{"path":"."}"#),
            Some("mock/gpt-4o"),
        ),
        stored(
            3,
            Role::Tool,
            &Conv::tool_result("r1", "a.txt\nb.txt", false),
            None,
        ),
        stored(4, Role::Assistant, &Conv::assistant("Two files."), None),
        stored(5, Role::User, &Conv::user("again"), None),
    ];
    let calls = vec![row("c1", "m2", "fs.list", serde_json::json!({"path": "."}))];
    let msg = |seq| {
        EventPayload::SessionMessage(MessageStored {
            message_id: format!("m{seq}"),
            seq,
            role: pryx_protocol::message::Role::User,
            content: Conv::user("x"),
        })
    };
    let events = vec![
        event(msg(4), 4),
        event(
            EventPayload::TurnCompleted(TurnEnd::Completed {
                steps: 2,
                cost_usd: 0.0,
            }),
            5,
        ),
        event(msg(5), 6),
        event(
            EventPayload::TurnCompleted(TurnEnd::Error {
                code: ErrorCode::LlmAuth,
                message: "the provider refused the API key (401)".into(),
                trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
            }),
            7,
        ),
    ];
    let items = build(&messages, calls, &events, &[]);
    assert_eq!(
        items.len(),
        5,
        "user, assistant+card, assistant, user, failure"
    );
    let html = render(items);
    assert!(html.contains("<strong>files</strong>"), "{html}");
    assert!(html.contains(r#"data-tool-call-id="c1""#), "{html}");
    assert!(html.contains("1.2 s"), "{html}");
    assert!(html.contains("a.txt\nb.txt"), "{html}");
    assert_eq!(
        html.matches(r#"data-testid="assistant-message""#).count(),
        2
    );
    assert_eq!(html.matches(r#"data-testid="tool-card""#).count(), 1);
    let alert = html.find(r#"role="alert""#).unwrap_or(0);
    assert!(
        alert > html.find("again").unwrap_or(usize::MAX),
        "the failure follows the message it answered: {html}"
    );
    assert!(html.contains("LLM_AUTH"), "{html}");
    assert!(
        html.contains("(trace 1c80319c: `pryx trace 1c80319c`)"),
        "the failure names its trace: {html}"
    );
    assert!(html.contains(r#"data-last-version="7""#), "{html}");
}

#[test]
fn long_results_are_trimmed_and_counted() {
    let messages = vec![
        stored(
            1,
            Role::Assistant,
            &assistant_with_call("", "r1", "fs.read", "{}"),
            None,
        ),
        stored(
            2,
            Role::Tool,
            &Conv::tool_result("r1", "x".repeat(RESULT_CHARS + 10), true),
            None,
        ),
    ];
    let html = render(build(&messages, vec![], &[], &[]));
    assert!(html.contains("10 more characters not shown"), "{html}");
    assert!(html.contains("tool-error"), "{html}");
}

/// Model answers, tool names, arguments, results, reasoning and notices that carry markup stay
/// text: nothing in them becomes a live element, attribute or link.
#[test]
fn hostile_content_stays_inert() {
    let evil = r#"<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)><script>alert(4)</script></svg><a href="javascript:alert(5)">x</a> [y](javascript:alert(6)) "'><iframe src=//e>"#;
    let messages = vec![
        stored(1, Role::User, &Conv::user(evil), None),
        stored(
            2,
            Role::Assistant,
            &Conv::Assistant {
                content: vec![
                    AssistantPart::Reasoning {
                        text: evil.into(),
                        signature: None,
                    },
                    AssistantPart::Text { text: evil.into() },
                    AssistantPart::ToolCall(ConvCall {
                        id: "r1".into(),
                        name: evil.into(),
                        arguments: evil.into(),
                    }),
                ],
            },
            Some(evil),
        ),
        stored(3, Role::Tool, &Conv::tool_result("r1", evil, false), None),
        stored(4, Role::Tool, &Conv::tool_result(evil, evil, false), None),
    ];
    let events = vec![event(
        EventPayload::TurnCompleted(TurnEnd::Error {
            code: ErrorCode::LlmServer,
            message: evil.into(),
            trace_id: Some(evil.into()),
        }),
        9,
    )];
    let html = render(build(&messages, vec![], &events, &[]));
    assert!(html.contains("&lt;script&gt;"), "{html}");
    for (name, attrs) in tags(&html) {
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "live <{name}> in: {html}"
        );
        for (attr, value) in attrs {
            assert!(
                attr == "class"
                    || (attr == "href" && safe_href(&value))
                    || attr == "role"
                    || attr == "id"
                    || (name == "button" && attr == "type" && value == "button")
                    || attr.starts_with("data-")
                    || attr.starts_with("aria-"),
                "live attribute {attr}={value:?} on <{name}> in: {html}"
            );
        }
    }
}

/// What the transcript's own markup and safe markdown may produce.
const ALLOWED_TAGS: &[&str] = &[
    "div",
    // The pin and fork actions (the page's script answers them).
    "button",
    "p",
    "article",
    "details",
    "summary",
    "span",
    "pre",
    "code",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "br",
    "hr",
    "blockquote",
    "del",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

fn safe_href(v: &str) -> bool {
    v == "#" || v.starts_with("https://") || v.starts_with("http://") || v.starts_with("mailto:")
}

/// Every real tag of `html` (text `<` is escaped, so each `<` starts one) with its attributes.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end..];
        if tag.starts_with('/') {
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let mut attrs = Vec::new();
        let mut body = &tag[name.len()..];
        loop {
            body = body.trim_start();
            let attr: String = body
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '=' && *c != '/')
                .collect();
            if attr.is_empty() {
                break;
            }
            body = &body[attr.len()..];
            let mut value = String::new();
            if let Some(v) = body.strip_prefix("=\"") {
                let close = v.find('"').unwrap_or(v.len());
                value = v[..close].to_string();
                body = v.get(close + 1..).unwrap_or("");
            }
            attrs.push((attr.to_ascii_lowercase(), value));
        }
        out.push((name.to_ascii_lowercase(), attrs));
    }
    out
}

#[test]
fn durations_read_naturally() {
    assert_eq!(duration_label(850), "850 ms");
    assert_eq!(duration_label(2400), "2.4 s");
}
