//! Browser login without a password and without the API token (DESIGN.md §6): `pryx dashboard`
//! asks the core (with the token) for a one-time code; the browser trades the code for an
//! `HttpOnly; SameSite=Strict` cookie and is redirected so the code leaves the address bar. Codes
//! are single-use and live two minutes; cookies and codes are kept only as SHA-256 hashes, in
//! memory (a restart of the core logs browsers out). Every signed-in browser is listed and can be
//! revoked. Each browser session has a CSRF token that state-changing requests must echo.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long a login code can be redeemed (unless the gateway is configured otherwise).
pub const CODE_LIFETIME: Duration = Duration::from_secs(120);
/// A browser unused this long must log in again.
const IDLE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// A browser session ends this long after login, used or not.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Outstanding codes kept; older ones are dropped first.
const MAX_CODES: usize = 64;
/// Signed-in browsers kept; the least recently used is logged out first.
const MAX_SESSIONS: usize = 256;

/// A freshly issued login code (shown once, in the login URL).
#[derive(Debug, Clone)]
pub struct LoginCode {
    pub code: String,
    pub expires_at: OffsetDateTime,
}

/// A signed-in browser as the settings page lists it (no secrets).
#[derive(Debug, Clone, serde::Serialize)]
pub struct BrowserSession {
    /// Public id, used to revoke it.
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    pub user_agent: String,
    /// Token that forms and scripts of this browser send back on state-changing requests.
    #[serde(skip)]
    pub csrf: String,
}

impl BrowserSession {
    /// `2026-12-01 13:32 UTC`, for people.
    pub fn created_label(&self) -> String {
        label(self.created_at)
    }
    pub fn last_seen_label(&self) -> String {
        label(self.last_seen_at)
    }
    /// RFC 3339, for `<time datetime>`.
    pub fn created_iso(&self) -> String {
        iso(self.created_at)
    }
    pub fn last_seen_iso(&self) -> String {
        iso(self.last_seen_at)
    }
}

