//! Ready-made tasks (a prompt with `{{variables}}`, a trigger and the tools to allow so it can run
//! unattended), and filling in a prompt's variables.

use pryx_protocol::api::{TaskTemplate, TaskTrigger, TemplateVar};
use std::collections::BTreeMap;

/// A `{{name}}` a prompt uses but no variable gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template variable `{0}` is not set: give it with --var {0}=VALUE")]
pub struct MissingVar(pub String);

/// The prompt with each `{{name}}` replaced by `vars[name]` (spaces inside the braces allowed).
/// Text that only looks like a variable (`{{` with no closing `}}`, or a name with other
/// characters) is left as written.
pub fn render(prompt: &str, vars: &BTreeMap<String, String>) -> Result<String, MissingVar> {
    let mut out = String::with_capacity(prompt.len());
    let mut rest = prompt;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        if is_name(name) {
            let value = vars.get(name).ok_or_else(|| MissingVar(name.to_string()))?;
            out.push_str(value);
        } else {
            out.push_str(&rest[start..start + 2 + end + 2]);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn var(name: &str, description: &str, default: Option<&str>) -> TemplateVar {
    TemplateVar {
        name: name.into(),
        description: description.into(),
        default: default.map(Into::into),
    }
}

fn every(seconds: u64) -> TaskTrigger {
    TaskTrigger::Every { seconds }
}

/// The built-in templates.
pub fn all() -> Vec<TaskTemplate> {
    vec![
        TaskTemplate {
            id: "log-monitor".into(),
            title: "Log monitor".into(),
            description: "Reads new lines of log files when they change and reports errors.".into(),
            prompt: "The log files matching `{{files}}` changed. Read their last {{lines}} lines \
                     and report any errors or warnings, each with its time and a one-line \
                     explanation. Say `no errors` if there are none."
                .into(),
            vars: vec![
                var(
                    "files",
                    "the log files, relative to the workspace",
                    Some("logs/*.log"),
                ),
                var("lines", "how many lines of each to read", Some("200")),
            ],
            trigger: TaskTrigger::FileChange {
                glob: "logs/*.log".into(),
                debounce_ms: 5000,
            },
            suggested_tools: vec!["fs.read".into(), "fs.list".into()],
        },
        TaskTemplate {
            id: "test-runner".into(),
            title: "Test runner".into(),
            description:
                "Runs the project's tests when its sources change and summarises failures.".into(),
            prompt: "Run `{{command}}` in the workspace. If tests fail, list each failing test \
                     with the line of its first error; if all pass, say how many ran."
                .into(),
            vars: vec![var("command", "the test command", Some("cargo test"))],
            trigger: TaskTrigger::FileChange {
                glob: "src/**/*".into(),
                debounce_ms: 10_000,
            },
            suggested_tools: vec!["shell.exec".into()],
        },
        TaskTemplate {
            id: "web-watch".into(),
            title: "Web page watch".into(),
            description: "Fetches a page every few hours and tells what changed.".into(),
            prompt: "Fetch {{url}} and compare what it says about {{topic}} with the notes in \
                     `.pryx/watch-{{name}}.md` (create it the first time). Report what changed, \
                     then update the notes."
                .into(),
            vars: vec![
                var("url", "the page to watch", None),
                var(
                    "topic",
                    "what to look for on it",
                    Some("prices and availability"),
                ),
                var("name", "a short name for the notes file", Some("page")),
            ],
            trigger: every(4 * 3600),
            suggested_tools: vec!["http.request".into(), "fs.read".into(), "fs.write".into()],
        },
        TaskTemplate {
            id: "daily-summary".into(),
            title: "Daily summary".into(),
            description: "Every morning, summarises what changed in the workspace.".into(),
            prompt: "Summarise what changed in the workspace since yesterday ({{focus}}): new \
                     and modified files, and anything that needs attention. Keep it under \
                     {{words}} words."
                .into(),
            vars: vec![
                var("focus", "what to look at", Some("all files")),
                var("words", "the summary's length", Some("200")),
            ],
            trigger: TaskTrigger::Cron {
                expr: "0 8 * * *".into(),
                tz: None,
            },
            suggested_tools: vec!["fs.list".into(), "fs.read".into()],
        },
        TaskTemplate {
            id: "data-sync".into(),
            title: "Data sync".into(),
            description: "Fetches data from a URL on a schedule and saves it in the workspace."
                .into(),
            prompt: "Fetch {{url}} and save the result to `{{path}}` in the workspace, replacing \
                     the previous copy. Report how many records it holds and whether that \
                     changed."
                .into(),
            vars: vec![
                var("url", "where the data comes from", None),
                var("path", "where to save it", Some("data/latest.json")),
            ],
            trigger: every(3600),
            suggested_tools: vec!["http.request".into(), "fs.write".into()],
        },
    ]
}

/// The template with this id.
pub fn find(id: &str) -> Option<TaskTemplate> {
    all().into_iter().find(|t| t.id == id)
}

/// A template's variables with its defaults, overridden by `given`; the first variable left
/// without a value is an error.
pub fn vars_for(
    template: &TaskTemplate,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, MissingVar> {
    let mut vars = given.clone();
    for v in &template.vars {
        if !vars.contains_key(&v.name) {
            let d = v
                .default
                .clone()
                .ok_or_else(|| MissingVar(v.name.clone()))?;
            vars.insert(v.name.clone(), d);
        }
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fills_variables_and_names_a_missing_one() {
        let v = vars(&[("url", "https://x.test"), ("n", "3")]);
        assert_eq!(
            render("get {{url}} {{ n }} times", &v).unwrap(),
            "get https://x.test 3 times"
        );
        assert_eq!(
            render("json {{\"a\": 1}} and {{ unclosed", &v).unwrap(),
            "json {{\"a\": 1}} and {{ unclosed"
        );
        assert_eq!(render("{{who}}", &v).unwrap_err(), MissingVar("who".into()));
    }

    #[test]
    fn every_template_renders_with_its_defaults_or_says_what_is_missing() {
        for t in all() {
            match vars_for(&t, &BTreeMap::new()) {
                Ok(v) => {
                    render(&t.prompt, &v).unwrap();
                }
                Err(MissingVar(name)) => {
                    assert!(t.vars.iter().any(|v| v.name == name && v.default.is_none()));
                    let v = vars_for(&t, &vars(&[(&name, "x")])).unwrap();
                    render(&t.prompt, &v).unwrap();
                }
            }
            assert!(
                crate::Schedule::new(&t.trigger, chrono::Utc::now()).is_ok(),
                "{}",
                t.id
            );
        }
        assert!(find("log-monitor").is_some() && find("nope").is_none());
    }
}
