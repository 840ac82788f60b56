//! `aura seed-demo`: a demo organization with a known login, so a fresh install has something to
//! look at. Idempotent: a second run only prints the login again. Later capabilities add their
//! sample data here.

use crate::{auth::password, db};
use aura_types::{EmailAddress, Role, UpdateOrganizationRequest};
use sqlx::PgPool;

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "aura-demo-2026";
pub const DEMO_ORG: &str = "Aura Demo Realty";
/// The demo's second brand.
pub const DEMO_SECOND_ORG: &str = "Aura Demo Services";

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
        country: Some("US".into()),
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("demo organization settings: {:?}", e.0))?;
    db::orgs::update(&mut *tx, realty, &changes).await?;
    db::members::insert(&mut tx, realty, owner, Role::Owner).await?;
    db::members::insert(&mut tx, realty, agent, Role::Member).await?;

    // Agencies run several brands: a second organization shows the organization switcher. A log-in
    // lands in the first organization by name, so this one sorts after the one with the campaign.
    let services = db::orgs::insert(&mut tx, DEMO_SECOND_ORG, "America/Chicago").await?;
    db::members::insert(&mut tx, services, owner, Role::Owner).await?;
    demo_contacts(&mut tx, realty, 160, false, Some(agent)).await?;
    demo_contacts(&mut tx, services, 40, true, None).await?;
    demo_segments(&mut tx, realty).await?;
    demo_knowledge(&mut tx, realty).await?;
    demo_campaign(&mut tx, realty, owner).await?;
    demo_conversations(&mut tx, realty, owner, agent).await?;
    tx.commit().await?;
    Ok(login(true))
}

const FIRST: &[&str] = &[
    "Olivia", "Liam", "Priya", "Mohammed", "Sofia", "Noah", "Aisha", "Lucas", "Mei", "Ethan",
    "Fatima", "James", "Chloé", "Arjun", "Emma", "Omar", "Hannah", "Diego", "Yuki", "Grace",
];
const LAST: &[&str] = &[
    "Johnson", "Patel", "Al Farsi", "García", "Müller", "Smith", "Nguyen", "Khan", "Rossi",
    "Brown", "Sharma", "O'Connor", "Wilson", "Haddad", "Dubois", "Taylor",
];
/// (city, state, country, phone prefix, digits after the prefix)
const PLACES: &[(&str, &str, &str, &str, u64)] = &[
    ("Portland", "ME", "US", "+1 207 4", 1_000_000),
    ("Austin", "TX", "US", "+1 512 4", 1_000_000),
    ("London", "", "GB", "+44 7700 9", 100_000),
    ("Mumbai", "MH", "IN", "+91 98", 100_000_000),
    ("Dubai", "", "AE", "+971 50 4", 1_000_000),
    ("Toronto", "ON", "CA", "+1 416 4", 1_000_000),
    ("Sydney", "NSW", "AU", "+61 412 4", 100_000),
    ("Istanbul", "", "TR", "+90 532 4", 1_000_000),
];
const REALTY_TAGS: &[&[&str]] = &[
    &["buyer"],
    &["buyer", "open house"],
    &["seller"],
    &["seller", "listing"],
    &["investor"],
    &["buyer", "first-time buyer"],
    &["renter"],
];
const SERVICE_TAGS: &[&[&str]] = &[
    &["roof check"],
    &["hvac"],
    &["plumbing"],
    &["roof check", "monsoon"],
    &["maintenance plan"],
];

