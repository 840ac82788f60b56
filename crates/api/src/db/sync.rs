//! Reading mailboxes over IMAP: who holds each mailbox's sync (a lease), its health, the
//! watermark of each folder, and the provider's Message-IDs learned from the Sent folder.

use aura_types::{MailboxId, MessageId, OrgId};
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// Takes up to `limit` mailboxes with IMAP settings that nobody holds (or whose holder's lease
/// ran out) for `holder`, for `lease_secs`.
pub async fn claim(
    db: &sqlx::PgPool,
    holder: Uuid,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<(OrgId, MailboxId)>, sqlx::Error> {
    sqlx::query!(
        r#"insert into mailbox_syncs (org_id, mailbox_id)
           select org_id, id from mailboxes where imap_host <> ''
           on conflict do nothing"#
    )
    .execute(db)
    .await?;
    let rows = sqlx::query!(
        r#"with free as (
             select s.org_id, s.mailbox_id,
                    md5(concat_ws('|', m.imap_host, m.imap_port, m.imap_security, m.imap_username,
                                  encode(m.imap_secret_sealed, 'hex'))) as settings
             from mailbox_syncs s
             join mailboxes m on m.org_id = s.org_id and m.id = s.mailbox_id
             where m.imap_host <> '' and (s.lease_until is null or s.lease_until < now())
             order by s.last_sync_at nulls first
             limit $2
             for update of s skip locked)
           update mailbox_syncs s
           set holder = $1, lease_until = now() + make_interval(secs => $3::bigint::float8),
               settings = free.settings
           from free
           where s.org_id = free.org_id and s.mailbox_id = free.mailbox_id
           returning s.org_id as "org_id: OrgId", s.mailbox_id as "mailbox_id: MailboxId""#,
        holder,
        limit,
        lease_secs
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, r.mailbox_id)).collect())
}

/// Extends `holder`'s lease; false when it lost the mailbox, or the mailbox's IMAP settings
/// changed (or were removed) since it was claimed.
pub async fn renew(
    db: impl PgExecutor<'_>,
    holder: Uuid,
    org: OrgId,
    mailbox: MailboxId,
    lease_secs: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update mailbox_syncs s
           set lease_until = now() + make_interval(secs => $4::bigint::float8)
           from mailboxes m
           where s.org_id = $2 and s.mailbox_id = $3 and s.holder = $1
             and m.org_id = s.org_id and m.id = s.mailbox_id and m.imap_host <> ''
             and s.settings = md5(concat_ws('|', m.imap_host, m.imap_port, m.imap_security,
                                            m.imap_username, encode(m.imap_secret_sealed, 'hex')))"#,
        holder,
        org as OrgId,
        mailbox as MailboxId,
        lease_secs
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets go of a mailbox `holder` holds.
pub async fn release(
    db: impl PgExecutor<'_>,
    holder: Uuid,
    org: OrgId,
    mailbox: MailboxId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update mailbox_syncs set holder = null, lease_until = null, idling = false
           where org_id = $2 and mailbox_id = $3 and holder = $1"#,
        holder,
        org as OrgId,
        mailbox as MailboxId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records how the last pass went: synced (`error` none) or what failed; and whether the holder
/// now waits on IDLE.
pub async fn record(
    db: impl PgExecutor<'_>,
    org: OrgId,
    mailbox: MailboxId,
    error: Option<&str>,
    idling: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update mailbox_syncs
           set last_sync_at = case when $3::text is null then now() else last_sync_at end,
               last_error = $3, last_error_at = case when $3::text is null then null else now() end,
               idling = $4
           where org_id = $1 and mailbox_id = $2"#,
        org as OrgId,
        mailbox as MailboxId,
        error,
        idling
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A folder's watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watermark {
    pub uid_validity: u32,
    pub last_uid: u32,
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

pub async fn watermark(
    db: impl PgExecutor<'_>,
    org: OrgId,
    mailbox: MailboxId,
    folder: &str,
) -> Result<Option<Watermark>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select uid_validity, last_uid from mailbox_folders
           where org_id = $1 and mailbox_id = $2 and name = $3"#,
        org as OrgId,
        mailbox as MailboxId,
        folder
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Watermark {
        uid_validity: u32_of(r.uid_validity),
        last_uid: u32_of(r.last_uid),
    }))
}

