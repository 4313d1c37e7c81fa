//! The OpenAPI document, generated from the handlers' annotations.

use crate::limits;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Pryx gateway API", description = "REST and WebSocket API of the Pryx core. \
        Every call but the health probes and this document needs `Authorization: Bearer <token>` \
        with the token from the data dir's `token` file (never in the URL). A browser signed in to \
        the dashboard uses its cookie instead, and sends the page's CSRF token in `x-csrf-token` \
        on every call that changes something."),
    // The WebSocket and SSE event envelope with every payload shape (not a REST body, so listed
    // here for clients to generate from).
    components(schemas(pryx_protocol::EventEnvelope)),
    security(("bearer" = [])),
    tags((name = "sessions"), (name = "approvals"), (name = "api-keys"), (name = "channels"), (name = "tasks"), (name = "providers"), (name = "extensions"), (name = "system"), (name = "events"))
)]
pub struct ApiDoc;

/// The bearer scheme, and the answers every operation can give (auth, host check, size limits).
/// Applied to the finished document: routes join it after the derive runs.
pub(crate) struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        closed_variants(components, &["TaskTrigger", "NotifyTarget"]);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                // Operations with an empty requirement (`security(())`) are public.
                let public = op
                    .security
                    .as_ref()
                    .is_some_and(|reqs| reqs.iter().all(|r| *r == SecurityRequirement::default()));
                let mut add = |code: &str, why: &str| {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| error_response(why));
                };
                add(
                    "403",
                    "the Host or Origin header does not name this gateway",
                );
                add(
                    "414",
                    &format!(
                        "the request target (path and query) is longer than {} KiB",
                        limits::MAX_TARGET_BYTES / 1024
                    ),
                );
                add(
                    "431",
                    &format!(
                        "more than {} header fields, or more than {} KiB of them",
                        limits::MAX_HEADERS,
                        limits::MAX_HEADER_BYTES / 1024
                    ),
                );
                if op.request_body.is_some() {
                    add(
                        "413",
                        &format!(
                            "the request body is larger than {} MB",
                            limits::MAX_BODY_BYTES / (1024 * 1024)
                        ),
                    );
                }
                if !public {
                    add("401", "missing or wrong bearer token");
                    add("429", "too many failed authentications from this address");
                }
            }
        }
    }
}

/// Tagged enums refuse unknown keys in each variant (`deny_unknown_fields`), which the derived
/// schema does not say: each variant object is closed here.
fn closed_variants(components: &mut utoipa::openapi::Components, names: &[&str]) {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    for name in names {
        if let Some(RefOr::T(Schema::OneOf(one))) = components.schemas.get_mut(*name) {
            for item in &mut one.items {
                if let RefOr::T(Schema::Object(o)) = item {
                    o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                    .build(),
            )
            .build(),
    )
}
