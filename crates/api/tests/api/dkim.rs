//! DKIM signing end to end: keys uploaded per domain (sealed, never returned, the DNS record
//! shown), and the mail the SMTP server receives verified the way a receiver does — an
//! independent implementation of RFC 6376 relaxed canonicalization checked against the
//! published public key (RSA, RFC 8463 Ed25519).

use crate::helpers::*;
use crate::smtp::{self, SmtpSink};
use aura_types::{CampaignDetail, DkimKey, ErrorBody, Mailbox};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use reqwest::StatusCode;
use rsa::pkcs8::DecodePublicKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

const RSA_PKCS1: &str = include_str!("../fixtures/dkim-rsa.pem");
const RSA_PKCS8: &str = include_str!("../fixtures/dkim-rsa-pkcs8.pem");
/// An Ed25519 key's seed, made for these tests.
const ED25519_SEED: &str = "9Ht2gAzHjTvP+LNpOjMonsNT/4nc26uv+bzOlnNw2Ck=";

/// The tags of a DKIM-Signature value.
fn tags(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_owned(),
                v.chars().filter(|c| !c.is_whitespace()).collect(),
            )
        })
        .collect()
}

/// Header fields in order: (name, the whole field as it came, continuation lines included).
fn fields(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = out.last_mut() {
                last.1.push_str("\r\n");
                last.1.push_str(line);
            }
        } else if let Some((name, _)) = line.split_once(':') {
            out.push((name.trim().to_owned(), line.to_owned()));
        }
    }
    out
}

/// RFC 6376 §3.4.2: lower-case name, unfolded, runs of whitespace as one space, none around
/// the colon or at the end.
fn relaxed_header(field: &str) -> String {
    let (name, value) = field.split_once(':').unwrap();
    let unfolded = value.replace("\r\n", "");
    let collapsed = unfolded.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}:{}", name.trim().to_ascii_lowercase(), collapsed)
}

/// RFC 6376 §3.4.4: whitespace runs as one space, none at line ends, no empty lines at the end.
fn relaxed_body(body: &str) -> String {
    let mut lines: Vec<String> = body
        .split("\r\n")
        .map(|l| {
            let mut s = String::new();
            let mut space = false;
            for c in l.chars() {
                if c == ' ' || c == '\t' {
                    space = true;
                } else {
                    if space {
                        s.push(' ');
                    }
                    space = false;
                    s.push(c);
                }
            }
            s
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    if lines.is_empty() {
        return String::new();
    }
    lines.join("\r\n") + "\r\n"
}

/// Verifies a message's DKIM signature against the DNS record's value; returns the signature's
/// tags.
fn verify(raw: &str, dns_value: &str) -> Result<Vec<(String, String)>, String> {
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no body")?;
    let fields = fields(head);
    let (_, sig_field) = fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("DKIM-Signature"))
        .ok_or("no DKIM-Signature")?;
    let sig_value = sig_field.split_once(':').unwrap().1;
    let t = tags(sig_value);
    let tag = |k: &str| {
        t.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .ok_or(format!("no {k}="))
    };
    if tag("c")? != "relaxed/relaxed" {
        return Err(format!("canonicalization {}", tag("c")?));
    }
    let bh = B64.encode(Sha256::digest(relaxed_body(body).as_bytes()));
    if bh != tag("bh")? {
        return Err("the body hash does not match".into());
    }
    // The signed headers, each the last unused instance of its name, then the signature field
    // with b= emptied, without its line end.
    let mut data = String::new();
    let mut used = vec![false; fields.len()];
    for name in tag("h")?.split(':') {
        if let Some(i) = (0..fields.len())
            .rev()
            .find(|&i| !used[i] && fields[i].0.eq_ignore_ascii_case(name))
        {
            used[i] = true;
            data.push_str(&relaxed_header(&fields[i].1));
            data.push_str("\r\n");
        }
    }
    let b_at = sig_field.find("b=").and_then(|_| {
        // The b= tag, not bh=.
        sig_field
            .match_indices("b=")
            .find(|(i, _)| {
                let before = sig_field[..*i].trim_end_matches([' ', '\t', '\r', '\n']);
                before.ends_with(';')
            })
            .map(|(i, _)| i)
    });
    let b_at = b_at.ok_or("no b=")?;
    let end = sig_field[b_at..]
        .find(';')
        .map_or(sig_field.len(), |e| b_at + e);
    let emptied = format!("{}b={}", &sig_field[..b_at], &sig_field[end..]);
    data.push_str(&relaxed_header(&emptied));
    let hash = Sha256::digest(data.as_bytes());
    let signature = B64.decode(tag("b")?).map_err(|e| e.to_string())?;
    let record = tags(dns_value);
    let p = record
        .iter()
        .find(|(k, _)| k == "p")
        .map(|(_, v)| B64.decode(v).unwrap())
        .ok_or("no p=")?;
    match tag("a")?.as_str() {
        "rsa-sha256" => {
            let key = rsa::RsaPublicKey::from_public_key_der(&p).map_err(|e| e.to_string())?;
            key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hash, &signature)
                .map_err(|e| format!("bad RSA signature: {e}"))?;
        }
        "ed25519-sha256" => {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&p.try_into().unwrap())
                .map_err(|e| e.to_string())?;
            let sig =
                ed25519_dalek::Signature::from_slice(&signature).map_err(|e| e.to_string())?;
            key.verify_strict(&hash, &sig)
                .map_err(|e| format!("bad Ed25519 signature: {e}"))?;
        }
        other => return Err(format!("algorithm {other}")),
    }
    Ok(t)
}

