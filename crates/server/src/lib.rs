//! The Pryx HTTP API.
