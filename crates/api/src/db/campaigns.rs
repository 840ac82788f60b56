//! Campaigns and their steps.

use crate::domain::campaign::{format_time, CampaignFields};
use aura_types::{
    ApprovalMode, Campaign, CampaignId, CampaignStats, CampaignStatus, Channel, OrgId, PersonaId,
    SendWindow, Step, StepId, UserId, Variant,
};
use sqlx::{PgConnection, PgExecutor};
use time::{OffsetDateTime, Time};

struct CampaignRow {
    id: CampaignId,
    name: String,
    description: String,
    icp: String,
    offer: String,
    goal: String,
    status: CampaignStatus,
    timezone: String,
    send_days: Vec<i16>,
    send_start: Time,
    send_end: Time,
    daily_new_leads: i32,
    stop_on_reply: bool,
    track_opens: bool,
    track_clicks: bool,
    approval: ApprovalMode,
    created_by: Option<UserId>,
    channels: Vec<Channel>,
    targets: i64,
    active: i64,
    paused: i64,
    completed: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<CampaignRow> for Campaign {
    fn from(r: CampaignRow) -> Self {
        Campaign {
            id: r.id,
            name: r.name,
            description: r.description,
            icp: r.icp,
            offer: r.offer,
            goal: r.goal,
            status: r.status,
            timezone: r.timezone,
            window: SendWindow {
                days: r
                    .send_days
                    .into_iter()
                    .filter_map(|d| u8::try_from(d).ok())
                    .collect(),
                start: format_time(r.send_start),
                end: format_time(r.send_end),
            },
            daily_new_leads: r.daily_new_leads,
            stop_on_reply: r.stop_on_reply,
            track_opens: r.track_opens,
            track_clicks: r.track_clicks,
            approval: r.approval,
            created_by: r.created_by,
            channels: r.channels,
            stats: CampaignStats {
                targets: r.targets,
                active: r.active,
                paused: r.paused,
                completed: r.completed,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Campaign>, sqlx::Error> {
    let rows = sqlx::query_as!(
        CampaignRow,
        r#"select c.id as "id: CampaignId", c.name, c.description, c.icp, c.offer, c.goal,
                  c.status as "status: CampaignStatus", c.timezone, c.send_days, c.send_start, c.send_end,
                  c.daily_new_leads, c.stop_on_reply, c.track_opens, c.track_clicks,
                  c.approval as "approval: ApprovalMode", c.created_by as "created_by: UserId",
                  coalesce((select array_agg(s.channel order by s.position) from campaign_steps s
                            where s.org_id = c.org_id and s.campaign_id = c.id), '{}') as "channels!: Vec<Channel>",
                  st.targets as "targets!", st.active as "active!", st.paused as "paused!", st.completed as "completed!",
                  c.created_at, c.updated_at
           from campaigns c
           cross join lateral (
               select count(*) as targets, count(*) filter (where t.status = 'active') as active,
                      count(*) filter (where t.status = 'paused') as paused,
                      count(*) filter (where t.status = 'completed') as completed
               from campaign_targets t where t.org_id = c.org_id and t.campaign_id = c.id) st
           where c.org_id = $1
           order by (c.status = 'archived'), c.updated_at desc"#,
        org as OrgId
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Campaign::from).collect())
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: CampaignId,
) -> Result<Option<Campaign>, sqlx::Error> {
    let row = sqlx::query_as!(
        CampaignRow,
        r#"select c.id as "id: CampaignId", c.name, c.description, c.icp, c.offer, c.goal,
                  c.status as "status: CampaignStatus", c.timezone, c.send_days, c.send_start, c.send_end,
                  c.daily_new_leads, c.stop_on_reply, c.track_opens, c.track_clicks,
                  c.approval as "approval: ApprovalMode", c.created_by as "created_by: UserId",
                  coalesce((select array_agg(s.channel order by s.position) from campaign_steps s
                            where s.org_id = c.org_id and s.campaign_id = c.id), '{}') as "channels!: Vec<Channel>",
                  st.targets as "targets!", st.active as "active!", st.paused as "paused!", st.completed as "completed!",
                  c.created_at, c.updated_at
           from campaigns c
           cross join lateral (
               select count(*) as targets, count(*) filter (where t.status = 'active') as active,
                      count(*) filter (where t.status = 'paused') as paused,
                      count(*) filter (where t.status = 'completed') as completed
               from campaign_targets t where t.org_id = c.org_id and t.campaign_id = c.id) st
           where c.org_id = $1 and c.id = $2"#,
        org as OrgId,
        id as CampaignId
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Campaign::from))
}

/// The campaign's status, locking the campaign until the transaction ends.
pub async fn lock(
    conn: &mut PgConnection,
    org: OrgId,
    id: CampaignId,
) -> Result<Option<CampaignStatus>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select status as "status: CampaignStatus" from campaigns where org_id = $1 and id = $2 for update"#,
        org as OrgId,
        id as CampaignId
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: CampaignId,
    f: &CampaignFields,
    created_by: Option<UserId>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into campaigns (org_id, id, name, description, icp, offer, goal, timezone, send_days, send_start,
                                  send_end, daily_new_leads, stop_on_reply, track_opens, track_clicks, approval, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"#,
        org as OrgId,
        id as CampaignId,
        f.name,
        f.description,
        f.icp,
        f.offer,
        f.goal,
        f.timezone,
        &f.send_days,
        f.send_start,
        f.send_end,
        f.daily_new_leads,
        f.stop_on_reply,
        f.track_opens,
        f.track_clicks,
        f.approval as ApprovalMode,
        created_by as Option<UserId>
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: CampaignId,
    f: &CampaignFields,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaigns set name = $3, description = $4, icp = $5, offer = $6, goal = $7, timezone = $8,
               send_days = $9, send_start = $10, send_end = $11, daily_new_leads = $12, stop_on_reply = $13,
               track_opens = $14, track_clicks = $15, approval = $16, updated_at = now()
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as CampaignId,
        f.name,
        f.description,
        f.icp,
        f.offer,
        f.goal,
        f.timezone,
        &f.send_days,
        f.send_start,
        f.send_end,
        f.daily_new_leads,
        f.stop_on_reply,
        f.track_opens,
        f.track_clicks,
        f.approval as ApprovalMode
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_status(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: CampaignId,
    status: CampaignStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update campaigns set status = $3, updated_at = now() where org_id = $1 and id = $2",
        org as OrgId,
        id as CampaignId,
        status as CampaignStatus
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: CampaignId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "delete from campaigns where org_id = $1 and id = $2",
        org as OrgId,
        id as CampaignId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the campaign as changed now.
pub async fn touch(db: impl PgExecutor<'_>, org: OrgId, id: CampaignId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update campaigns set updated_at = now() where org_id = $1 and id = $2",
        org as OrgId,
        id as CampaignId
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn steps(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<Vec<Step>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select id as "id: StepId", position, channel as "channel: Channel", delay_minutes,
                  persona_id as "persona_id: PersonaId", ai_instructions, personalize, subject, reply_subject,
                  body, weight, variants, whatsapp_template, metadata
           from campaign_steps where org_id = $1 and campaign_id = $2 order by position"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Step {
            id: r.id,
            position: r.position,
            channel: r.channel,
            delay_minutes: r.delay_minutes,
            persona_id: r.persona_id,
            ai_instructions: r.ai_instructions,
            personalize: r.personalize,
            subject: r.subject,
            reply_subject: r.reply_subject,
            body: r.body,
            weight: r.weight,
            variants: serde_json::from_value::<Vec<Variant>>(r.variants).unwrap_or_default(),
            whatsapp_template: r
                .whatsapp_template
                .and_then(|v| serde_json::from_value(v).ok()),
            metadata: match r.metadata {
                serde_json::Value::Object(m) => m,
                _ => Default::default(),
            },
        })
        .collect())
}

/// Makes room at `position` (1-based) by moving later steps down one place.
pub async fn open_position(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    position: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update campaign_steps set position = position + 1 where org_id = $1 and campaign_id = $2 and position >= $3",
        org as OrgId,
        campaign as CampaignId,
        position
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a step (insert or full update).
pub async fn save_step(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    s: &Step,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into campaign_steps (org_id, id, campaign_id, position, channel, delay_minutes, persona_id,
                                       ai_instructions, personalize, subject, body, weight, variants,
                                       whatsapp_template, metadata, reply_subject)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           on conflict (org_id, id) do update set channel = excluded.channel, delay_minutes = excluded.delay_minutes,
               persona_id = excluded.persona_id, ai_instructions = excluded.ai_instructions,
               personalize = excluded.personalize, subject = excluded.subject, body = excluded.body,
               weight = excluded.weight, variants = excluded.variants,
               whatsapp_template = excluded.whatsapp_template, metadata = excluded.metadata,
               reply_subject = excluded.reply_subject, updated_at = now()"#,
        org as OrgId,
        s.id as StepId,
        campaign as CampaignId,
        s.position,
        s.channel as Channel,
        s.delay_minutes,
        s.persona_id as Option<PersonaId>,
        s.ai_instructions,
        s.personalize,
        s.subject,
        s.body,
        s.weight,
        serde_json::to_value(&s.variants).unwrap_or_default(),
        s.whatsapp_template
            .as_ref()
            .and_then(|t| serde_json::to_value(t).ok()),
        serde_json::Value::Object(s.metadata.clone()),
        s.reply_subject
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a step and closes the gap it leaves.
pub async fn delete_step(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    step: StepId,
) -> Result<bool, sqlx::Error> {
    let position = sqlx::query_scalar!(
        "delete from campaign_steps where org_id = $1 and campaign_id = $2 and id = $3 returning position",
        org as OrgId,
        campaign as CampaignId,
        step as StepId
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(position) = position else {
        return Ok(false);
    };
    sqlx::query!(
        "update campaign_steps set position = position - 1 where org_id = $1 and campaign_id = $2 and position > $3",
        org as OrgId,
        campaign as CampaignId,
        position
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// Gives the steps the positions 1, 2, 3… in the order of `ids`.
pub async fn reorder(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    ids: &[StepId],
) -> Result<(), sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    sqlx::query!(
        r#"update campaign_steps s set position = o.n::int, updated_at = now()
           from unnest($3::uuid[]) with ordinality as o(id, n)
           where s.org_id = $1 and s.campaign_id = $2 and s.id = o.id"#,
        org as OrgId,
        campaign as CampaignId,
        &ids
    )
    .execute(conn)
    .await?;
    Ok(())
}
