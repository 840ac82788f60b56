//! The AI layer: provider configurations, personas, knowledge-base articles, the operations the
//! API offers and the one task shape every provider receives ([`AiTask`] — also the documented JSON
//! a custom endpoint is sent).

use crate::contact::{nullable, Channel};
use crate::ids::{AiProviderId, ArticleId, ContactId, PersonaId};
use crate::string_enum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// How the built-in writer's output is labelled wherever it appears.
pub const BUILTIN_WRITER: &str = "Built-in writer";
/// The longest subject line a provider may return.
pub const MAX_SUBJECT_CHARS: usize = 150;
/// WhatsApp and SMS copy stays under this many characters.
pub const MAX_SHORT_MESSAGE_CHARS: usize = 300;

string_enum!(
    /// What writes the copy.
    #[derive(Default)]
    ProviderKind as "ai_provider_kind" {
        /// Aura's deterministic offline copywriter: no key, no network.
        #[default]
        Builtin = "builtin" / "Built-in writer",
        /// Chat completions: OpenAI, DeepSeek, Groq, OpenRouter, Ollama, vLLM, LM Studio…
        Openai = "openai" / "OpenAI-compatible",
        /// Anthropic's messages API.
        Anthropic = "anthropic" / "Anthropic",
        /// The organization's own endpoint (a custom GPT behind a proxy, an n8n flow…).
        Custom = "custom" / "Custom endpoint",
    }
);

string_enum!(
    /// How the built-in writer writes for a persona.
    #[derive(Default)]
    WritingStyle as "writing_style" {
        /// Offer first, value stack, risk reversal (Hormozi).
        OfferFirst = "offer_first" / "Offer first",
        /// Relevance, one question, objection pre-empted (sales agent).
        Consultative = "consultative" / "Consultative",
        /// A scroll-stopping hook, short (viral content).
        HookFirst = "hook_first" / "Hook first",
        /// Warm and plain, like a text from a person.
        #[default]
        Conversational = "conversational" / "Conversational",
    }
);

string_enum!(
    /// What became of an AI operation.
    AiOutcome as "ai_outcome" {
        Ok = "ok" / "OK",
        /// The provider failed and the organization's fallback, the built-in writer, answered.
        Fallback = "fallback" / "Fell back to the built-in writer",
        Error = "error" / "Failed",
    }
);

string_enum!(
    /// The operations of the AI layer.
    AiOperation as "ai_operation" {
        GenerateStepTemplate = "generate_step_template" / "Generate step template",
        GenerateMessageForLead = "generate_message_for_lead" / "Generate message for a lead",
        ImproveMessage = "improve_message" / "Improve message",
        SuggestReplies = "suggest_replies" / "Suggest replies",
        ClassifyReply = "classify_reply" / "Classify reply",
        TestConnection = "test_connection" / "Test connection",
    }
);

string_enum!(
    /// What an improvement aims for.
    ImproveGoal as "improve_goal" {
        Shorter = "shorter" / "Shorter",
        MoreCasual = "more_casual" / "More casual",
        MoreCompliant = "more_compliant" / "More compliant",
        HigherReplyRate = "higher_reply_rate" / "Higher reply rate",
    }
);

string_enum!(
    /// What a reply means for the campaign.
    ReplyLabel as "reply_label" {
        Interested = "interested" / "Interested",
        /// Asks to meet, call or visit at a time.
        MeetingRequest = "meeting_request" / "Meeting request",
        NotInterested = "not_interested" / "Not interested",
        /// Not the one to talk to; often names who is.
        WrongPerson = "wrong_person" / "Wrong person / referral",
        Question = "question" / "Question",
        OutOfOffice = "out_of_office" / "Out of office",
        Bounce = "bounce" / "Bounce",
        Unsubscribe = "unsubscribe" / "Unsubscribe",
        Other = "other" / "Other",
    }
);

string_enum!(
    /// Who wrote a message of a conversation.
    Direction as "direction" {
        /// From the lead.
        Inbound = "inbound" / "Lead",
        /// From us.
        Outbound = "outbound" / "Us",
    }
);

