//! The sandbox outbox: what sandbox mailboxes caught instead of sending.

use aura_types::{MailboxId, MessageId, OrgId, OutboxId, OutboxItem};
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// A message a sandbox mailbox caught.
pub struct Caught<'a> {
    pub org: OrgId,
    pub mailbox: MailboxId,
    /// The campaign message's id, or the inbox answer's.
    pub message: uuid::Uuid,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub raw: &'a [u8],
}

pub async fn insert_outbox(
    db: impl PgExecutor<'_>,
    c: &Caught<'_>,
    now: OffsetDateTime,
) -> Result<OutboxId, sqlx::Error> {
    let id = OutboxId::new();
    sqlx::query!(
        r#"insert into outbox (org_id, id, mailbox_id, message_id, recipient, subject, raw, caught_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        c.org as OrgId,
        id as OutboxId,
        c.mailbox as MailboxId,
        c.message,
        c.recipient,
        c.subject,
        c.raw,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// A page of what the organization's sandbox mailboxes caught, newest first.
pub async fn list_outbox(
    db: impl PgExecutor<'_>,
    org: OrgId,
    limit: i64,
    offset: i64,
) -> Result<Vec<OutboxItem>, sqlx::Error> {
    sqlx::query_as!(
        OutboxItem,
        r#"select id as "id: OutboxId", mailbox_id as "mailbox_id: MailboxId",
                  message_id as "message_id: MessageId", recipient, subject, caught_at
           from outbox where org_id = $1 order by caught_at desc, id desc limit $2 offset $3"#,
        org as OrgId,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// How many messages the organization's sandbox mailboxes caught.
pub async fn count_outbox(db: impl PgExecutor<'_>, org: OrgId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from outbox where org_id = $1"#,
        org as OrgId
    )
    .fetch_one(db)
    .await
}

pub async fn outbox_raw(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: OutboxId,
) -> Result<Option<(OutboxItem, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id as "id: OutboxId", mailbox_id as "mailbox_id: MailboxId",
                  message_id as "message_id: MessageId", recipient, subject, caught_at, raw
           from outbox where org_id = $1 and id = $2"#,
        org as OrgId,
        id as OutboxId
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        (
            OutboxItem {
                id: r.id,
                mailbox_id: r.mailbox_id,
                message_id: r.message_id,
                recipient: r.recipient,
                subject: r.subject,
                caught_at: r.caught_at,
            },
            r.raw,
        )
    }))
}
