//! Opens, clicks and unsubscribes of sent email.

use aura_types::{MessageId, OrgId};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// One open, click or unsubscribe.
#[derive(Clone, Debug)]
pub struct Event {
    pub org_id: OrgId,
    pub message_id: MessageId,
    pub kind: &'static str,
    pub url: Option<String>,
    pub at: OffsetDateTime,
}

/// The connection opens and clicks are written on. It is its own, outside the pool: in a flood it
/// writes without pause, and the pool's connections stay free for requests. Its commits do not
/// wait for the disk: the events were held in memory until now, and a database crash losing the
/// last moment of them is no worse than a server restart (an unsubscribe is written with its
/// suppression instead). Each batch is one statement, committed on its own: one round trip.
pub struct EventWriter {
    options: sqlx::postgres::PgConnectOptions,
    conn: Option<PgConnection>,
}

/// The `application_name` of the writer's connection (as `pg_stat_activity` shows it).
pub const EVENT_WRITER_NAME: &str = "aura: opens and clicks";

impl EventWriter {
    /// A writer that connects as the pool does, when it first writes.
    pub fn new(pool: &sqlx::PgPool) -> Self {
        let options = super::planner::connect_options(
            (*pool.connect_options())
                .clone()
                .application_name(EVENT_WRITER_NAME),
            &[super::planner::COMMIT_WITHOUT_WAITING],
        );
        Self {
            options,
            conn: None,
        }
    }

    /// Writes a batch (see [`insert_events`]). After a failure the next batch is written on a
    /// new connection.
    pub async fn write(&mut self, events: &[Event]) -> Result<u64, sqlx::Error> {
        use sqlx::Connection;
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => PgConnection::connect_with(&self.options).await?,
        };
        let written = insert_events(&mut conn, events).await?;
        self.conn = Some(conn);
        Ok(written)
    }
}

/// Writes events in one statement (events of messages that no longer exist are dropped).
pub async fn insert_events(db: impl PgExecutor<'_>, events: &[Event]) -> Result<u64, sqlx::Error> {
    let orgs: Vec<uuid::Uuid> = events.iter().map(|e| e.org_id.0).collect();
    let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.message_id.0).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
    let urls: Vec<Option<String>> = events.iter().map(|e| e.url.clone()).collect();
    let ats: Vec<OffsetDateTime> = events.iter().map(|e| e.at).collect();
    let done = sqlx::query!(
        r#"insert into message_events (org_id, message_id, kind, url, at)
           select e.org_id, e.id, e.kind::message_event_kind, e.url, e.at
           from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) as e(org_id, id, kind, url, at)
           where exists (select 1 from campaign_messages q where q.org_id = e.org_id and q.id = e.id)"#,
        &orgs,
        &ids,
        &kinds as &[&str],
        &urls as &[Option<String>],
        &ats
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
