//! Text-message channels: Twilio accounts (secrets sealed), the sandbox, and sending numbers.

use crate::crypto::Sealed;
use crate::domain::phone::{AccountFields, NumberFields};
use aura_types::{
    ContactId, NumberKind, OrgId, PhoneAccountId, PhoneAccountKind, PhoneNumber, PhoneNumberId,
};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// An account as stored.
#[derive(Clone, Debug)]
pub struct AccountRow {
    pub id: PhoneAccountId,
    pub kind: PhoneAccountKind,
    pub name: String,
    pub account_sid: Option<String>,
    pub auth_token_key_id: Option<String>,
    pub auth_token_sealed: Option<Vec<u8>>,
    pub api_key_sid: Option<String>,
    pub api_key_secret_key_id: Option<String>,
    pub api_key_secret_sealed: Option<Vec<u8>>,
    /// The shared key Twilio signs webhooks with instead of the Auth Token, when set.
    pub webhook_key_id: Option<String>,
    pub last_tested_at: Option<OffsetDateTime>,
    pub last_test_error: Option<String>,
}

impl AccountRow {
    /// The credentials Aura sends as: the API key when there is one, else the Auth Token.
    pub fn credentials(
        &self,
        sealer: &crate::crypto::Sealer,
    ) -> Result<crate::providers::twilio::Credentials, String> {
        let open = |key: Option<&str>, sealed: Option<&[u8]>| {
            sealer
                .open_optional(key, sealed)
                .map_err(|e| format!("a stored secret cannot be opened: {e}"))
        };
        let account_sid = self.account_sid.clone().unwrap_or_default();
        let secret = open(
            self.api_key_secret_key_id.as_deref(),
            self.api_key_secret_sealed.as_deref(),
        )?;
        match (self.api_key_sid.clone(), secret) {
            (Some(sid), Some(secret)) => Ok(crate::providers::twilio::Credentials {
                account_sid,
                username: sid,
                password: secret,
            }),
            _ => {
                let token = open(
                    self.auth_token_key_id.as_deref(),
                    self.auth_token_sealed.as_deref(),
                )?
                .ok_or("the account has no Auth Token")?;
                Ok(crate::providers::twilio::Credentials {
                    username: account_sid.clone(),
                    account_sid,
                    password: token,
                })
            }
        }
    }
}

/// The organization's accounts, oldest first.
pub async fn accounts(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as!(
        AccountRow,
        r#"select id as "id: PhoneAccountId", kind as "kind: PhoneAccountKind", name, account_sid,
                  auth_token_key_id, auth_token_sealed, api_key_sid, api_key_secret_key_id,
                  api_key_secret_sealed, webhook_key_id, last_tested_at, last_test_error
           from phone_accounts where org_id = $1 order by created_at, id"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

/// One account of the organization.
pub async fn account(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneAccountId,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as!(
        AccountRow,
        r#"select id as "id: PhoneAccountId", kind as "kind: PhoneAccountKind", name, account_sid,
                  auth_token_key_id, auth_token_sealed, api_key_sid, api_key_secret_key_id,
                  api_key_secret_sealed, webhook_key_id, last_tested_at, last_test_error
           from phone_accounts where org_id = $1 and id = $2"#,
        org as OrgId,
        id as PhoneAccountId
    )
    .fetch_optional(db)
    .await
}

/// Adds a Twilio account (`token` and `secret` sealed by the caller).
pub async fn insert_account(
    db: impl PgExecutor<'_>,
    org: OrgId,
    f: &AccountFields,
    token: &Sealed,
    key: Option<(&str, &Sealed)>,
) -> Result<PhoneAccountId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"insert into phone_accounts (org_id, id, kind, name, account_sid, auth_token_key_id,
               auth_token_sealed, api_key_sid, api_key_secret_key_id, api_key_secret_sealed)
           values ($1, $2, 'twilio', $3, $4, $5, $6, $7, $8, $9)
           returning id as "id: PhoneAccountId""#,
        org as OrgId,
        PhoneAccountId::new() as PhoneAccountId,
        f.name,
        f.account_sid,
        token.key_id,
        token.bytes,
        key.map(|(sid, _)| sid),
        key.map(|(_, s)| s.key_id.as_str()),
        key.map(|(_, s)| s.bytes.as_slice())
    )
    .fetch_one(db)
    .await
}

/// What a change sets: `None` keeps the stored value.
pub struct AccountChange<'a> {
    pub name: &'a str,
    pub account_sid: &'a str,
    pub token: Option<&'a Sealed>,
    /// `Some(None)`: no API key any more; `Some(Some((sid, None)))`: a new SID, the same secret.
    pub key: Option<Option<(&'a str, Option<&'a Sealed>)>>,
}