/// A living inbox: a few leads wrote to the sandbox mailbox (an interested reply, a question, an
/// out-of-office), taken in as mail fetched from a real mailbox would be. Dana answered the first
/// (threaded, through the mailbox) and handed the question to Sam.
async fn demo_conversations(
    conn: &mut sqlx::PgConnection,
    org: aura_types::OrgId,
    owner: aura_types::UserId,
    agent: aura_types::UserId,
) -> anyhow::Result<()> {
    use crate::inbox::simulate::{letter, Letter};
    let now = time::OffsetDateTime::now_utc();
    let mailbox = db::mailboxes::list(&mut *conn, org, None, now)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the demo has a mailbox"))?;
    let ours = mailbox.from_email.to_ascii_lowercase();
    let leads = db::contacts::with_email(&mut *conn, org, 3).await?;
    let letters = [
        ("Re: The open house on Harbor Street", "", "Hi,\r\n\r\nWe loved the house on Saturday. Is it still available? We could come for a private viewing this week, any evening after 6.\r\n\r\nThanks", 26),
        ("Question about the listing", "", "Hello, does the price include the parking space, and how much are the monthly fees?", 5),
        ("Automatic reply: Your home's value", "Auto-Submitted: auto-replied\r\n", "Thank you for your message. I am away on holiday with limited access to email. I will reply when I am back in the office.", 2),
    ];
    for ((email, first), (subject, extra, body, hours)) in leads.iter().zip(letters) {
        let from = if first.is_empty() {
            email.clone()
        } else {
            format!("{first} <{email}>")
        };
        let id = format!("<demo.{hours}.{}@example.com>", now.unix_timestamp());
        let raw = letter(&Letter {
            from: &from,
            to: &ours,
            subject,
            id: &id,
            date: now - time::Duration::hours(hours),
            extra,
            body,
        });
        let taken =
            crate::inbox::ingest(&mut *conn, org, Some(mailbox.id), &[&ours], &raw, now).await?;
        let crate::inbox::Ingested::Stored {
            conversation: Some(conversation),
            ..
        } = taken
        else {
            continue;
        };
        // The classifier labels them once Aura runs.
        db::inbox::ask_model(&mut *conn, org, conversation).await?;
        match hours {
            26 => {
                let thread = db::replies::thread(&mut *conn, org, conversation)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("the demo conversation exists"))?;
                let text = "Hi,\n\nWonderful to hear! It is still available. Would Thursday at 6:30 pm suit you for a private viewing? I'll meet you at the front door.";
                let id = aura_types::ReplyId::new();
                let answered_at = now - time::Duration::hours(20);
                db::replies::insert(
                    &mut *conn,
                    org,
                    &db::replies::NewReply {
                        id,
                        conversation,
                        mailbox: mailbox.id,
                        author: Some(owner),
                        to: email,
                        subject: &crate::domain::inbound::subject::reply_subject(subject),
                        text,
                        message_id: &crate::delivery::email::new_message_id(&ours),
                        in_reply_to: thread.parent.as_deref(),
                        refs: &thread.refs,
                    },
                    &crate::inbox::snippet(text),
                    answered_at,
                )
                .await?;
                // Demo history: answered yesterday (the sandbox kept nothing then).
                db::replies::seed_sent(&mut *conn, org, id, answered_at).await?;
            }
            5 => {
                let to_sam = db::inbox::Change {
                    assignee: Some(Some(agent)),
                    by: Some(owner),
                    ..Default::default()
                };
                db::inbox::change(&mut *conn, org, conversation, &to_sam, now).await?;
            }
            _ => {}
        }
    }
    // Texts: the sandbox number, and a lead who answered by SMS.
    db::phone::ensure_sandbox(&mut *conn, org).await?;
    if let Some(number) = db::phone::nth_contact_number(&mut *conn, org, 7).await? {
        let texted = crate::inbox::phone::Texted {
            sid: "SMdemo0000000000000000000000000001".into(),
            channel: aura_types::Channel::Sms,
            from: Some(number.clone()),
            from_raw: number,
            body: "Hi! Saw your sign on Maple Avenue. Is the 3-bed still available? Could I see it Saturday morning?".into(),
            profile_name: None,
            opt_out_type: None,
            media: Vec::new(),
        };
        let raw = demo_webhook(&texted);
        crate::inbox::phone::take_in(
            &mut *conn,
            org,
            "Aura Realty",
            &texted,
            raw.as_bytes(),
            now - time::Duration::hours(3),
            "text",
        )
        .await?;
    }
    // WhatsApp: one lead wrote two hours ago (their 24-hour window is open: free text), another
    // yesterday morning (closed: only an approved template can answer).
    let whatsapp = [
        (
            8,
            2,
            "Hi, is the apartment on Ocean Drive pet-friendly? We have a small dog.",
        ),
        (
            9,
            30,
            "Thanks for the brochure! Could we talk about financing options next week?",
        ),
    ];
    for (nth, hours, body) in whatsapp {
        let Some(number) = db::phone::nth_contact_number(&mut *conn, org, nth).await? else {
            continue;
        };
        let texted = crate::inbox::phone::Texted {
            sid: format!("SMdemo00000000000000000000000000{nth:02}"),
            channel: aura_types::Channel::Whatsapp,
            from: Some(number.clone()),
            from_raw: format!("whatsapp:{number}"),
            body: body.into(),
            profile_name: None,
            opt_out_type: None,
            media: Vec::new(),
        };
        let raw = demo_webhook(&texted);
        crate::inbox::phone::take_in(
            &mut *conn,
            org,
            "Aura Realty",
            &texted,
            raw.as_bytes(),
            now - time::Duration::hours(hours),
            "text",
        )
        .await?;
    }
    Ok(())
}

