//! Rendering for `list`, `info` and `check`.

use pryx_skills::{Catalog, Skill};
use serde_json::{Value, json};
use std::process::ExitCode;

fn status(s: &Skill) -> String {
    if let Some(by) = &s.shadowed_by {
        return format!("shadowed by {} ({})", by.origin, by.location);
    }
    if !s.eligibility.is_enabled() {
        return "disabled".into();
    }
    if s.eligibility.is_eligible() {
        return "eligible".into();
    }
    let why: Vec<String> = s
        .eligibility
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect();
    format!("ineligible: {}", why.join("; "))
}

fn summary(s: &Skill) -> Value {
    json!({
        "name": s.name(),
        "description": s.manifest.description,
        "origin": s.origin,
        "location": s.location,
        "emoji": s.manifest.requirements.emoji,
        "eligible": s.is_usable(),
        "enabled": s.eligibility.is_enabled(),
        "reasons": s.eligibility.reasons.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "shadowed_by": s.shadowed_by,
        "model_invocable": !s.manifest.disable_model_invocation,
    })
}

fn short(text: &str, max: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= max {
        one
    } else {
        let mut s: String = one.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

pub fn list(catalog: &Catalog, eligible_only: bool, json_out: bool) -> anyhow::Result<ExitCode> {
    let skills: Vec<&Skill> = catalog
        .skills
        .iter()
        .filter(|s| !eligible_only || s.is_usable())
        .collect();
    if json_out {
        let doc = json!({
            "skills": skills.iter().map(|s| summary(s)).collect::<Vec<_>>(),
            "invalid": if eligible_only { json!([]) } else { json!(catalog.invalid) },
            "notes": catalog.notes,
        });
        crate::term::out_raw(&serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    for n in &catalog.notes {
        crate::term::say_err!("warning: {n}");
    }
    if skills.is_empty() && (eligible_only || catalog.invalid.is_empty()) {
        crate::term::say!("no skills found");
        return Ok(ExitCode::SUCCESS);
    }
    let width = skills
        .iter()
        .map(|s| s.name().len())
        .max()
        .unwrap_or(4)
        .max(4);
    for s in &skills {
        crate::term::say!(
            "{:<width$}  {:<9}  {}",
            s.name(),
            s.origin.as_str(),
            status(s)
        );
        if s.shadowed_by.is_none() {
            crate::term::say!(
                "{:<width$}  {:<9}  {}",
                "",
                "",
                short(&s.manifest.description, 100)
            );
        }
    }
    if !eligible_only {
        for i in &catalog.invalid {
            crate::term::say!("invalid: {i}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn info(catalog: &Catalog, name: &str, json_out: bool) -> anyhow::Result<ExitCode> {
    let copies: Vec<&Skill> = catalog.skills.iter().filter(|s| s.name() == name).collect();
    let Some(skill) = copies.iter().find(|s| s.shadowed_by.is_none()) else {
        anyhow::bail!(
            "no skill named `{name}`; see `pryx skills list` (and `pryx skills check` for invalid ones)"
        );
    };
    if json_out {
        let mut v = serde_json::to_value(skill)?;
        v["shadows"] = json!(
            copies
                .iter()
                .filter(|s| s.shadowed_by.is_some())
                .map(|s| json!({"origin": s.origin, "location": s.location}))
                .collect::<Vec<_>>()
        );
        crate::term::out_raw(&serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let m = &skill.manifest;
    let r = &m.requirements;
    let emoji = r
        .emoji
        .as_deref()
        .map(|e| format!("{e} "))
        .unwrap_or_default();
    crate::term::say!("{emoji}{}", m.name);
    crate::term::say!("  {}", m.description);
    crate::term::say!("source:      {} ({})", skill.origin, skill.location);
    crate::term::say!("status:      {}", status(skill));
    for s in copies.iter().filter(|s| s.shadowed_by.is_some()) {
        crate::term::say!("shadows:     {} ({})", s.origin, s.location);
    }
    let opt = |label: &str, v: &Option<String>| {
        if let Some(v) = v {
            crate::term::say!("{label:<12} {v}");
        }
    };
    opt("license:", &m.license);
    opt("homepage:", &m.homepage);
    opt("compatible:", &m.compatibility);
    if !m.allowed_tools.is_empty() {
        crate::term::say!("tools:       {}", m.allowed_tools.join(" "));
    }
    if let Some(ns) = m.namespace {
        crate::term::say!("metadata:    metadata.{ns}");
    }
    let lists = [
        ("needs bins:", &r.bins),
        ("needs one:", &r.any_bins),
        ("needs env:", &r.env),
        ("needs config:", &r.config),
        ("os:", &r.os),
    ];
    for (label, items) in lists {
        if !items.is_empty() {
            crate::term::say!("{label:<12} {}", items.join(", "));
        }
    }
    opt("primary env:", &r.primary_env);
    if r.always {
        crate::term::say!("always:      true (requirements other than os are not enforced)");
    }
    if m.disable_model_invocation {
        crate::term::say!(
            "prompt:      kept out of the model's skill list (disable-model-invocation)"
        );
    }
    for spec in &r.install {
        let label = spec
            .label
            .as_deref()
            .map(|l| format!(" - {l}"))
            .unwrap_or_default();
        let line = format!(
            "installer:   {} ({} {}){label}",
            spec.id,
            spec.kind.as_str(),
            spec.target
        );
        crate::term::say!("{}", super::install::one_line(&line));
    }
    for w in &skill.warnings {
        crate::term::say!("warning:     {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// What `pryx skills check --json` prints.
#[derive(serde::Serialize)]
struct CheckReport<'a> {
    valid: usize,
    invalid: &'a [pryx_skills::InvalidSkill],
    warnings: Vec<CheckWarning>,
    /// Problems outside any one skill (e.g. an unreadable config.json).
    notes: &'a [String],
}

#[derive(serde::Serialize)]
struct CheckWarning {
    file: String,
    message: String,
}

pub fn check(catalog: &Catalog, json: bool) -> anyhow::Result<ExitCode> {
    let code = if catalog.invalid.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    let warnings = catalog.skills.iter().flat_map(|s| {
        s.warnings.iter().map(|w| CheckWarning {
            file: s.location.skill_file(),
            message: w.clone(),
        })
    });
    if json {
        let report = CheckReport {
            valid: catalog.skills.len(),
            invalid: &catalog.invalid,
            warnings: warnings.collect(),
            notes: &catalog.notes,
        };
        crate::term::out_raw(&serde_json::to_string_pretty(&report)?);
        return Ok(code);
    }
    for n in &catalog.notes {
        crate::term::say!("warning: {n}");
    }
    for w in warnings {
        crate::term::say!("warning: {}: {}", w.file, w.message);
    }
    for i in &catalog.invalid {
        crate::term::say!("error: {i}");
    }
    let valid = catalog.skills.len();
    let invalid = catalog.invalid.len();
    crate::term::say!("{valid} valid, {invalid} invalid");
    Ok(code)
}
