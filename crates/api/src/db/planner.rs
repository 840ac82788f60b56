//! Planner settings, in one place: the few statements of the sender's hot path say how they are to
//! be planned, for the rest of their transaction (`set_local`) or for a connection of their own
//! (`connect_options`). Each setting says why it is needed; `scripts/bench-send.sh` shows whether
//! it still pays (figures in docs/PERFORMANCE.md).

use sqlx::PgConnection;

/// Plans the rest of the transaction's statements for any parameters, once per connection.
/// The sender's statements take a batch as arrays of keys; planned afresh for each batch (as
/// PostgreSQL does for a statement's first five runs on a connection, and so for nearly every
/// batch of a campaign spread over the pool's connections), the re-check's six-table join takes
/// longer to plan than to run.
pub const GENERIC_PLANS: &[(&str, &str)] = &[("plan_cache_mode", "force_generic_plan")];

/// Joins in the order the statement is written (for a statement whose written order is the
/// right one: planning then skips the search over every order).
pub const JOINS_AS_WRITTEN: &[(&str, &str)] = &[("join_collapse_limit", "1")];

/// Plans whole-campaign joins of targets, steps and messages as hash or merge joins. Tables just
/// filled by an enrollment or a preparation have no statistics yet, and the planner then picks
/// nested loops whose cost grows with the square of the campaign.
pub const LINEAR_JOINS: &[(&str, &str)] = &[("enable_nestloop", "off"), ("jit", "off")];

/// Lets the transaction commit without waiting for its WAL to reach the disk. Only for writes
/// whose loss in a database crash is safe: an outcome lost that way leaves its message
/// leased ("sending"), which the lease's expiry turns into "unknown" — never sent again.
pub const COMMIT_WITHOUT_WAITING: &[(&str, &str)] = &[("synchronous_commit", "off")];

/// Sets settings for the rest of the caller's transaction, all in one round trip.
pub async fn set_local(
    conn: &mut PgConnection,
    groups: &[&[(&str, &str)]],
) -> Result<(), sqlx::Error> {
    let (names, values): (Vec<&str>, Vec<&str>) =
        groups.iter().flat_map(|g| g.iter().copied()).unzip();
    sqlx::query("select set_config(s.name, s.value, true) from unnest($1::text[], $2::text[]) as s(name, value)")
        .bind(&names)
        .bind(&values)
        .execute(conn)
        .await?;
    Ok(())
}

/// Connection options carrying `settings` for a connection of its own (outside the pool).
pub fn connect_options(
    options: sqlx::postgres::PgConnectOptions,
    groups: &[&[(&str, &str)]],
) -> sqlx::postgres::PgConnectOptions {
    options.options(groups.iter().flat_map(|g| g.iter().copied()))
}
