//! A campaign's delivery counters: per step, where its leads are, and what review left.

use crate::domain::preflight::{EmailFacts, Facts, MessageCounts};
use aura_types::{CampaignId, Channel, OrgId, StepId};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// Per-step delivery counters of a campaign, in step order.
pub async fn step_counters(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<Vec<aura_types::StepDelivery>, sqlx::Error> {
    sqlx::query_as!(
        aura_types::StepDelivery,
        r#"select s.id as "step_id: StepId", s.position,
                  count(*) filter (where shown_status(m.status, m.locked_until) = 'queued') as "queued!",
                  count(*) filter (where shown_status(m.status, m.locked_until) = 'sending') as "sending!",
                  count(*) filter (where m.status = 'sent') as "sent!",
                  count(*) filter (where m.status = 'failed') as "failed!",
                  count(*) filter (where m.status = 'bounced') as "bounced!",
                  count(*) filter (where m.status = 'unknown') as "unknown!",
                  count(*) filter (where m.status = 'cancelled') as "cancelled!",
                  count(*) filter (where m.status = 'sent' and exists (
                      select 1 from message_events e where e.org_id = m.org_id and e.message_id = m.id and e.kind = 'open')) as "opened!",
                  count(*) filter (where m.status = 'sent' and exists (
                      select 1 from message_events e where e.org_id = m.org_id and e.message_id = m.id and e.kind = 'click')) as "clicked!"
           from campaign_steps s
           left join campaign_messages m on m.org_id = s.org_id and m.step_id = s.id
           where s.org_id = $1 and s.campaign_id = $2
           group by s.id, s.position
           order by s.position"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_all(db)
    .await
}

/// Where a campaign's leads are: (active, waiting for approval, completed, stopped contacts).
pub async fn target_counters(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<(i64, i64, i64, i64), sqlx::Error> {
    let r = sqlx::query!(
        r#"select count(*) filter (where t.status = 'active') as "active!",
                  count(*) filter (where t.status = 'active' and ns.id is not null
                                     and (m.id is null or m.status = 'prepared')) as "waiting!",
                  count(*) filter (where t.status = 'completed') as "completed!",
                  count(*) filter (where k.status <> 'active') as "stopped!"
           from campaign_targets t
           join contacts k on k.org_id = t.org_id and k.id = t.contact_id
           left join lateral (
               select s.id from campaign_steps s
               where s.org_id = t.org_id and s.campaign_id = t.campaign_id and s.position > t.current_step
               order by s.position limit 1) ns on true
           left join campaign_messages m on m.org_id = t.org_id and m.campaign_id = t.campaign_id
                and m.contact_id = t.contact_id and m.step_id = ns.id
           where t.org_id = $1 and t.campaign_id = $2"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_one(db)
    .await?;
    Ok((r.active, r.waiting, r.completed, r.stopped))
}

/// What pre-flight needs to know about a campaign's messages: approved ones and undecided ones
/// with problems.
pub async fn review_counters(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<MessageCounts, sqlx::Error> {
    let r = sqlx::query!(
        r#"select count(*) as "all!",
                  count(*) filter (where status = 'approved') as "approved!",
                  count(*) filter (where status = 'prepared' and cardinality(problems) > 0) as "problems!"
           from campaign_messages where org_id = $1 and campaign_id = $2"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_one(db)
    .await?;
    Ok(MessageCounts {
        all: r.all,
        approved: r.approved,
        with_problems: r.problems,
    })
}

/// Everything pre-flight looks at, in the caller's transaction; `None` when there is no such
/// campaign.
pub async fn preflight_facts(
    conn: &mut PgConnection,
    org: OrgId,
    id: CampaignId,
) -> Result<Option<Facts>, sqlx::Error> {
    let Some(campaign) = super::campaigns::get(&mut *conn, org, id).await? else {
        return Ok(None);
    };
    let steps = super::campaigns::steps(&mut *conn, org, id).await?;
    let org_row = super::orgs::get(&mut *conn, org).await?;
    let email = if steps.iter().any(|s| s.channel == Channel::Email) {
        let ids = super::mailboxes::of_campaign(&mut *conn, org, id).await?;
        let boxes =
            super::mailboxes::list(&mut *conn, org, Some(&ids), OffsetDateTime::now_utc()).await?;
        Some(EmailFacts {
            mailboxes: boxes
                .into_iter()
                .map(|m| (m.from_email, m.status))
                .collect(),
            postal_address: org_row.as_ref().and_then(|o| o.postal_address.clone()),
        })
    } else {
        None
    };
    let mut texts = Vec::new();
    for channel in [Channel::Sms, Channel::Whatsapp] {
        if steps.iter().any(|s| s.channel == channel) {
            let numbers = super::text::numbers_for(&mut *conn, org, channel).await?;
            let sandbox_only = numbers.iter().all(|(_, sandbox)| *sandbox);
            texts.push((channel, numbers.len(), sandbox_only));
        }
    }
    let messages = review_counters(&mut *conn, org, id).await?;
    let whatsapp_us_leads = if steps.iter().any(|s| s.channel == Channel::Whatsapp) {
        sqlx::query_scalar!(
            r#"select count(*) as "n!" from campaign_targets t
               join contacts k on k.org_id = t.org_id and k.id = t.contact_id
               where t.org_id = $1 and t.campaign_id = $2 and t.status <> 'completed'
                 and k.whatsapp like '+1%'"#,
            org as OrgId,
            id as CampaignId
        )
        .fetch_one(&mut *conn)
        .await?
    } else {
        0
    };
    let active_leads = super::targets::count(
        &mut *conn,
        org,
        id,
        Some(aura_types::TargetStatus::Active),
        None,
    )
    .await?;
    let leads = if messages.all == 0 {
        let leads = super::contacts::in_campaign(&mut *conn, org, id).await?;
        let name = org_row
            .map(|o| o.public_name.unwrap_or(o.name))
            .unwrap_or_default();
        Some((leads, name))
    } else {
        None
    };
    Ok(Some(Facts {
        campaign,
        steps,
        email,
        texts,
        whatsapp_us_leads,
        messages,
        active_leads,
        leads,
    }))
}
