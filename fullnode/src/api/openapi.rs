//! The API's OpenAPI 3.1 document, served at `GET /api/v1/openapi.json`.
//!
//! The operations come from the handlers' `#[utoipa::path]` annotations,
//! gathered by the router as it registers them (`utoipa_axum::routes!`), so a
//! route cannot be served without being documented. This module adds what
//! belongs to no one handler: the info, the server, the tags, the `api_token`
//! security scheme, and the answers of the middleware around every route.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, Ref,
    RefOr, ResponseBuilder, ServerBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};

/// Name of the security scheme of protected routes.
pub(super) const API_TOKEN: &str = "api_token";

const DESCRIPTION: &str = "\
REST API of a BlockChain full node. docs/API.md describes it in prose: byte \
fields are lowercase hex, amounts integers of base units (1 coin = 10^8), \
addresses bech32m strings of the node's network, times milliseconds since the \
Unix epoch; it also lists every error `code`.

Every error answer is an `ApiError` object. Operations with the `api_token` \
security requirement are *protected*: they answer only with `Authorization: \
Bearer <token>` (a loopback address is not a credential), the token being the \
one in `<data dir>/api.cookie` (new at every start), the node's `--api-token`, \
or a login token from `POST /auth/login` (401 `UNAUTHORIZED` without one, 403 \
`FORBIDDEN` with a wrong API token, 401 `INVALID_TOKEN` or `TOKEN_EXPIRED` \
with a bad login token, 403 `NOT_ADMIN` when its address is no longer an \
administrator), and never to a page of another origin (403 `CROSS_ORIGIN`; \
their answers carry no CORS headers). Every route refuses a `Host` the node \
does not answer for (403 `HOST_NOT_ALLOWED`: an IP address, `localhost` and \
`--allowed-host` names are answered) and a request body that is not \
`application/json` (415 `UNSUPPORTED_MEDIA_TYPE`).";

/// The document as the router that serves it was built.
#[derive(Clone)]
pub(super) struct Document(Arc<OpenApi>);

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The whole document is far too long for a log line.
        f.debug_struct("Document")
            .field("paths", &self.0.paths.paths.len())
            .finish_non_exhaustive()
    }
}

impl Document {
    /// Wraps the document split off the router.
    pub(super) fn new(document: OpenApi) -> Self {
        Self(Arc::new(document))
    }
}

/// The document without operations: info, server, tags, security scheme,
/// the error schema and the middleware's answers.
pub(super) fn skeleton() -> OpenApi {
    let tag = |name: &str, description: &str| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    };
    let error_content = || {
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(Ref::from_schema_name(ErrorBody::name()))))
            .build()
    };
    let rate_limit_header = |description: &str| {
        HeaderBuilder::new()
            .schema(Some(u64::schema()))
            .description(Some(description))
            .build()
    };
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("BlockChain node API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name(env!("CARGO_PKG_LICENSE"))
                        .identifier(Some(env!("CARGO_PKG_LICENSE")))
                        .build(),
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url("/api/v1")
            .description(Some("This node"))
            .build()]))
        .tags(Some([
            tag("node", "The node itself"),
            tag("blocks", "Blocks and headers of the chain"),
            tag("transactions", "Submitting, reading and proving transactions"),
            tag(
                "wallet",
                "Balances, history and state proofs of any address; node-side wallets",
            ),
            tag("mining", "The miner"),
            tag("network", "Peers"),
            tag(
                "auth",
                "Administrator login: a signed challenge for a token that opens the protected routes",
            ),
            tag(
                "webhooks",
                "Subscriptions to chain events, delivered as signed POSTs",
            ),
        ]))
        .components(Some(
            ComponentsBuilder::new()
                .schema(ErrorBody::name(), ErrorBody::schema())
                .security_scheme(
                    API_TOKEN,
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .description(Some(
                                "The node's `--api-token`, or a login token (JWT) from \
                                 `POST /auth/login`. Loopback callers need none.",
                            ))
                            .build(),
                    ),
                )
                .response(
                    "RequestTimeout",
                    ResponseBuilder::new()
                        .description(
                            "`REQUEST_TIMEOUT`: the request took over 30 s (`POST /mining/blocks`: 10 min)",
                        )
                        .content("application/json", error_content())
                        .build(),
                )
                .response(
                    "RateLimited",
                    ResponseBuilder::new()
                        .description(
                            "`RATE_LIMITED`: over the node's requests per minute for this client \
                             (by default 1200, loopback callers exempt)",
                        )
                        .header(
                            "X-RateLimit-Limit",
                            rate_limit_header("Requests allowed per window"),
                        )
                        .header(
                            "X-RateLimit-Remaining",
                            rate_limit_header("Requests left in this window"),
                        )
                        .header(
                            "X-RateLimit-Reset",
                            rate_limit_header("Seconds until the window ends"),
                        )
                        .content("application/json", error_content())
                        .build(),
                )
                .build(),
        ))
        .build()
}

/// Adds to every operation the answers of the middleware that wraps every
/// `/api/v1` route in [`super::app`]: the timeout's 408 and the rate limit's 429.
pub(super) fn add_middleware_answers(document: &mut OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
            &mut item.query,
        ]
        .into_iter()
        .flatten()
        .chain(item.additional_operations.values_mut());
        for operation in operations {
            add_answer(operation, "408", "RequestTimeout");
            add_answer(operation, "429", "RateLimited");
        }
    }
}

fn add_answer(operation: &mut Operation, status: &str, response: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(response)));
}

/// This document
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "node",
    operation_id = "get_openapi_document",
    responses((
        status = 200,
        description = "This OpenAPI 3.1 document",
        content_type = "application/json",
        body = Object,
    ))
)]
pub(super) async fn document(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(Document(document)) = state.openapi.get() else {
        return Err(ApiError::internal("the OpenAPI document is not built"));
    };
    let json = document.to_json().map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}
