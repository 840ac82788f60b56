//! An organization's own campaign templates, and how often each template was used.

use crate::domain::templates::channels;
use aura_types::{CampaignTemplate, OrgId, TemplateId, TemplateStep};
use sqlx::PgExecutor;
use std::collections::HashMap;

pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<Vec<CampaignTemplate>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select t.id as "id: TemplateId", t.name, t.description, t.industry, t.use_case, t.offer, t.icp, t.goal,
                  t.steps, coalesce(u.uses, 0) as "uses!"
           from campaign_templates t
           left join template_uses u on u.org_id = t.org_id and u.template_id = t.id
           where t.org_id = $1 order by lower(t.name)"#,
        org as OrgId
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let steps: Vec<TemplateStep> = serde_json::from_value(r.steps).unwrap_or_default();
            CampaignTemplate {
                id: r.id,
                system: false,
                name: r.name,
                description: r.description,
                industry: r.industry,
                use_case: r.use_case,
                channels: channels(&steps),
                offer: r.offer,
                icp: r.icp,
                goal: r.goal,
                steps,
                usage_count: r.uses,
            }
        })
        .collect())
}

/// Uses of every template by the organization.
pub async fn uses(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<HashMap<TemplateId, i32>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select template_id as "id: TemplateId", uses from template_uses where org_id = $1"#,
        org as OrgId
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.uses)).collect())
}

pub async fn count_use(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: TemplateId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into template_uses (org_id, template_id, uses) values ($1, $2, 1)
           on conflict (org_id, template_id) do update set uses = template_uses.uses + 1"#,
        org as OrgId,
        id as TemplateId
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn save(
    db: impl PgExecutor<'_>,
    org: OrgId,
    t: &CampaignTemplate,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into campaign_templates (org_id, id, name, description, industry, use_case, offer, icp, goal, steps)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           on conflict (org_id, id) do update set name = excluded.name, description = excluded.description,
               industry = excluded.industry, use_case = excluded.use_case, offer = excluded.offer, icp = excluded.icp,
               goal = excluded.goal, steps = excluded.steps, updated_at = now()"#,
        org as OrgId,
        t.id as TemplateId,
        t.name,
        t.description,
        t.industry,
        t.use_case,
        t.offer,
        t.icp,
        t.goal,
        serde_json::to_value(&t.steps).unwrap_or_default()
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: TemplateId,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        "delete from campaign_templates where org_id = $1 and id = $2",
        org as OrgId,
        id as TemplateId
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}
