//! Campaigns and steps: creation with defaults, edits, templates checked with their position,
//! the state machine (409 on illegal moves and on edits while active), duplicate, step order.

use crate::helpers::*;
use aura_types::{CampaignDetail, ErrorCode};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn detail(res: reqwest::Response, status: StatusCode) -> CampaignDetail {
    let s = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(s, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn new_campaign(user: &TestUser) -> CampaignDetail {
    detail(
        user.post(
            "/api/v1/campaigns",
            json!({"name": "Spring sellers", "offer": "Free valuation", "icp": "Homeowners", "goal": "A call"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn add_step(user: &TestUser, c: &CampaignDetail, body: Value) -> CampaignDetail {
    detail(
        user.post(&format!("/api/v1/campaigns/{}/steps", c.campaign.id), body)
            .await,
        StatusCode::CREATED,
    )
    .await
}

/// What launching needs besides the steps: the postal address for the footer, a (sandbox)
/// mailbox chosen, and — when leads are enrolled — their messages prepared and approved.
async fn ready_to_send(app: &TestApp, user: &TestUser, c: &CampaignDetail) {
    let id = c.campaign.id;
    let res = user
        .patch(
            "/api/v1/organizations/current",
            json!({"postal_address": "1 Harbor St, Portland, ME"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mailbox: Value = user
        .post(
            "/api/v1/mailboxes",
            json!({"kind": "sandbox", "from_name": "Demo", "from_email": format!("demo-{}@example.com", uuid::Uuid::now_v7())}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = user
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/campaigns/{id}/mailboxes"),
            Some(json!({"mailbox_ids": [mailbox["id"]]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    if user
        .post(&format!("/api/v1/campaigns/{id}/prepare"), json!({}))
        .await
        .status()
        == StatusCode::ACCEPTED
    {
        app.run_preparations_until_idle().await;
        let res = user
            .post(
                &format!("/api/v1/campaigns/{id}/messages/review"),
                json!({"action": "approve", "filter": {}}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

async fn set_status(user: &TestUser, c: &CampaignDetail, status: &str) -> reqwest::Response {
    user.post(
        &format!("/api/v1/campaigns/{}/status", c.campaign.id),
        json!({"status": status}),
    )
    .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn campaigns_are_created_with_defaults_and_edited(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("campaigns@example.com", "Acme").await;
    let c = new_campaign(&user).await;
    let k = &c.campaign;
    assert_eq!(k.status.as_str(), "draft");
    assert_eq!(k.timezone, "UTC", "the organization's time zone");
    assert_eq!(
        (
            k.window.days.clone(),
            k.window.start.as_str(),
            k.window.end.as_str()
        ),
        (vec![1, 2, 3, 4, 5], "09:00", "17:00")
    );
    assert!(k.stop_on_reply && !k.track_opens && !k.track_clicks);
    assert_eq!(k.approval.as_str(), "manual");
    assert_eq!(k.created_by, Some(user.session.me.user.id));

    let res = user
        .patch(
            &format!("/api/v1/campaigns/{}", k.id),
            json!({"timezone": "Asia/Kolkata", "window": {"days": [6, 1, 1], "start": "10:30", "end": "18:00"}, "approval": "auto", "track_opens": true}),
        )
        .await;
    let c2 = detail(res, StatusCode::OK).await;
    assert_eq!(c2.campaign.timezone, "Asia/Kolkata");
    assert_eq!(c2.campaign.window.days, vec![1, 6]);
    assert_eq!(c2.campaign.window.start, "10:30");
    assert_eq!(c2.campaign.name, "Spring sellers", "absent fields stay");

    let before = app.row_counts().await;
    let err = expect_error(
        user.patch(
            &format!("/api/v1/campaigns/{}", k.id),
            json!({"name": " ", "timezone": "Mars/Olympus", "window": {"days": [8], "start": "9", "end": "08:00"}, "daily_new_leads": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let fields = err.fields.unwrap();
    for f in ["name", "timezone", "window.days", "daily_new_leads"] {
        assert!(fields.contains_key(f), "{f}: {fields:?}");
    }
    let err = expect_error(
        user.patch(
            &format!("/api/v1/campaigns/{}", k.id),
            json!({"window": {"days": [1], "start": "18:00", "end": "09:00"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("window.end"));
    assert_eq!(app.row_counts().await, before);
    let listed: Vec<Value> = user.get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(listed.len(), 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn steps_are_added_checked_reordered_duplicated_and_deleted(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("steps@example.com", "Acme").await;
    let c = new_campaign(&user).await;
    let c = add_step(&user, &c, json!({"channel": "email", "subject": "Hi {{first_name | \"there\"}}", "body": "{Hi|Hello} {{first_name}},\n\nA free valuation?"})).await;
    let c = add_step(&user, &c, json!({"channel": "whatsapp", "delay_minutes": 2880, "subject": "ignored", "body": "Quick one, {{first_name | \"there\"}}"})).await;
    let c = add_step(&user, &c, json!({"channel": "sms", "delay_minutes": 1440, "body": "Reply STOP to opt out", "position": 1})).await;
    let order: Vec<&str> = c.steps.iter().map(|s| s.channel.as_str()).collect();
    assert_eq!(
        order,
        ["sms", "email", "whatsapp"],
        "inserted at position 1"
    );
    assert_eq!(
        c.steps.iter().map(|s| s.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(c.steps[2].subject, "", "only email has a subject");
    assert_eq!(
        c.campaign
            .channels
            .iter()
            .map(|ch| ch.as_str())
            .collect::<Vec<_>>(),
        ["sms", "email", "whatsapp"]
    );

    // A bad merge tag is refused with its position and nothing changes.
    let before = app.snapshot().await;
    let err = expect_error(
        user.patch(
            &format!("/api/v1/campaigns/{}/steps/{}", c.campaign.id, c.steps[1].id),
            json!({"body": "Hello\n  {{frist_name}}", "variants": [{"label": "B", "body": "{{first_name", "weight": 1}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let fields = err.fields.unwrap();
    assert!(
        fields["body"].starts_with("line 2, column 3:"),
        "{}",
        fields["body"]
    );
    assert!(
        fields["variants[0].body"].contains("line 1, column 1"),
        "{fields:?}"
    );
    assert_eq!(app.snapshot().await, before);

    // Variants and reorder.
    let res = user
        .patch(
            &format!("/api/v1/campaigns/{}/steps/{}", c.campaign.id, c.steps[1].id),
            json!({"variants": [{"label": "B", "subject": "Question, {{first_name | \"there\"}}", "body": "Different opening", "weight": 2}]}),
        )
        .await;
    let c = detail(res, StatusCode::OK).await;
    assert_eq!(c.steps[1].variants[0].weight, 2);
    let ids: Vec<_> = [2, 0, 1].iter().map(|i| c.steps[*i].id).collect();
    let c = detail(
        user.post(
            &format!("/api/v1/campaigns/{}/steps/reorder", c.campaign.id),
            json!({"step_ids": ids}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        c.steps
            .iter()
            .map(|s| s.channel.as_str())
            .collect::<Vec<_>>(),
        ["whatsapp", "sms", "email"]
    );
    let err = expect_error(
        user.post(
            &format!("/api/v1/campaigns/{}/steps/reorder", c.campaign.id),
            json!({"step_ids": [ids[0], ids[0], ids[1]]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("step_ids"));

    let c = detail(
        user.post(
            &format!(
                "/api/v1/campaigns/{}/steps/{}/duplicate",
                c.campaign.id, c.steps[0].id
            ),
            json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c.steps.len(), 4);
    assert_eq!(
        (c.steps[1].channel.as_str(), c.steps[1].body.as_str()),
        ("whatsapp", c.steps[0].body.as_str())
    );
    assert_ne!(c.steps[0].id, c.steps[1].id);
    let c = detail(
        user.delete(&format!(
            "/api/v1/campaigns/{}/steps/{}",
            c.campaign.id, c.steps[0].id
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        c.steps.iter().map(|s| s.position).collect::<Vec<_>>(),
        [1, 2, 3],
        "no gap"
    );

    // An unknown persona is named.
    let err = expect_error(
        user.post(
            &format!("/api/v1/campaigns/{}/steps", c.campaign.id),
            json!({"channel": "email", "persona_id": uuid::Uuid::now_v7()}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("persona_id"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_state_machine_guards_launch_and_edits(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("states@example.com", "Acme").await;
    let c = new_campaign(&user).await;
    // Nothing to send yet.
    let err = expect_error(
        set_status(&user, &c, "active").await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert!(err.message.contains("at least one step"));
    let c = add_step(&user, &c, json!({"channel": "email", "body": "Hello"})).await;
    let err = expect_error(
        set_status(&user, &c, "active").await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert!(err.message.contains("without a subject"), "{}", err.message);
    let c = detail(
        user.patch(
            &format!(
                "/api/v1/campaigns/{}/steps/{}",
                c.campaign.id, c.steps[0].id
            ),
            json!({"subject": "Hi"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        set_status(&user, &c, "paused").await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    ready_to_send(&app, &user, &c).await;
    assert_eq!(
        detail(set_status(&user, &c, "active").await, StatusCode::OK)
            .await
            .campaign
            .status
            .as_str(),
        "active"
    );

    // Active: no edits, no deletion.
    let snapshot = app.snapshot().await;
    for res in [
        user.patch(
            &format!("/api/v1/campaigns/{}", c.campaign.id),
            json!({"name": "Renamed"}),
        )
        .await,
        user.post(
            &format!("/api/v1/campaigns/{}/steps", c.campaign.id),
            json!({"channel": "sms", "body": "x"}),
        )
        .await,
        user.patch(
            &format!(
                "/api/v1/campaigns/{}/steps/{}",
                c.campaign.id, c.steps[0].id
            ),
            json!({"body": "x"}),
        )
        .await,
        user.delete(&format!(
            "/api/v1/campaigns/{}/steps/{}",
            c.campaign.id, c.steps[0].id
        ))
        .await,
        user.delete(&format!("/api/v1/campaigns/{}", c.campaign.id))
            .await,
    ] {
        let err = expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
        assert!(err.message.contains("pause it"), "{}", err.message);
    }
    assert_eq!(app.snapshot().await, snapshot);

    // Paused: editable again; completed and archived are final.
    detail(set_status(&user, &c, "paused").await, StatusCode::OK).await;
    detail(
        user.patch(
            &format!("/api/v1/campaigns/{}", c.campaign.id),
            json!({"name": "Renamed"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    detail(set_status(&user, &c, "completed").await, StatusCode::OK).await;
    expect_error(
        set_status(&user, &c, "active").await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    expect_error(
        user.patch(
            &format!("/api/v1/campaigns/{}", c.campaign.id),
            json!({"name": "x"}),
        )
        .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    detail(set_status(&user, &c, "archived").await, StatusCode::OK).await;
    expect_error(
        set_status(&user, &c, "draft").await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    expect_error(
        set_status(&user, &c, "launched").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;

    // Duplicating gives a draft with the same steps.
    let copy = detail(
        user.post(
            &format!("/api/v1/campaigns/{}/duplicate", c.campaign.id),
            json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(copy.campaign.status.as_str(), "draft");
    assert_eq!(copy.campaign.name, "Renamed (copy)");
    assert_eq!(copy.steps.len(), 1);
    assert_eq!(copy.steps[0].subject, "Hi");
    assert_ne!(copy.steps[0].id, c.steps[0].id);
    assert_eq!(
        user.delete(&format!("/api/v1/campaigns/{}", c.campaign.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        user.get(&format!("/api/v1/campaigns/{}", c.campaign.id))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn enrollment_skips_by_reason_and_is_idempotent(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("enroll@example.com", "Acme").await;
    let ok = user
        .create_contact(json!({"email": "ok@example.com", "first_name": "Ok", "tags": ["buyer"]}))
        .await;
    user.create_contact(
        json!({"email": "gone@example.com", "status": "unsubscribed", "tags": ["buyer"]}),
    )
    .await;
    user.create_contact(json!({"phone": "+14154522671", "tags": ["buyer"]}))
        .await;
    user.create_contact(json!({"email": "blocked@blocked.example", "tags": ["buyer"]}))
        .await;
    user.create_contact(
        json!({"email": "no@example.com", "consent": {"email": {"status": "denied"}}}),
    )
    .await;
    let sms_ok = user
        .create_contact(json!({"email": "sms@example.com", "phone": "+442079460958", "consent": {"sms": {"status": "granted"}}}))
        .await;
    // A suppression the contact's status does not reflect yet (added through the API it would
    // also stop the contact, which then counts as not active).
    sqlx::query("insert into suppressions (org_id, id, kind, value, reason) select id, $1, 'domain', 'blocked.example', 'manual' from organizations")
        .bind(uuid::Uuid::now_v7())
        .execute(&app.pool)
        .await
        .unwrap();

    let c = new_campaign(&user).await;
    let url = format!("/api/v1/campaigns/{}/targets", c.campaign.id);
    let err = expect_error(
        user.post(&url, json!({"selection": {"filter": {}}})).await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert!(err.message.contains("Add a step"));
    let c = add_step(
        &user,
        &c,
        json!({"channel": "email", "subject": "Hi", "body": "Hello", "delay_minutes": 60}),
    )
    .await;

    let before = app.snapshot().await;
    let dry: Value = user
        .post(&url, json!({"selection": {"filter": {}}, "dry_run": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["matched"], 6);
    assert_eq!(dry["enrolled"], 2, "{dry}");
    assert_eq!(
        dry["skipped"],
        json!({"no_address": 1, "not_active": 1, "suppressed": 1, "no_consent": 1})
    );
    assert_eq!(app.snapshot().await, before, "a dry run writes nothing");

    let done: Value = user
        .post(&url, json!({"selection": {"filter": {}}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (done["enrolled"].as_i64(), done["dry_run"].as_bool()),
        (Some(2), Some(false))
    );
    let again: Value = user
        .post(&url, json!({"selection": {"filter": {}}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["enrolled"], 0);
    assert_eq!(again["skipped"]["already_enrolled"], 2);
    let d = detail(
        user.get(&format!("/api/v1/campaigns/{}", c.campaign.id))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((d.campaign.stats.targets, d.campaign.stats.active), (2, 2));
    // The enrolled leads, a page at a time: one each, the second page the last.
    let first: aura_types::Page<aura_types::Target> = user
        .get(&format!("{url}?limit=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((first.items.len(), first.total), (1, 2));
    let next = first.next_cursor.expect("a second page");
    let second: aura_types::Page<aura_types::Target> = user
        .get(&format!("{url}?limit=1&cursor={next}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((second.items.len(), second.next_cursor), (1, None));
    assert_ne!(first.items[0].contact_id, second.items[0].contact_id);

    // Tags select; an SMS campaign needs granted consent; a lead active elsewhere can be skipped.
    let sms = new_campaign(&user).await;
    add_step(
        &user,
        &sms,
        json!({"channel": "sms", "body": "Hi {{first_name | \"there\"}}"}),
    )
    .await;
    let sms_url = format!("/api/v1/campaigns/{}/targets", sms.campaign.id);
    let r: Value = user
        .post(
            &sms_url,
            json!({"selection": {"filter": {"tags_any": "buyer"}}, "dry_run": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["matched"], 4);
    assert_eq!(
        r["skipped"]["no_consent"], 1,
        "a phone without granted SMS consent: {r}"
    );
    ready_to_send(&app, &user, &c).await;
    assert_eq!(
        detail(set_status(&user, &c, "active").await, StatusCode::OK)
            .await
            .campaign
            .status
            .as_str(),
        "active"
    );
    let r: Value = user
        .post(
            &sms_url,
            json!({"selection": {"ids": [sms_ok.id, ok.id]}, "skip_active_elsewhere": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["enrolled"], 0, "{r}");
    assert_eq!(r["skipped"]["in_another_campaign"], 1);
    assert_eq!(r["skipped"]["no_address"], 1);

    // One target: pause, resume, remove.
    let page: Value = user.get(&url).await.json().await.unwrap();
    assert_eq!(page["total"], 2);
    assert!(page["items"][0]["next_run_at"].is_string());
    let target = format!("{url}/{}", ok.id);
    let paused_one: Value = user
        .patch(&target, json!({"status": "paused"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (paused_one["status"].as_str(), paused_one["email"].as_str()),
        (Some("paused"), Some("ok@example.com"))
    );
    let paused: Value = user
        .get(&format!("{url}?status=paused"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paused["total"], 1);
    expect_error(
        user.patch(&target, json!({"status": "completed"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert_eq!(
        user.patch(&target, json!({"status": "active"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(user.delete(&target).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(user.delete(&target).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        user.patch(&target, json!({"status": "paused"}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn templates_start_campaigns_and_campaigns_become_templates(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("templates@example.com", "Acme").await;
    let all: Vec<Value> = user.get("/api/v1/templates").await.json().await.unwrap();
    assert_eq!(all.len(), 8, "the system templates");
    assert!(all.iter().all(|t| t["system"] == true));
    let estate: Vec<Value> = user
        .get("/api/v1/templates?industry=real%20estate")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(estate.len(), 3);
    let sms: Vec<Value> = user
        .get("/api/v1/templates?channel=sms")
        .await
        .json()
        .await
        .unwrap();
    assert!(sms
        .iter()
        .all(|t| t["channels"].as_array().unwrap().contains(&json!("sms"))));
    assert!(sms.len() >= 3);

    // Start a campaign from the open-house template.
    let open_house = all
        .iter()
        .find(|t| t["name"] == "Open house follow-up")
        .unwrap();
    let id = open_house["id"].as_str().unwrap();
    let c = detail(
        user.post(
            &format!("/api/v1/templates/{id}/use"),
            json!({"name": "Saturday open house"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c.campaign.name, "Saturday open house");
    assert_eq!(c.campaign.status.as_str(), "draft");
    assert_eq!(
        c.steps
            .iter()
            .map(|s| s.channel.as_str())
            .collect::<Vec<_>>(),
        ["email", "sms"]
    );
    assert_eq!(c.steps[1].delay_minutes, 2 * 1440);
    assert!(!c.campaign.offer.is_empty());
    let used: Value = user
        .get(&format!("/api/v1/templates/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(used["usage_count"], 1);

    // System templates are read-only.
    expect_error(
        user.patch(&format!("/api/v1/templates/{id}"), json!({"name": "Mine"}))
            .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    expect_error(
        user.delete(&format!("/api/v1/templates/{id}")).await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;

    // Save the campaign as an own template, edit it, reject a broken step, delete it.
    let res = user
        .post(
            &format!("/api/v1/campaigns/{}/save-as-template", c.campaign.id),
            json!({"industry": "Real estate", "use_case": "Event follow-up"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mine: Value = res.json().await.unwrap();
    assert_eq!(
        (mine["system"].as_bool(), mine["name"].as_str()),
        (Some(false), Some("Saturday open house"))
    );
    assert_eq!(mine["steps"].as_array().unwrap().len(), 2);
    let mine_url = format!("/api/v1/templates/{}", mine["id"].as_str().unwrap());
    let err = expect_error(
        user.patch(
            &mine_url,
            json!({"steps": [{"channel": "email", "subject": "Hi", "body": "Hi {{first_name"}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap()["steps[0].body"].contains("line 1, column 4"));
    let renamed: Value = user
        .patch(&mine_url, json!({"name": "Open house v2"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Open house v2");
    let listed: Vec<Value> = user.get("/api/v1/templates").await.json().await.unwrap();
    assert_eq!(listed.len(), 9);
    assert_eq!(
        user.delete(&mine_url).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(user.get(&mine_url).await.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../../migrations")]
async fn launch_is_refused_while_a_tag_resolves_empty_for_enrolled_leads(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("problems@example.com", "Acme").await;
    user.create_contact(
        json!({"email": "with@example.com", "first_name": "Wendy", "company": "Wendy Homes"}),
    )
    .await;
    user.create_contact(json!({"email": "without@example.com", "first_name": "Nora"}))
        .await;
    let c = new_campaign(&user).await;
    let c = add_step(&user, &c, json!({"channel": "email", "subject": "Hi {{first_name | \"there\"}}", "body": "How is {{company}} doing? {{sender.name}}"})).await;
    let url = format!("/api/v1/campaigns/{}", c.campaign.id);
    let problems: Vec<Value> = user
        .get(&format!("{url}/problems"))
        .await
        .json()
        .await
        .unwrap();
    assert!(problems.is_empty(), "nobody enrolled yet: {problems:?}");
    user.post(
        &format!("{url}/targets"),
        json!({"selection": {"filter": {}}}),
    )
    .await;

    let problems: Vec<Value> = user
        .get(&format!("{url}/problems"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        problems,
        vec![
            json!({"step": 1, "field": "body", "tag": "company", "leads": 1, "examples": ["Nora"]})
        ]
    );
    let err = expect_error(
        set_status(&user, &c, "active").await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert!(
        err.message.contains("{{company}}") && err.message.contains("Nora"),
        "{}",
        err.message
    );

    let c = detail(
        user.patch(
            &format!("{url}/steps/{}", c.steps[0].id),
            json!({"body": "How is {{company | \"business\"}} doing? {{sender.name}}"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let problems: Vec<Value> = user
        .get(&format!("{url}/problems"))
        .await
        .json()
        .await
        .unwrap();
    assert!(problems.is_empty());
    ready_to_send(&app, &user, &c).await;
    assert_eq!(
        detail(set_status(&user, &c, "active").await, StatusCode::OK)
            .await
            .campaign
            .status
            .as_str(),
        "active"
    );
}
