//! Messages of the WebSocket `/api/v1/ws` besides the event envelope.
//!
//! The server sends [`Event`](crate::Event) envelopes (`"type": "event"`) and the control messages of
//! [`WsControl`]; the client sends [`WsRequest`]s. [`WsServerMessage`] parses either server kind.

use crate::api::{ApprovalDecision, ApprovalScope};
use crate::error::ErrorBody;
use crate::event::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a client asks of the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WsRequest {
    /// Replaces the subscription. `sessions`: only these sessions (`None`: all). `events`: only
    /// these kinds (`None`: all). `since`: session id → the last version the client has (at most
    /// [`MAX_SINCE_SESSIONS`] entries); the server first replays what is stored after it, then
    /// goes live without a gap or duplicate. Events published before the request are delivered
    /// under the previous subscription; a socket never sends a session's version twice, so a
    /// `since` below what this socket already sent resumes after what it sent.
    ///
    /// `cursor`: the `cursor` of an earlier [`WsControl::Subscribed`]. Every session the filters
    /// let through that `since` does not name and that has events stored after it is replayed
    /// from its first such event: sessions created while the client was away are offered without
    /// being listed. A cursor past what is stored (the data dir was restored) counts as 0.
    #[serde(rename = "subscribe")]
    Subscribe {
        #[serde(default)]
        sessions: Option<Vec<String>>,
        #[serde(default)]
        events: Option<Vec<EventKind>>,
        #[serde(default)]
        since: BTreeMap<String, u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cursor: Option<u64>,
    },
    /// Answers an approval (PRD §13 `tool.response`); the first answer from any surface wins.
    #[serde(rename = "tool.response")]
    ToolResponse {
        request_id: String,
        decision: ApprovalDecision,
        #[serde(default)]
        scope: ApprovalScope,
    },
    #[serde(rename = "ping")]
    Ping,
}

/// The most sessions one `subscribe` may name in `since`.
pub const MAX_SINCE_SESSIONS: usize = 1000;

/// The largest message the server reads (bigger ones get an error, then the socket closes).
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Server messages that are not events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WsControl {
    /// The subscription is in place; `replayed` stored events were sent before this message.
    /// `errors`: the `since` entries that could not be replayed (a version out of range, an
    /// unknown session, a store failure), by session; the other sessions were replayed.
    /// `cursor`: a bus-wide position; the client now holds every stored event at or below it
    /// of the sessions and kinds this subscription follows (or chose not to have them: a
    /// session without `since` or `cursor` starts live). Keep it and send it with the next
    /// subscribe, on this socket or a new one.
    #[serde(rename = "subscribed")]
    Subscribed {
        replayed: u64,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        errors: BTreeMap<String, ErrorBody>,
        #[serde(default)]
        cursor: u64,
    },
    /// The `since` given for `session_id` is past what is stored (the client holds versions the
    /// core does not): the client should drop what it holds of that session, fetch it again
    /// (`GET /sessions/{id}`) and continue from `last_version`, the stored version this socket
    /// now continues after. Sent before `subscribed`.
    #[serde(rename = "reset")]
    Reset {
        session_id: String,
        last_version: u64,
    },
    /// The client fell behind and events were dropped: subscribe again with `since` set to the
    /// last versions it holds to get what it missed (deltas are not replayed).
    #[serde(rename = "resync")]
    Resync { dropped: u64 },
    /// Reply to `tool.response`: `ok` is false when another surface answered first or the approval
    /// timed out.
    #[serde(rename = "ack")]
    Ack {
        request_id: String,
        ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<ErrorBody>,
    },
    #[serde(rename = "pong")]
    Pong,
    /// A request the server could not understand or refuses (a limit passed; the message names
    /// it). After a message over [`MAX_MESSAGE_BYTES`] the socket is closed.
    #[serde(rename = "error")]
    Error { error: ErrorBody },
}

/// Anything the server sends on the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WsServerMessage {
    Event(Event),
    Control(WsControl),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_parse_by_type() {
        let ev = r#"{"type":"event","event":"session.message","session_id":"s","surface":"core","payload":{},"timestamp":"t","version":3}"#;
        let parsed: WsServerMessage =
            serde_json::from_str(ev).unwrap_or(WsServerMessage::Control(WsControl::Pong));
        assert!(matches!(parsed, WsServerMessage::Event(ref e) if e.version == Some(3)));
        let ctl = r#"{"type":"resync","dropped":7}"#;
        let parsed: WsServerMessage =
            serde_json::from_str(ctl).unwrap_or(WsServerMessage::Control(WsControl::Pong));
        assert_eq!(
            parsed,
            WsServerMessage::Control(WsControl::Resync { dropped: 7 })
        );
        let reset = r#"{"type":"reset","session_id":"s","last_version":4}"#;
        let parsed: WsServerMessage =
            serde_json::from_str(reset).unwrap_or(WsServerMessage::Control(WsControl::Pong));
        assert_eq!(
            parsed,
            WsServerMessage::Control(WsControl::Reset {
                session_id: "s".into(),
                last_version: 4
            })
        );
        // `errors` is omitted when empty, and optional when read.
        let ok = WsControl::Subscribed {
            replayed: 2,
            errors: BTreeMap::new(),
            cursor: 9,
        };
        assert_eq!(
            serde_json::to_string(&ok).unwrap_or_default(),
            r#"{"type":"subscribed","replayed":2,"cursor":9}"#
        );
        let parsed: WsServerMessage =
            serde_json::from_str(r#"{"type":"subscribed","replayed":2,"cursor":9}"#)
                .unwrap_or(WsServerMessage::Control(WsControl::Pong));
        assert_eq!(parsed, WsServerMessage::Control(ok));
    }

    #[test]
    fn requests_use_prd_names() {
        let r: WsRequest = serde_json::from_str(
            r#"{"type":"tool.response","request_id":"a","decision":"approve"}"#,
        )
        .unwrap_or(WsRequest::Ping);
        assert_eq!(
            r,
            WsRequest::ToolResponse {
                request_id: "a".into(),
                decision: ApprovalDecision::Approve,
                scope: ApprovalScope::Once
            }
        );
        let s: WsRequest = serde_json::from_str(r#"{"type":"subscribe","since":{"s1":4}}"#)
            .unwrap_or(WsRequest::Ping);
        assert!(
            matches!(s, WsRequest::Subscribe { sessions: None, events: None, ref since, cursor: None } if since["s1"] == 4)
        );
        let s: WsRequest =
            serde_json::from_str(r#"{"type":"subscribe","cursor":12}"#).unwrap_or(WsRequest::Ping);
        assert!(matches!(
            s,
            WsRequest::Subscribe {
                cursor: Some(12),
                ..
            }
        ));
    }
}
