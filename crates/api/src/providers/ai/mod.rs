//! AI providers behind one interface, [`AiProvider`]: the built-in writer, OpenAI-compatible chat
//! completions, Anthropic messages and the organization's own signed endpoint. Every HTTP provider
//! goes through [`net`]: SSRF-checked addresses, no redirects, timeouts, retries with backoff.

pub mod anthropic;
pub mod builtin;
pub mod custom;
pub mod net;
pub mod openai;
pub mod parse;
pub mod prompt;

use async_trait::async_trait;
use aura_types::ai::{AiTask, EndpointResult, ProviderKind};

/// What a provider answered.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    pub result: EndpointResult,
    pub tokens_in: i32,
    pub tokens_out: i32,
    pub model: String,
    /// HTTP attempts made (1 without retries).
    pub attempts: i16,
    /// Why the model's text could not be read as a result (the call still cost its tokens).
    pub unusable: Option<String>,
}

impl Answer {
    /// An answer from a model's `text`, read tolerantly.
    pub fn from_text(
        text: &str,
        tokens_in: i32,
        tokens_out: i32,
        model: String,
        attempts: i16,
    ) -> Self {
        let (result, unusable) = match parse::result_from_text(text) {
            Ok(r) => (r, None),
            Err(e) => (EndpointResult::default(), Some(e)),
        };
        Answer {
            result,
            tokens_in,
            tokens_out,
            model,
            attempts,
            unusable,
        }
    }
}

/// Why a provider gave no usable answer. Messages are safe to show: they never contain a key.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the address was refused: {0}")]
    Refused(String),
    #[error("the provider rejected the credentials (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    #[error("the provider rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the provider is rate limiting (HTTP 429) after {attempts} attempt(s): {message}")]
    RateLimited { attempts: i16, message: String },
    #[error("the provider is failing (HTTP {status}) after {attempts} attempt(s): {message}")]
    Unavailable {
        status: u16,
        attempts: i16,
        message: String,
    },
    #[error("the provider did not answer within {secs} seconds ({attempts} attempt(s))")]
    Timeout { secs: u64, attempts: i16 },
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the provider's answer was not usable: {0}")]
    Malformed(String),
    #[error("the provider's stored key cannot be opened: {0}")]
    Secret(String),
}

impl ProviderError {
    /// HTTP attempts this error took.
    pub fn attempts(&self) -> i16 {
        match self {
            ProviderError::RateLimited { attempts, .. }
            | ProviderError::Unavailable { attempts, .. }
            | ProviderError::Timeout { attempts, .. } => *attempts,
            ProviderError::Refused(_) | ProviderError::Secret(_) => 0,
            _ => 1,
        }
    }
}

#[async_trait]
pub trait AiProvider: Send + Sync {
    fn kind(&self) -> ProviderKind;
    fn model(&self) -> &str;
    /// Runs one task. A chat model's text is parsed into an [`EndpointResult`] here; whether the
    /// result is acceptable is for the caller to judge.
    async fn run(&self, task: &AiTask) -> Result<Answer, ProviderError>;
}

/// The built-in writer as a provider.
pub struct Builtin;

#[async_trait]
impl AiProvider for Builtin {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Builtin
    }
    fn model(&self) -> &str {
        builtin::MODEL
    }
    async fn run(&self, task: &AiTask) -> Result<Answer, ProviderError> {
        builtin::write(task)
    }
}
