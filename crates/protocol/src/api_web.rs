//! Wire types of the web dashboard's sign-in.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A one-time login link for a browser (`POST /api/v1/web/login`, bearer token only): open it
/// within two minutes; it works once and is traded for a cookie session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginLink {
    /// `http://<host>:<port>/login?code=…`, on the address the request reached.
    pub url: String,
    /// RFC 3339 time after which the link no longer works.
    pub expires_at: String,
}
