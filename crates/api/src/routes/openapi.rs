//! The OpenAPI document, generated from the handlers' and types' annotations. `openapi.yaml` at the
//! repository root is `aura openapi`'s output; a test fails when they differ.

use crate::routes;
use actix_web::HttpResponse;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

/// Mount point of the JSON API.
pub const API_PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Aura API",
        description = "Aura's JSON API: everything the web app does, for n8n and other integrations. Authenticate with `Authorization: Bearer <access token or API key>`. Errors share one shape: `{\"error\":{\"code\",\"message\",\"fields\"?,\"request_id\"}}`. An id that belongs to another organization answers 404.",
    ),
    paths(
        routes::auth::signup,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::switch_organization,
        routes::auth::preview_invitation,
        routes::auth::accept_invitation,
        routes::me::me,
        routes::organization::get,
        routes::organization::update,
        routes::organization::create,
        routes::members::list,
        routes::members::update,
        routes::members::remove,
        routes::invitations::list,
        routes::invitations::create,
        routes::invitations::revoke,
        routes::api_keys::list,
        routes::api_keys::create,
        routes::api_keys::revoke,
        routes::contacts::list,
        routes::contacts::create,
        routes::contacts::get,
        routes::contacts::update,
        routes::contacts::delete,
        routes::contacts::add_note,
        routes::contacts::merge,
        routes::contacts::bulk,
        routes::contacts::tags,
        routes::contacts::rename_tag,
        routes::imports::upload,
        routes::imports::list,
        routes::imports::get,
        routes::imports::preview,
        routes::imports::start,
        routes::imports::report,
        routes::imports::report_csv,
        routes::imports::import_json,
        routes::segments::list,
        routes::segments::create,
        routes::segments::preview,
        routes::segments::get,
        routes::segments::update,
        routes::segments::delete,
        routes::segments::add_members,
        routes::segments::remove_members,
        routes::suppressions::list,
        routes::suppressions::create,
        routes::suppressions::import,
        routes::suppressions::check,
        routes::suppressions::delete,
        routes::ai::get_settings,
        routes::ai::update_settings,
        routes::ai::list_providers,
        routes::ai::create_provider,
        routes::ai::get_provider,
        routes::ai::update_provider,
        routes::ai::delete_provider,
        routes::ai::test_provider,
        routes::ai::list_personas,
        routes::ai::create_persona,
        routes::ai::get_persona,
        routes::ai::update_persona,
        routes::ai::delete_persona,
        routes::ai::duplicate_persona,
        routes::ai::list_articles,
        routes::ai::create_article,
        routes::ai::get_article,
        routes::ai::update_article,
        routes::ai::delete_article,
        routes::ai::generate_step_template,
        routes::ai::generate_message,
        routes::ai::improve,
        routes::ai::suggest_replies,
        routes::ai::classify,
        routes::ai::usage,
        routes::campaigns::list,
        routes::campaigns::create,
        routes::campaigns::get,
        routes::campaigns::update,
        routes::campaigns::delete,
        routes::campaigns::change_status,
        routes::campaigns::duplicate,
        routes::campaigns::add_step,
        routes::campaigns::update_step,
        routes::campaigns::delete_step,
        routes::campaigns::duplicate_step,
        routes::campaigns::reorder_steps,
        routes::campaigns::problems,
        routes::campaigns::enroll,
        routes::campaigns::list_targets,
        routes::campaigns::update_target,
        routes::campaigns::remove_target,
        routes::messages::prepare,
        routes::messages::summary,
        routes::messages::list,
        routes::messages::get,
        routes::messages::edit,
        routes::messages::review,
        routes::mailboxes::list,
        routes::mailboxes::create,
        routes::mailboxes::get,
        routes::mailboxes::update,
        routes::mailboxes::delete,
        routes::mailboxes::test,
        routes::mailboxes::test_imap,
        routes::mailboxes::sync_state,
        routes::mailboxes::campaign_mailboxes,
        routes::mailboxes::set_campaign_mailboxes,
        routes::phone::list,
        routes::phone::create,
        routes::phone::connect_sandbox,
        routes::phone::update,
        routes::phone::delete,
        routes::phone::test,
        routes::phone::add_number,
        routes::phone::update_number,
        routes::phone::outbox,
        routes::phone::quiet_hours,
        routes::phone::templates,
        routes::phone::delete_number,
        routes::phone::simulate,
        routes::phone::set_webhook_key,
        routes::phone::remove_webhook_key,
        routes::twilio::inbound,
        routes::twilio::status,
        routes::dkim::list,
        routes::dkim::upload,
        routes::dkim::delete,
        routes::delivery::get_preflight,
        routes::delivery::delivery,
        routes::delivery::resolve,
        routes::delivery::outbox,
        routes::delivery::outbox_message,
        routes::inbox::list,
        routes::inbox::get,
        routes::inbox::change,
        routes::inbox::reply,
        routes::inbox::suggest,
        routes::inbox::media,
        routes::inbox::simulate_answer,
        routes::inbox::stream_token,
        routes::inbox::stream,
        routes::public::unsubscribe_page,
        routes::public::unsubscribe,
        routes::public::open,
        routes::public::click,
        routes::templates::list,
        routes::templates::get,
        routes::templates::create,
        routes::templates::update,
        routes::templates::delete,
        routes::templates::use_template,
        routes::templates::save_as_template,
        routes::health::healthz,
        routes::health::readyz,
        routes::openapi::openapi_json,
        routes::web::docs,
    ),
    components(schemas(aura_types::ai::AiTask, aura_types::ai::EndpointResult)),
    modifiers(&Prefix, &Security, &StandardErrors),
    tags(
        (name = "auth", description = "Sign-up, log-in, sessions"),
        (name = "organization", description = "The organization and its settings"),
        (name = "members", description = "People in the organization"),
        (name = "invitations", description = "Inviting people"),
        (name = "api-keys", description = "Keys for integrations"),
        (name = "contacts", description = "Leads and customers, notes, tags, bulk actions"),
        (name = "imports", description = "CSV and JSON contact imports"),
        (name = "segments", description = "Static and dynamic audiences"),
        (name = "suppressions", description = "Addresses never to message, and the may-we-contact check"),
        (name = "ai", description = "AI providers, personas, knowledge base, generation, classification and usage. A custom endpoint receives an `AiTask` and answers with an `EndpointResult` (see the schemas)."),
        (name = "campaigns", description = "Campaigns, their steps and the campaign state machine"),
        (name = "messages", description = "Prepared messages: preparing them (in the background, with progress), reviewing, editing, approving, rejecting and regenerating"),
        (name = "templates", description = "The templates library: system templates and the organization's own"),
        (name = "mailboxes", description = "The organization's email accounts (SMTP or sandbox), their limits, ramp-up and health, and which of them each campaign sends through"),
        (name = "channels", description = "Text messages (SMS and WhatsApp): the organization's Twilio accounts or its sandbox, and their sending numbers"),
        (name = "webhooks", description = "Addresses vendors call, without sign-in: each is checked against the signature of the account it names"),
        (name = "inbox", description = "Conversations: every reply, auto-reply and delivery report matched to its contact and campaign, with the sandbox's simulated answers"),
        (name = "delivery", description = "Launch pre-flight, delivery counters, messages with an unknown outcome, and the sandbox outbox"),
        (name = "email-links", description = "The links inside sent email, answered without signing in: unsubscribe (RFC 8058 one-click), open pixel, click redirect. Tokens are signed; anything else is 404."),
        (name = "health", description = "Liveness and readiness"),
        (name = "docs", description = "This API's documentation: the OpenAPI document and Swagger UI"),
    )
)]
pub struct ApiDoc;

