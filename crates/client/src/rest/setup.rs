//! The endpoints that configure a running core: providers (with presets and a live test), the
//! model list, agent profiles, the settings of one session, and dashboard login links.

use super::{Client, encode, with_query};
use crate::error::ClientError;
use pryx_protocol::api::{
    AgentList, AgentView, LoginLink, ModelList, ModelView, PresetList, ProviderList,
    ProviderPreset, ProviderTestReport, ProviderView, PutProvider, SessionSummary, TestProvider,
    UpdateSession,
};
use reqwest::Method;

/// `/providers/{id}`, with the id encoded so it can never name another route.
fn provider_path(id: &str) -> String {
    format!("/providers/{}", encode(id))
}

/// `/models`, optionally of one provider.
fn models_path(provider: Option<&str>) -> String {
    let query: Vec<String> = provider
        .map(|p| format!("provider={}", encode(p)))
        .into_iter()
        .collect();
    with_query("/models", &query)
}

impl Client {
    /// `GET /providers`: the configured providers. The keys never come back, only where they
    /// come from and whether they resolve.
    pub async fn providers(&self) -> Result<Vec<ProviderView>, ClientError> {
        let list: ProviderList = self
            .call("GET /providers", self.request(Method::GET, "/providers"))
            .await?;
        Ok(list.providers)
    }

    /// `GET /providers/presets`: the providers Pryx knows how to set up, with the environment
    /// variable that holds a key when the core's environment has one.
    pub async fn provider_presets(&self) -> Result<Vec<ProviderPreset>, ClientError> {
        let list: PresetList = self
            .call(
                "GET /providers/presets",
                self.request(Method::GET, "/providers/presets"),
            )
            .await?;
        Ok(list.presets)
    }

    /// `GET /providers/{id}`; an unknown id fails with `NOT_FOUND`.
    pub async fn get_provider(&self, id: &str) -> Result<ProviderView, ClientError> {
        self.call(
            "GET /providers/{id}",
            self.request(Method::GET, &provider_path(id)),
        )
        .await
    }

    /// `PUT /providers/{id}`: creates or replaces the provider. A key in `body` goes to the core's
    /// secret store and is never returned.
    pub async fn put_provider(
        &self,
        id: &str,
        body: &PutProvider,
    ) -> Result<ProviderView, ClientError> {
        self.call(
            "PUT /providers/{id}",
            self.request(Method::PUT, &provider_path(id)).json(body),
        )
        .await
    }

    /// `DELETE /providers/{id}`.
    pub async fn delete_provider(&self, id: &str) -> Result<(), ClientError> {
        self.call_empty(
            "DELETE /providers/{id}",
            self.request(Method::DELETE, &provider_path(id)),
        )
        .await
    }

    /// `POST /providers/{id}/test`: one tiny real call. A call the provider refused is still
    /// `Ok`, with `ok: false` and the provider's error in the report.
    pub async fn test_provider(
        &self,
        id: &str,
        body: &TestProvider,
    ) -> Result<ProviderTestReport, ClientError> {
        let path = format!("{}/test", provider_path(id));
        self.call(
            "POST /providers/{id}/test",
            self.request(Method::POST, &path).json(body),
        )
        .await
    }

    /// `GET /models[?provider=]`: without a provider, the models of the configured providers,
    /// configured first; `default` marks the core's default model.
    pub async fn models_for(&self, provider: Option<&str>) -> Result<Vec<ModelView>, ClientError> {
        let list: ModelList = self
            .call(
                "GET /models",
                self.request(Method::GET, &models_path(provider)),
            )
            .await?;
        Ok(list.models)
    }

    /// `PATCH /sessions/{id}`: changes the model, policy or title of the session's later turns;
    /// absent fields stay.
    pub async fn update_session(
        &self,
        id: &str,
        body: &UpdateSession,
    ) -> Result<SessionSummary, ClientError> {
        let path = format!("/sessions/{}", encode(id));
        self.call(
            "PATCH /sessions/{id}",
            self.request(Method::PATCH, &path).json(body),
        )
        .await
    }

    /// `GET /agents`: the agent profiles sessions are created from.
    pub async fn agents(&self) -> Result<Vec<AgentView>, ClientError> {
        let list: AgentList = self
            .call("GET /agents", self.request(Method::GET, "/agents"))
            .await?;
        Ok(list.agents)
    }

    /// `POST /web/login`: a one-time dashboard login link (works once, for two minutes).
    pub async fn login_link(&self) -> Result<LoginLink, ClientError> {
        self.call("POST /web/login", self.request(Method::POST, "/web/login"))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_cannot_reach_another_route() {
        assert_eq!(provider_path("openai"), "/providers/openai");
        assert_eq!(provider_path("../model"), "/providers/..%2Fmodel");
        assert_eq!(provider_path("a b?c"), "/providers/a%20b%3Fc");
        assert_eq!(
            format!("{}/test", provider_path("x/y")),
            "/providers/x%2Fy/test"
        );
    }

    #[test]
    fn the_model_list_filters_by_an_encoded_provider() {
        assert_eq!(models_path(None), "/models");
        assert_eq!(models_path(Some("ollama")), "/models?provider=ollama");
        assert_eq!(models_path(Some("a&b=c")), "/models?provider=a%26b%3Dc");
    }
}