/// A demo text as Twilio would have posted it to the sandbox number.
fn demo_webhook(t: &crate::inbox::phone::Texted) -> String {
    let to = match t.channel {
        aura_types::Channel::Whatsapp => format!("whatsapp:{}", db::phone::SANDBOX_NUMBER),
        _ => db::phone::SANDBOX_NUMBER.to_owned(),
    };
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("MessageSid", &t.sid)
        .append_pair("From", &t.from_raw)
        .append_pair("To", &to)
        .append_pair("Body", &t.body)
        .finish()
}

/// Realistic demo contacts, generated deterministically through the same parser as the API.
async fn demo_contacts(
    conn: &mut sqlx::PgConnection,
    org: aura_types::OrgId,
    n: u64,
    services: bool,
    owner: Option<aura_types::UserId>,
) -> anyhow::Result<()> {
    use crate::domain::contact::{Apply, ContactChanges, ContactRecord};
    use aura_types::{ChannelConsent, ConsentInput, ConsentStatus, ContactInput, ContactType};
    let now = time::OffsetDateTime::now_utc();
    let mut records = Vec::new();
    let mut seed: u64 = if services { 7 } else { 42 };
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    for i in 0..n {
        let first = FIRST[(next() % FIRST.len() as u64) as usize];
        let last = LAST[(next() % LAST.len() as u64) as usize];
        let (city, state, country, prefix, span) = PLACES[(next() % PLACES.len() as u64) as usize];
        let width = span.to_string().len() - 1;
        let phone = format!("{prefix}{:0width$}", next() % span);
        let tags = if services { SERVICE_TAGS } else { REALTY_TAGS }[(next() % 5) as usize];
        let slug: String = format!("{first}.{last}")
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let granted = next() % 3 != 0;
        let consent = ChannelConsent {
            status: if granted {
                ConsentStatus::Granted
            } else {
                ConsentStatus::Unknown
            },
            source: granted.then(|| "website form".to_owned()),
            at: None,
            evidence: None,
        };
        let input = ContactInput {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: Some(format!("{slug}{i}@example.com")),
            phone: Some(phone),
            city: Some(city.into()),
            state: Some(state.into()),
            country: Some(country.into()),
            company: (next() % 4 == 0).then(|| format!("{last} Holdings")),
            tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
            source: Some(
                ["website", "open house", "referral", "facebook ad", "zillow"]
                    [(next() % 5) as usize]
                    .into(),
            ),
            contact_type: Some(if services {
                ContactType::Customer
            } else if next() % 6 == 0 {
                ContactType::PastCustomer
            } else {
                ContactType::Lead
            }),
            // The same sign-up form asked for texts (SMS and WhatsApp) too.
            consent: Some(ConsentInput {
                email: Some(consent.clone()),
                sms: Some(consent.clone()),
                whatsapp: Some(consent),
            }),
            ai_intent_score: Some(Some((next() % 101) as i16)),
            owner_id: Some(owner.filter(|_| next() % 2 == 0)),
            ..Default::default()
        };
        let changes = match ContactChanges::parse(input.clone(), Some("US"), now) {
            Ok(c) => c,
            // A generated number the numbering plan rejects: keep the contact without it.
            Err(_) => ContactChanges::parse(
                ContactInput {
                    phone: None,
                    ..input
                },
                Some("US"),
                now,
            )
            .map_err(|e| anyhow::anyhow!("demo contact: {:?}", e.0))?,
        };
        let mut record = ContactRecord::new(aura_types::ContactId::new());
        record.apply(&changes, Apply::Set);
        records.push(record);
    }
    // Generated phone numbers may repeat: keep the first of each.
    let mut seen = std::collections::HashSet::new();
    for r in &mut records {
        if let Some(p) = &r.phone {
            if !seen.insert(p.clone()) {
                r.phone = None;
                r.whatsapp = None;
            }
        }
    }
    db::contacts::upsert(conn, org, &records).await?;
    Ok(())
}

