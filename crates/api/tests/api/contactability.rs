//! One "may we contact": random contacts, suppressions and consents go through the three paths
//! that ask it — enrollment's skips, the sender's re-check at claim time and the check endpoint —
//! and through a reference written here from the rule's words; all four must agree.

use crate::helpers::*;
use aura_api::db;
use aura_api::domain::contactability::Block;
use aura_types::{BlockReason, CampaignId, Channel, ContactId, MailboxId, MessageId, SkipReason};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::json;
use sqlx::PgPool;

const STATUSES: [&str; 5] = [
    "active",
    "unsubscribed",
    "bounced",
    "complained",
    "do_not_contact",
];
const CONSENTS: [Option<&str>; 5] = [
    None,
    Some("unknown"),
    Some("granted"),
    Some("denied"),
    Some("revoked"),
];
const DOMAINS: [&str; 2] = ["x.test", "y.test"];
const PHONES: [&str; 4] = [
    "+14155550101",
    "+14155550102",
    "+14155550103",
    "+14155550104",
];

#[derive(Clone, Debug)]
struct Lead {
    /// An index into a small set of addresses, so that leads share them (emails and phones are
    /// unique per organization; WhatsApp numbers are not).
    email: Option<(usize, usize)>,
    phone: Option<usize>,
    whatsapp: Option<usize>,
    status: usize,
    email_consent: usize,
    sms_consent: usize,
    whatsapp_consent: usize,
}

#[derive(Clone, Debug)]
struct Case {
    leads: Vec<Lead>,
    suppressed_emails: Vec<(usize, usize)>,
    suppressed_domains: Vec<usize>,
    suppressed_phones: Vec<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    let lead = (
        proptest::option::of((0..3usize, 0..2usize)),
        proptest::option::of(0..4usize),
        proptest::option::of(0..4usize),
        0..5usize,
        0..5usize,
        0..5usize,
        0..5usize,
    )
        .prop_map(|(email, phone, whatsapp, status, e, s, w)| Lead {
            email,
            phone,
            whatsapp,
            status,
            email_consent: e,
            sms_consent: s,
            whatsapp_consent: w,
        });
    (
        proptest::collection::vec(lead, 1..8),
        proptest::collection::vec((0..3usize, 0..2usize), 0..3),
        proptest::collection::vec(0..2usize, 0..2),
        proptest::collection::vec(0..4usize, 0..3),
    )
        .prop_map(|(mut leads, se, sd, sp)| {
            // Emails and phones are unique per organization: keep the first holder only.
            let mut seen_e = std::collections::HashSet::new();
            let mut seen_p = std::collections::HashSet::new();
            for l in &mut leads {
                if l.email.is_some_and(|e| !seen_e.insert(e)) {
                    l.email = None;
                }
                if l.phone.is_some_and(|p| !seen_p.insert(p)) {
                    l.phone = None;
                }
            }
            // Every contact has an email or a phone number (the schema says so).
            leads.retain(|l| l.email.is_some() || l.phone.is_some());
            Case {
                leads,
                suppressed_emails: se,
                suppressed_domains: sd,
                suppressed_phones: sp,
            }
        })
}

fn email(e: (usize, usize)) -> String {
    format!("lead{}@{}", e.0, DOMAINS[e.1])
}

fn address(l: &Lead, channel: Channel) -> Option<String> {
    match channel {
        Channel::Email => l.email.map(email),
        Channel::Sms => l.phone.map(|p| PHONES[p].to_owned()),
        Channel::Whatsapp => l.whatsapp.map(|p| PHONES[p].to_owned()),
    }
}

fn consent(l: &Lead, channel: Channel) -> Option<&'static str> {
    CONSENTS[match channel {
        Channel::Email => l.email_consent,
        Channel::Sms => l.sms_consent,
        Channel::Whatsapp => l.whatsapp_consent,
    }]
}

/// The rule, from its words: the address (or the email's domain) suppressed; any contact with
/// the address not active; any such contact denying or revoking consent on the channel; for SMS
/// and WhatsApp, none of them granting it.
fn reference(c: &Case, channel: Channel, addr: &str) -> Option<BlockReason> {
    let suppressed = match channel {
        Channel::Email => c.suppressed_emails.iter().any(|e| email(*e) == addr),
        _ => c.suppressed_phones.iter().any(|p| PHONES[*p] == addr),
    };
    if suppressed {
        return Some(BlockReason::Suppressed);
    }
    if channel == Channel::Email
        && c.suppressed_domains
            .iter()
            .any(|d| addr.ends_with(&format!("@{}", DOMAINS[*d])))
    {
        return Some(BlockReason::SuppressedDomain);
    }
    let holders: Vec<&Lead> = c
        .leads
        .iter()
        .filter(|l| address(l, channel).as_deref() == Some(addr))
        .collect();
    if holders.iter().any(|l| STATUSES[l.status] != "active") {
        return Some(BlockReason::ContactStatus);
    }
    if holders
        .iter()
        .any(|l| matches!(consent(l, channel), Some("denied" | "revoked")))
    {
        return Some(BlockReason::ConsentRefused);
    }
    if channel != Channel::Email
        && !holders
            .iter()
            .any(|l| consent(l, channel) == Some("granted"))
    {
        return Some(BlockReason::NoConsent);
    }
    None
}

