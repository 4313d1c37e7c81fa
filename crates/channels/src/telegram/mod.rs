//! Telegram's Bot API: a typed client ([`Bot`]), its update types read leniently ([`types`]),
//! their normalisation to [`crate::Inbound`] and Markdown rendered as Telegram HTML ([`html`]).

mod client;
pub mod html;
mod inbound;
pub mod types;

pub use client::{ApiError, Bot, BotFile, MAX_MESSAGE_UNITS, Sent};
pub use inbound::{ParsedUpdate, normalise};