async fn demo_segments(
    conn: &mut sqlx::PgConnection,
    org: aura_types::OrgId,
) -> anyhow::Result<()> {
    use aura_types::{Rule, ScoreOp, SegmentKind, TagOp};
    let hot = Rule::All {
        rules: vec![
            Rule::Tag {
                op: TagOp::Has,
                tag: "buyer".into(),
            },
            Rule::Score {
                op: ScoreOp::AtLeast,
                value: 70,
            },
        ],
    };
    db::segments::insert(
        &mut *conn,
        org,
        "Hot buyers",
        Some("Buyers with an intent score of 70 or more"),
        SegmentKind::Dynamic,
        Some(&hot),
    )
    .await?;
    let open_house = db::segments::insert(
        &mut *conn,
        org,
        "Open house follow-up",
        Some("Everyone who came to an open house"),
        SegmentKind::Static,
        None,
    )
    .await?;
    let sel = db::contacts::Selection::Rule(Rule::Tag {
        op: TagOp::Has,
        tag: "open house".into(),
    });
    db::segments::add_members(conn, org, open_house, &sel, time::OffsetDateTime::now_utc()).await?;
    Ok(())
}

/// A sandbox mailbox (nothing leaves the machine; messages land in the Outbox) and a campaign to
/// the open-house visitors — an email, a text through the sandbox number right after, a
/// follow-up email as a reply two days later — that sends at any hour, ready to prepare, approve
/// and launch. Only visitors with a phone number are enrolled (every step can reach them).
async fn demo_campaign(
    conn: &mut sqlx::PgConnection,
    org: aura_types::OrgId,
    owner: aura_types::UserId,
) -> anyhow::Result<()> {
    use aura_types::{
        CampaignId, CampaignInput, Channel, MailboxId, MailboxInput, MailboxKind, SendWindow,
        SendingLimits, StepInput, TagOp,
    };
    let fail = |what: &str, e: aura_types::FieldErrors| anyhow::anyhow!("demo {what}: {:?}", e.0);
    let mailbox = MailboxId::new();
    let fields = crate::domain::mailbox::mailbox_fields(
        None,
        &MailboxInput {
            kind: Some(MailboxKind::Sandbox),
            from_name: Some("Dana at Aura Realty".into()),
            from_email: Some("dana@aurarealty.example".into()),
            signature: Some("Dana Demo\nAura Realty".into()),
            limits: Some(SendingLimits {
                daily_limit: 500,
                ramp_start: 0,
                ramp_step: 0,
                min_interval_secs: 1,
                jitter_secs: 0,
            }),
            ..Default::default()
        },
        false,
    )
    .map_err(|e| fail("mailbox", e))?;
    let today = time::OffsetDateTime::now_utc().date();
    db::mailboxes::insert(&mut *conn, org, mailbox, &fields, &None, &None, today).await?;

    let campaign = CampaignId::new();
    let input = CampaignInput {
        name: Some("Open house follow-up".into()),
        description: Some("Thank the open-house visitors and offer a private viewing. Sends through the sandbox mailbox: nothing leaves this machine.".into()),
        icp: Some("People who came to one of our open houses".into()),
        offer: Some("A private viewing at a time that suits them".into()),
        goal: Some("Book a viewing".into()),
        timezone: Some("America/New_York".into()),
        // Any hour, so the demo can run whenever it is tried.
        window: Some(SendWindow {
            days: vec![1, 2, 3, 4, 5, 6, 7],
            start: "00:00".into(),
            end: "23:59".into(),
        }),
        daily_new_leads: Some(100),
        track_opens: Some(true),
        track_clicks: Some(true),
        ..Default::default()
    };
    let f = crate::domain::campaign::campaign_fields(None, &input, "America/New_York")
        .map_err(|e| fail("campaign", e))?;
    db::campaigns::insert(&mut *conn, org, campaign, &f, Some(owner)).await?;
    let steps = [
        StepInput {
            channel: Some(Channel::Email),
            subject: Some("Thanks for coming by, {{first_name | \"there\"}}".into()),
            body: Some("Hi {{first_name | \"there\"}},\n\nThank you for visiting our open house. If you would like a private viewing, or to see similar homes, just reply with a time that suits you.\n\nListings: https://aurarealty.example/listings".into()),
            ..Default::default()
        },
        StepInput {
            channel: Some(Channel::Sms),
            // Right after the email, so the demo shows a text at once (the sandbox number keeps
            // it in the phone outbox).
            delay_minutes: Some(0),
            body: Some("Hi {{first_name | \"there\"}}, it's Dana from Aura Realty. I just emailed you the listings from the open house. Happy to text if that's easier!".into()),
            ..Default::default()
        },
        StepInput {
            channel: Some(Channel::Email),
            delay_minutes: Some(2 * 24 * 60),
            subject: Some("A private viewing?".into()),
            // Goes out as "Re: Thanks for coming by, …" in the same conversation.
            reply_subject: Some(true),
            body: Some("Hi {{first_name | \"there\"}}, a quick follow-up: shall I hold a viewing slot for you this week?".into()),
            ..Default::default()
        },
    ];
    for (i, input) in steps.iter().enumerate() {
        let position = i32::try_from(i + 1)?;
        let step =
            crate::domain::campaign::step(None, input, position).map_err(|e| fail("step", e))?;
        db::campaigns::save_step(&mut *conn, org, campaign, &step).await?;
    }
    db::mailboxes::set_for_campaign(&mut *conn, org, campaign, &[mailbox]).await?;
    let now = time::OffsetDateTime::now_utc();
    let visitors = db::contacts::ids(
        &mut *conn,
        org,
        &db::contacts::Selection::Rule(aura_types::Rule::Tag {
            op: TagOp::Has,
            tag: "open house".into(),
        }),
        now,
    )
    .await?;
    let allowed: Vec<aura_types::ContactId> =
        db::targets::classify(&mut *conn, org, campaign, Channel::Email, &visitors, false)
            .await?
            .into_iter()
            .filter(|(_, reason)| reason.is_none())
            .map(|(id, _)| id)
            .collect();
    let with_phone = db::contacts::with_phone(&mut *conn, org, &allowed).await?;
    db::targets::insert(&mut *conn, org, campaign, &with_phone, 0, now).await?;
    Ok(())
}

