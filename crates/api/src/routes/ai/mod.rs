//! The AI layer over HTTP: settings and provider configurations (admins), personas, the knowledge
//! base, the operations and the monthly usage.

mod knowledge;
mod operations;
pub(crate) use operations::{lead_values, wrong_kind};
mod personas;
mod providers;
mod settings;
mod usage;

pub use knowledge::*;
pub use operations::*;
pub use personas::*;
pub use providers::*;
pub use settings::*;
pub use usage::*;

use crate::error::ApiError;
use crate::routes::Routes;

pub fn scope() -> Routes {
    Routes::new("/ai")
        .get("/settings", get_settings)
        .patch("/settings", update_settings)
        .get("/providers", list_providers)
        .post("/providers", create_provider)
        .get("/providers/{provider_id}", get_provider)
        .patch("/providers/{provider_id}", update_provider)
        .delete("/providers/{provider_id}", delete_provider)
        .post("/providers/{provider_id}/test", test_provider)
        .get("/personas", list_personas)
        .post("/personas", create_persona)
        .get("/personas/{persona_id}", get_persona)
        .patch("/personas/{persona_id}", update_persona)
        .delete("/personas/{persona_id}", delete_persona)
        .post("/personas/{persona_id}/duplicate", duplicate_persona)
        .get("/knowledge", list_articles)
        .post("/knowledge", create_article)
        .get("/knowledge/{article_id}", get_article)
        .patch("/knowledge/{article_id}", update_article)
        .delete("/knowledge/{article_id}", delete_article)
        .post("/generate/step-template", generate_step_template)
        .post("/generate/message", generate_message)
        .post("/improve", improve)
        .post("/suggest-replies", suggest_replies)
        .post("/classify", classify)
        .get("/usage", usage)
}

/// An AI operation's failure, as the API answers it.
impl From<crate::ai::AiError> for ApiError {
    fn from(e: crate::ai::AiError) -> Self {
        match e {
            crate::ai::AiError::UnknownPersona => {
                ApiError::field("persona_id", "no persona with this id")
            }
            crate::ai::AiError::UnknownOrganization => ApiError::NotFound,
            crate::ai::AiError::Provider(message) => ApiError::Upstream(message),
            crate::ai::AiError::Database(e) => e.into(),
        }
    }
}