/// Handlers are annotated with their path inside the API; the document shows full paths.
struct Prefix;

impl Modify for Prefix {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paths = std::mem::take(&mut openapi.paths.paths);
        openapi.paths.paths = paths
            .into_iter()
            .map(|(path, item)| {
                let full = if path == "/healthz"
                    || path == "/readyz"
                    || path == "/api/docs"
                    || path.starts_with("/u/")
                    || path.starts_with("/t/")
                {
                    path
                } else {
                    format!("{API_PREFIX}{path}")
                };
                (full, item)
            })
            .collect();
    }
}

/// The answers that any operation of a kind can give, documented once here rather than on
/// every handler: an operation with a body answers 400 when it cannot be read (not JSON, or not
/// the form described), 413 when it is too large, 415 when it is of another content type and 422
/// when a field is missing or of the wrong type; an
/// operation with query parameters answers 400 when one cannot be read. Each is the shared error
/// shape. An operation that documents its own answer for a status keeps it.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{path::ParameterIn, ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let has_body = op.request_body.is_some();
                let has_query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == ParameterIn::Query);
                let responses = &mut op.responses.responses;
                if has_body {
                    responses.entry("400".into()).or_insert_with(|| {
                        error("The body cannot be read: not valid JSON, or not the form described")
                    });
                    responses
                        .entry("413".into())
                        .or_insert_with(|| error("The body is larger than allowed"));
                    responses
                        .entry("415".into())
                        .or_insert_with(|| error("The body is not of the content type described"));
                    responses.entry("422".into()).or_insert_with(|| {
                        error("A field is missing or of the wrong type (`fields` names it)")
                    });
                } else if has_query {
                    responses
                        .entry("400".into())
                        .or_insert_with(|| error("A query parameter cannot be read"));
                }
            }
        }
    }
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from /auth/login, or an API key (aura_sk_…).",
                    ))
                    .build(),
            ),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document as YAML, exactly as committed in `openapi.yaml`.
pub fn yaml() -> anyhow::Result<String> {
    Ok(document().to_yaml()?)
}

/// `GET /api/v1/openapi.json`: the same document as `openapi.yaml`.
#[utoipa::path(get, operation_id = "getOpenApiDocument", summary = "Get this API's OpenAPI document", path = "/openapi.json", tag = "docs",
    description = "The OpenAPI 3.1 document of this API (the same as `openapi.yaml` in the repository), for client generators and tools such as n8n. No sign-in needed.",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
