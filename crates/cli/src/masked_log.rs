//! Log lines pass through the same redactor as everything the store writes: a log field may
//! quote a tool argument, a provider's error or a URL with a token in it. In the log file,
//! personal data (addresses, phone numbers, card numbers, home directories…) is replaced by
//! markers too: a log file is shared in bug reports.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use pryx_telemetry::Redactor;

/// Where the known secrets come from: the secret store's values until the core is up, then
/// the store's redactor (which also learns the keys resolved from environment variables).
#[derive(Clone)]
pub struct LogMask {
    early: Redactor,
    store: Arc<OnceLock<pryx_store::Store>>,
}

impl LogMask {
    pub fn new(early: Redactor) -> Self {
        Self {
            early,
            store: Arc::new(OnceLock::new()),
        }
    }

    /// From now on, mask what the store masks.
    pub fn follow(&self, store: pryx_store::Store) {
        let _ = self.store.set(store);
    }

    fn redactor(&self) -> Redactor {
        self.store
            .get()
            .map_or_else(|| self.early.clone(), pryx_store::Store::redactor)
    }

    /// A `MakeWriter` for `make`, masking every line.
    pub fn wrap<M>(&self, make: M) -> Masked<M> {
        Masked {
            mask: self.clone(),
            make,
            pii: false,
        }
    }

    /// As [`LogMask::wrap`], and personal data replaced by markers too: for the log file,
    /// which is what gets shared (the terminal shows the user their own addresses).
    pub fn wrap_shared<M>(&self, make: M) -> Masked<M> {
        Masked {
            mask: self.clone(),
            make,
            pii: true,
        }
    }
}

/// Wraps a `MakeWriter`; each formatted event arrives in one `write` and leaves masked.
pub struct Masked<M> {
    mask: LogMask,
    make: M,
    pii: bool,
}

pub struct MaskedWriter<W> {
    redactor: Redactor,
    inner: W,
    pii: bool,
}

impl<'a, M> tracing_subscriber::fmt::MakeWriter<'a> for Masked<M>
where
    M: tracing_subscriber::fmt::MakeWriter<'a>,
{
    type Writer = MaskedWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter {
            redactor: self.mask.redactor(),
            inner: self.make.make_writer(),
            pii: self.pii,
        }
    }
}

impl<W: Write> Write for MaskedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let masked = self.redactor.text(&text);
        if self.pii {
            self.inner
                .write_all(pryx_telemetry::redact_pii(&masked).as_bytes())?;
        } else {
            self.inner.write_all(masked.as_bytes())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
