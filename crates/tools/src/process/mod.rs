//! Background processes: the table that keeps them, their output, and the `process.*` tools a
//! session follows them with (`process.list`, `process.output`, `process.wait`,
//! `process.kill`, `process.send`).

mod output;
mod table;
mod tools;

pub use output::{FILE_CAP_BYTES, Lines, MAX_LINE_BYTES, RING_LINES};
pub use table::{MatchSink, PER_SESSION, ProcessInfo, ProcessMatch, ProcessTable, Status, Stream};
pub use tools::{ProcessKill, ProcessList, ProcessOutput, ProcessSend, ProcessWait, tools};
