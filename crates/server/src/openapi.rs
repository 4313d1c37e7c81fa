//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Pryx gateway API", description = "REST and WebSocket API of the Pryx core. \
        Every call but the health probes and this document needs `Authorization: Bearer <token>` \
        with the token from the data dir's `token` file. The WebSocket also accepts `?token=` for \
        browsers, which cannot set headers on it."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "sessions"), (name = "approvals"), (name = "system"), (name = "events"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
