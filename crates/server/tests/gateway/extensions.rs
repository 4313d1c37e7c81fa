#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `/skills` and `/mcp-servers`: what the dashboard's Skills and MCP pages show and do, as JSON.
//! Skills are added from a real folder and listed, read, switched and replaced; an MCP server
//! (the fixture server over streamable HTTP) is tested, saved, browsed, has a tool switched off
//! and is removed.

use crate::common;

use common::*;
use serde_json::json;
use std::io::BufRead;

fn skill_folder(root: &std::path::Path, name: &str, extra: &str) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!("---\nname: {name}\ndescription: Test skill {name}\n---\nSteps.{extra}\n"),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn skills_are_added_listed_read_and_switched() {
    let rig = Rig::start().await;
    rig.core
        .write_config(&[pryx_config::Edit::Set("skills.enabled".into(), true.into())])
        .unwrap();
    let src = tempfile::tempdir().unwrap();
    let folder = skill_folder(src.path(), "api-skill", "");

    let (status, list) = rig.get("/skills").await;
    assert_eq!(status, 200, "{list}");
    assert!(
        list["skills"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"] != "api-skill")
    );

    let (status, added) = rig
        .post("/skills", json!({"source": folder.display().to_string()}))
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["added"][0]["name"], "api-skill");
    assert_eq!(added["added"][0]["replaced"], false);
    let managed = rig.home().join("skills/api-skill/SKILL.md");
    assert!(managed.is_file());

    let (_, list) = rig.get("/skills").await;
    let row = named(&list["skills"], "api-skill");
    assert_eq!(row["origin"], "managed");
    assert_eq!(row["usable"], true, "{row}");

    let (status, one) = rig.get("/skills/api-skill").await;
    assert_eq!(status, 200);
    assert_eq!(one["body"], "Steps.\n");
    assert!(
        one["install"].is_null() && one["install_unavailable"].is_string(),
        "{one}"
    );

    let (status, off) = rig
        .put("/skills/api-skill/enabled", json!({"enabled": false}))
        .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(
        (off["enabled"].clone(), off["usable"].clone()),
        (json!(false), json!(false))
    );

    let (status, again) = rig
        .post("/skills", json!({"source": folder.display().to_string()}))
        .await;
    assert_eq!(status, 422, "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("added before"),
        "{again}"
    );

    skill_folder(src.path(), "api-skill", " Version two.");
    let (status, replaced) = rig
        .post(
            "/skills",
            json!({"source": folder.display().to_string(), "replace": true}),
        )
        .await;
    assert_eq!(status, 201, "{replaced}");
    assert_eq!(replaced["added"][0]["replaced"], true);
    assert!(
        std::fs::read_to_string(&managed)
            .unwrap()
            .contains("Version two.")
    );

    for (body, why) in [
        (json!({"source": "ext::sh -c id"}), "remote helpers"),
        (
            json!({"source": src.path().join("missing").display().to_string()}),
            "no such folder",
        ),
        (
            json!({"source": folder.display().to_string(), "git_ref": "main"}),
            "only applies to a git",
        ),
    ] {
        let (status, e) = rig.post("/skills", body).await;
        assert_eq!(status, 422, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(why), "{e}");
    }
    let (status, _) = rig.get("/skills/no-such-skill").await;
    assert_eq!(status, 404);
    let (status, e) = rig
        .post(
            "/skills/api-skill/install",
            json!({"installer": "x", "confirm": false}),
        )
        .await;
    assert_eq!(status, 422, "{e}");

    let (_, audit) = rig.get("/audit?limit=50").await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"skill.added") && actions.contains(&"skill.switched"),
        "{actions:?}"
    );
}

/// The fixture MCP server on a free port, killed on drop.
struct Fixture {
    child: std::process::Child,
    url: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture() -> Fixture {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pryx-mcp-fixture-server"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!("http://127.0.0.1:{}/mcp", line.trim());
    Fixture { child, url }
}

#[tokio::test]
async fn an_mcp_server_is_tested_saved_browsed_switched_and_removed() {
    let rig = Rig::start().await;
    let server = fixture();

    let (status, e) = rig
        .post(
            "/mcp-servers",
            json!({"name": "broken", "target": "/no/such/program --stdio"}),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("test failed"),
        "{e}"
    );
    let (_, list) = rig.get("/mcp-servers").await;
    assert_eq!(list["servers"], json!([]), "a failed test saved nothing");

    let (status, added) = rig
        .post("/mcp-servers", json!({"name": "fx", "target": server.url}))
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["needs_sign_in"], false);
    assert!(added["tool_count"].as_u64().unwrap() > 0, "{added}");
    let (status, dup) = rig
        .post("/mcp-servers", json!({"name": "fx", "target": server.url}))
        .await;
    assert_eq!(status, 409, "{dup}");

    let (status, list) = rig.get("/mcp-servers").await;
    assert_eq!(status, 200);
    let fx = &list["servers"][0];
    assert_eq!(
        (fx["name"].clone(), fx["transport"].clone()),
        (json!("fx"), json!("http"))
    );
    assert!(
        fx["offered_tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "fx.test_simple_text"),
        "{fx}"
    );

    let (status, detail) = rig.get("/mcp-servers/fx").await;
    assert_eq!(status, 200, "{detail}");
    let tool = named(&detail["tools"], "test_simple_text");
    assert_eq!(tool["full_name"], "fx.test_simple_text");
    assert_eq!(tool["enabled"], true);
    assert!(
        !detail["resources"].as_array().unwrap().is_empty(),
        "{detail}"
    );
    assert!(
        !detail["prompts"].as_array().unwrap().is_empty(),
        "{detail}"
    );
    let uri = detail["resources"][0]["uri"].as_str().unwrap().to_string();
    let text = rig
        .http
        .get(rig.url(&format!("/mcp-servers/fx/resource?uri={}", urlencode(&uri))))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);

    // The fixture has no OAuth: the sign-in fails with the reason, kept for the list.
    let (status, signed) = rig.post("/mcp-servers/fx/sign-in", json!({})).await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["state"], "failed", "{signed}");
    let (_, list) = rig.get("/mcp-servers").await;
    assert_eq!(list["servers"][0]["sign_in"], signed);
    let (status, _) = rig.post("/mcp-servers/nope/sign-in", json!({})).await;
    assert_eq!(status, 404);

    let (status, _) = rig
        .put(
            "/mcp-servers/fx/tools/test_simple_text/enabled",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, detail) = rig.get("/mcp-servers/fx").await;
    let tool = named(&detail["tools"], "test_simple_text");
    assert_eq!(tool["enabled"], false);
    let (_, list) = rig.get("/mcp-servers").await;
    assert!(
        list["servers"][0]["offered_tools"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "fx.test_simple_text"),
        "the agent is still offered the switched-off tool: {list}"
    );

    let (status, _) = rig.delete("/mcp-servers/fx").await;
    assert_eq!(status, 204);
    let (status, _) = rig.get("/mcp-servers/fx").await;
    assert_eq!(status, 404);
    let (status, _) = rig.delete("/mcp-servers/fx").await;
    assert_eq!(status, 404);
}

/// The entry of a JSON list with this `name`.
fn named(list: &serde_json::Value, name: &str) -> serde_json::Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