/// Changes a Twilio account; whether it exists.
pub async fn update_account(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneAccountId,
    c: &AccountChange<'_>,
) -> Result<bool, sqlx::Error> {
    let (set_key, key_sid, secret) = match c.key {
        None => (false, None, None),
        Some(None) => (true, None, None),
        Some(Some((sid, secret))) => (true, Some(sid), secret),
    };
    let done = sqlx::query!(
        r#"update phone_accounts set
               name = $3, account_sid = $4,
               auth_token_key_id = coalesce($5, auth_token_key_id),
               auth_token_sealed = coalesce($6, auth_token_sealed),
               api_key_sid = case when $7 then $8 else api_key_sid end,
               api_key_secret_key_id = case when not $7 then api_key_secret_key_id
                                            when $8::text is null then null
                                            else coalesce($9, api_key_secret_key_id) end,
               api_key_secret_sealed = case when not $7 then api_key_secret_sealed
                                            when $8::text is null then null
                                            else coalesce($10, api_key_secret_sealed) end,
               last_tested_at = null, last_test_error = null, updated_at = now()
           where org_id = $1 and id = $2 and kind = 'twilio'"#,
        org as OrgId,
        id as PhoneAccountId,
        c.name,
        c.account_sid,
        c.token.map(|t| t.key_id.as_str()),
        c.token.map(|t| t.bytes.as_slice()),
        set_key,
        key_sid,
        secret.map(|s| s.key_id.as_str()),
        secret.map(|s| s.bytes.as_slice())
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets (or, with `None`, removes) the shared key Twilio signs the account's webhooks with;
/// whether the account exists.
pub async fn set_webhook_key(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneAccountId,
    key: Option<(&str, &Sealed)>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update phone_accounts set webhook_key_id = $3, webhook_secret_key_id = $4,
               webhook_secret_sealed = $5, updated_at = now()
           where org_id = $1 and id = $2 and kind = 'twilio'"#,
        org as OrgId,
        id as PhoneAccountId,
        key.map(|(k, _)| k),
        key.map(|(_, s)| s.key_id.as_str()),
        key.map(|(_, s)| s.bytes.as_slice())
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The shared key's secret (sealed) when `key_id` is the account's.
pub async fn webhook_secret(
    db: impl PgExecutor<'_>,
    id: PhoneAccountId,
    key_id: &str,
) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select webhook_secret_key_id as "key!", webhook_secret_sealed as "sealed!"
           from phone_accounts
           where id = $1 and webhook_key_id = $2 and webhook_secret_sealed is not null"#,
        id as PhoneAccountId,
        key_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.key, r.sealed)))
}

