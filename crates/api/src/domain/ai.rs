//! AI inputs parsed at the edge: provider configurations, personas and articles, each applied
//! onto what is stored (absent fields unchanged) and checked as a whole.

use crate::domain::{optional_text, required_text};
use aura_types::ai::{
    AiProviderConfig, AiProviderInput, ArticleInput, KnowledgeArticle, Persona, PersonaInput,
    ProviderKind,
};
use aura_types::{parse_optional_text, ArticleId, FieldErrors, PersonaId};
use time::OffsetDateTime;

pub const PROVIDER_NAME_MAX: usize = 80;
pub const MODEL_MAX: usize = 200;
pub const SECRET_MAX: usize = 1000;
pub const PROMPT_MAX: usize = 20_000;
pub const ARTICLE_MAX: usize = 100_000;

/// A provider configuration after parsing; `secret`: `None` keeps the stored one, `Some(None)`
/// removes it.
#[derive(Debug)]
pub struct ProviderFields {
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub temperature: Option<f32>,
    pub api_version: Option<String>,
    pub secret: Option<Option<String>>,
}

fn temperature(e: &mut FieldErrors, t: Option<f32>) -> Option<f32> {
    match t {
        Some(t) if !(0.0..=2.0).contains(&t) => {
            e.add("temperature", "must be between 0 and 2");
            None
        }
        t => t,
    }
}

pub fn provider_fields(
    current: Option<&AiProviderConfig>,
    input: &AiProviderInput,
) -> Result<ProviderFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = required_text(
        &mut e,
        "name",
        &input.name,
        current.map(|c| c.name.as_str()),
        PROVIDER_NAME_MAX,
    );
    let kind = match (input.kind, current) {
        (Some(ProviderKind::Builtin), _) => {
            e.add(
                "kind",
                "the built-in writer needs no configuration; choose openai, anthropic or custom",
            );
            None
        }
        (Some(k), _) => Some(k),
        (None, Some(c)) => Some(c.kind),
        (None, None) => {
            e.add("kind", "is required: openai, anthropic or custom");
            None
        }
    };
    let base_url = required_text(
        &mut e,
        "base_url",
        &input.base_url,
        current.map(|c| c.base_url.as_str()),
        2000,
    );
    let model = optional_text(
        &mut e,
        "model",
        &input.model,
        current.map(|c| c.model.as_str()),
        MODEL_MAX,
    );
    if let (Some(k), Some(m)) = (kind, &model) {
        if k != ProviderKind::Custom && m.is_empty() {
            e.add(
                "model",
                "is required for this provider (e.g. gpt-4o-mini, claude-sonnet-4-5, llama3.1)",
            );
        }
    }
    let temperature = temperature(
        &mut e,
        input
            .temperature
            .unwrap_or(current.and_then(|c| c.temperature)),
    );
    let api_version = match &input.api_version {
        Some(Some(v)) => e.check("api_version", parse_optional_text(v, 40)).flatten(),
        Some(None) => None,
        None => current.and_then(|c| c.api_version.clone()),
    };
    let secret = match &input.secret {
        None => None,
        Some(None) => Some(None),
        Some(Some(s)) => e.check("secret", parse_optional_text(s, SECRET_MAX)),
    };
    e.finish(|| {
        Some(ProviderFields {
            name: name?,
            kind: kind?,
            base_url: base_url?,
            model: model?,
            temperature,
            api_version: if kind? == ProviderKind::Anthropic {
                api_version
            } else {
                None
            },
            secret,
        })
    })
}

/// The persona `input` makes of `current` (or of a new persona).
pub fn persona(
    current: Option<&Persona>,
    input: &PersonaInput,
    now: OffsetDateTime,
) -> Result<Persona, FieldErrors> {
    let mut e = FieldErrors::new();
    let base = current.cloned().unwrap_or_else(|| Persona {
        id: PersonaId::new(),
        name: String::new(),
        description: String::new(),
        system_prompt: String::new(),
        style: Default::default(),
        channels: aura_types::Channel::ALL.to_vec(),
        provider_id: None,
        model: None,
        temperature: None,
        can_auto_reply: false,
        created_at: now,
        updated_at: now,
    });
    let name = required_text(
        &mut e,
        "name",
        &input.name,
        current.map(|c| c.name.as_str()),
        PROVIDER_NAME_MAX,
    );
    let system_prompt = required_text(
        &mut e,
        "system_prompt",
        &input.system_prompt,
        current.map(|c| c.system_prompt.as_str()),
        PROMPT_MAX,
    );
    let description = optional_text(
        &mut e,
        "description",
        &input.description,
        current.map(|c| c.description.as_str()),
        500,
    );
    let channels = match &input.channels {
        Some(list) if list.is_empty() => {
            e.add("channels", "choose at least one channel");
            None
        }
        Some(list) => {
            let mut out = Vec::new();
            for c in list {
                if !out.contains(c) {
                    out.push(*c);
                }
            }
            Some(out)
        }
        None => Some(base.channels.clone()),
    };
    let model = match &input.model {
        Some(Some(m)) => e
            .check("model", parse_optional_text(m, MODEL_MAX))
            .flatten(),
        Some(None) => None,
        None => base.model.clone(),
    };
    let temperature = temperature(&mut e, input.temperature.unwrap_or(base.temperature));
    e.finish(|| {
        Some(Persona {
            name: name?,
            description: description?,
            system_prompt: system_prompt?,
            style: input.style.unwrap_or(base.style),
            channels: channels?,
            provider_id: input.provider_id.unwrap_or(base.provider_id),
            model,
            temperature,
            can_auto_reply: input.can_auto_reply.unwrap_or(base.can_auto_reply),
            updated_at: now,
            ..base
        })
    })
}

/// The article `input` makes of `current` (or of a new article).
pub fn article(
    current: Option<&KnowledgeArticle>,
    input: &ArticleInput,
    now: OffsetDateTime,
) -> Result<KnowledgeArticle, FieldErrors> {
    let mut e = FieldErrors::new();
    let new = current.is_none();
    let title = required_text(
        &mut e,
        "title",
        &input.title,
        current.map(|c| c.title.as_str()),
        200,
    );
    let content = required_text(
        &mut e,
        "content",
        &input.content,
        current.map(|c| c.content.as_str()),
        ARTICLE_MAX,
    );
    let topic = optional_text(
        &mut e,
        "topic",
        &input.topic,
        current.map(|c| c.topic.as_str()),
        100,
    );
    let source = optional_text(
        &mut e,
        "source",
        &input.source,
        current.map(|c| c.source.as_str()),
        500,
    );
    e.finish(|| {
        Some(KnowledgeArticle {
            id: current.map_or_else(ArticleId::new, |c| c.id),
            title: title?,
            topic: topic?,
            content: content?,
            source: source?,
            created_at: if new { now } else { current?.created_at },
            updated_at: now,
        })
    })
}
