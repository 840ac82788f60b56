//! Failed log-in attempts, counted in the database so that every replica sees the same numbers.

use sqlx::PgExecutor;

/// How many failures `key` had in the last `window_secs`, and how many seconds until the oldest
/// of them leaves the window.
pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    key: &str,
    window_secs: u64,
) -> Result<(u32, u64), sqlx::Error> {
    let row = sqlx::query!(
        r#"select count(*) as "count!",
                  coalesce(ceil(extract(epoch from min(failed_at) + make_interval(secs => $2) - now())), 0)::bigint as "retry_after!"
           from login_failures
           where key = $1 and failed_at > now() - make_interval(secs => $2)"#,
        key,
        window_secs as f64,
    )
    .fetch_one(db)
    .await?;
    Ok((
        u32::try_from(row.count).unwrap_or(u32::MAX),
        u64::try_from(row.retry_after.max(1)).unwrap_or(1),
    ))
}

pub async fn record_failure(db: impl PgExecutor<'_>, keys: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into login_failures (key) select unnest($1::text[])"#,
        keys
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn clear(db: impl PgExecutor<'_>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(r#"delete from login_failures where key = $1"#, key)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets failures older than `window_secs` (called now and then, keeps the table small).
pub async fn prune(db: impl PgExecutor<'_>, window_secs: u64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"delete from login_failures where failed_at < now() - make_interval(secs => $1)"#,
        window_secs as f64
    )
    .execute(db)
    .await?;
    Ok(())
}