/// Removes an account and its numbers; whether it existed.
pub async fn delete_account(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneAccountId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "delete from phone_accounts where org_id = $1 and id = $2",
        org as OrgId,
        id as PhoneAccountId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps what a Test found.
pub async fn tested(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneAccountId,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update phone_accounts set last_tested_at = now(), last_test_error = $3
         where org_id = $1 and id = $2",
        org as OrgId,
        id as PhoneAccountId,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The sandbox's number: a US number from the range kept for fiction (555-01xx).
pub const SANDBOX_NUMBER: &str = "+14155550199";

/// The organization's sandbox account with its number, made when there is none; its id.
pub async fn ensure_sandbox(
    conn: &mut PgConnection,
    org: OrgId,
) -> Result<PhoneAccountId, sqlx::Error> {
    sqlx::query!(
        r#"insert into phone_accounts (org_id, id, kind, name) values ($1, $2, 'sandbox', 'Sandbox')
           on conflict (org_id) where kind = 'sandbox' do nothing"#,
        org as OrgId,
        PhoneAccountId::new() as PhoneAccountId
    )
    .execute(&mut *conn)
    .await?;
    let id = sqlx::query_scalar!(
        r#"select id as "id: PhoneAccountId" from phone_accounts where org_id = $1 and kind = 'sandbox'"#,
        org as OrgId
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        r#"insert into phone_numbers (org_id, id, account_id, number, sms, whatsapp, kind, per_second)
           values ($1, $2, $3, $4, true, true, 'long_code', 1)
           on conflict (org_id, number) do nothing"#,
        org as OrgId,
        PhoneNumberId::new() as PhoneNumberId,
        id as PhoneAccountId,
        SANDBOX_NUMBER
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// The organization's numbers, by account, oldest first.
pub async fn numbers(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<PhoneNumber>, sqlx::Error> {
    sqlx::query_as!(
        PhoneNumber,
        r#"select id as "id: PhoneNumberId", account_id as "account_id: PhoneAccountId", number,
                  sms, whatsapp, kind as "kind: NumberKind", per_second, messaging_service_sid
           from phone_numbers where org_id = $1 order by created_at, id"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

/// One number of the organization.
pub async fn number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneNumberId,
) -> Result<Option<PhoneNumber>, sqlx::Error> {
    sqlx::query_as!(
        PhoneNumber,
        r#"select id as "id: PhoneNumberId", account_id as "account_id: PhoneAccountId", number,
                  sms, whatsapp, kind as "kind: NumberKind", per_second, messaging_service_sid
           from phone_numbers where org_id = $1 and id = $2"#,
        org as OrgId,
        id as PhoneNumberId
    )
    .fetch_optional(db)
    .await
}

/// Adds a number to an account.
pub async fn insert_number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    account: PhoneAccountId,
    f: &NumberFields,
) -> Result<PhoneNumber, sqlx::Error> {
    sqlx::query_as!(
        PhoneNumber,
        r#"insert into phone_numbers (org_id, id, account_id, number, sms, whatsapp, kind,
                                      per_second, messaging_service_sid)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           returning id as "id: PhoneNumberId", account_id as "account_id: PhoneAccountId", number,
                     sms, whatsapp, kind as "kind: NumberKind", per_second, messaging_service_sid"#,
        org as OrgId,
        PhoneNumberId::new() as PhoneNumberId,
        account as PhoneAccountId,
        f.number,
        f.sms,
        f.whatsapp,
        f.kind as NumberKind,
        f.per_second,
        f.messaging_service_sid
    )
    .fetch_one(db)
    .await
}

/// Changes a number (of a Twilio account: the sandbox's is fixed).
pub async fn update_number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneNumberId,
    f: &NumberFields,
) -> Result<Option<PhoneNumber>, sqlx::Error> {
    sqlx::query_as!(
        PhoneNumber,
        r#"update phone_numbers n set number = $3, sms = $4, whatsapp = $5, kind = $6,
               per_second = $7, messaging_service_sid = $8, updated_at = now()
           from phone_accounts a
           where n.org_id = $1 and n.id = $2 and a.org_id = n.org_id and a.id = n.account_id
             and a.kind = 'twilio'
           returning n.id as "id: PhoneNumberId", n.account_id as "account_id: PhoneAccountId",
                     n.number, n.sms, n.whatsapp, n.kind as "kind: NumberKind", n.per_second,
                     n.messaging_service_sid"#,
        org as OrgId,
        id as PhoneNumberId,
        f.number,
        f.sms,
        f.whatsapp,
        f.kind as NumberKind,
        f.per_second,
        f.messaging_service_sid
    )
    .fetch_optional(db)
    .await
}

/// Removes a number; whether it existed.
/// Hands back to the scheduler the texts waiting on a number about to go (`number`), or on any
/// number of an account about to go (`account`): unqueued (approved again) and their leads due
/// at `now`, so they are queued on another number rather than left waiting on none.
pub async fn release_texts(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: Option<PhoneNumberId>,
    account: Option<PhoneAccountId>,
    now: time::OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"with back as (
               update campaign_messages m set status = 'approved', phone_number_id = null, updated_at = now()
               where m.org_id = $1 and m.status = 'queued' and m.locked_until is null
                 and m.phone_number_id in (select p.id from phone_numbers p
                                           where p.org_id = $1 and (p.id = $2 or p.account_id = $3))
               returning m.org_id, m.campaign_id, m.contact_id
           )
           update campaign_targets t set next_run_at = $4, updated_at = now()
           from back b
           where t.org_id = b.org_id and t.campaign_id = b.campaign_id and t.contact_id = b.contact_id
             and t.status = 'active'"#,
        org as OrgId,
        number.map(|n| n.0),
        account.map(|a| a.0),
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn delete_number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneNumberId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "delete from phone_numbers where org_id = $1 and id = $2",
        org as OrgId,
        id as PhoneNumberId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The account a webhook names, with its organization. Not scoped by an organization: Twilio
/// calls with the account's id in the path, and the request is then checked with that account's
/// Auth Token before anything is read or written.
pub async fn account_for_webhook(
    db: impl PgExecutor<'_>,
    id: PhoneAccountId,
) -> Result<Option<(OrgId, AccountRow)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select org_id as "org_id: OrgId", id as "id: PhoneAccountId", kind as "kind: PhoneAccountKind",
                  name, account_sid, auth_token_key_id, auth_token_sealed, api_key_sid,
                  api_key_secret_key_id, api_key_secret_sealed, webhook_key_id, last_tested_at,
                  last_test_error
           from phone_accounts where id = $1 and kind = 'twilio'"#,
        id as PhoneAccountId
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        (
            r.org_id,
            AccountRow {
                id: r.id,
                kind: r.kind,
                name: r.name,
                account_sid: r.account_sid,
                auth_token_key_id: r.auth_token_key_id,
                auth_token_sealed: r.auth_token_sealed,
                api_key_sid: r.api_key_sid,
                api_key_secret_key_id: r.api_key_secret_key_id,
                api_key_secret_sealed: r.api_key_secret_sealed,
                webhook_key_id: r.webhook_key_id,
                last_tested_at: r.last_tested_at,
                last_test_error: r.last_test_error,
            },
        )
    }))
}

