use crate::routes::Routes;
use crate::{error::ApiResult, routes::auth::load_me, routes::Caller, state::AppState};
use actix_web::{web, HttpResponse};
use aura_types::{ErrorBody, Me};

pub fn scope() -> Routes {
    Routes::new("/me").get("", me)
}

#[utoipa::path(get, operation_id = "getMe", summary = "Get the signed-in person", path = "/me", tag = "auth", security(("bearer" = [])),
    description = "The signed-in person, the organization the session acts for, and all their memberships.",
    responses(
        (status = 200, description = "Who is signed in", body = Me),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let user = caller.user_id()?;
    let mut conn = state.pool.acquire().await?;
    Ok(HttpResponse::Ok().json(load_me(&mut conn, user, caller.org_id).await?))
}