/// A time for people: `2026-12-01 13:32 UTC`.
pub fn label(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A time for machines (RFC 3339).
pub fn iso(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

struct Entry {
    session: BrowserSession,
    created: Instant,
    used: Instant,
}

#[derive(Default)]
struct Inner {
    /// Hash of a code → when it expires.
    codes: HashMap<String, Instant>,
    /// Hash of a cookie → its session.
    sessions: HashMap<String, Entry>,
}

/// Login codes and signed-in browsers.
pub struct WebAuth {
    inner: Mutex<Inner>,
    code_lifetime: Duration,
    /// Failed code redemptions per client address.
    pub failures: FailureLimiter,
}

impl Default for WebAuth {
    fn default() -> Self {
        WebAuth::new(10, CODE_LIFETIME)
    }
}

impl WebAuth {
    /// `failures_per_minute`: wrong codes one address may try per minute (loopback included);
    /// `code_lifetime`: how long a login code can be redeemed.
    pub fn new(failures_per_minute: u32, code_lifetime: Duration) -> Self {
        WebAuth {
            inner: Mutex::new(Inner::default()),
            code_lifetime,
            failures: FailureLimiter::new(failures_per_minute, Duration::from_secs(60)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new single-use code (`None` without a random source).
    pub fn issue_code(&self) -> Option<LoginCode> {
        let code = random_hex(16)?;
        let now = Instant::now();
        let mut inner = self.lock();
        inner.codes.retain(|_, exp| *exp > now);
        if inner.codes.len() >= MAX_CODES
            && let Some(oldest) = inner
                .codes
                .iter()
                .min_by_key(|(_, exp)| **exp)
                .map(|(k, _)| k.clone())
        {
            inner.codes.remove(&oldest);
        }
        inner.codes.insert(hash(&code), now + self.code_lifetime);
        Some(LoginCode {
            code,
            expires_at: OffsetDateTime::now_utc() + self.code_lifetime,
        })
    }

    /// Trades a code for a new browser session: returns the cookie value (shown to the browser
    /// once) and the session. A code works once, used or expired; a wrong one gives `None`.
    pub fn redeem(&self, code: &str, user_agent: &str) -> Option<(String, BrowserSession)> {
        let now = Instant::now();
        let mut inner = self.lock();
        let expires = inner.codes.remove(&hash(code))?;
        if expires <= now {
            return None;
        }
        inner.sessions.retain(|_, e| {
            now.duration_since(e.used) < IDLE_LIFETIME
                && now.duration_since(e.created) < MAX_LIFETIME
        });
        if inner.sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = inner
                .sessions
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
        {
            inner.sessions.remove(&oldest);
        }
        let cookie = random_hex(32)?;
        let stamp = OffsetDateTime::now_utc();
        let session = BrowserSession {
            id: random_hex(6)?,
            created_at: stamp,
            last_seen_at: stamp,
            user_agent: user_agent.chars().take(200).collect(),
            csrf: random_hex(24)?,
        };
        inner.sessions.insert(
            hash(&cookie),
            Entry {
                session: session.clone(),
                created: now,
                used: now,
            },
        );
        Some((cookie, session))
    }

    /// The browser session a cookie value belongs to, if it is still valid (marks it used).
    pub fn session(&self, cookie: &str) -> Option<BrowserSession> {
        let now = Instant::now();
        let key = hash(cookie);
        let mut inner = self.lock();
        let entry = inner.sessions.get_mut(&key)?;
        if now.duration_since(entry.used) >= IDLE_LIFETIME
            || now.duration_since(entry.created) >= MAX_LIFETIME
        {
            inner.sessions.remove(&key);
            return None;
        }
        entry.used = now;
        entry.session.last_seen_at = OffsetDateTime::now_utc();
        Some(entry.session.clone())
    }

    /// Signed-in browsers, most recently used first.
    pub fn list(&self) -> Vec<BrowserSession> {
        let inner = self.lock();
        let mut all: Vec<(Instant, BrowserSession)> = inner
            .sessions
            .values()
            .map(|e| (e.used, e.session.clone()))
            .collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.0));
        all.into_iter().map(|(_, s)| s).collect()
    }

    /// Logs out the browser with this public id; false when there is none.
    pub fn revoke(&self, id: &str) -> bool {
        let mut inner = self.lock();
        let before = inner.sessions.len();
        inner.sessions.retain(|_, e| e.session.id != id);
        inner.sessions.len() != before
    }

    /// Logs out the browser holding this cookie.
    pub fn logout(&self, cookie: &str) {
        self.lock().sessions.remove(&hash(cookie));
    }
}

/// Whether `given` is the session's CSRF token (compared in constant time).
pub fn csrf_ok(session: &BrowserSession, given: &str) -> bool {
    constant_time_eq(given.as_bytes(), session.csrf.as_bytes())
}

/// Compares secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A random secret; `None` when the system's random source fails (no login is then possible,
/// rather than a guessable one).
fn random_hex(bytes: usize) -> Option<String> {
    let mut buf = vec![0u8; bytes];
    match getrandom::fill(&mut buf) {
        Ok(()) => Some(hex::encode(buf)),
        Err(e) => {
            tracing::error!(error = %e, "the system random source failed; no login possible");
            None
        }
    }
}

/// Counts failures per client address in a fixed window (failed API tokens, failed login codes).
pub struct FailureLimiter {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        FailureLimiter {
            max,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Failures allowed per window.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// Counts a failure; returns the failures of this address in the current window.
    pub fn record(&self, ip: IpAddr) -> u32 {
        let mut map = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            let window = self.window;
            map.retain(|_, (start, _)| start.elapsed() < window);
        }
        let entry = map.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }

    /// Whether this address is over the limit in the current window (without counting).
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let map = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip)
            .is_some_and(|(start, n)| start.elapsed() < self.window && *n >= self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once() {
        let auth = WebAuth::default();
        let code = auth.issue_code().unwrap();
        let (cookie, session) = auth.redeem(&code.code, "test").unwrap();
        assert!(auth.redeem(&code.code, "test").is_none());
        assert_eq!(auth.session(&cookie).unwrap().id, session.id);
        assert!(auth.session("nope").is_none());
        assert!(csrf_ok(&session, &session.csrf));
        assert!(!csrf_ok(&session, ""));
        assert_eq!(auth.list().len(), 1);
        assert!(auth.revoke(&session.id));
        assert!(auth.session(&cookie).is_none());
        assert!(!auth.revoke(&session.id));
    }

    #[test]
    fn an_expired_code_is_refused() {
        let auth = WebAuth::new(10, Duration::ZERO);
        let code = auth.issue_code().unwrap();
        assert!(auth.redeem(&code.code, "x").is_none());
    }

    #[test]
    fn wrong_and_logged_out() {
        let auth = WebAuth::default();
        assert!(auth.redeem("0000", "x").is_none());
        let code = auth.issue_code().unwrap();
        let (cookie, _) = auth.redeem(&code.code, "x").unwrap();
        auth.logout(&cookie);
        assert!(auth.session(&cookie).is_none());
    }

    #[test]
    fn limiter_blocks_after_the_threshold() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for n in 1..=3 {
            assert!(!l.blocked(ip));
            assert_eq!(l.record(ip), n);
        }
        assert!(l.blocked(ip));
        assert!(!l.blocked("127.0.0.2".parse().unwrap()));
    }
}
