use aura_types::{EmailAddress, User, UserId};
use sqlx::{PgConnection, PgExecutor};

/// Inserts a user; fails with a unique violation on `users_email_key` when the email is taken.
pub async fn insert(
    conn: &mut PgConnection,
    email: &EmailAddress,
    name: &str,
    password_hash: &str,
) -> Result<UserId, sqlx::Error> {
    let id = UserId::new();
    sqlx::query!(
        r#"insert into users (id, email, name, password_hash) values ($1, $2, $3, $4)"#,
        id as UserId,
        email.as_str(),
        name,
        password_hash,
    )
    .execute(conn)
    .await?;
    Ok(id)
}

pub struct Credentials {
    pub id: UserId,
    pub password_hash: String,
}

#[tracing::instrument(skip_all)]
pub async fn credentials_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"select id as "id: UserId", password_hash from users where lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(db)
    .await
}

pub async fn get(db: impl PgExecutor<'_>, id: UserId) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        r#"select id as "id: UserId", email, name, created_at from users where id = $1"#,
        id as UserId
    )
    .fetch_optional(db)
    .await
}
