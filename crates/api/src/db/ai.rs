//! The AI layer's tables: provider configurations, the organization's AI settings, personas,
//! knowledge-base articles and the call log.

use crate::crypto::Sealed;
use aura_types::ai::{
    AiOperation, AiOutcome, AiProviderConfig, AiSettings, KnowledgeArticle, KnowledgeSnippet,
    Persona, ProviderKind, SecretState, UsageRow, WritingStyle,
};
use aura_types::{AiProviderId, ArticleId, Channel, OrgId, PersonaId};
use sqlx::PgExecutor;
use time::OffsetDateTime;

pub struct ProviderRow {
    pub id: AiProviderId,
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub temperature: Option<f32>,
    pub api_version: Option<String>,
    pub secret_key_id: Option<String>,
    pub secret_sealed: Option<Vec<u8>>,
    pub secret_hint: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ProviderRow {
    /// What the API shows: never the key, only whether it is set and how it ends.
    pub fn to_config(&self) -> AiProviderConfig {
        AiProviderConfig {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind,
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            temperature: self.temperature,
            api_version: self.api_version.clone(),
            secret: SecretState {
                set: self.secret_sealed.is_some(),
                ends_with: self.secret_hint.clone(),
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A provider's fields as stored; `secret` is `None` to keep the stored secret.
pub struct ProviderWrite<'a> {
    pub name: &'a str,
    pub kind: ProviderKind,
    pub base_url: &'a str,
    pub model: &'a str,
    pub temperature: Option<f32>,
    pub api_version: Option<&'a str>,
    pub secret: Option<Option<(Sealed, Option<String>)>>,
}

pub async fn list_providers(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<Vec<ProviderRow>, sqlx::Error> {
    sqlx::query_as!(
        ProviderRow,
        r#"select id as "id: AiProviderId", name, kind as "kind: ProviderKind", base_url, model, temperature,
                  api_version, secret_key_id, secret_sealed, secret_hint, created_at, updated_at
           from ai_providers where org_id = $1 order by lower(name)"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

pub async fn get_provider(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: AiProviderId,
) -> Result<Option<ProviderRow>, sqlx::Error> {
    sqlx::query_as!(
        ProviderRow,
        r#"select id as "id: AiProviderId", name, kind as "kind: ProviderKind", base_url, model, temperature,
                  api_version, secret_key_id, secret_sealed, secret_hint, created_at, updated_at
           from ai_providers where org_id = $1 and id = $2"#,
        org as OrgId,
        id as AiProviderId
    )
    .fetch_optional(db)
    .await
}

pub async fn insert_provider(
    db: impl PgExecutor<'_>,
    org: OrgId,
    w: &ProviderWrite<'_>,
) -> Result<AiProviderId, sqlx::Error> {
    let id = AiProviderId::new();
    let secret = w.secret.clone().flatten();
    sqlx::query!(
        r#"insert into ai_providers (org_id, id, name, kind, base_url, model, temperature, api_version,
                                     secret_key_id, secret_sealed, secret_hint)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        org as OrgId,
        id as AiProviderId,
        w.name,
        w.kind as ProviderKind,
        w.base_url,
        w.model,
        w.temperature,
        w.api_version,
        secret.as_ref().map(|(s, _)| s.key_id.clone()),
        secret.as_ref().map(|(s, _)| s.bytes.clone()),
        secret.as_ref().and_then(|(_, hint)| hint.clone()),
    )
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn update_provider(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: AiProviderId,
    w: &ProviderWrite<'_>,
) -> Result<(), sqlx::Error> {
    let keep = w.secret.is_none();
    let secret = w.secret.clone().flatten();
    sqlx::query!(
        r#"update ai_providers set name = $3, kind = $4, base_url = $5, model = $6, temperature = $7,
               api_version = $8,
               secret_key_id = case when $9 then secret_key_id else $10 end,
               secret_sealed = case when $9 then secret_sealed else $11 end,
               secret_hint = case when $9 then secret_hint else $12 end,
               updated_at = now()
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as AiProviderId,
        w.name,
        w.kind as ProviderKind,
        w.base_url,
        w.model,
        w.temperature,
        w.api_version,
        keep,
        secret.as_ref().map(|(s, _)| s.key_id.clone()),
        secret.as_ref().map(|(s, _)| s.bytes.clone()),
        secret.as_ref().and_then(|(_, hint)| hint.clone()),
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_provider(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: AiProviderId,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        "delete from ai_providers where org_id = $1 and id = $2",
        org as OrgId,
        id as AiProviderId
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn settings(db: impl PgExecutor<'_>, org: OrgId) -> Result<AiSettings, sqlx::Error> {
    sqlx::query_as!(
        AiSettings,
        r#"select ai_provider_id as "default_provider_id: AiProviderId", ai_fallback_builtin as fallback_to_builtin
           from organizations where id = $1"#,
        org as OrgId
    )
    .fetch_one(db)
    .await
}

pub async fn save_settings(
    db: impl PgExecutor<'_>,
    org: OrgId,
    s: &AiSettings,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update organizations set ai_provider_id = $2, ai_fallback_builtin = $3, updated_at = now() where id = $1",
        org as OrgId,
        s.default_provider_id as Option<AiProviderId>,
        s.fallback_to_builtin
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn list_personas(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<Vec<Persona>, sqlx::Error> {
    sqlx::query_as!(
        Persona,
        r#"select id as "id: PersonaId", name, description, system_prompt, style as "style: WritingStyle",
                  channels as "channels: Vec<Channel>", provider_id as "provider_id: AiProviderId", model,
                  temperature, can_auto_reply, created_at, updated_at
           from ai_personas where org_id = $1 order by created_at, lower(name)"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

pub async fn get_persona(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PersonaId,
) -> Result<Option<Persona>, sqlx::Error> {
    sqlx::query_as!(
        Persona,
        r#"select id as "id: PersonaId", name, description, system_prompt, style as "style: WritingStyle",
                  channels as "channels: Vec<Channel>", provider_id as "provider_id: AiProviderId", model,
                  temperature, can_auto_reply, created_at, updated_at
           from ai_personas where org_id = $1 and id = $2"#,
        org as OrgId,
        id as PersonaId
    )
    .fetch_optional(db)
    .await
}

/// Writes a persona (insert or full update) from its stored fields.
pub async fn save_persona(
    db: impl PgExecutor<'_>,
    org: OrgId,
    p: &Persona,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into ai_personas (org_id, id, name, description, system_prompt, style, channels, provider_id,
                                    model, temperature, can_auto_reply)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           on conflict (org_id, id) do update set name = excluded.name, description = excluded.description,
               system_prompt = excluded.system_prompt, style = excluded.style, channels = excluded.channels,
               provider_id = excluded.provider_id, model = excluded.model, temperature = excluded.temperature,
               can_auto_reply = excluded.can_auto_reply, updated_at = now()"#,
        org as OrgId,
        p.id as PersonaId,
        p.name,
        p.description,
        p.system_prompt,
        p.style as WritingStyle,
        &p.channels as &[Channel],
        p.provider_id as Option<AiProviderId>,
        p.model,
        p.temperature,
        p.can_auto_reply
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_persona(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PersonaId,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        "delete from ai_personas where org_id = $1 and id = $2",
        org as OrgId,
        id as PersonaId
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn list_articles(
    db: impl PgExecutor<'_>,
    org: OrgId,
    q: Option<&str>,
) -> Result<Vec<KnowledgeArticle>, sqlx::Error> {
    sqlx::query_as!(
        KnowledgeArticle,
        r#"select id as "id: ArticleId", title, topic, content, source, created_at, updated_at
           from knowledge_articles
           where org_id = $1 and ($2::text is null or search @@ websearch_to_tsquery('english', $2))
           order by case when $2::text is null then 0 else ts_rank_cd(search, websearch_to_tsquery('english', $2)) end desc,
                    lower(title)"#,
        org as OrgId,
        q
    )
    .fetch_all(db)
    .await
}

pub async fn get_article(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ArticleId,
) -> Result<Option<KnowledgeArticle>, sqlx::Error> {
    sqlx::query_as!(
        KnowledgeArticle,
        r#"select id as "id: ArticleId", title, topic, content, source, created_at, updated_at
           from knowledge_articles where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ArticleId
    )
    .fetch_optional(db)
    .await
}

pub async fn save_article(
    db: impl PgExecutor<'_>,
    org: OrgId,
    a: &KnowledgeArticle,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into knowledge_articles (org_id, id, title, topic, content, source)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (org_id, id) do update set title = excluded.title, topic = excluded.topic,
               content = excluded.content, source = excluded.source, updated_at = now()"#,
        org as OrgId,
        a.id as ArticleId,
        a.title,
        a.topic,
        a.content,
        a.source
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_article(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ArticleId,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        "delete from knowledge_articles where org_id = $1 and id = $2",
        org as OrgId,
        id as ArticleId
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The articles most relevant to `text` (any of its words, ranked), best first.
pub async fn relevant_articles(
    db: impl PgExecutor<'_>,
    org: OrgId,
    text: &str,
    limit: i64,
) -> Result<Vec<KnowledgeSnippet>, sqlx::Error> {
    let query = or_query(text);
    if query.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as!(
        KnowledgeSnippet,
        r#"select title, topic, content from knowledge_articles
           where org_id = $1 and search @@ to_tsquery('english', $2)
           order by ts_rank_cd(search, to_tsquery('english', $2)) desc, updated_at desc
           limit $3"#,
        org as OrgId,
        query,
        limit
    )
    .fetch_all(db)
    .await
}

/// `word1 | word2 | …` from the distinct words of `text` (letters and digits only, so nothing in
/// it is tsquery syntax).
pub fn or_query(text: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        let w = w.to_lowercase();
        if w.chars().count() >= 3 && !words.contains(&w) {
            words.push(w);
        }
        if words.len() >= 64 {
            break;
        }
    }
    words.join(" | ")
}

pub struct CallRecord<'a> {
    pub operation: AiOperation,
    pub provider_kind: ProviderKind,
    pub provider_name: &'a str,
    pub model: &'a str,
    pub persona_id: Option<PersonaId>,
    pub persona_name: Option<&'a str>,
    pub tokens_in: i32,
    pub tokens_out: i32,
    pub latency_ms: i32,
    pub attempts: i16,
    pub outcome: AiOutcome,
    pub error: Option<&'a str>,
}

pub async fn record_call(
    db: impl PgExecutor<'_>,
    org: OrgId,
    c: &CallRecord<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into ai_calls (org_id, id, operation, provider_kind, provider_name, model, persona_id, persona_name,
                                 tokens_in, tokens_out, latency_ms, attempts, outcome, error)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"#,
        org as OrgId,
        aura_types::AiCallId::new() as aura_types::AiCallId,
        c.operation.as_str(),
        c.provider_kind as ProviderKind,
        c.provider_name,
        c.model,
        c.persona_id as Option<PersonaId>,
        c.persona_name,
        c.tokens_in,
        c.tokens_out,
        c.latency_ms,
        c.attempts,
        c.outcome as AiOutcome,
        c.error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Usage between `from` (inclusive) and `to` (exclusive), by provider, model and operation.
pub async fn usage(
    db: impl PgExecutor<'_>,
    org: OrgId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<UsageRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select provider_kind as "provider_kind!: ProviderKind", provider_name as "provider_name!", model as "model!",
                  operation as "operation!", count(*) as "calls!",
                  count(*) filter (where outcome = 'error') as "failed!",
                  count(*) filter (where outcome = 'fallback') as "fallbacks!",
                  coalesce(sum(tokens_in), 0)::bigint as "tokens_in!", coalesce(sum(tokens_out), 0)::bigint as "tokens_out!",
                  coalesce(avg(latency_ms), 0)::bigint as "avg_latency_ms!"
           from ai_calls where org_id = $1 and created_at >= $2 and created_at < $3
           group by provider_kind, provider_name, model, operation
           order by count(*) desc, provider_name, operation"#,
        org as OrgId,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(UsageRow {
                provider_kind: r.provider_kind,
                provider_name: r.provider_name,
                model: r.model,
                operation: AiOperation::parse(&r.operation)?,
                calls: r.calls,
                failed: r.failed,
                fallbacks: r.fallbacks,
                tokens_in: r.tokens_in,
                tokens_out: r.tokens_out,
                avg_latency_ms: r.avg_latency_ms,
            })
        })
        .collect())
}
