//! Talking to the agent through Telegram: pairing, a turn with "typing…", long answers in
//! pieces, approvals from the chat's buttons.

use super::{Rig, ann};
use crate::common::{self, Turn, call};
use pryx_testkit::telegram::TgUser;
use serde_json::json;

/// Telegram's limit, on the text a reader sees (tags and entities removed).
fn visible_units(html: &str) -> usize {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    out.encode_utf16().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_sender_is_only_told_how_to_pair_then_talks_to_the_agent() {
    let Some(rig) = Rig::start("telegram::chat::pairing").await else {
        return;
    };
    rig.llm.push(Turn::text("Hello **Ann**, how can I help?"));
    let _serve = rig.serve().await;
    let ann = ann();

    rig.tg
        .send_private_text(&ann, "hi, who are you?")
        .await
        .unwrap();
    let told = rig.tg.wait_for_text(ann.id, "pairing code").await;
    assert!(told.text.unwrap().contains("pryx channels pair tg"));
    assert!(rig.llm.requests().is_empty(), "nothing reached the model");
    // A wrong code pairs nobody.
    rig.tg.send_private_text(&ann, "ABCD-EFGH").await.unwrap();

    rig.pair(&ann).await;
    rig.tg.send_private_text(&ann, "hello there").await.unwrap();
    let answer = rig.tg.wait_for_text(ann.id, "how can I help").await;
    assert_eq!(answer.parse_mode.as_deref(), Some("HTML"));
    assert!(answer.text.unwrap().contains("<b>Ann</b>"));
    assert!(
        rig.tg
            .chat_actions(ann.id)
            .iter()
            .any(|a| a.action == "typing"),
        "typing was shown while the turn ran"
    );
    let asked = &rig.llm.requests()[0];
    assert!(asked.body.to_string().contains("hello there"));

    // The conversation is a session like any other, and the pairing is audited.
    let store = rig.env.store();
    let session = common::newest_session(&store);
    assert_eq!(session.title, "Telegram: @ann");
    let audit = store.list_audit(None, 1000).unwrap();
    let paired: Vec<&str> = audit
        .iter()
        .filter(|r| r.entry.action == "channel.paired")
        .map(|r| r.entry.outcome.as_str())
        .collect();
    assert_eq!(
        paired.iter().filter(|o| **o == "success").count(),
        1,
        "{paired:?}"
    );
    assert_eq!(
        paired.iter().filter(|o| **o == "denied").count(),
        1,
        "{paired:?}"
    );

    let out = rig.env.run(&["channels", "show", "tg", "--json"]);
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["state"], "connected", "{view}");
    assert_eq!(view["paired"][0]["display"], "@ann");
    assert!(
        view["last_filtered"]
            .as_str()
            .unwrap()
            .contains("not paired")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_answer_arrives_in_pieces_that_fit_with_code_blocks_whole() {
    let Some(rig) = Rig::start("telegram::chat::chunking").await else {
        return;
    };
    let para = "A paragraph of prose that goes on for a while. ".repeat(20);
    let code: String = (0..120)
        .map(|i| format!("let x{i} = {i} * 2; // line\n"))
        .collect();
    let answer = format!(
        "{para}\n\n{para}\n\n```rust\n{code}```\n\n{para}\n\n{}\n\nTHE END",
        "word ".repeat(1500)
    );
    rig.llm.push(Turn::text(answer.clone()));
    let _serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;
    rig.tg
        .send_private_text(&ann, "tell me everything")
        .await
        .unwrap();
    rig.tg.wait_for_text(ann.id, "THE END").await;
    let pieces: Vec<String> = rig
        .tg
        .bot_messages(ann.id)
        .into_iter()
        .filter_map(|m| m.text)
        .skip_while(|t| !t.contains("A paragraph"))
        .collect();
    assert!(pieces.len() >= 4, "{} pieces", pieces.len());
    for p in &pieces {
        assert!(visible_units(p) <= 4096, "{} units", visible_units(p));
        assert_eq!(
            p.matches("<pre").count(),
            p.matches("</pre>").count(),
            "{p}"
        );
    }
    let all = pieces.concat();
    for i in [0, 60, 119] {
        assert!(
            all.contains(&format!("let x{i} = {i} * 2;")),
            "line {i} missing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_is_answered_from_the_chat_button_and_only_by_a_paired_user() {
    let Some(rig) = Rig::start("telegram::chat::approval").await else {
        return;
    };
    rig.llm.push_all([
        Turn::tool_calls([call(
            "a",
            "shell.exec",
            json!({"command": "echo approved-run"}),
        )]),
        Turn::text("It printed approved-run."),
    ]);
    let _serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;
    rig.tg
        .send_private_text(&ann, "run the echo")
        .await
        .unwrap();
    let prompt = rig.tg.wait_for_text(ann.id, "Approval needed").await;
    assert!(
        prompt
            .text
            .as_deref()
            .unwrap()
            .contains("echo approved-run")
    );
    let data: Vec<String> = prompt
        .callback_data()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let once = data.iter().find(|d| d.ends_with(":o")).unwrap().clone();

    // Someone who is not paired cannot answer it, whatever they press.
    let mallory = TgUser::new(666, "Mallory");
    rig.tg
        .press_button(&mallory, ann.id, prompt.message_id, &once)
        .await
        .unwrap();
    rig.tg
        .wait_for("the refusal of an unpaired press", |j| {
            j.callback_answers
                .iter()
                .any(|a| {
                    a.text
                        .as_deref()
                        .is_some_and(|t| t.contains("Only a paired user"))
                })
                .then_some(())
        })
        .await;

    rig.tg
        .press_button(&ann, ann.id, prompt.message_id, &once)
        .await
        .unwrap();
    rig.tg
        .wait_for_text(ann.id, "It printed approved-run")
        .await;
    let edited = rig
        .tg
        .wait_for("the prompt edited to its outcome", |j| {
            j.message(ann.id, prompt.message_id)
                .filter(|m| {
                    m.text
                        .as_deref()
                        .is_some_and(|t| t.contains("Approved (once) from telegram"))
                })
                .cloned()
        })
        .await;
    assert!(
        edited.buttons.iter().all(|row| row.is_empty()),
        "buttons gone"
    );
    let result = common::tool_results(&rig.llm, 1);
    assert!(result[0].1.contains("approved-run"), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_both_ways_through_the_workspace_never_through_a_link() {
    let Some(rig) = Rig::start("telegram::chat::files").await else {
        return;
    };
    rig.llm.push_all([
        Turn::text("got your file"),
        Turn::text("here is the report"),
    ]);
    let _serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;

    // In: a document lands beneath the workspace, and the prompt names it.
    rig.tg
        .send_document(
            &pryx_testkit::telegram::TgChat::private(&ann),
            &ann,
            "../notes.txt",
            b"hello file".to_vec(),
            Some("read this"),
        )
        .await
        .unwrap();
    rig.tg.wait_for_text(ann.id, "got your file").await;
    let inbox = rig.env.ws().join(".pryx/inbox");
    let saved: Vec<_> = std::fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(std::fs::read(&saved[0]).unwrap(), b"hello file");
    assert!(
        saved[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with("_notes.txt")
    );
    assert!(
        rig.llm.requests()[0]
            .body
            .to_string()
            .contains(".pryx/inbox/")
    );

    // Out: what the turn leaves in .pryx/outbox/ is sent after the answer; a link is not.
    rig.llm.hold();
    rig.tg
        .send_private_text(&ann, "make me a report")
        .await
        .unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), b"not yours").unwrap();
    let outbox = rig.env.ws().join(".pryx/outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::write(outbox.join("report.txt"), b"the report").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), outbox.join("link.txt")).unwrap();
    rig.llm.release();
    let sent = rig
        .tg
        .wait_for("the report sent back", |j| {
            j.messages_to(ann.id)
                .iter()
                .find_map(|m| m.file.clone().filter(|f| f.file_name == "report.txt"))
        })
        .await;
    assert_eq!(sent.bytes, b"the report");
    assert!(
        rig.tg
            .bot_messages(ann.id)
            .iter()
            .all(|m| m.file.as_ref().is_none_or(|f| f.bytes != b"not yours")),
        "a link's target is never sent"
    );
    assert!(
        !outbox.join("report.txt").exists(),
        "moved out of the outbox"
    );
    assert!(
        outbox.join("link.txt").is_symlink(),
        "the link is left alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_goes_out_paragraph_by_paragraph_while_the_model_writes_it() {
    let Some(rig) = Rig::start("telegram::chat::blocks").await else {
        return;
    };
    let first = format!(
        "The first finding: {}",
        "the build is green and every test passed. ".repeat(6)
    );
    let text = format!("{first}\n\nA second paragraph, written later. THE END");
    // The model writes the first paragraph, then waits for the test before the rest.
    rig.llm
        .push(Turn::gated(text).with_chunk_chars(first.chars().count() + 2));
    let _serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;
    rig.tg.send_private_text(&ann, "how is it?").await.unwrap();

    let early = rig.tg.wait_for_text(ann.id, "The first finding").await;
    let early_text = early.text.clone().unwrap();
    assert!(!early_text.contains("second paragraph"), "{early_text}");
    assert!(
        early.reply_to_message_id.is_some(),
        "the first part answers the message"
    );
    assert!(
        !rig.tg
            .bot_messages(ann.id)
            .iter()
            .any(|m| m.text.as_deref().is_some_and(|t| t.contains("THE END"))),
        "the model has not written the end yet"
    );

    rig.llm.open_gate();
    rig.tg.wait_for_text(ann.id, "THE END").await;
    let texts: Vec<String> = rig
        .tg
        .bot_messages(ann.id)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("The first finding"))
            .count(),
        1,
        "each paragraph is sent once: {texts:?}"
    );
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("second paragraph"))
            .count(),
        1,
        "{texts:?}"
    );
}