async fn json_of<T: serde::de::DeserializeOwned>(res: reqwest::Response, status: StatusCode) -> T {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn setup(pool: PgPool) -> (TestApp, TestUser, SmtpSink, Mailbox) {
    let app = spawn_app(pool).await;
    app.clock.set(monday_10am_ny());
    let sink = smtp::start(false).await;
    let user = app.signup("dana@acme.test", "Acme Realty").await;
    let mailbox: Mailbox = json_of(
        user.post(
            "/api/v1/mailboxes",
            json!({"kind": "smtp", "from_name": "Dana Reyes", "from_email": "dana@mail.acme.test",
                   "smtp": {"host": "127.0.0.1", "port": sink.port, "security": "none"},
                   "limits": {"daily_limit": 100, "ramp_start": 0, "ramp_step": 0, "min_interval_secs": 0, "jitter_secs": 0}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    (app, user, sink, mailbox)
}

/// Sends one campaign email to `email` through the mailbox; returns what the server received.
async fn send_one(
    app: &TestApp,
    user: &TestUser,
    sink: &SmtpSink,
    mailbox: &Mailbox,
    email: &str,
) -> String {
    let _: Value = json_of(
        user.patch(
            "/api/v1/organizations/current",
            json!({"postal_address": "1 Harbor St, Portland, ME 04101"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let lead = user
        .create_contact(json!({"email": email, "first_name": "Ana", "tags": [email]}))
        .await;
    let c: CampaignDetail = json_of(
        user.post(
            "/api/v1/campaigns",
            json!({"name": format!("Signed {email}"), "timezone": "UTC",
                   "window": {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let url = format!("/api/v1/campaigns/{}", c.campaign.id);
    let _: CampaignDetail = json_of(
        user.post(
            &format!("{url}/steps"),
            json!({"channel": "email", "subject": "Homes   near the harbor, {{first_name}}",
                   "body": "Hi {{first_name}},\n\nTrailing spaces here   \n\n\nhttps://acme.test/homes?beds=3"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let _: Value = json_of(
        user.post(
            &format!("{url}/targets"),
            json!({"selection": {"filter": {"tags_any": email}}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let _: Value = json_of(
        user.post(&format!("{url}/prepare"), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.run_preparations_until_idle().await;
    let _: Value = json_of(
        user.post(
            &format!("{url}/messages/review"),
            json!({"action": "approve", "filter": {}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let _: Value = json_of(
        user.call(
            reqwest::Method::PUT,
            &format!("{url}/mailboxes"),
            Some(json!({"mailbox_ids": [mailbox.id]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let _: CampaignDetail = json_of(
        user.post(&format!("{url}/status"), json!({"status": "active"}))
            .await,
        StatusCode::OK,
    )
    .await;
    app.deliver_at(monday_10am_ny()).await;
    let got: Vec<_> = sink
        .accepted()
        .into_iter()
        .filter(|r| r.rcpt.contains(&lead.email.clone().unwrap()))
        .collect();
    assert_eq!(got.len(), 1, "{email}");
    got[0].raw.clone()
}

#[sqlx::test(migrations = "../../migrations")]
async fn mail_from_a_domain_with_a_key_carries_a_signature_receivers_can_verify(pool: PgPool) {
    let (app, user, sink, mailbox) = setup(pool.clone()).await;
    assert_eq!(mailbox.dkim_selector, None);

    // An Ed25519 key first (201), then the domain's key replaced by an RSA one in PKCS#8 (200,
    // same id): a domain has one key.
    let ed: DkimKey = json_of(
        user.post(
            "/api/v1/dkim-keys",
            json!({"domain": "Mail.Acme.Test", "selector": "ed1", "private_key": ED25519_SEED}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ed.domain, "mail.acme.test");
    assert_eq!(ed.dns_name, "ed1._domainkey.mail.acme.test");
    assert!(
        ed.dns_value.starts_with("v=DKIM1; k=ed25519; p="),
        "{}",
        ed.dns_value
    );
    assert_eq!(ed.mailbox_ids, vec![mailbox.id]);
    let raw = send_one(&app, &user, &sink, &mailbox, "ana@example.org").await;
    let t = verify(&raw, &ed.dns_value).unwrap_or_else(|e| panic!("{e}\n{raw}"));
    assert!(t.contains(&("a".into(), "ed25519-sha256".into())));

    let res = user
        .post(
            "/api/v1/dkim-keys",
            json!({"domain": "mail.acme.test", "selector": "aura", "private_key": RSA_PKCS8}),
        )
        .await;
    let text = res.text().await.unwrap();
    for secret in ["PRIVATE KEY", &RSA_PKCS8.lines().nth(3).unwrap()[..40]] {
        assert!(!text.contains(secret), "{text}");
    }
    let rsa: DkimKey = serde_json::from_str(&text).unwrap();
    assert_eq!(rsa.id, ed.id);
    assert_eq!(rsa.description, "RSA 2048 bits");
    assert!(rsa.dns_value.starts_with("v=DKIM1; k=rsa; p="));
    // PKCS#1 of the same key publishes the same record.
    let same: DkimKey = json_of(
        user.post(
            "/api/v1/dkim-keys",
            json!({"domain": "mail.acme.test", "selector": "aura", "private_key": RSA_PKCS1}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same.dns_value, rsa.dns_value);
    let shown: Mailbox = json_of(
        user.get(&format!("/api/v1/mailboxes/{}", mailbox.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(shown.dkim_selector.as_deref(), Some("aura"));
    // Sealed at rest.
    let sealed: Vec<u8> = sqlx::query_scalar("select key_sealed from dkim_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("PRIVATE KEY"));
    let body = RSA_PKCS1.lines().nth(1).unwrap();
    assert!(!sealed.windows(body.len()).any(|w| w == body.as_bytes()));

    let raw = send_one(&app, &user, &sink, &mailbox, "ben@example.org").await;
    let t = verify(&raw, &rsa.dns_value).unwrap_or_else(|e| panic!("{e}\n{raw}"));
    for (k, v) in [
        ("a", "rsa-sha256"),
        ("d", "mail.acme.test"),
        ("s", "aura"),
        ("c", "relaxed/relaxed"),
    ] {
        assert!(t.contains(&(k.into(), v.into())), "{k}={v} in {t:?}");
    }
    let h = t.iter().find(|(k, _)| k == "h").unwrap().1.clone();
    for signed in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(h.split(':').any(|x| x == signed), "{signed} not in h={h}");
    }
    // The check is real: a changed subject, body or unsubscribe header fails it, and so does
    // the other key's record.
    for (from, to) in [
        ("Subject: Homes", "Subject: Houses"),
        ("Trailing spaces", "Trailing space"),
        (
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "List-Unsubscribe-Post: nothing",
        ),
    ] {
        assert!(raw.contains(from), "{from} not in\n{raw}");
        assert!(
            verify(&raw.replacen(from, to, 1), &rsa.dns_value).is_err(),
            "{from}"
        );
    }
    assert!(verify(&raw, &ed.dns_value).is_err());

    // Deleted: the domain's mail is no longer signed.
    let res = user.delete(&format!("/api/v1/dkim-keys/{}", rsa.id)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let raw = send_one(&app, &user, &sink, &mailbox, "cleo@example.org").await;
    assert!(!raw.contains("DKIM-Signature"), "{raw}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn keys_are_validated_admin_only_and_of_the_callers_organization(pool: PgPool) {
    let (app, user, _sink, _mailbox) = setup(pool).await;
    for (body, field) in [
        (
            json!({"domain": "localhost", "selector": "aura", "private_key": ED25519_SEED}),
            "domain",
        ),
        (
            json!({"domain": "acme.test", "selector": "a b", "private_key": ED25519_SEED}),
            "selector",
        ),
        (
            json!({"domain": "acme.test", "selector": "aura", "private_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}),
            "private_key",
        ),
        (
            json!({"domain": "acme.test", "selector": "aura", "private_key": "not a key"}),
            "private_key",
        ),
    ] {
        let e: ErrorBody = json_of(
            user.post("/api/v1/dkim-keys", body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            e.error
                .fields
                .clone()
                .unwrap_or_default()
                .contains_key(field),
            "{body}: {e:?}"
        );
    }
    let keys: Vec<DkimKey> = json_of(user.get("/api/v1/dkim-keys").await, StatusCode::OK).await;
    assert!(keys.is_empty(), "bad input stored nothing");

    let key: DkimKey = json_of(
        user.post(
            "/api/v1/dkim-keys",
            json!({"domain": "acme.test", "selector": "aura", "private_key": ED25519_SEED}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // A member sees the record but cannot change keys.
    let member = app.add_member(&user, "sam@acme.test", "member").await;
    let seen: Vec<DkimKey> = json_of(member.get("/api/v1/dkim-keys").await, StatusCode::OK).await;
    assert_eq!(seen, vec![key.clone()]);
    let res = member
        .post(
            "/api/v1/dkim-keys",
            json!({"domain": "acme.test", "selector": "x", "private_key": ED25519_SEED}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = member
        .delete(&format!("/api/v1/dkim-keys/{}", key.id))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Another organization neither sees nor deletes it.
    let other = app.signup("olu@other.test", "Other Homes").await;
    let theirs: Vec<DkimKey> = json_of(other.get("/api/v1/dkim-keys").await, StatusCode::OK).await;
    assert!(theirs.is_empty());
    let res = other.delete(&format!("/api/v1/dkim-keys/{}", key.id)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let still: Vec<DkimKey> = json_of(user.get("/api/v1/dkim-keys").await, StatusCode::OK).await;
    assert_eq!(still.len(), 1);
}
