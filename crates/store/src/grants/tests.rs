use super::*;
use crate::sessions::NewSession;
use pryx_telemetry::KnownSecret;
use serde_json::json;
use time::Duration;

const WS: &str = "/home/me/w1";
const POLICY: &str = "hash-of-workspace-only";

fn grant(
    scope: GrantScope,
    session: Option<&str>,
    fp: &str,
    expires: Option<OffsetDateTime>,
) -> NewGrant {
    NewGrant {
        tool_name: "shell.exec".into(),
        fingerprint: fp.into(),
        scope,
        session_id: session.map(str::to_string),
        workspace: WS.into(),
        policy: "workspace-only".into(),
        policy_hash: POLICY.into(),
        arguments: json!({"command": "make test"}),
        expires_at: expires,
    }
}

fn query<'a>(fp: &'a str, session: Option<&'a str>) -> GrantQuery<'a> {
    GrantQuery {
        tool_name: "shell.exec",
        fingerprint: fp,
        workspace: WS,
        policy_hash: POLICY,
        session_id: session,
    }
}

#[test]
fn session_grants_apply_only_to_their_session() {
    let store = Store::open_in_memory().unwrap();
    let s = store.create_session(&NewSession::default()).unwrap();
    let t = store.create_session(&NewSession::default()).unwrap();
    let g = store
        .add_grant(&grant(GrantScope::Session, Some(&s.id), "fp1", None))
        .unwrap();
    assert_eq!(
        store.find_active_grant(&query("fp1", Some(&s.id))).unwrap(),
        Some(g.clone())
    );
    assert_eq!(
        store.find_active_grant(&query("fp1", Some(&t.id))).unwrap(),
        None
    );
    assert_eq!(store.find_active_grant(&query("fp1", None)).unwrap(), None);
    assert_eq!(
        store.find_active_grant(&query("fp2", Some(&s.id))).unwrap(),
        None
    );
    let other_tool = GrantQuery {
        tool_name: "fs.write",
        ..query("fp1", Some(&s.id))
    };
    assert_eq!(store.find_active_grant(&other_tool).unwrap(), None);
    // Deleting the session drops its grants.
    store.delete_session(&s.id).unwrap();
    assert!(store.list_grants().unwrap().is_empty());
}

#[test]
fn a_grant_holds_only_in_its_workspace_and_under_its_policy() {
    let store = Store::open_in_memory().unwrap();
    let g = store
        .add_grant(&grant(GrantScope::Always, None, "fp", None))
        .unwrap();
    assert_eq!(
        store.find_active_grant(&query("fp", None)).unwrap(),
        Some(g)
    );
    let elsewhere = GrantQuery {
        workspace: "/home/me/w2",
        ..query("fp", None)
    };
    assert_eq!(store.find_active_grant(&elsewhere).unwrap(), None);
    let stricter = GrantQuery {
        policy_hash: "hash-of-read-only",
        ..query("fp", None)
    };
    assert_eq!(store.find_active_grant(&stricter).unwrap(), None);
    // A workspace that merely starts like the granted one is another workspace.
    let prefix = GrantQuery {
        workspace: "/home/me/w1/sub",
        ..query("fp", None)
    };
    assert_eq!(store.find_active_grant(&prefix).unwrap(), None);
}

#[test]
fn always_grants_honour_expiry_and_count_their_uses() {
    let store = Store::open_in_memory().unwrap();
    let now = OffsetDateTime::now_utc();
    let expired = store
        .add_grant(&grant(
            GrantScope::Always,
            None,
            "old",
            Some(now - Duration::seconds(1)),
        ))
        .unwrap();
    let live = store
        .add_grant(&grant(
            GrantScope::Always,
            None,
            "new",
            Some(now + Duration::hours(1)),
        ))
        .unwrap();
    assert_eq!(store.use_grant(&query("old", None)).unwrap(), None);
    let used = store
        .use_grant(&query("new", Some("any")))
        .unwrap()
        .unwrap();
    assert_eq!(used.id, live.id);
    assert_eq!(used.uses, 1);
    let again = store.use_grant(&query("new", None)).unwrap().unwrap();
    assert_eq!(again.uses, 2);
    let stored = store.get_grant(&live.id).unwrap().unwrap();
    assert_eq!(stored.uses, 2);
    assert_eq!(stored.last_used_at, again.last_used_at);
    assert!(stored.last_used_at.is_some());

    let views: Vec<_> = store
        .list_grants()
        .unwrap()
        .iter()
        .map(|g| (g.id.clone(), g.view().expired))
        .collect();
    assert_eq!(
        views,
        [(live.id.clone(), false), (expired.id.clone(), true)]
    );
}

