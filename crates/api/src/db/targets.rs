//! Campaign targets: who is enrolled in a campaign, and why the others of an audience are not.

use crate::domain::contactability::Block;
use aura_types::{CampaignId, Channel, ContactId, OrgId, SkipReason, Target, TargetStatus};
use sqlx::{PgConnection, PgExecutor};

/// For each of `ids` (contacts of the organization), why it cannot be enrolled — or `None`.
/// The first step's `channel` decides which address and consent count.
pub async fn classify(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    channel: Channel,
    ids: &[ContactId],
    skip_active_elsewhere: bool,
) -> Result<Vec<(ContactId, Option<SkipReason>)>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    let rows = sqlx::query!(
        r#"select c.id as "id: ContactId",
                  case
                    when exists (select 1 from campaign_targets t
                                 where t.org_id = $1 and t.campaign_id = $2 and t.contact_id = c.id) then 'already_enrolled'
                    when a.addr is null then 'no_address'
                    when b.code is not null then 'block'
                    when $5 and exists (select 1 from campaign_targets t
                                        join campaigns k on k.org_id = t.org_id and k.id = t.campaign_id
                                        where t.org_id = $1 and t.contact_id = c.id and t.campaign_id <> $2
                                          and t.status = 'active' and k.status in ('active', 'paused'))
                      then 'in_another_campaign'
                  end as reason,
                  b.code, b.detail
           from contacts c
           cross join lateral (select case $3::channel when 'email' then c.email when 'sms' then c.phone
                                        else c.whatsapp end as addr) a
           left join lateral contact_block($1, $3::channel, a.addr) b on a.addr is not null
           where c.org_id = $1 and c.id = any($4::uuid[])"#,
        org as OrgId,
        campaign as CampaignId,
        channel as Channel,
        &ids,
        skip_active_elsewhere
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let reason = match r.reason.as_deref() {
                Some("block") => {
                    Block::from_row(r.code.as_deref(), r.detail).map(|b| b.skip_reason())
                }
                other => other.and_then(SkipReason::parse),
            };
            (r.id, reason)
        })
        .collect())
}

/// Enrolls `ids`, the first step due `first_delay_minutes` after `now`; returns how many were new.
pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    ids: &[ContactId],
    first_delay_minutes: i32,
    now: time::OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    let r = sqlx::query!(
        r#"insert into campaign_targets (org_id, campaign_id, contact_id, next_run_at)
           select $1, $2, id, $5::timestamptz + make_interval(mins => $4) from unnest($3::uuid[]) as id
           on conflict do nothing"#,
        org as OrgId,
        campaign as CampaignId,
        &ids,
        first_delay_minutes,
        now
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Targets of a campaign, most recently enrolled first; `contact` picks one.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    status: Option<TargetStatus>,
    contact: Option<ContactId>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Target>, sqlx::Error> {
    sqlx::query_as!(
        Target,
        r#"select t.contact_id as "contact_id: ContactId",
                  coalesce(nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email, c.phone, '') as "full_name!",
                  c.email, c.phone, t.status as "status: TargetStatus", t.current_step, t.next_run_at, t.enrolled_at
           from campaign_targets t
           join contacts c on c.org_id = t.org_id and c.id = t.contact_id
           where t.org_id = $1 and t.campaign_id = $2 and ($3::target_status is null or t.status = $3)
             and ($5::uuid is null or t.contact_id = $5)
           order by t.enrolled_at desc, t.contact_id
           limit $4 offset $6"#,
        org as OrgId,
        campaign as CampaignId,
        status as Option<TargetStatus>,
        limit,
        contact as Option<ContactId>,
        offset
    )
    .fetch_all(db)
    .await
}

pub async fn count(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    status: Option<TargetStatus>,
    contact: Option<ContactId>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from campaign_targets
           where org_id = $1 and campaign_id = $2 and ($3::target_status is null or status = $3)
             and ($4::uuid is null or contact_id = $4)"#,
        org as OrgId,
        campaign as CampaignId,
        status as Option<TargetStatus>,
        contact as Option<ContactId>
    )
    .fetch_one(db)
    .await
}

pub async fn set_status(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
    status: TargetStatus,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        r#"update campaign_targets set status = $4, updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId,
        status as TargetStatus
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        "delete from campaign_targets where org_id = $1 and campaign_id = $2 and contact_id = $3",
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
) -> Result<Option<Target>, sqlx::Error> {
    Ok(list(db, org, campaign, None, Some(contact), 1, 0)
        .await?
        .pop())
}
