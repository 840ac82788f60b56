//! Liveness and readiness for orchestrators and load balancers.

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use aura_types::Health;

#[utoipa::path(get, operation_id = "liveness", summary = "Check liveness", path = "/healthz", tag = "health",
    description = "Liveness: the process answers.",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

#[utoipa::path(get, operation_id = "readiness", summary = "Check readiness", path = "/readyz", tag = "health",
    description = "Readiness: the database answers and every migration this build knows is applied.",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready; `status` says why", body = Health),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match crate::db_ready(&state.pool).await {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ready".into(),
        }),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            HttpResponse::ServiceUnavailable().json(Health { status: reason })
        }
    }
}