#[sqlx::test(migrations = "../../migrations")]
async fn enrollment_the_senders_recheck_and_the_check_agree(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let owner = app.signup("owner@acme.test", "Acme").await;
    let org = owner.org_id();
    let campaign: serde_json::Value = owner
        .post("/api/v1/campaigns", json!({"name": "Agreement"}))
        .await
        .json()
        .await
        .unwrap();
    let campaign = CampaignId(
        campaign["campaign"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut blocked_seen = std::collections::BTreeSet::new();
    for round in 0..60 {
        let c = strategy.new_tree(&mut runner).unwrap().current();
        for table in ["campaign_targets", "contacts", "suppressions"] {
            sqlx::query(&format!("delete from {table}"))
                .execute(&pool)
                .await
                .unwrap();
        }
        let mut ids = Vec::new();
        for l in &c.leads {
            let id = ContactId::new();
            let mut consent = serde_json::Map::new();
            for ch in Channel::ALL {
                if let Some(s) = self::consent(l, *ch) {
                    consent.insert(ch.as_str().into(), json!({"status": s}));
                }
            }
            sqlx::query(
                "insert into contacts (org_id, id, email, phone, whatsapp, status, consent)
                 values ($1, $2, $3, $4, $5, $6::contact_status, $7)",
            )
            .bind(org.0)
            .bind(id.0)
            .bind(address(l, Channel::Email))
            .bind(address(l, Channel::Sms))
            .bind(address(l, Channel::Whatsapp))
            .bind(STATUSES[l.status])
            .bind(serde_json::Value::Object(consent))
            .execute(&pool)
            .await
            .unwrap();
            ids.push(id);
        }
        let suppressions = c
            .suppressed_emails
            .iter()
            .map(|e| ("email", email(*e)))
            .chain(
                c.suppressed_domains
                    .iter()
                    .map(|d| ("domain", DOMAINS[*d].to_owned())),
            )
            .chain(
                c.suppressed_phones
                    .iter()
                    .map(|p| ("phone", PHONES[*p].to_owned())),
            );
        for (kind, value) in suppressions {
            sqlx::query(
                "insert into suppressions (org_id, id, kind, value, reason)
                 values ($1, gen_random_uuid(), $2::suppression_kind, $3, 'manual') on conflict do nothing",
            )
            .bind(org.0)
            .bind(kind)
            .bind(value)
            .execute(&pool)
            .await
            .unwrap();
        }
        for channel in Channel::ALL {
            let mut conn = pool.acquire().await.unwrap();
            let skips = db::targets::classify(&mut conn, org, campaign, *channel, &ids, false)
                .await
                .unwrap();
            for (lead, id) in c.leads.iter().zip(&ids) {
                let skip = skips.iter().find(|(i, _)| i == id).unwrap().1;
                let Some(addr) = address(lead, *channel) else {
                    assert_eq!(skip, Some(SkipReason::NoAddress));
                    continue;
                };
                let expected = reference(&c, *channel, &addr);
                let checked = db::suppressions::may_contact(&pool, org, *channel, &addr)
                    .await
                    .unwrap();
                assert_eq!(
                    checked.as_ref().map(|b| b.reason),
                    expected,
                    "round {round}, {channel:?} {addr}: the check disagrees with the rule\n{c:?}"
                );
                let expected_skip = expected.map(|r| {
                    Block {
                        reason: r,
                        detail: None,
                    }
                    .skip_reason()
                });
                assert_eq!(
                    skip, expected_skip,
                    "round {round}, {channel:?} {addr}: enrollment disagrees with the rule\n{c:?}"
                );
                if let Some(r) = expected {
                    blocked_seen.insert(r);
                }
            }
        }
        // The sender's re-check (email), for each lead with an address, as if its message had
        // just been claimed.
        sqlx::query("insert into campaign_targets (org_id, campaign_id, contact_id) select $1, $2, unnest($3::uuid[])")
            .bind(org.0)
            .bind(campaign.0)
            .bind(ids.iter().map(|i| i.0).collect::<Vec<_>>())
            .execute(&pool)
            .await
            .unwrap();
        let claimed: Vec<db::send::Claimed> = ids
            .iter()
            .map(|id| db::send::Claimed {
                org_id: org,
                id: MessageId::new(),
                contact_id: *id,
                campaign_id: campaign,
                mailbox_id: MailboxId::new(),
                subject: String::new(),
                body_text: String::new(),
                message_id: String::new(),
                in_reply_to: None,
                refs: Vec::new(),
                attempts: 0,
            })
            .collect();
        let refs: Vec<&db::send::Claimed> = claimed.iter().collect();
        let mut tx = pool.begin().await.unwrap();
        let contexts = db::send::context(&mut tx, &refs).await.unwrap();
        tx.commit().await.unwrap();
        for (lead, m) in c.leads.iter().zip(&claimed) {
            let x = contexts.iter().find(|x| x.id == m.id).unwrap();
            // What the sender decides from the context (workers::send): the one rule.
            let stop = aura_api::domain::contactability::email_stop(
                x.no_email,
                aura_api::domain::contactability::Block::from_row(
                    x.block_code.as_deref(),
                    x.block_detail.clone(),
                ),
                x.left,
            );
            let expected = match address(lead, Channel::Email) {
                None => true,
                Some(addr) => reference(&c, Channel::Email, &addr).is_some(),
            };
            assert_eq!(
                stop.is_some(),
                expected,
                "round {round}: the sender's re-check disagrees for {lead:?}: {:?}\n{c:?}",
                stop
            );
        }
    }
    // The cases reached every reason.
    assert_eq!(
        blocked_seen.len(),
        BlockReason::ALL.len(),
        "{blocked_seen:?}"
    );
}