/// Moves a folder's watermark to `w` (a new UIDVALIDITY starts it over), counting `taken`
/// messages taken in — if `holder` still holds the mailbox (false, and nothing written, if not).
#[allow(clippy::too_many_arguments)]
pub async fn advance(
    db: impl PgExecutor<'_>,
    holder: Uuid,
    org: OrgId,
    mailbox: MailboxId,
    folder: &str,
    role: &str,
    w: Watermark,
    taken: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"insert into mailbox_folders (org_id, mailbox_id, name, role, uid_validity, last_uid, messages, synced_at)
           select $1, $2, $3, $4, $5, $6, $7, now()
           where exists (select 1 from mailbox_syncs
                         where org_id = $1 and mailbox_id = $2 and holder = $8)
           on conflict (org_id, mailbox_id, name) do update
           set role = excluded.role, uid_validity = excluded.uid_validity,
               last_uid = excluded.last_uid, synced_at = now(),
               messages = case when mailbox_folders.uid_validity = excluded.uid_validity
                               then mailbox_folders.messages + excluded.messages
                               else excluded.messages end"#,
        org as OrgId,
        mailbox as MailboxId,
        folder,
        role,
        i64::from(w.uid_validity),
        i64::from(w.last_uid),
        taken,
        holder
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which of these Message-IDs (without brackets) are already stored.
pub async fn known_message_ids(
    db: impl PgExecutor<'_>,
    org: OrgId,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select message_id as "id!" from inbound_messages
           where org_id = $1 and message_id = any($2)"#,
        org as OrgId,
        ids
    )
    .fetch_all(db)
    .await
}

/// Records the Message-ID the provider gave our message `id` when it differs from ours.
pub async fn learn_provider_id(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MessageId,
    provider_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update campaign_messages set provider_message_id = $3
           where org_id = $1 and id = $2 and message_id is distinct from $3
             and provider_message_id is distinct from $3"#,
        org as OrgId,
        id as MessageId,
        provider_id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A mailbox's sync as the API shows it.
pub struct SyncRow {
    pub holder: Option<Uuid>,
    pub lease_until: Option<OffsetDateTime>,
    pub last_sync_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub last_error_at: Option<OffsetDateTime>,
    pub idling: bool,
}

pub struct FolderRow {
    pub name: String,
    pub role: String,
    pub uid_validity: i64,
    pub last_uid: i64,
    pub messages: i64,
    pub synced_at: Option<OffsetDateTime>,
}

pub async fn state(
    db: &sqlx::PgPool,
    org: OrgId,
    mailbox: MailboxId,
) -> Result<(Option<SyncRow>, Vec<FolderRow>), sqlx::Error> {
    let sync = sqlx::query_as!(
        SyncRow,
        r#"select holder, lease_until, last_sync_at, last_error, last_error_at, idling
           from mailbox_syncs where org_id = $1 and mailbox_id = $2"#,
        org as OrgId,
        mailbox as MailboxId
    )
    .fetch_optional(db)
    .await?;
    let folders = sqlx::query_as!(
        FolderRow,
        r#"select name, role, uid_validity, last_uid, messages, synced_at
           from mailbox_folders where org_id = $1 and mailbox_id = $2
           order by case role when 'inbox' then 0 when 'junk' then 1 else 2 end, name"#,
        org as OrgId,
        mailbox as MailboxId
    )
    .fetch_all(db)
    .await?;
    Ok((sync, folders))
}
