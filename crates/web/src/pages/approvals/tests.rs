use super::*;
use crate::pages::sessions::tests::assert_inert;

const HOSTILE: &str =
    "<script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1) \"'";

fn hostile_inbox() -> Inbox {
    let pending = PendingApproval {
        id: "a1".into(),
        session_id: "s1".into(),
        tool_call_id: "c1".into(),
        tool: format!("shell{HOSTILE}"),
        arguments: serde_json::json!({"cmd": HOSTILE}),
        fingerprint: "f".into(),
        rule: HOSTILE.into(),
        reason: HOSTILE.into(),
        preview: format!("$ {HOSTILE}\r\n\u{1b}[31m"),
        timeout_secs: 60,
        created_at: "2026-01-01T00:00:00.000000Z".into(),
        looks_like_secret: vec![HOSTILE.into()],
        workspace: Some(HOSTILE.into()),
        policy: Some(HOSTILE.into()),
    };
    let record = pryx_store::AuditRecord {
        seq: 3,
        id: "r".into(),
        timestamp: "2026-01-01T00:00:01.000000Z".into(),
        entry: pryx_store::AuditEntry {
            actor: "agent:web".into(),
            action: "approval.granted".into(),
            resource_type: "tool_call".into(),
            resource_id: None,
            session_id: Some("s1".into()),
            details: serde_json::json!({
                "tool": HOSTILE,
                "outcome": {"outcome": "answered", "decision": "approve", "scope": "session", "surface": "web"},
                "grant": {"scope": "session", "workspace": HOSTILE},
            }),
            outcome: "approved".into(),
        },
        prev_hash: String::new(),
        hash: String::new(),
        mac: None,
    };
    Inbox {
        pending: vec![Pending::from_api(pending, time::OffsetDateTime::now_utc())],
        history: vec![Past::from_audit(record)],
        grants: vec![Grant::from_api(GrantView {
            id: "g1".into(),
            tool: HOSTILE.into(),
            scope: pryx_protocol::api::GrantScope::Always,
            session_id: None,
            workspace: HOSTILE.into(),
            policy: HOSTILE.into(),
            policy_hash: "h".into(),
            fingerprint: "f".into(),
            arguments: serde_json::json!({"x": HOSTILE}),
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: None,
            last_used_at: None,
            uses: 2,
            expired: false,
        })],
        signature: "sig".into(),
    }
}

#[test]
fn hostile_approvals_render_as_text() {
    let html = Live {
        inbox: hostile_inbox(),
        csrf: "tok".into(),
    }
    .render()
    .unwrap();
    assert_inert(&html);
    assert!(html.contains("&#60;script&#62;"), "{html}");
    assert!(html.contains("data-testid=\"approval-row\""));
    assert!(html.contains("data-testid=\"approve-once\""));
    assert!(html.contains("data-testid=\"deny\""));
    assert!(html.contains("name=\"_csrf\" value=\"tok\""));
    // The preview's carriage return and escape sequence are shown, and said to be.
    assert!(html.contains("control characters"), "{html}");
    assert!(!html.contains('\u{1b}'));
    // History: decision, scope and surface from the audit row.
    assert!(
        html.contains("<td>approve</td>")
            && html.contains("<td>session</td>")
            && html.contains("<td>web</td>"),
        "{html}"
    );
    assert!(html.contains("hx-get=\"/approvals/live?seen=sig\""));
}

#[test]
fn ages_read_like_people_say_them() {
    let now = time::OffsetDateTime::parse(
        "2026-01-01T01:02:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(age("2026-01-01T01:01:30.000000Z", now), "30 s ago");
    assert_eq!(age("2026-01-01T00:52:00Z", now), "10 min ago");
    assert_eq!(age("2025-12-31T23:00:00Z", now), "2 h 2 min ago");
    assert_eq!(age("garbage", now), "");
}