#[test]
fn revoking_removes_the_grant_and_audits_it() {
    let store = Store::open_in_memory().unwrap();
    let g = store
        .add_grant(&grant(GrantScope::Always, None, "fp", None))
        .unwrap();
    let removed = store.revoke_grant(&g.id, "user:cli").unwrap();
    assert_eq!(removed, Some(g.clone()));
    assert_eq!(store.revoke_grant(&g.id, "user:cli").unwrap(), None);
    assert_eq!(store.use_grant(&query("fp", None)).unwrap(), None);
    let audit = store.list_audit(None, 10).unwrap();
    assert_eq!(audit.len(), 1, "a revoke of nothing is not audited");
    let row = &audit[0].entry;
    assert_eq!(row.action, "grant.revoked");
    assert_eq!(row.actor, "user:cli");
    assert_eq!(row.resource_id.as_deref(), Some(g.id.as_str()));
    assert_eq!(row.details["fingerprint"], "fp");
    assert_eq!(row.details["workspace"], WS);
    assert_eq!(row.details["arguments"], json!({"command": "make test"}));
}

#[test]
fn arguments_keep_everything_but_known_secret_values() {
    let store = Store::open_in_memory().unwrap();
    store.add_secrets([KnownSecret::new("openai", "sk-known-1234567890abcdef")]);
    let command = "echo \"-----BEGIN RSA PRIVATE KEY-----\" >/dev/null; touch HIDDEN; \
                   echo \"-----END RSA PRIVATE KEY-----\" >/dev/null; curl -H 'x: sk-known-1234567890abcdef'";
    let mut new = grant(GrantScope::Always, None, "fp", None);
    new.arguments = json!({"command": command});
    let g = store.add_grant(&new).unwrap();
    let shown = g.arguments["command"].as_str().unwrap();
    assert!(shown.contains("touch HIDDEN"), "{shown}");
    assert!(shown.ends_with("'x: ‹secret:openai›'"), "{shown}");
    assert_eq!(
        store.get_grant(&g.id).unwrap().unwrap().arguments,
        g.arguments
    );
}

#[test]
fn scope_session_workspace_and_policy_must_be_given() {
    let store = Store::open_in_memory().unwrap();
    for bad in [
        grant(GrantScope::Session, None, "x", None),
        grant(GrantScope::Always, Some("s"), "x", None),
        NewGrant {
            workspace: String::new(),
            ..grant(GrantScope::Always, None, "x", None)
        },
        NewGrant {
            policy_hash: String::new(),
            ..grant(GrantScope::Always, None, "x", None)
        },
    ] {
        assert!(
            matches!(store.add_grant(&bad), Err(StoreError::Invalid { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn grants_are_revoked_by_name_prefix_and_audited() {
    let store = Store::open_in_memory().unwrap();
    for name in ["gh.issue", "gh.pr", "ghost.x", "shell.exec"] {
        let mut g = grant(GrantScope::Always, None, "fp", None);
        g.tool_name = name.into();
        store.add_grant(&g).unwrap();
    }
    assert_eq!(
        store.revoke_grants_with_prefix("gh.", "user:cli").unwrap(),
        2
    );
    let mut left: Vec<_> = store
        .list_grants()
        .unwrap()
        .into_iter()
        .map(|g| g.tool_name)
        .collect();
    left.sort();
    assert_eq!(left, ["ghost.x", "shell.exec"]);
    assert_eq!(store.revoke_grants_with_prefix("%", "user:cli").unwrap(), 0);
    let audit = store.list_audit(None, 10).unwrap();
    let tools: Vec<_> = audit
        .iter()
        .filter(|a| a.entry.action == "grant.revoked")
        .map(|a| a.entry.details["tool"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tools.len(), 2);
    assert!(tools.iter().all(|t| t.starts_with("gh.")), "{tools:?}");
}
