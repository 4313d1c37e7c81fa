//! Chat channels behind one small boundary. Inbound, a channel yields [`Inbound`] messages
//! (sender, chat, thread, reply-to, attachments, button presses) normalised from its protocol;
//! outbound, the core hands it [`Outgoing`] messages, typing indicators and button
//! acknowledgements. The core owns routing, pairing, the outbox and retries, so another
//! channel (Discord, Slack) only has to speak its protocol.
//!
//! Here: the types of that boundary, the one reply [`chunk`]er every channel shares (and its
//! streaming form, [`blocks`]), Telegram's
//! Bot API ([`telegram`]) and the signatures of inbound webhooks ([`webhook`]).

pub mod blocks;
pub mod chunk;
mod message;
pub mod telegram;
pub mod webhook;

pub use message::*;
