//! The schema keeps the shape ARCHITECTURE.md promises: every tenant-owned table leads its
//! primary key with `org_id`, but for the two named here with the reason.

use sqlx::PgPool;

/// Tables with an `org_id` whose primary key does not lead with it, and why.
const EXCEPTIONS: &[(&str, &str)] = &[
    // Append-only and written in bulk (tens of thousands a second); its index leads with org_id.
    ("message_events", "NO PK"),
    // Looked up by the token's hash before the organization is known.
    ("refresh_tokens", "id"),
];

#[sqlx::test(migrations = "../../migrations")]
async fn every_tenant_table_leads_its_primary_key_with_org_id(pool: PgPool) {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select c.relname::text, coalesce((
             select string_agg(a.attname::text, ',' order by array_position(i.indkey, a.attnum))
             from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
             where i.indrelid = c.oid and i.indisprimary), 'NO PK')
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'r'
           and exists (select 1 from pg_attribute where attrelid = c.oid and attname = 'org_id')
         order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        rows.len() > 20,
        "the catalogue query found only {} tables",
        rows.len()
    );
    for (table, key) in &rows {
        match EXCEPTIONS.iter().find(|(t, _)| t == table) {
            Some((_, expected)) => assert_eq!(
                key, expected,
                "{table} changed its key: update EXCEPTIONS and ARCHITECTURE.md"
            ),
            None => assert!(
                key.starts_with("org_id,"),
                "{table}'s primary key is ({key}): a tenant-owned table leads it with org_id"
            ),
        }
    }
}
