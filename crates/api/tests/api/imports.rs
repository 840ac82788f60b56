//! Contact imports: the CSV corpus of hard cases, encodings, mapping errors, duplicate strategies,
//! the background job's progress and report, the JSON import, and a 100,000-row file.

use crate::helpers::*;
use aura_types::{
    Contact, ErrorCode, Import, ImportPreview, ImportStatus, JsonImportResult, Page, ReportRow,
    RowOutcome,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/csv/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn upload(user: &TestUser, name: &str, bytes: Vec<u8>) -> Import {
    let res = user
        .upload("/api/v1/contacts/imports", name, bytes, &[])
        .await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn mapping_of(import: &Import, overrides: &[(&str, &str)]) -> Value {
    let m: Vec<Value> = import
        .mapping
        .iter()
        .map(|m| {
            let target = overrides
                .iter()
                .find(|(h, _)| *h == m.header)
                .map(|(_, t)| (*t).to_owned())
                .or(m.target.clone());
            json!({"column": m.column, "header": m.header, "target": target})
        })
        .collect();
    json!(m)
}

async fn run(
    app: &TestApp,
    user: &TestUser,
    import: &Import,
    mapping: Value,
    options: Value,
) -> Import {
    let res = user
        .post(
            &format!("/api/v1/contacts/imports/{}/start", import.id),
            json!({"mapping": mapping, "options": options}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "{}",
        res.text().await.unwrap()
    );
    app.run_imports_until_idle().await;
    user.get(&format!("/api/v1/contacts/imports/{}", import.id))
        .await
        .json()
        .await
        .unwrap()
}

async fn report(user: &TestUser, import: &Import) -> Vec<(i64, RowOutcome, String)> {
    // Every row, a page at a time, following each page's cursor.
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page: Page<ReportRow> = user
            .get(&format!(
                "/api/v1/contacts/imports/{}/report?limit=7{after}",
                import.id
            ))
            .await
            .json()
            .await
            .unwrap();
        rows.extend(page.items);
        assert!(rows.len() as i64 <= page.total);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => {
                assert_eq!(rows.len() as i64, page.total);
                break;
            }
        }
    }
    rows.into_iter()
        .map(|r| (r.row_number, r.outcome, r.reason.unwrap_or_default()))
        .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_hard_cases_file_imports_with_an_outcome_per_row(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let import = upload(
        &owner,
        "hard-cases.csv",
        fixture("hard-cases-semicolon-bom-crlf.csv"),
    )
    .await;
    assert_eq!(
        (
            import.delimiter.as_str(),
            import.encoding.as_str(),
            import.total_rows
        ),
        (";", "utf-8", 7)
    );
    assert_eq!(
        import.headers[0], "First Name",
        "the BOM is not part of the first header"
    );
    let targets: Vec<Option<&str>> = import.mapping.iter().map(|m| m.target.as_deref()).collect();
    assert_eq!(
        targets,
        vec![
            Some("first_name"),
            Some("last_name"),
            Some("email"),
            Some("phone"),
            Some("country"),
            Some("tags"),
            Some("ai_notes"),
            None
        ]
    );
    let mapping = mapping_of(&import, &[("Budget", "custom.budget")]);

    let preview: ImportPreview = owner
        .post(
            &format!("/api/v1/contacts/imports/{}/preview", import.id),
            json!({"mapping": mapping}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview.rows.len(), 7);
    assert!(preview.rows[0].problems.is_empty(), "{:?}", preview.rows[0]);
    assert!(preview.rows[0].values.contains(&aura_types::MappedValue {
        target: "custom.budget".into(),
        value: "500k".into()
    }));
    assert!(
        preview.rows[2].problems.iter().any(|p| p.contains("phone")),
        "{:?}",
        preview.rows[2]
    );
    assert_eq!(preview.rows[6].problems, vec!["no email or phone number"]);

    let done = run(
        &app,
        &owner,
        &import,
        mapping,
        json!({"tags": ["Spring Expo"]}),
    )
    .await;
    assert_eq!(done.status, ImportStatus::Completed);
    let p = &done.progress;
    assert_eq!(
        (p.read, p.created, p.updated, p.skipped, p.invalid),
        (7, 4, 0, 1, 2)
    );
    let rows = report(&owner, &import).await;
    let outcomes: Vec<(i64, RowOutcome)> = rows.iter().map(|(n, o, _)| (*n, *o)).collect();
    use RowOutcome::*;
    assert_eq!(
        outcomes,
        vec![
            (2, Created),
            (3, Skipped),
            (4, Invalid),
            (5, Created),
            (6, Created),
            (7, Created),
            (8, Invalid)
        ]
    );
    assert_eq!(
        rows[1].2, "duplicate of row 2",
        "the same email in another case is a duplicate"
    );

    let jose: Page<Contact> = owner
        .get("/api/v1/contacts?q=jose%40example.com")
        .await
        .json()
        .await
        .unwrap();
    let jose = &jose.items[0];
    assert_eq!(jose.full_name, "José Núñez");
    assert_eq!(jose.phone.as_deref(), Some("+34612345678"));
    assert_eq!(
        jose.ai_notes.as_deref(),
        Some("Likes \"sea view\"\r\nand a garden")
    );
    assert_eq!(jose.tags, vec!["buyer", "vip", "spring expo"]);
    assert_eq!(jose.custom["budget"], "500k");
    assert_eq!(jose.source.as_deref(), Some("import: hard-cases.csv"));
    let li: Page<Contact> = owner
        .get("/api/v1/contacts?q=li%40example.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(li.items[0].full_name, "李 小龍");

    let res = owner
        .get(&format!(
            "/api/v1/contacts/imports/{}/report.csv",
            import.id
        ))
        .await;
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("row,outcome,reason,contact_id\n"), "{csv}");
    assert!(csv.contains("8,invalid,no email or phone number,"), "{csv}");
    assert_eq!(csv.lines().count(), 8);
    // A finished import cannot start again.
    expect_error(
        owner
            .post(
                &format!("/api/v1/contacts/imports/{}/start", import.id),
                json!({"mapping": []}),
            )
            .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn latin1_files_are_read_and_files_without_addresses_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let import = upload(&owner, "latin1.csv", fixture("latin1.csv")).await;
    assert_eq!(import.encoding, "latin-1");
    let done = run(&app, &owner, &import, mapping_of(&import, &[]), json!({})).await;
    assert_eq!(done.progress.created, 1);
    let page: Page<Contact> = owner.get("/api/v1/contacts").await.json().await.unwrap();
    assert_eq!(
        (
            page.items[0].full_name.as_str(),
            page.items[0].city.as_deref()
        ),
        ("José García", Some("Málaga"))
    );

    let before = app.snapshot().await;
    let err = expect_error(
        owner
            .upload(
                "/api/v1/contacts/imports",
                "t.csv",
                fixture("tabs-no-address.csv"),
                &[],
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap()["file"].contains("neither an email nor a phone"));
    expect_error(
        owner
            .upload("/api/v1/contacts/imports", "empty.csv", Vec::new(), &[])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let res = owner
        .client
        .post(app.url("/api/v1/contacts/imports"))
        .bearer_auth(&owner.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    assert_eq!(app.snapshot().await, before);

    let import = upload(
        &owner,
        "again.csv",
        b"name,email\nA,a@example.com\n".to_vec(),
    )
    .await;
    let err = expect_error(
        owner
            .post(
                &format!("/api/v1/contacts/imports/{}/start", import.id),
                json!({"mapping": [{"column": 0, "header": "name", "target": "first_name"}]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("mapping"));
    let err = expect_error(
        owner.post(&format!("/api/v1/contacts/imports/{}/start", import.id), json!({"mapping": [{"column": 1, "header": "email", "target": "email"}, {"column": 0, "header": "name", "target": "shoe_size"}]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("mapping[1].target"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn duplicate_strategies_skip_fill_or_overwrite(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let existing = owner
        .create_contact(json!({"email": "a@example.com", "first_name": "Old", "tags": ["kept"]}))
        .await;
    let file = b"email,first name,company,tags\nA@EXAMPLE.COM,New,NewCo,added\n".to_vec();
    let mut results = Vec::new();
    for strategy in ["skip", "fill_empty", "overwrite"] {
        let import = upload(&owner, "dups.csv", file.clone()).await;
        let done = run(
            &app,
            &owner,
            &import,
            mapping_of(&import, &[]),
            json!({"duplicate_strategy": strategy}),
        )
        .await;
        let c: aura_types::ContactDetail = owner
            .get(&format!("/api/v1/contacts/{}", existing.id))
            .await
            .json()
            .await
            .unwrap();
        results.push((
            done.progress.skipped,
            done.progress.updated,
            c.contact.first_name.unwrap(),
            c.contact.company,
            c.contact.tags,
        ));
    }
    assert_eq!(
        results[0],
        (1, 0, "Old".into(), None, vec!["kept".to_owned()])
    );
    assert_eq!(
        results[1],
        (
            0,
            1,
            "Old".into(),
            Some("NewCo".into()),
            vec!["kept".to_owned(), "added".to_owned()]
        )
    );
    assert_eq!(
        results[2],
        (
            0,
            1,
            "New".into(),
            Some("NewCo".into()),
            vec!["kept".to_owned(), "added".to_owned()]
        )
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_json_import_reports_every_contact(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let res = owner
        .post(
            "/api/v1/contacts/import",
            json!({
                "contacts": [
                    {"email": "n8n@example.com", "first_name": "Flow"},
                    {"email": "broken"},
                    {"email": "N8N@example.com", "company": "Filled"},
                    {"first_name": "Nobody"}
                ],
                "options": {"duplicate_strategy": "fill_empty", "tags": ["n8n"]}
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: JsonImportResult = res.json().await.unwrap();
    assert_eq!(
        (r.progress.created, r.progress.skipped, r.progress.invalid),
        (1, 1, 2)
    );
    assert_eq!(
        r.rows.iter().map(|r| r.outcome).collect::<Vec<_>>(),
        vec![
            RowOutcome::Created,
            RowOutcome::Invalid,
            RowOutcome::Skipped,
            RowOutcome::Invalid
        ]
    );
    assert!(r.rows[1].reason.as_deref().unwrap().contains("email"));
    let c: Page<Contact> = owner.get("/api/v1/contacts").await.json().await.unwrap();
    assert_eq!(
        (c.items[0].company.as_deref(), c.items[0].tags.clone()),
        (Some("Filled"), vec!["n8n".to_owned()]),
        "a duplicate in the same request fills the first"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_100k_row_file_imports_with_every_row_accounted_for(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let mut file = String::from("First Name,Last Name,Email,Company,Tags\n");
    for i in 0..100_000 {
        let email = if i % 997 == 0 {
            format!("broken-{i}")
        } else if i % 1000 == 999 {
            format!("lead{}@example.com", i - 1)
        } else {
            format!("lead{i}@example.com")
        };
        file.push_str(&format!(
            "First{i},Last{i},{email},Company {},\"bulk,batch{}\"\n",
            i % 50,
            i % 7
        ));
    }
    let import = upload(&owner, "big.csv", file.into_bytes()).await;
    assert_eq!(import.total_rows, 100_000);
    let done = run(&app, &owner, &import, mapping_of(&import, &[]), json!({})).await;
    let invalid = (0..100_000).filter(|i| i % 997 == 0).count() as i64;
    let dups = (0..100_000)
        .filter(|i| i % 1000 == 999 && i % 997 != 0 && (i - 1) % 997 != 0)
        .count() as i64;
    let duplicate_of_invalid = (0..100_000)
        .filter(|i| i % 1000 == 999 && i % 997 != 0 && (i - 1) % 997 == 0)
        .count() as i64;
    let p = &done.progress;
    assert_eq!((p.read, p.invalid, p.skipped), (100_000, invalid, dups));
    assert_eq!(
        p.created,
        100_000 - invalid - dups,
        "{duplicate_of_invalid} rows repeat an invalid row's address and are created"
    );
    let total: i64 = sqlx::query_scalar("select count(*) from contacts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(total, p.created);
    let reported: i64 = sqlx::query_scalar("select count(*) from import_rows")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(reported, 100_000);
    let row: (i64, String) = sqlx::query_as("select row_number, reason from import_rows where outcome = 'skipped' order by row_number limit 1").fetch_one(&app.pool).await.unwrap();
    assert_eq!(row, (1001, "duplicate of row 1000".to_owned()));
    let c: Contact = serde_json::from_value(
        owner
            .get("/api/v1/contacts?q=lead5%40example.com")
            .await
            .json::<Value>()
            .await
            .unwrap()["items"][0]
            .clone(),
    )
    .unwrap();
    assert_eq!(c.tags, vec!["bulk", "batch5"]);
}
