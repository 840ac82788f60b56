//! A month's AI usage: calls, tokens and outcomes by provider.

use crate::{
    db::{self},
    error::{ApiError, ApiResult},
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::ai::*;
use aura_types::ErrorBody;
use serde::Deserialize;
use time::{Date, Month, OffsetDateTime, Time};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UsageQuery {
    /// `YYYY-MM` (UTC); the current month when absent.
    month: Option<String>,
}

fn month_range(month: Option<&str>) -> Result<(String, OffsetDateTime, OffsetDateTime), ApiError> {
    let bad = || ApiError::field("month", "must be a month like 2026-11");
    let (year, m) = match month {
        None => {
            let now = OffsetDateTime::now_utc();
            (now.year(), now.month())
        }
        Some(s) => {
            let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
            let y: i32 = y.parse().map_err(|_| bad())?;
            let m: u8 = m.parse().map_err(|_| bad())?;
            (y, Month::try_from(m).map_err(|_| bad())?)
        }
    };
    let start = Date::from_calendar_date(year, m, 1).map_err(|_| bad())?;
    let (ny, nm) = if m == Month::December {
        (year + 1, Month::January)
    } else {
        (year, m.next())
    };
    let end = Date::from_calendar_date(ny, nm, 1).map_err(|_| bad())?;
    Ok((
        format!("{year:04}-{:02}", m as u8),
        start.with_time(Time::MIDNIGHT).assume_utc(),
        end.with_time(Time::MIDNIGHT).assume_utc(),
    ))
}

#[utoipa::path(get, operation_id = "aiUsage", summary = "Get a month's AI usage", path = "/ai/usage", tag = "ai", security(("bearer" = [])),
    params(UsageQuery),
    description = "Calls, failures, fallbacks, tokens and average latency of one calendar month (UTC), in total and by provider, model and operation. Connection tests count too.",
    responses(
        (status = 200, description = "Calls, failures, tokens and latency of one month, by provider, model and operation", body = UsageSummary),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid month", body = ErrorBody),
    ))]
pub async fn usage(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<UsageQuery>,
) -> ApiResult<HttpResponse> {
    let (month, from, to) = month_range(query.month.as_deref())?;
    let rows = db::ai::usage(&state.pool, caller.org_id, from, to).await?;
    Ok(HttpResponse::Ok().json(UsageSummary {
        month,
        calls: rows.iter().map(|r| r.calls).sum(),
        failed: rows.iter().map(|r| r.failed).sum(),
        tokens_in: rows.iter().map(|r| r.tokens_in).sum(),
        tokens_out: rows.iter().map(|r| r.tokens_out).sum(),
        rows,
    }))
}
