//! Prepared messages: the background preparation (rendered exactly as the builder's preview, the
//! variant by weight, problems named), progress, review filters, edit, approve / reject /
//! regenerate one or in bulk, stale messages after a step changes, auto-approve, and messages
//! written per lead by AI (the built-in writer, and a provider that fails).

use crate::helpers::*;
use aura_types::template::{self, message_seed, MergeValues, Sender};
use aura_types::{
    CampaignDetail, Contact, ErrorCode, Message, MessageStatus, Page, Preparation,
    PreparationStatus, ReviewResult, ReviewSummary,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn ok<T: serde::de::DeserializeOwned>(res: reqwest::Response, status: StatusCode) -> T {
    let s = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(s, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

struct Fixture {
    app: TestApp,
    user: TestUser,
    campaign: CampaignDetail,
    ana: Contact,
    ben: Contact,
}

impl Fixture {
    fn url(&self, rest: &str) -> String {
        format!("/api/v1/campaigns/{}{rest}", self.campaign.campaign.id)
    }

    async fn messages(&self, query: &str) -> Page<Message> {
        ok(
            self.user.get(&self.url(&format!("/messages{query}"))).await,
            StatusCode::OK,
        )
        .await
    }

    /// The lead's message at the step with this index (0-based).
    async fn message(&self, lead: &Contact, step: usize) -> Message {
        let mut page = self
            .messages(&format!(
                "?contact_id={}&step_id={}",
                lead.id, self.campaign.steps[step].id
            ))
            .await;
        assert_eq!(page.total, 1, "one message per lead and step");
        page.items.remove(0)
    }

    async fn summary(&self) -> ReviewSummary {
        ok(self.user.get(&self.url("/review")).await, StatusCode::OK).await
    }

    async fn review(&self, body: Value) -> ReviewResult {
        ok(
            self.user.post(&self.url("/messages/review"), body).await,
            StatusCode::OK,
        )
        .await
    }

    async fn prepare(&self) -> Preparation {
        let p: Preparation = ok(
            self.user.post(&self.url("/prepare"), json!({})).await,
            StatusCode::ACCEPTED,
        )
        .await;
        self.app.run_preparations_until_idle().await;
        p
    }
}

/// Two leads (Ana with a company and a phone, Ben with neither), an email step with two
/// variants and an SMS step, both leads enrolled.
async fn fixture(app: TestApp, approval: &str) -> Fixture {
    let user = app.signup("review@example.com", "Acme Realty").await;
    let ana = user
        .create_contact(json!({"email": "ana@example.com", "first_name": "Ana", "company": "Lima Homes", "phone": "+14155550101"}))
        .await;
    let ben = user
        .create_contact(json!({"email": "ben@example.com"}))
        .await;
    let c: CampaignDetail = ok(
        user.post(
            "/api/v1/campaigns",
            json!({"name": "Spring sellers", "approval": approval}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = c.campaign.id;
    let _: CampaignDetail = ok(
        user.post(
            &format!("/api/v1/campaigns/{id}/steps"),
            json!({"channel": "email", "subject": "{Hi|Hello} {{first_name | \"there\"}}",
                   "body": "{Hi|Hello|Hey} {{first_name | \"there\"}},\n\nHow is {{company}} doing? See https://example.com/a?b=1&c=2",
                   "weight": 1,
                   "variants": [{"label": "B", "subject": "Quick question", "body": "B for {{first_name | \"you\"}} at {{company}}", "weight": 1}]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let campaign: CampaignDetail = ok(
        user.post(
            &format!("/api/v1/campaigns/{id}/steps"),
            json!({"channel": "sms", "delay_minutes": 2880, "body": "Hi {{first_name | \"there\"}}, just checking in."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let f = Fixture {
        app,
        user,
        campaign,
        ana,
        ben,
    };
    let err = expect_error(
        f.user.post(&f.url("/prepare"), json!({})).await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert!(err.message.contains("Enroll"), "{}", err.message);
    let _: Value = ok(
        f.user
            .post(&f.url("/targets"), json!({"selection": {"filter": {}}}))
            .await,
        StatusCode::OK,
    )
    .await;
    f
}

fn expected(contact: &Contact, step: &aura_types::Step, org: &str) -> (String, String, String) {
    let values = MergeValues::for_contact(
        contact,
        &Sender {
            name: "Test Person".into(),
            email: "review@example.com".into(),
            org_name: org.into(),
        },
    );
    let v = step.variant_for(&contact.id.to_string());
    let seed = message_seed(&contact.id.to_string(), &step.id.to_string(), v.label);
    let render = |t: &str| template::parse(t).unwrap().render(&values, seed).text;
    (v.label.to_string(), render(v.subject), render(v.body))
}

#[sqlx::test(migrations = "../../migrations")]
async fn preparation_writes_each_leads_messages_as_the_preview_renders_them(pool: PgPool) {
    let f = fixture(spawn_app(pool).await, "manual").await;
    let first: Preparation = ok(
        f.user.post(&f.url("/prepare"), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(first.status, PreparationStatus::Queued);
    let again: Preparation = ok(
        f.user.post(&f.url("/prepare"), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(again.id, first.id, "one open preparation per campaign");
    f.app.run_preparations_until_idle().await;

    let s = f.summary().await;
    let p = s.preparation.clone().unwrap();
    assert_eq!(
        (p.status, p.total, p.done, p.failed, p.percent()),
        (PreparationStatus::Done, 4, 4, 0, 100)
    );
    assert_eq!((s.prepared, s.approved, s.missing, s.stale), (4, 0, 0, 0));
    // Ben has no company (email step) and no phone (SMS step).
    assert_eq!(s.with_problems, 2);

    let all = f.messages("").await;
    assert_eq!(all.total, 4);
    let email_step = &f.campaign.steps[0];
    for (lead, name) in [(&f.ana, "Ana"), (&f.ben, "ben@example.com")] {
        let m = all
            .items
            .iter()
            .find(|m| m.contact_id == lead.id && m.step == 1)
            .unwrap();
        let (variant, subject, text) = expected(lead, email_step, "Acme Realty");
        assert_eq!(m.variant, variant);
        assert_eq!(m.subject.as_deref(), Some(subject.trim()));
        assert_eq!(m.text, text.trim(), "byte for byte what the preview shows");
        assert_eq!(m.full_name, name);
        assert_eq!(m.status, MessageStatus::Prepared);
        assert!(m.provenance.is_none());
    }
    let ana_email = all
        .items
        .iter()
        .find(|m| m.contact_id == f.ana.id && m.step == 1)
        .unwrap();
    assert!(ana_email.problems.is_empty(), "{:?}", ana_email.problems);
    assert_eq!(ana_email.address.as_deref(), Some("ana@example.com"));
    if ana_email.variant == "A" {
        assert!(ana_email.html.as_deref().unwrap().contains(
            "<a href=\"https://example.com/a?b=1&amp;c=2\">https://example.com/a?b=1&amp;c=2</a>"
        ));
    }
    let ben_email = all
        .items
        .iter()
        .find(|m| m.contact_id == f.ben.id && m.step == 1)
        .unwrap();
    assert_eq!(
        ben_email.problems,
        vec!["{{company}} in the message has no value for this lead and no fallback"]
    );
    let ben_sms = all
        .items
        .iter()
        .find(|m| m.contact_id == f.ben.id && m.step == 2)
        .unwrap();
    assert_eq!(
        (ben_sms.subject.as_deref(), ben_sms.html.as_deref()),
        (None, None)
    );
    assert_eq!(ben_sms.text, "Hi there, just checking in.");
    assert_eq!(ben_sms.problems, vec!["No phone number for SMS"]);

    // Filters.
    let sms = f
        .messages(&format!("?step_id={}", f.campaign.steps[1].id))
        .await;
    assert_eq!(sms.total, 2);
    assert!(sms.items.iter().all(|m| m.step == 2));
    let with_problems = f.messages("?problems=true").await;
    assert_eq!(with_problems.total, 2);
    assert_eq!(f.messages("?problems=false&status=prepared").await.total, 2);
    let a = f.messages("?variant=A").await.total;
    let b = f.messages("?variant=B").await.total;
    assert_eq!(a + b, 4);
    let one: Message = ok(
        f.user
            .get(&f.url(&format!("/messages/{}", ana_email.id)))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(&one, ana_email);

    // Preparing again writes nothing new.
    let before = f.messages("").await;
    f.prepare().await;
    assert_eq!(f.messages("").await, before);
}

#[sqlx::test(migrations = "../../migrations")]
async fn review_approves_rejects_edits_and_regenerates(pool: PgPool) {
    let f = fixture(spawn_app(pool).await, "manual").await;
    f.prepare().await;

    // Approve everything: those with problems are skipped.
    let r = f.review(json!({"action": "approve", "filter": {}})).await;
    assert_eq!((r.changed, r.skipped), (2, 2));
    let s = f.summary().await;
    assert_eq!((s.prepared, s.approved), (2, 2));
    let approved = f.messages("?status=approved").await;
    assert!(approved.items.iter().all(|m| m.decided_at.is_some()));

    // Fix Ben's email by hand: edited, problems gone, then approvable.
    let ben_email = f.message(&f.ben, 0).await;
    let url = f.url(&format!("/messages/{}", ben_email.id));
    let before = f.app.snapshot().await;
    let err = expect_error(
        f.user.patch(&url, json!({"text": "   "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("text"));
    expect_error(
        f.user
            .patch(&url, json!({"subject": "x".repeat(151)}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert_eq!(f.app.snapshot().await, before);
    let edited: Message = ok(
        f.user
            .patch(
                &url,
                json!({"text": "Hi Ben,\n\nHow is the <new> place?", "subject": "Hello Ben"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(edited.edited && edited.problems.is_empty());
    assert_eq!(edited.subject.as_deref(), Some("Hello Ben"));
    assert_eq!(
        edited.html.as_deref(),
        Some("<p>Hi Ben,</p>\n<p>How is the &lt;new&gt; place?</p>\n")
    );
    let r = f
        .review(json!({"action": "approve", "ids": [edited.id]}))
        .await;
    assert_eq!((r.changed, r.skipped), (1, 0));

    // Reject Ben's SMS; rejecting it again changes nothing.
    let ben_sms = f.message(&f.ben, 1).await;
    let r = f
        .review(json!({"action": "reject", "ids": [ben_sms.id]}))
        .await;
    assert_eq!((r.changed, r.skipped), (1, 0));
    let r = f
        .review(json!({"action": "reject", "ids": [ben_sms.id]}))
        .await;
    assert_eq!((r.changed, r.skipped), (0, 1));
    let s = f.summary().await;
    assert_eq!((s.prepared, s.approved, s.rejected), (0, 3, 1));

    // Neither ids nor filter.
    expect_error(
        f.user
            .post(&f.url("/messages/review"), json!({"action": "approve"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;

    // Regenerate Ben's edited email: written again from the step, the edit gone.
    let r = f
        .review(json!({"action": "regenerate", "ids": [edited.id]}))
        .await;
    assert_eq!(r.changed, 1);
    assert!(r.preparation.unwrap().is_open());
    assert_eq!(f.summary().await.missing, 1);
    f.app.run_preparations_until_idle().await;
    let again = f.message(&f.ben, 0).await;
    assert!(!again.edited);
    assert_eq!(again.status, MessageStatus::Prepared);
    assert_ne!(again.id, edited.id);
    assert!(!again.problems.is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_changed_step_makes_undecided_messages_stale_and_preparing_rewrites_them(pool: PgPool) {
    let f = fixture(spawn_app(pool).await, "manual").await;
    f.prepare().await;
    // Approve Ana's SMS; Ben's stays undecided.
    let ana_sms = f.message(&f.ana, 1).await;
    f.review(json!({"action": "approve", "ids": [ana_sms.id]}))
        .await;
    let _: CampaignDetail = ok(
        f.user
            .patch(
                &f.url(&format!("/steps/{}", f.campaign.steps[1].id)),
                json!({"body": "New text for {{first_name | \"you\"}}."}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let s = f.summary().await;
    assert_eq!(s.stale, 1, "only the undecided SMS is stale");
    let stale = f.messages("?status=prepared").await;
    assert!(stale.items.iter().any(|m| m.stale && m.step == 2));
    let p = f.prepare().await;
    assert_eq!(p.status, PreparationStatus::Queued);
    let done = f.summary().await;
    assert_eq!(done.stale, 0);
    assert_eq!(done.preparation.unwrap().done, 1);
    let sms = f
        .messages(&format!("?step_id={}", f.campaign.steps[1].id))
        .await;
    for m in sms.items {
        if m.contact_id == f.ana.id {
            assert_eq!(m.text, "Hi Ana, just checking in.", "approved: left alone");
        } else {
            assert_eq!(m.text, "New text for you.");
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn auto_approve_approves_messages_without_problems_as_they_are_written(pool: PgPool) {
    let f = fixture(spawn_app(pool).await, "auto").await;
    f.prepare().await;
    let s = f.summary().await;
    assert_eq!((s.approved, s.prepared, s.with_problems), (2, 2, 2));
    assert!(f
        .messages("?status=approved")
        .await
        .items
        .iter()
        .all(|m| m.problems.is_empty() && m.decided_at.is_some()));
}

#[sqlx::test(migrations = "../../migrations")]
async fn personalised_steps_are_written_per_lead_by_ai_with_provenance(pool: PgPool) {
    let app = spawn_app_with(
        pool,
        &[
            ("AURA_ALLOW_PRIVATE_AI_URLS", "true"),
            ("AURA_AI_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let f = fixture(app, "manual").await;
    let _: CampaignDetail = ok(
        f.user
            .patch(
                &f.url(&format!("/steps/{}", f.campaign.steps[0].id)),
                json!({"personalize": true, "ai_instructions": "Mention the spring market."}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // No provider configured: the built-in writer, labelled as such.
    f.prepare().await;
    let email = f
        .messages(&format!("?step_id={}", f.campaign.steps[0].id))
        .await;
    assert_eq!(email.total, 2);
    for m in &email.items {
        let p = m.provenance.as_ref().expect("AI provenance is recorded");
        assert_eq!(p.label, "Built-in writer");
        assert_eq!(m.variant, "AI");
        assert!(!m.text.contains("{{"), "tags are filled in: {}", m.text);
        assert!(m.subject.as_deref().is_some_and(|s| !s.is_empty()));
    }
    let ana = email
        .items
        .iter()
        .find(|m| m.contact_id == f.ana.id)
        .unwrap();
    assert!(ana.text.contains("Ana"), "{}", ana.text);
    assert!(ana.problems.is_empty());

    // A provider that refuses the key, with no fallback: kept with the reason, counted as failed.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Incorrect API key provided: sk-test-***", "type": "invalid_request_error",
            "param": null, "code": "invalid_api_key"}})))
        .expect(2)
        .mount(&server)
        .await;
    let provider: Value = ok(
        f.user
            .post(
                "/api/v1/ai/providers",
                json!({"name": "OpenAI", "kind": "openai", "base_url": format!("{}/v1", server.uri()), "model": "gpt-4o-mini", "secret": "sk-test-wrong"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let _: Value = ok(
        f.user
            .patch(
                "/api/v1/ai/settings",
                json!({"default_provider_id": provider["id"], "fallback_to_builtin": false}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let r = f
        .review(json!({"action": "regenerate", "filter": {"step_id": f.campaign.steps[0].id}}))
        .await;
    assert_eq!(r.changed, 2);
    f.app.run_preparations_until_idle().await;
    let p = f.summary().await.preparation.unwrap();
    assert_eq!(
        (p.status, p.done, p.failed),
        (PreparationStatus::Done, 2, 2)
    );
    let failed = f.messages("?problems=true&variant=AI").await;
    assert_eq!(failed.total, 2);
    for m in failed.items {
        assert_eq!(m.text, "");
        assert!(
            m.problems[0].starts_with("AI could not write this message")
                && m.problems[0].contains("Incorrect API key"),
            "{:?}",
            m.problems
        );
    }
    let r = f
        .review(json!({"action": "approve", "filter": {"variant": "AI"}}))
        .await;
    assert_eq!(
        (r.changed, r.skipped),
        (0, 2),
        "failed messages cannot be approved"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn archived_campaigns_refuse_changes_to_messages(pool: PgPool) {
    let f = fixture(spawn_app(pool).await, "manual").await;
    f.prepare().await;
    let _: CampaignDetail = ok(
        f.user
            .post(&f.url("/status"), json!({"status": "archived"}))
            .await,
        StatusCode::OK,
    )
    .await;
    for res in [
        f.user.post(&f.url("/prepare"), json!({})).await,
        f.user
            .post(
                &f.url("/messages/review"),
                json!({"action": "approve", "filter": {}}),
            )
            .await,
    ] {
        expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    }
    assert_eq!(f.messages("").await.total, 4, "still listed");
}
