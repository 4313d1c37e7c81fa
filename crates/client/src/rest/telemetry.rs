//! Telemetry export: its state (where to, sent, dropped, the last error, a redacted sample),
//! and switching it on or off.

use super::Client;
use crate::error::ClientError;
use pryx_protocol::api::{PutTelemetry, TelemetryStatus};
use reqwest::Method;

impl Client {
    /// `GET /telemetry`.
    pub async fn telemetry(&self) -> Result<TelemetryStatus, ClientError> {
        self.call("GET /telemetry", self.request(Method::GET, "/telemetry"))
            .await
    }

    /// `PUT /telemetry`: on (to the endpoint given or configured) or off; audited.
    pub async fn set_telemetry(&self, body: &PutTelemetry) -> Result<TelemetryStatus, ClientError> {
        self.call(
            "PUT /telemetry",
            self.request(Method::PUT, "/telemetry").json(body),
        )
        .await
    }
}
