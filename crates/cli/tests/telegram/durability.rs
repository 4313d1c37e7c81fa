//! Nothing lost, nothing handled twice: restarts, Telegram's 429, a second poller.