string_enum!(
    /// What decided a classification.
    DecidedBy as "decided_by" {
        /// Certain signatures (unsubscribe words, auto-reply headers, bounce reports); no model call.
        Rules = "rules" / "Rules",
        Model = "model" / "Model",
    }
);

/// Whether a secret is stored. Only a long random secret (an API key) also shows its last
/// characters, so the user can recognise it; a password never shows any part of itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SecretState {
    pub set: bool,
    /// The last four characters of a long key; absent for passwords and short secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<String>,
}

impl SecretState {
    /// Whether it is set, and nothing else.
    pub fn set(set: bool) -> Self {
        Self {
            set,
            ends_with: None,
        }
    }
}

/// A configured provider. Its key is never returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AiProviderConfig {
    pub id: AiProviderId,
    pub name: String,
    pub kind: ProviderKind,
    /// The API's base URL (e.g. `https://api.openai.com/v1`) or the custom endpoint's URL.
    pub base_url: String,
    pub model: String,
    pub temperature: Option<f32>,
    /// Anthropic's `anthropic-version` header.
    pub api_version: Option<String>,
    /// The API key, or the custom endpoint's signing secret.
    pub secret: SecretState,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new provider, or changes to one (absent: unchanged). `secret`: absent keeps the stored one,
/// `""` or `null` removes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AiProviderInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProviderKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<f32>))]
    pub temperature: Option<Option<f32>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub api_version: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub secret: Option<Option<String>>,
}

/// The organization's AI settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AiSettings {
    /// The provider used when a persona names none; none means the built-in writer.
    pub default_provider_id: Option<AiProviderId>,
    /// When a provider fails, answer with the built-in writer (labelled) instead of an error.
    pub fallback_to_builtin: bool,
}

/// Changes to the AI settings (absent: unchanged; `default_provider_id: null` selects the
/// built-in writer).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AiSettingsInput {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub default_provider_id: Option<Option<AiProviderId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_to_builtin: Option<bool>,
}

/// An AI persona: a voice and a system prompt, optionally with its own provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Persona {
    pub id: PersonaId,
    pub name: String,
    pub description: String,
    pub system_prompt: String,
    pub style: WritingStyle,
    pub channels: Vec<Channel>,
    /// Overrides the organization's default provider.
    pub provider_id: Option<AiProviderId>,
    /// Overrides the provider's model.
    pub model: Option<String>,
    /// Overrides the provider's temperature.
    pub temperature: Option<f32>,
    /// May answer inbound replies on its own (used by the inbox).
    pub can_auto_reply: bool,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new persona, or changes to one (absent: unchanged; `null` clears an override).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PersonaInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<WritingStyle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<Channel>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub provider_id: Option<Option<AiProviderId>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub model: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<f32>))]
    pub temperature: Option<Option<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_auto_reply: Option<bool>,
}

/// A knowledge-base article: facts the AI may use (offers, FAQs, listings, policies).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct KnowledgeArticle {
    pub id: ArticleId,
    pub title: String,
    pub topic: String,
    pub content: String,
    /// Where it came from (a URL, a document name).
    pub source: String,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new article, or changes to one (absent: unchanged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ArticleInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What a campaign is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CampaignBrief {
    pub name: String,
    /// What is offered.
    pub offer: String,
    /// Who it is for (the ideal customer profile).
    pub icp: String,
    /// What a reply should lead to (a call, a viewing, a quote…).
    pub goal: String,
}

/// One step of a campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StepBrief {
    pub channel: Channel,
    /// 1 for the first message, 2 for the first follow-up…
    #[serde(default = "first_step")]
    pub number: u16,
    #[serde(default)]
    pub instructions: String,
}

fn first_step() -> u16 {
    1
}

/// `POST /ai/generate/step-template` and `POST /ai/generate/message`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GenerateRequest {
    /// The persona to write as; the first persona when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<PersonaId>,
    #[serde(default)]
    pub campaign: CampaignBrief,
    pub step: StepBrief,
    /// The lead (required for a personalised message; an example for a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<ContactId>,
}

/// `POST /ai/improve`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImproveRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<PersonaId>,
    pub channel: Channel,
    pub goal: ImproveGoal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub text: String,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConversationMessage {
    pub direction: Direction,
    pub text: String,
}

