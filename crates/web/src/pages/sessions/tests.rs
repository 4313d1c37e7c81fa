use super::query::{Filters, Raw, file_safe, safe_back, with_deleted};
use super::view::{Piece, Results, Row, highlight};
use super::*;
use pryx_store::{ExploreRow, Session, SessionStatus};

const HOSTILE: &str =
    "<script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1) \"'";

fn row(title: &str, snippet: Option<&str>) -> Row {
    Row::from_store(
        ExploreRow {
            session: Session {
                id: "0193a1b2-c3d4-7000-8000-000000000001".into(),
                workspace_id: None,
                title: title.into(),
                status: SessionStatus::Idle,
                model: Some(HOSTILE.into()),
                agent: Some(HOSTILE.into()),
                policy: None,
                created_at: "2026-01-01T00:00:00.000000Z".into(),
                updated_at: "2026-01-02T03:04:05.000000Z".into(),
                total_tokens_in: 1200,
                total_tokens_out: 34,
                total_cost_usd: 0.5,
                parent_id: None,
            },
            workspace: Some(HOSTILE.into()),
            messages: 3,
            snippet: snippet.map(String::from),
        },
        false,
    )
}

fn results(rows: Vec<Row>) -> Results {
    let f = Filters::from_raw(Raw::default());
    Results {
        rows,
        page: 1,
        back_query: "back=%2Fsessions".into(),
        notes: vec![HOSTILE.into()],
        next_url: Some(f.page_url(2)),
        next_fragment: Some(f.results_url(2)),
        ..Default::default()
    }
}

#[test]
fn snippets_highlight_only_the_markers() {
    assert_eq!(
        highlight("a «b» c «d"),
        vec![
            Piece {
                text: "a ".into(),
                mark: false
            },
            Piece {
                text: "b".into(),
                mark: true
            },
            Piece {
                text: " c ".into(),
                mark: false
            },
            Piece {
                text: "d".into(),
                mark: true
            },
        ]
    );
    assert_eq!(
        highlight("x » y"),
        vec![Piece {
            text: "x  y".into(),
            mark: false
        }]
    );
    assert!(highlight("").is_empty());
}

#[test]
fn hostile_sessions_render_as_text() {
    let snippet = format!("before «<script>» {HOSTILE} after");
    let html = ResultsFragment {
        results: results(vec![row(HOSTILE, Some(&snippet))]),
    }
    .render()
    .unwrap();
    assert_inert(&html);
    assert!(html.contains("&#60;script&#62;"), "{html}");
    assert!(html.contains("<mark>&#60;script&#62;</mark>"), "{html}");
    assert_eq!(html.matches("<mark>").count(), 1, "{html}");
    for id in ["session-row", "export-md", "export-json", "delete-session"] {
        assert!(html.contains(&format!("data-testid=\"{id}\"")), "{id}");
    }
    assert!(
        html.contains("href=\"/sessions/0193a1b2-c3d4-7000-8000-000000000001/export?format=md\"")
    );
    assert!(html.contains("$0.5000") && html.contains("1,234"), "{html}");
    assert!(
        html.contains("hx-get=\"/sessions/results?page=2\""),
        "{html}"
    );
}

#[test]
fn empty_results_say_what_to_do() {
    let html = ResultsFragment {
        results: results(vec![]),
    }
    .render()
    .unwrap();
    assert!(html.contains("No sessions yet"), "{html}");
}

#[test]
fn filters_are_checked_and_round_trip() {
    let raw: Raw = serde_urlencoded_like(
        "q=parser+fix&agent=coder&from=2026-02-30&to=2026-03-01&min_cost=-1&min_tokens=12&min_messages=x&sort=bogus&page=3",
    );
    let f = Filters::from_raw(raw);
    assert_eq!(f.sort, "relevance");
    assert_eq!(f.page, 3);
    assert!(f.from.is_empty() && f.min_cost.is_empty() && f.min_messages.is_empty());
    assert_eq!(f.notes.len(), 3, "{:?}", f.notes);
    let q = f.store_query();
    assert_eq!(q.text.as_deref(), Some("parser fix"));
    assert_eq!(q.active_before.as_deref(), Some("2026-03-02T00:00:00"));
    assert_eq!((q.min_tokens, q.offset), (Some(12), 50));
    assert_eq!(
        f.page_url(1),
        "/sessions?q=parser+fix&agent=coder&to=2026-03-01&min_tokens=12"
    );
    assert_eq!(
        f.results_url(2).split_once('?').map(|x| x.0),
        Some("/sessions/results")
    );
}

#[test]
fn delete_returns_only_to_the_explorer() {
    assert_eq!(safe_back(Some("/sessions?q=a")), "/sessions?q=a");
    for bad in [
        "https://evil.example/",
        "//evil.example",
        "/settings",
        "/sessionsx",
        "/sessions?\r\nx",
    ] {
        assert_eq!(safe_back(Some(bad)), "/sessions", "{bad}");
    }
    assert_eq!(with_deleted("/sessions", "a&b"), "/sessions?deleted=a%26b");
    assert_eq!(
        with_deleted("/sessions?q=x", ""),
        "/sessions?q=x&deleted=Untitled+session"
    );
    assert_eq!(file_safe("ab-1/../\"x"), "ab-1x");
}

fn serde_urlencoded_like(q: &str) -> Raw {
    let uri: axum::http::Uri = format!("/sessions?{q}").parse().unwrap();
    axum::extract::Query::<Raw>::try_from_uri(&uri).unwrap().0
}

/// No live markup from hostile text: no script or img tag, and no tag with an event handler
/// or a `javascript:` URL (the words may appear as escaped text).
pub(crate) fn assert_inert(html: &str) {
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').map_or(rest.len(), |e| start + e);
        let tag = &rest[start..end];
        assert!(
            !tag.contains("onerror") && !tag.contains("javascript:"),
            "live tag {tag:?}"
        );
        rest = &rest[end..];
    }
}
