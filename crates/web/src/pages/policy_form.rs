//! The form view of a policy (`/policies/edit?name=`): its parts as fields — workspace root and
//! the places allowed outside it, the baseline per kind of access, tool rules, network
//! allow-list, rate limits, approvals — written back as YAML and saved through the same check as
//! the YAML view. A built-in opens as a copy to save under a new name.

use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use crate::pages::policies::write_policy;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pryx_policy::{
    Action, ApprovalRules, BUILTIN_NAMES, Defaults, NetworkRules, OutsidePath, Policy, RateLimits,
    ToolRule, ToolRules, WorkspaceRules, builtin, load_dir,
};
use serde::Deserialize;
use std::sync::Arc;

/// The form's fields as text.
#[derive(Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    root: String,
    /// `path` or `path (write)` per line.
    #[serde(default)]
    outside: String,
    #[serde(default)]
    read: String,
    #[serde(default)]
    write: String,
    #[serde(default)]
    exec: String,
    #[serde(default)]
    network: String,
    #[serde(default)]
    unknown: String,
    /// A pattern, or `{"pattern": {"commands": [...]}}`, per line.
    #[serde(default)]
    allowed: String,
    #[serde(default)]
    ask: String,
    #[serde(default)]
    denied: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    requests_per_minute: String,
    #[serde(default)]
    tool_calls_per_minute: String,
    /// `pattern = n` per line.
    #[serde(default)]
    tool_limits: String,
    #[serde(default)]
    approval_timeout_secs: String,
}

#[derive(Template)]
#[template(path = "policy_form.html")]
struct Page {
    layout: Layout,
    f: Fields,
    /// Opened from a built-in: saved only under a new name.
    from_builtin: Option<String>,
    error: Option<String>,
}

const ACTIONS: [&str; 3] = ["allow", "ask", "deny"];

