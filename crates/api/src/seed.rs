//! `aura seed-demo`: a demo organization with a known login, so a fresh install has something to
//! look at. Idempotent: a second run only prints the login again. Later capabilities add their
//! sample data here.

use crate::{auth::password, db};
use aura_types::{EmailAddress, Role, UpdateOrganizationRequest};
use sqlx::PgPool;

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "aura-demo-2026";
pub const DEMO_ORG: &str = "Aura Demo Realty";

pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
    pub created: bool,
}

pub async fn seed_demo(pool: &PgPool) -> anyhow::Result<DemoLogin> {
    let login = |created| DemoLogin {
        email: DEMO_EMAIL,
        password: DEMO_PASSWORD,
        created,
    };
    if db::users::credentials_by_email(pool, DEMO_EMAIL)
        .await?
        .is_some()
    {
        return Ok(login(false));
    }
    let owner_hash = password::hash(DEMO_PASSWORD.into()).await?;
    let agent_hash = password::hash(DEMO_PASSWORD.into()).await?;
    let mut tx = pool.begin().await?;
    let owner = db::users::insert(
        &mut tx,
        &EmailAddress::parse(DEMO_EMAIL).map_err(anyhow::Error::msg)?,
        "Dana Demo",
        &owner_hash,
    )
    .await?;
    let agent = db::users::insert(
        &mut tx,
        &EmailAddress::parse("sam.agent@example.com").map_err(anyhow::Error::msg)?,
        "Sam Agent",
        &agent_hash,
    )
    .await?;

    let realty = db::orgs::insert(&mut tx, DEMO_ORG, "America/New_York").await?;
    let changes = crate::domain::org::OrgChanges::try_from(UpdateOrganizationRequest {
        brand_voice: Some("Warm, local and straightforward. We know every street in town and never pressure anyone.".into()),
        public_name: Some("Aura Realty".into()),
        postal_address: Some("120 Harbor Street, Suite 4, Portland, ME 04101, USA".into()),
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("demo organization settings: {:?}", e.0))?;
    db::orgs::update(&mut *tx, realty, &changes).await?;
    db::members::insert(&mut tx, realty, owner, Role::Owner).await?;
    db::members::insert(&mut tx, realty, agent, Role::Member).await?;

    // Agencies run several brands: a second organization shows the organization switcher.
    let services = db::orgs::insert(&mut tx, "Aura Demo Home Services", "America/Chicago").await?;
    db::members::insert(&mut tx, services, owner, Role::Owner).await?;
    tx.commit().await?;
    Ok(login(true))
}
