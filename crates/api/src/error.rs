//! The one error type of the API and its JSON shape `{"error":{"code","message","fields"?,"request_id"}}`.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    middleware::Next,
    HttpMessage, HttpResponse, ResponseError,
};
use aura_types::{ErrorBody, ErrorCode, ErrorDetail, FieldErrors};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("duplicate: {message}")]
    Duplicate {
        message: String,
        existing_id: uuid::Uuid,
    },
    #[error("validation failed")]
    Validation(BTreeMap<String, String>),
    #[error("payload too large")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    #[error("upstream failed: {0}")]
    Upstream(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.add(name, message);
        fields.into()
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::Conflict(_) | ApiError::Duplicate { .. } => ErrorCode::Conflict,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Unavailable => ErrorCode::Unavailable,
            ApiError::Upstream(_) => ErrorCode::UpstreamFailed,
            ApiError::Unexpected(_) => ErrorCode::Internal,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::BadRequest(m) | ApiError::Upstream(m) => m.clone(),
            ApiError::Unauthorized(m) | ApiError::Forbidden(m) => (*m).to_owned(),
            ApiError::NotFound => "Nothing was found at this address.".into(),
            ApiError::Conflict(m) | ApiError::Duplicate { message: m, .. } => m.clone(),
            ApiError::Validation(fields) => {
                let names: Vec<&str> = fields.keys().map(String::as_str).collect();
                format!("Some fields need attention: {}.", names.join(", "))
            }
            ApiError::PayloadTooLarge(0) => "The request body is too large.".into(),
            ApiError::PayloadTooLarge(limit) => {
                format!("The request body is larger than the {limit} bytes allowed.")
            }
            ApiError::MethodNotAllowed => "This address does not accept this method.".into(),
            ApiError::UnsupportedMediaType => "Send the request body as application/json.".into(),
            ApiError::RateLimited { retry_after_secs } => {
                format!("Too many attempts. Try again in {retry_after_secs} seconds.")
            }
            ApiError::Unavailable => "The service is temporarily unavailable.".into(),
            ApiError::Unexpected(_) => {
                "An internal error occurred. Quote the request id when reporting it.".into()
            }
        }
    }

    /// The response for this error, with the request id filled in.
    pub fn to_response(&self, request_id: Option<String>) -> HttpResponse {
        let code = self.code();
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.message(),
                fields: match self {
                    ApiError::Validation(f) => Some(f.clone()),
                    _ => None,
                },
                existing_id: match self {
                    ApiError::Duplicate { existing_id, .. } => Some(*existing_id),
                    _ => None,
                },
                request_id,
            },
        };
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(body)
    }
}

impl ApiError {
    /// The API's error for a response the framework produced itself (no route, wrong method…).
    fn from_framework(status: StatusCode, cause: Option<&actix_web::Error>) -> Self {
        match status.as_u16() {
            400 => {
                ApiError::BadRequest(cause.map_or_else(|| "Bad request.".into(), |c| c.to_string()))
            }
            404 => ApiError::NotFound,
            405 => ApiError::MethodNotAllowed,
            413 => ApiError::PayloadTooLarge(0),
            415 => ApiError::UnsupportedMediaType,
            401 => ApiError::Unauthorized("Sign in to continue."),
            403 => ApiError::Forbidden("Not allowed."),
            503 => ApiError::Unavailable,
            _ => ApiError::Unexpected(anyhow::anyhow!(
                "{status}: {}",
                cause.map(ToString::to_string).unwrap_or_default()
            )),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(fields: FieldErrors) -> Self {
        ApiError::Validation(fields.0)
    }
}

impl From<aura_types::PageQueryError> for ApiError {
    fn from(e: aura_types::PageQueryError) -> Self {
        ApiError::field(e.field(), e.message())
    }
}

impl From<crate::db::Duplicate> for ApiError {
    fn from(d: crate::db::Duplicate) -> Self {
        use crate::db::Duplicate::*;
        match d {
            UserEmail => ApiError::Conflict("An account with this email already exists.".into()),
            OpenInvitation => {
                ApiError::Conflict("This address already has an open invitation.".into())
            }
            ContactAddress => ApiError::Conflict(
                "Another contact with this email or phone number was just saved.".into(),
            ),
            SegmentName => ApiError::field("name", "another segment has this name"),
            MailboxEmail => {
                ApiError::field("from_email", "another mailbox sends from this address")
            }
            ProviderName => ApiError::field("name", "another provider has this name"),
            PersonaName => ApiError::field("name", "another persona has this name"),
            PhoneNumber => {
                ApiError::field("number", "this number is already one of the organization's")
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(duplicate) = crate::db::Duplicate::of(&e) {
            return duplicate.into();
        }
        match &e {
            sqlx::Error::PoolTimedOut => ApiError::Unavailable,
            _ => ApiError::Unexpected(anyhow::Error::new(e).context("database error")),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response(None)
    }
}

/// The id of the current request (assigned by the tracing middleware).
pub fn request_id(req: &actix_web::HttpRequest) -> Option<String> {
    req.extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string())
}

/// Middleware: logs server errors with their cause chain, puts the request id into every error
/// body and into the `x-request-id` header of every response.
pub async fn error_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let id = request_id(res.request());
    let is_api = res.request().path().starts_with("/api/");
    let status = res.status();
    let replacement = match res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        Some(api_error) => Some(api_error.to_response(id.clone())),
        // Errors the framework answered itself get the same JSON shape on API paths.
        None if is_api && (status.is_client_error() || status.is_server_error()) => {
            let api_error = ApiError::from_framework(status, res.response().error());
            Some(api_error.to_response(id.clone()))
        }
        None => None,
    };
    if let Some(ApiError::Unexpected(cause)) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        tracing::error!(error = ?cause, "request failed");
    }
    let mut res = match replacement {
        Some(response) => res.into_response(response),
        None => res.map_into_boxed_body(),
    };
    if let Some(id) = id.and_then(|id| header::HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), id);
    }
    Ok(res)
}
