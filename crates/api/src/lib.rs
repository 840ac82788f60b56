//! Aura's API service: HTTP API, background workers and command line.
//!
//! See `ARCHITECTURE.md` at the repository root for the codemap and the invariants.

pub mod ai;
pub mod auth;
pub mod client_addr;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod extract;
pub mod inbox;
pub mod providers;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod workers;

use sqlx::PgPool;

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Ok when the database answers and every embedded migration has been applied; else why not.
pub async fn db_ready(pool: &PgPool) -> Result<(), String> {
    let applied: Vec<i64> =
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
            .fetch_all(pool)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(_) => "migrations not applied".to_owned(),
                _ => "database unreachable".to_owned(),
            })?;
    let missing = MIGRATOR
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .count();
    if missing > 0 {
        return Err(format!("{missing} migration(s) not applied"));
    }
    Ok(())
}
