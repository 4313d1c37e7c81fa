/// A trigger that cannot be scheduled, saying where it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid cron expression `{expr}`: {reason}")]
    Cron { expr: String, reason: String },
    #[error(
        "unknown time zone `{0}`: use an IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`"
    )]
    Zone(String),
    #[error("invalid interval `{input}`: {reason}")]
    Every { input: String, reason: String },
    #[error("invalid time `{input}`: {reason}")]
    At { input: String, reason: String },
    #[error("`{at}` is in the past (it is {now} now): give a later time")]
    AtInPast { at: String, now: String },
    #[error("invalid file pattern `{glob}`: {reason}")]
    Glob { glob: String, reason: String },
}