/// `POST /ai/suggest-replies`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SuggestRepliesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<PersonaId>,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<ContactId>,
    /// Oldest first; the last message is usually the lead's.
    pub conversation: Vec<ConversationMessage>,
}

/// `POST /ai/classify`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClassifyRequest {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The message this replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_outreach: Option<String>,
    /// Email headers of the reply (e.g. `Auto-Submitted`, `X-Autoreply`), names in any case.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// A subject (email only) and a body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MessageDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub body: String,
}

/// What a reply means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Classification {
    pub label: ReplyLabel,
    /// 0 to 1.
    pub confidence: f32,
    pub reason: String,
    pub decided_by: DecidedBy,
}

/// Who produced a result, and at what cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Provenance {
    pub provider_kind: ProviderKind,
    /// The configuration's name, or "Built-in writer".
    pub provider_name: String,
    pub model: String,
    /// How to label the output, e.g. "Built-in writer" or "OpenAI · gpt-4o-mini".
    pub label: String,
    pub persona_id: Option<PersonaId>,
    pub persona_name: Option<String>,
    pub tokens_in: i32,
    pub tokens_out: i32,
    pub latency_ms: i32,
    /// HTTP attempts, including retries and the corrective retry.
    pub attempts: i16,
    /// The provider failed and the built-in writer answered.
    pub fell_back: bool,
    /// Titles of the knowledge-base articles given as context.
    pub knowledge: Vec<String>,
}

/// The result of a generation or improvement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DraftResult {
    pub draft: MessageDraft,
    pub provenance: Provenance,
}

/// Suggested answers, best first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RepliesResult {
    pub replies: Vec<String>,
    pub provenance: Provenance,
}

/// A classification, and the model call behind it (none when rules decided).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClassifyResult {
    pub classification: Classification,
    pub provenance: Option<Provenance>,
}

/// What one tiny real call to a provider showed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConnectionTest {
    pub ok: bool,
    pub model: String,
    pub latency_ms: i32,
    /// The provider's answer (on success) or what went wrong.
    pub message: String,
}

/// One line of the monthly usage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UsageRow {
    pub provider_kind: ProviderKind,
    pub provider_name: String,
    pub model: String,
    pub operation: AiOperation,
    pub calls: i64,
    pub failed: i64,
    pub fallbacks: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub avg_latency_ms: i64,
}

/// AI usage of one calendar month (UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UsageSummary {
    /// `YYYY-MM`.
    pub month: String,
    pub calls: i64,
    pub failed: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub rows: Vec<UsageRow>,
}

/// The persona as a provider sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TaskPersona {
    pub name: String,
    pub style: WritingStyle,
    pub system_prompt: String,
}

/// A knowledge-base article given as context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct KnowledgeSnippet {
    pub title: String,
    pub topic: String,
    pub content: String,
}

/// One AI operation, as every provider receives it. A custom endpoint is POSTed exactly this JSON,
/// with `X-Aura-Signature: sha256=<hex HMAC-SHA256 of the body with the signing secret>` and
/// `X-Aura-Timestamp`, and answers with an [`EndpointResult`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AiTask {
    pub operation: AiOperation,
    pub persona: TaskPersona,
    /// What to do, in words (also the model's user prompt).
    pub instructions: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignBrief>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepBrief>,
    /// The lead's merge values (`first_name`, `company`, `custom.budget`…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lead: BTreeMap<String, String>,
    /// The text to improve or classify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<ImproveGoal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversation: Vec<ConversationMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_outreach: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge: Vec<KnowledgeSnippet>,
    /// Whether the result must use merge tags such as `{{first_name}}` (a template) rather than the
    /// lead's values.
    pub use_merge_tags: bool,
    /// The merge tags the template renderer accepts.
    pub merge_tags: Vec<String>,
    /// On the corrective retry: what was wrong with the previous answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
}

/// What a provider answers, per operation: `subject`/`body` for generation and improvement,
/// `replies` for suggestions, `label`/`confidence`/`reason` for classification.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EndpointResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<ReplyLabel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
