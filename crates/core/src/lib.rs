//! The Pryx gateway.