/// Facts the AI may use, so the demo's generated copy can cite them.
async fn demo_knowledge(
    conn: &mut sqlx::PgConnection,
    org: aura_types::OrgId,
) -> anyhow::Result<()> {
    let articles = [
        ("Free valuation guarantee", "offer", "Every seller gets a free written valuation within 48 hours. If we list your home and it does not sell within 90 days, you can leave with no fee.", "Seller guide 2026"),
        ("Spring market report", "market", "Homes in Portland sold in 21 days on average this spring, 6% above asking. Three-bedroom houses near good schools sold fastest.", "Aura Realty market report"),
        ("Open house etiquette", "FAQ", "Open houses run Saturdays from 11 to 2. Visitors sign in at the door; we follow up within a day with the disclosure pack and comparable sales.", "Office handbook"),
    ];
    let now = time::OffsetDateTime::now_utc();
    for (title, topic, content, source) in articles {
        let input = aura_types::ai::ArticleInput {
            title: Some(title.into()),
            topic: Some(topic.into()),
            content: Some(content.into()),
            source: Some(source.into()),
        };
        let article = crate::domain::ai::article(None, &input, now)
            .map_err(|e| anyhow::anyhow!("demo article: {:?}", e.0))?;
        db::ai::save_article(&mut *conn, org, &article).await?;
    }
    Ok(())
}
