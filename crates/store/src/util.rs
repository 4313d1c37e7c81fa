//! Small shared helpers: timestamps, ids, integer conversions and string-backed enums.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::error::{Result, StoreError};

/// RFC 3339 UTC with a fixed six-digit fraction, so that stored timestamps sort as strings.
const TS_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats a moment the way the store records it (UTC, microseconds, `Z`).
pub fn format_ts(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    // The format only fails for years outside 0..=9999, which a clock never reports.
    utc.format(TS_FORMAT)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000000Z".to_string())
}

/// The current time as the store records it. Strictly increasing within the process (at
/// microsecond resolution), so rows written one after another never tie on time.
pub fn now_ts() -> String {
    static LAST_MICROS: AtomicI64 = AtomicI64::new(i64::MIN);
    let now = OffsetDateTime::now_utc();
    let micros = i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX);
    let next = |last: i64| {
        if micros > last {
            micros
        } else {
            last.saturating_add(1)
        }
    };
    // The closure always returns `Some`, so the update cannot fail; both arms carry the old value.
    let prev = LAST_MICROS
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some(next(last)))
        .unwrap_or_else(|last| last);
    let chosen = next(prev);
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(chosen) * 1_000).unwrap_or(now);
    format_ts(t)
}

/// Parses a stored (or any RFC 3339) timestamp.
pub fn parse_ts(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Decode(format!("timestamp {s:?}: {e}")))
}

/// A new time-ordered identifier.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Converts a count for storage; SQLite integers are signed 64-bit.
pub fn to_i64(what: &'static str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid {
        what,
        detail: format!("{v} is too large"),
    })
}

/// Converts a stored count back; negative values are clamped to zero.
pub fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Parses a stored JSON column.
pub fn json_col(s: &str) -> Result<serde_json::Value> {
    Ok(serde_json::from_str(s)?)
}

/// Declares an enum stored as a fixed set of lowercase strings, usable directly as an SQL value.
macro_rules! str_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $var:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $var),+
        }

        impl $name {
            /// The stored and wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }

            /// The inverse of [`Self::as_str`].
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$var),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                Self::parse(s).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("unknown {} value {s:?}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}
pub(crate) use str_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_and_round_trip() {
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(90);
        let s = format_ts(t);
        assert_eq!(s, "1970-01-01T00:01:30.000000Z");
        assert_eq!(parse_ts(&s).unwrap(), t);
        let later = format_ts(t + time::Duration::microseconds(5));
        assert!(later > s);
    }

    #[test]
    fn now_is_strictly_increasing() {
        let stamps: Vec<String> = (0..1000).map(|_| now_ts()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn counts_convert_with_errors_not_wraparound() {
        assert_eq!(to_i64("n", 7).unwrap(), 7);
        assert!(to_i64("n", u64::MAX).is_err());
        assert_eq!(to_u64(-3), 0);
    }
}
