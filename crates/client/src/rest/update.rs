//! Updates as surfaces show them: the status, and marking the last update shown.

use super::Client;
use crate::error::ClientError;
use pryx_protocol::api::UpdateStatus;
use reqwest::Method;

impl Client {
    /// `GET /update`.
    pub async fn update_status(&self) -> Result<UpdateStatus, ClientError> {
        self.call("GET /update", self.request(Method::GET, "/update"))
            .await
    }

    /// `POST /update/seen`: the last update or rollback was shown.
    pub async fn update_seen(&self) -> Result<(), ClientError> {
        self.call_empty(
            "POST /update/seen",
            self.request(Method::POST, "/update/seen"),
        )
        .await
    }
}