impl Page {
    fn actions(&self) -> &'static [&'static str] {
        &ACTIONS
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn rules_text(rules: &[ToolRule]) -> String {
    rules
        .iter()
        .map(|r| match serde_json::to_value(r) {
            Ok(serde_json::Value::String(p)) => p,
            Ok(v) => v.to_string(),
            Err(_) => r.pattern.clone(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fields showing `p`.
fn fields_of(p: &Policy) -> Fields {
    Fields {
        name: p.name.clone(),
        description: p.description.clone(),
        root: p.workspace.root.clone().unwrap_or_default(),
        outside: p
            .workspace
            .allow_outside
            .iter()
            .map(|o| {
                if o.write {
                    format!("{} (write)", o.path)
                } else {
                    o.path.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        read: p.defaults.read.as_str().into(),
        write: p.defaults.write.as_str().into(),
        exec: p.defaults.exec.as_str().into(),
        network: p.defaults.network.as_str().into(),
        unknown: p.defaults.unknown.as_str().into(),
        allowed: rules_text(&p.tools.allowed),
        ask: rules_text(&p.tools.ask),
        denied: rules_text(&p.tools.denied),
        domains: p.network.domains.join("\n"),
        requests_per_minute: p
            .rate_limits
            .requests_per_minute
            .map(|n| n.to_string())
            .unwrap_or_default(),
        tool_calls_per_minute: p
            .rate_limits
            .tool_calls_per_minute
            .map(|n| n.to_string())
            .unwrap_or_default(),
        tool_limits: p
            .rate_limits
            .tools
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join("\n"),
        approval_timeout_secs: p.approval.timeout_secs.to_string(),
    }
}

fn action(field: &str, text: &str) -> Result<Action, String> {
    match text {
        "allow" => Ok(Action::Allow),
        "ask" => Ok(Action::Ask),
        "deny" => Ok(Action::Deny),
        other => Err(format!("{field}: `{other}` is not allow, ask or deny")),
    }
}

fn rules(field: &str, text: &str) -> Result<Vec<ToolRule>, String> {
    lines(text)
        .map(|l| {
            if l.starts_with('{') {
                serde_json::from_str::<ToolRule>(l)
                    .map_err(|e| format!("{field}: `{l}` is not a rule: {e}"))
            } else {
                Ok(ToolRule::new(l))
            }
        })
        .collect()
}

fn count(field: &str, text: &str) -> Result<Option<u32>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| format!("{field}: type a whole number, or leave it empty for no limit"))
}

/// The policy the fields describe (the engine's own checks come after, on its YAML).
fn policy_of(f: &Fields) -> Result<Policy, String> {
    let mut tools = std::collections::BTreeMap::new();
    for l in lines(&f.tool_limits) {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| format!("per-tool limits: write `pattern = n` (`{l}` has no `=`)"))?;
        let n = count("per-tool limits", v)?.unwrap_or(0);
        tools.insert(k.trim().to_string(), n);
    }
    Ok(Policy {
        name: f.name.trim().to_string(),
        description: f.description.trim().to_string(),
        workspace: WorkspaceRules {
            root: Some(f.root.trim().to_string()).filter(|r| !r.is_empty()),
            allow_outside: lines(&f.outside)
                .map(|l| match l.strip_suffix("(write)") {
                    Some(p) => OutsidePath {
                        path: p.trim().to_string(),
                        write: true,
                    },
                    None => OutsidePath {
                        path: l.to_string(),
                        write: false,
                    },
                })
                .collect(),
        },
        defaults: Defaults {
            read: action("read", &f.read)?,
            write: action("write", &f.write)?,
            exec: action("exec", &f.exec)?,
            network: action("network", &f.network)?,
            unknown: action("unknown", &f.unknown)?,
        },
        tools: ToolRules {
            allowed: rules("allowed", &f.allowed)?,
            ask: rules("ask", &f.ask)?,
            denied: rules("denied", &f.denied)?,
        },
        network: NetworkRules {
            domains: lines(&f.domains).map(str::to_string).collect(),
        },
        rate_limits: RateLimits {
            requests_per_minute: count("requests per minute", &f.requests_per_minute)?,
            tool_calls_per_minute: count("tool calls per minute", &f.tool_calls_per_minute)?,
            tools,
        },
        approval: ApprovalRules {
            timeout_secs: count("approval timeout", &f.approval_timeout_secs)?
                .map_or(pryx_policy::DEFAULT_APPROVAL_TIMEOUT_SECS, u64::from),
            default: Action::Deny,
        },
    })
}

#[derive(Deserialize)]
pub struct Which {
    name: String,
}

pub async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(q): Query<Which>) -> Response {
    let found = builtin(&q.name).map(|p| (p, true)).or_else(|| {
        load_dir(&web.core.dir().policies_dir())
            .policies
            .into_iter()
            .map(|(_, p)| p)
            .find(|p| p.name == q.name)
            .map(|p| (p, false))
    });
    let Some((policy, is_builtin)) = found else {
        return problem(
            &web,
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "No such policy",
            "The Policies page lists the built-in ones and the files in policies/.",
        );
    };
    let mut f = fields_of(&policy);
    if is_builtin {
        f.name = format!("my-{}", policy.name);
    }
    render(
        StatusCode::OK,
        &Page {
            layout: Layout::new(&web, &viewer, format!("Policy {}", q.name), "policies"),
            from_builtin: is_builtin.then(|| policy.name.clone()),
            f,
            error: None,
        },
    )
}

pub async fn save(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let written = policy_of(&f).and_then(|p| {
        let yaml = serde_yaml_ng::to_string(&p).map_err(|e| e.to_string())?;
        write_policy(&web, &viewer, &p.name, &yaml)
    });
    match written {
        Ok(name) => {
            tracing::info!(policy = %name, by = %viewer.session.id, "a policy was saved from the dashboard's form");
            see_other(&format!("/policies?saved={name}#p-{name}"))
        }
        Err(e) => {
            let from_builtin = BUILTIN_NAMES
                .contains(&f.name.trim())
                .then(|| f.name.trim().to_string());
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &Page {
                    layout: Layout::new(&web, &viewer, "Policy", "policies"),
                    from_builtin,
                    f,
                    error: Some(e),
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_shown_in_the_form_is_read_back_the_same() {
        for name in BUILTIN_NAMES {
            let mut p = builtin(name).unwrap();
            p.tools.allowed.push(ToolRule {
                pattern: "shell.exec".into(),
                constraints: pryx_policy::Constraints {
                    commands: vec!["git status".into()],
                    ..Default::default()
                },
            });
            p.workspace.allow_outside.push(OutsidePath {
                path: "~/notes".into(),
                write: true,
            });
            p.rate_limits.tools.insert("shell.exec".into(), 5);
            assert_eq!(policy_of(&fields_of(&p)), Ok(p));
        }
    }

    #[test]
    fn bad_fields_say_which_and_what_to_type() {
        let mut f = fields_of(&builtin("read-only").unwrap());
        f.exec = "maybe".into();
        assert!(policy_of(&f).unwrap_err().contains("exec"));
        let mut f = fields_of(&builtin("read-only").unwrap());
        f.tool_calls_per_minute = "lots".into();
        assert!(policy_of(&f).unwrap_err().contains("whole number"));
        let mut f = fields_of(&builtin("read-only").unwrap());
        f.allowed = "{\"shell.exec\": {\"nope\": 1}}".into();
        assert!(policy_of(&f).unwrap_err().contains("allowed"));
    }
}
