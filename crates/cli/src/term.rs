//! Printing for people. Text shown on a terminal may quote untrusted sources (model answers,
//! tool output, MCP and skill metadata, file names, errors quoting them), so every human line
//! goes through `pryx_protocol::safe_text::escape`: no control sequence in it can act on the
//! terminal. Machine output (JSON, an answer piped to a script) is written as is with
//! [`out_raw`]. A closed pipe (`pryx … | head`) ends the output quietly, never in a panic.

use pryx_protocol::safe_text::escape;
use std::io::Write;

/// `println!` for human output: the line with terminal controls shown escaped.
macro_rules! say {
    ($($t:tt)*) => { $crate::term::out(&format!($($t)*)) };
}
/// `eprintln!` for human output: the line with terminal controls shown escaped.
macro_rules! say_err {
    ($($t:tt)*) => { $crate::term::err(&format!($($t)*)) };
}
pub(crate) use {say, say_err};

/// One human line on stdout.
pub fn out(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{}", escape(line));
}

/// One human line on stderr.
pub fn err(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", escape(line));
}

/// One machine line on stdout (JSON), exactly as given.
pub fn out_raw(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A writer for logs shown on a terminal: every write has its terminal controls escaped (log
/// fields quote model text, tool output and server messages).
pub struct SafeStderr;

impl Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr()
            .lock()
            .write_all(escape(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
