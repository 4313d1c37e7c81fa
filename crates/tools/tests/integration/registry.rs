#![allow(clippy::unwrap_used, clippy::expect_used)]

use pryx_protocol::ToolKind;
use pryx_tools::ToolRegistry;

#[test]
fn builtins_are_registered_in_name_order() {
    let reg = ToolRegistry::with_builtins();
    let names: Vec<&str> = reg.names().collect();
    assert_eq!(
        names,
        vec![
            "fs.edit",
            "fs.list",
            "fs.read",
            "fs.search",
            "fs.write",
            "http.request",
            "shell.exec"
        ]
    );
    assert_eq!(reg.get("shell.exec").unwrap().kind(), ToolKind::Exec);
    assert_eq!(reg.get("http.request").unwrap().kind(), ToolKind::Network);
    assert_eq!(reg.get("fs.edit").unwrap().kind(), ToolKind::Write);
    assert!(reg.get("nope").is_none());
}

#[test]
fn definitions_stay_small_and_schemas_are_objects() {
    let defs = ToolRegistry::with_builtins().definitions();
    let json = serde_json::to_string(&defs).unwrap();
    println!("tool definitions: {} bytes", json.len());
    assert!(
        json.len() <= 4096,
        "tool definitions are {} bytes",
        json.len()
    );
    for d in &defs {
        assert_eq!(d.parameters["type"], "object", "{}", d.name);
        assert_eq!(d.parameters["additionalProperties"], false, "{}", d.name);
        assert!(!d.description.is_empty());
    }
}

#[test]
fn register_never_replaces_and_remove_drops() {
    let mut reg = ToolRegistry::new();
    assert!(reg.is_empty());
    for t in pryx_tools::builtins() {
        reg.register(t).unwrap();
    }
    let again = reg.get("fs.read").unwrap();
    let err = reg.register(again.clone()).unwrap_err();
    assert_eq!(err, pryx_tools::RegistryError::Duplicate("fs.read".into()));
    assert!(err.to_string().contains("already registered"), "{err}");
    assert!(
        reg.replace(again).is_some(),
        "a deliberate swap is possible"
    );
    assert_eq!(reg.len(), 7);
    assert!(reg.remove("fs.read").is_some());
    assert_eq!(reg.len(), 6);
}
