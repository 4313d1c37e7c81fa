//! The SQLite store of Pryx: schema, forward-only migrations, typed queries and full-text search.
//! No SQL leaves this crate; callers use the methods of [`Store`].
//!
//! [`Store`] is `Clone + Send + Sync` and its methods are synchronous; async code calls them
//! through `spawn_blocking`. Timestamps are RFC 3339 UTC strings; ids are UUID v7 strings.

mod api_keys;
mod audit;
mod channels;
mod compactions;
mod error;
mod events;
mod explore;
mod fork;
mod grants;
mod heartbeats;
mod messages;
mod metrics;
mod migrate;
mod positions;
mod search;
mod sessions;
mod spans;
mod spend;
mod store;
mod tasks;
mod tool_calls;
mod util;
mod workspaces;
mod writable;

pub use api_keys::{API_KEY_PREFIX, ApiKey, NewApiKey};
pub use audit::{
    AuditEntry, AuditFilter, AuditKey, AuditKeyState, AuditKeyStatus, AuditProblem, AuditRecord,
    AuditReport, AuditSeal, GENESIS_HASH,
};
pub use channels::{OpenUpdate, Outbound, OutboxCounts, PairedSender, UpdateState, now_ms};
pub use compactions::{Compaction, CompactionTrigger, NewCompaction};
pub use error::{Result, StoreError};
pub use events::StoredAfter;
pub use explore::{ExploreFacets, ExplorePage, ExploreQuery, ExploreRow, ExploreSort};
pub use grants::{ApprovalGrant, GrantQuery, GrantScope, NewGrant};
pub use heartbeats::{FailedRun, Happening};
pub use messages::{Message, MessageUsage, NewMessage, Role};
pub use metrics::{COUNTER_FAMILIES, Counted, Family, LATENCY_BUCKETS, Latency, MetricsSnapshot};
pub use migrate::SCHEMA_VERSION;
pub use search::{SNIPPET_CLOSE, SNIPPET_OPEN, SearchHit, fts_query};
pub use sessions::{NewSession, Page, Session, SessionStatus};
pub use spans::{NewSpan, Span, SpanEnd, SpanKind, SpanStatus};
pub use spend::{CallCost, SpendRow};
pub use store::{SpanObserver, Store};
pub use tasks::{
    AfterRun, Claim, DASHBOARD, NewNotification, Notification, NotificationState, RUNS_KEPT, Retry,
    RunEnd, TaskRow, ms_to_ts,
};
pub use tool_calls::{NewToolCall, ToolCall, ToolCallStatus, ToolCallUpdate};
pub use util::{format_ts, now_ts};
pub use workspaces::Workspace;
pub use writable::{WriteBlock, database_write_block};
