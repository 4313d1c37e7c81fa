use super::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("c.db")).unwrap();
    (dir, store)
}

#[test]
fn an_update_is_stored_once_and_moves_the_offset() {
    let (_d, s) = store();
    assert_eq!(s.channel_offset("tg").unwrap(), None);
    assert!(s.record_update("tg", 41, "7", &"hello").unwrap());
    assert!(
        !s.record_update("tg", 41, "7", &"again").unwrap(),
        "a duplicate"
    );
    assert!(s.record_update("tg", 40, "7", &"late").unwrap());
    assert_eq!(s.channel_offset("tg").unwrap(), Some(42));
    assert_eq!(s.channel_offset("other").unwrap(), None);
    let open: Vec<OpenUpdate<String>> = s.open_updates("tg").unwrap();
    let ids: Vec<i64> = open.iter().map(|u| u.update_id).collect();
    assert_eq!(ids, [40, 41]);
    assert_eq!(open[1].payload, "hello");
    assert_eq!(open[1].state, UpdateState::New);

    s.set_update_state("tg", 40, UpdateState::Ignored, Some("not paired"))
        .unwrap();
    s.set_update_state("tg", 41, UpdateState::Running, None)
        .unwrap();
    let open: Vec<OpenUpdate<String>> = s.open_updates("tg").unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].state, UpdateState::Running);
}

#[test]
fn finishing_an_update_queues_its_replies_in_the_same_step() {
    let (_d, s) = store();
    s.record_update("tg", 1, "7", &"q").unwrap();
    s.finish_update(
        "tg",
        1,
        Some("answered"),
        &[("7".to_string(), "part 1"), ("7".to_string(), "part 2")],
    )
    .unwrap();
    assert!(s.open_updates::<String>("tg").unwrap().is_empty());
    let out: Vec<Outbound<String>> = s.pending_outbound("tg", 10).unwrap();
    assert_eq!(
        out.iter().map(|o| o.body.as_str()).collect::<Vec<_>>(),
        ["part 1", "part 2"]
    );
    assert!(out.iter().all(|o| !o.maybe_duplicate && o.attempts == 0));
}

#[test]
fn a_reply_in_flight_at_a_crash_is_sent_again_and_marked() {
    let (_d, s) = store();
    let a = s.enqueue_outbound("tg", "7", &"a").unwrap();
    let b = s.enqueue_outbound("tg", "7", &"b").unwrap();
    s.outbound_sending(a).unwrap();
    assert_eq!(s.requeue_in_flight("tg").unwrap(), 1);
    let out: Vec<Outbound<String>> = s.pending_outbound("tg", 10).unwrap();
    assert_eq!(out.len(), 2);
    assert!(out[0].maybe_duplicate && out[0].attempts == 1);
    assert!(!out[1].maybe_duplicate);

    s.outbound_sent(a, Some("99")).unwrap();
    s.outbound_failed(b, "400 Bad Request: chat not found")
        .unwrap();
    assert!(s.pending_outbound::<String>("tg", 10).unwrap().is_empty());
    let n = s.outbox_counts("tg").unwrap();
    assert_eq!(
        (n.queued, n.sent, n.failed, n.maybe_duplicate),
        (0, 1, 1, 1)
    );
}

#[test]
fn a_pairing_code_works_once_for_its_channel_and_not_after_it_expires() {
    let (_d, s) = store();
    let later = now_ms() + 60_000;
    s.create_pair_code("tg", "ABCD-1234", later).unwrap();
    assert!(
        !s.redeem_pair_code("other", "ABCD-1234", "5", "eve")
            .unwrap()
    );
    assert!(!s.redeem_pair_code("tg", "WRONG", "5", "eve").unwrap());
    assert!(s.redeem_pair_code("tg", "ABCD-1234", "7", "ann").unwrap());
    assert!(
        !s.redeem_pair_code("tg", "ABCD-1234", "8", "bob").unwrap(),
        "used up"
    );
    assert!(s.is_paired("tg", "7").unwrap());
    assert!(!s.is_paired("tg", "8").unwrap());
    assert_eq!(s.paired_senders("tg").unwrap()[0].display, "ann");

    s.create_pair_code("tg", "OLD", now_ms() - 1).unwrap();
    assert!(
        !s.redeem_pair_code("tg", "OLD", "9", "old").unwrap(),
        "expired"
    );

    // Every attempt is audited; codes are never written down.
    let audit = s.list_audit(None, 1000).unwrap();
    let pairs: Vec<_> = audit
        .iter()
        .filter(|r| r.entry.action == "channel.paired")
        .map(|r| r.entry.outcome.as_str())
        .collect();
    assert_eq!(pairs.iter().filter(|o| **o == "success").count(), 1);
    assert_eq!(pairs.iter().filter(|o| **o == "denied").count(), 4);
    assert!(!format!("{audit:?}").contains("ABCD-1234"));

    assert!(s.unpair_sender("tg", "7", "user:cli").unwrap());
    assert!(!s.unpair_sender("tg", "7", "user:cli").unwrap());
    assert!(!s.is_paired("tg", "7").unwrap());
}

#[test]
fn a_webhook_request_id_is_refused_the_second_time_even_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let s = Store::open(&path).unwrap();
    let once = |s: &Store, ch: &str| {
        s.accept_requests(ch, 300_000, &[("req-1".to_string(), "x")])
            .unwrap()[0]
            .is_some()
    };
    assert!(once(&s, "hook"));
    assert!(!once(&s, "hook"));
    assert!(once(&s, "other"));
    drop(s);
    let s = Store::open(&path).unwrap();
    assert!(!once(&s, "hook"));
}

#[test]
fn a_chat_keeps_its_session_until_it_is_deleted() {
    let (_d, s) = store();
    let sess = s.create_session(&crate::NewSession::default()).unwrap();
    s.set_chat_session("tg", "7", &sess.id, "Telegram: ann")
        .unwrap();
    assert_eq!(
        s.chat_session("tg", "7").unwrap().as_deref(),
        Some(sess.id.as_str())
    );
    assert_eq!(
        s.session_chat(&sess.id).unwrap(),
        Some(("tg".to_string(), "7".to_string()))
    );
    assert!(s.delete_session(&sess.id).unwrap());
    assert_eq!(s.chat_session("tg", "7").unwrap(), None);
}

#[test]
fn accepted_requests_are_stored_once_and_replays_refused_in_one_step() {
    let (_d, s) = store();
    let got = s
        .accept_requests(
            "hook",
            60_000,
            &[
                ("a".to_string(), "x"),
                ("b".to_string(), "y"),
                ("a".to_string(), "z"),
            ],
        )
        .unwrap();
    assert_eq!(got, [Some(1), Some(2), None]);
    assert_eq!(
        s.accept_requests("hook", 60_000, &[("b".to_string(), "again")])
            .unwrap(),
        [None]
    );
    let open: Vec<OpenUpdate<String>> = s.open_updates("hook").unwrap();
    assert_eq!(
        open.iter().map(|u| u.payload.as_str()).collect::<Vec<_>>(),
        ["x", "y"]
    );
}