/// The contact with this number (E.164), as their phone or their WhatsApp number.
pub async fn contact_by_number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: &str,
) -> Result<Option<ContactId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select id as "id: ContactId" from contacts
           where org_id = $1 and (phone = $2 or whatsapp = $2)
           order by (phone = $2) desc, created_at limit 1"#,
        org as OrgId,
        number
    )
    .fetch_optional(db)
    .await
}

/// The contact with this number, made now (source `inbound`) when there is none: someone who
/// texted a number of the organization and is not a contact yet.
pub async fn inbound_contact(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: &str,
    name: Option<&str>,
    whatsapp: bool,
) -> Result<ContactId, sqlx::Error> {
    let mut words = name.unwrap_or_default().split_whitespace();
    let first = words.next().map(str::to_owned);
    let last = Some(words.collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty());
    sqlx::query_scalar!(
        r#"insert into contacts (org_id, id, phone, whatsapp, first_name, last_name, source)
           values ($1, $2, $3, case when $4 then $3 end, $5, $6, 'inbound')
           on conflict (org_id, phone) do update set phone = contacts.phone
           returning id as "id: ContactId""#,
        org as OrgId,
        ContactId::new() as ContactId,
        number,
        whatsapp,
        first,
        last
    )
    .fetch_one(db)
    .await
}

/// Records the contact's consent to texts (SMS and WhatsApp) as `status` (`revoked` or
/// `granted`), with the message that said so as evidence and how it came (`source`).
pub async fn text_consent(
    db: impl PgExecutor<'_>,
    org: OrgId,
    contact: ContactId,
    status: &str,
    source: &str,
    evidence: &str,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update contacts set updated_at = now(),
               consent = consent || jsonb_build_object(
                   'sms', jsonb_build_object('status', $3::text, 'source', $6::text, 'at', $5::timestamptz, 'evidence', $4::text),
                   'whatsapp', jsonb_build_object('status', $3::text, 'source', $6::text, 'at', $5::timestamptz, 'evidence', $4::text))
           where org_id = $1 and id = $2"#,
        org as OrgId,
        contact as ContactId,
        status,
        evidence,
        at,
        source
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Lifts the suppression a STOP put on a number (the contact replied START).
pub async fn unsuppress_number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"delete from suppressions
           where org_id = $1 and kind = 'phone' and value = $2 and reason = 'stop_keyword'"#,
        org as OrgId,
        number
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The phone number of one of the organization's contacts (the `nth` oldest with one).
pub async fn nth_contact_number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    nth: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select phone as "phone!" from contacts where org_id = $1 and phone is not null
           order by created_at, id offset $2 limit 1"#,
        org as OrgId,
        nth
    )
    .fetch_optional(db)
    .await
}

/// Whether a STOP suppresses this number.
pub async fn stopped(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from suppressions
                         where org_id = $1 and kind = 'phone' and value = $2
                           and reason = 'stop_keyword') as "x!""#,
        org as OrgId,
        number
    )
    .fetch_one(db)
    .await
}

/// An arrived text's channel and sender's number, for the classifier's opt-outs in words.
pub async fn text_sender(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: aura_types::InboundId,
) -> Result<Option<String>, sqlx::Error> {
    let from = sqlx::query_scalar!(
        r#"select from_address from inbound_messages
           where org_id = $1 and id = $2 and channel in ('sms', 'whatsapp')"#,
        org as OrgId,
        id as aura_types::InboundId
    )
    .fetch_optional(db)
    .await?
    .flatten();
    Ok(from.map(|f| f.strip_prefix("whatsapp:").unwrap_or(&f).to_owned()))
}
