//! Tools that read files of their own (`skills.read`, `skills.load`): their path arguments are
//! relative to a skill's folder, not the workspace, so the tool reports the real files it would
//! read and they are judged here as `fs.read` of each.

use std::path::Path;

use crate::context::CallContext;
use crate::decision::{Action, Decision};
use crate::judge::Judge;
use crate::path::resolve_path;
use crate::shell::PathRole;

/// Tools judged by the files they report reading.
pub(crate) const FILE_READERS: &[&str] = &["skills.read", "skills.load"];

/// Whether `tool` is judged by the files it reports reading.
pub(crate) fn reads_own_files(tool: &str) -> bool {
    FILE_READERS.contains(&tool)
}

/// Judges what a file-reading tool reported: every path as `fs.read` would judge it inside
/// the workspace; outside it, the tool has confined the path to a skills location, so it is
/// only recorded for the rules' path globs. No report, or a failed one, is denied.
pub(crate) fn judge_reported_reads(judge: &mut Judge<'_>, ctx: &CallContext<'_>) {
    let paths = match ctx.reads {
        Some(Ok(paths)) => paths,
        Some(Err(why)) => {
            let d = Decision::new(Action::Deny, judge.rule("skills"), why.to_string())
                .with("tool", ctx.tool);
            judge.flag(d);
            return;
        }
        None => {
            let d = Decision::new(
                Action::Deny,
                judge.rule("skills"),
                format!("`{}` did not report which files it reads", ctx.tool),
            )
            .with("tool", ctx.tool);
            judge.flag(d);
            return;
        }
    };
    let ws = judge.workspace.clone();
    for path in paths {
        judge_one(judge, path, &ws);
    }
}

fn judge_one(judge: &mut Judge<'_>, path: &Path, ws: &Path) {
    let Some(raw) = path.to_str().filter(|_| path.is_absolute()) else {
        let d = Decision::new(
            Action::Deny,
            judge.rule("invalid path"),
            format!(
                "`{}` is not an absolute UTF-8 path",
                path.display().to_string().escape_debug()
            ),
        );
        judge.flag(d);
        return;
    };
    if path.starts_with(ws) {
        judge.path(raw, PathRole::Read, true, false, ws);
        return;
    }
    match resolve_path(raw, ws, None) {
        Ok(real) => {
            let shown = judge.shown(&real);
            judge.found.paths.push(shown);
        }
        Err(problem) => {
            let d = Decision::new(
                Action::Deny,
                judge.rule("invalid path"),
                format!("{problem}: `{}`", raw.escape_debug()),
            )
            .with("attempted_path", raw);
            judge.flag(d);
        }
    }
}
