//! The one typed API client: attaches the access token, refreshes the session once on 401, and
//! decodes every failure into the shared error shape. Pages call the endpoints by resource
//! (`api::contacts::list(api, &filter, cursor)`): the paths and query strings live only in this
//! module's children, and `Query` is the one place that encodes a query string.

pub mod ai;
pub mod auth;
pub mod campaigns;
pub mod contacts;
pub mod inbox;
pub mod mailboxes;
pub mod messages;
pub mod org;
pub mod phone;
mod query;
pub mod segments;

pub use query::{encode, Query};

use crate::state::Auth;
use aura_types::{ErrorBody, ErrorCode, ErrorDetail, Session};
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use gloo_net::http::{Method, Request, RequestBuilder};
use serde::{de::DeserializeOwned, Serialize};
use std::{cell::RefCell, collections::BTreeMap};

/// A failed call, as the server described it (or as close as possible when it could not answer).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError(pub ErrorDetail);

impl ApiError {
    fn local(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(ErrorDetail {
            code,
            message: message.into(),
            fields: None,
            existing_id: None,
            request_id: None,
        })
    }

    /// A request refused before it was sent (an input the page could not parse).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::local(ErrorCode::BadRequest, message)
    }

    pub fn message(&self) -> String {
        self.0.message.clone()
    }

    pub fn fields(&self) -> BTreeMap<String, String> {
        self.0.fields.clone().unwrap_or_default()
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

const BASE: &str = "/api/v1";

#[derive(Clone, Copy)]
pub struct Api {
    auth: Auth,
}

impl Api {
    pub fn new(auth: Auth) -> Self {
        Self { auth }
    }

    pub(in crate::api) async fn get<T: DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        parse(&self.send(Method::GET, path, None).await?)
    }

    pub(in crate::api) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> ApiResult<T> {
        parse(
            &self
                .send(Method::POST, path, Some(Body::json(body)?))
                .await?,
        )
    }

    pub(in crate::api) async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> ApiResult<T> {
        parse(
            &self
                .send(Method::PATCH, path, Some(Body::json(body)?))
                .await?,
        )
    }

    pub(in crate::api) async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> ApiResult<T> {
        parse(
            &self
                .send(Method::PUT, path, Some(Body::json(body)?))
                .await?,
        )
    }

    /// Posts `body` to an operation that answers 204 No Content.
    pub(in crate::api) async fn post_no_content<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> ApiResult<()> {
        self.send(Method::POST, path, Some(Body::json(body)?))
            .await
            .map(|_| ())
    }

    pub(in crate::api) async fn delete(&self, path: &str) -> ApiResult<()> {
        self.send(Method::DELETE, path, None).await.map(|_| ())
    }

    /// Posts a multipart form (a file upload).
    pub(in crate::api) async fn upload<T: DeserializeOwned>(
        &self,
        path: &str,
        form: web_sys::FormData,
    ) -> ApiResult<T> {
        parse(
            &self
                .send(Method::POST, path, Some(Body::Form(form)))
                .await?,
        )
    }

    /// Fetches a text resource (a CSV report) with the session's credentials.
    pub(in crate::api) async fn text(&self, path: &str) -> ApiResult<String> {
        self.send(Method::GET, path, None).await
    }

    async fn send(&self, method: Method, path: &str, body: Option<Body>) -> ApiResult<String> {
        let first = self.attempt(method.clone(), path, body.as_ref()).await;
        match first {
            Err(e) if e.code() == ErrorCode::Unauthorized && self.auth.token().is_some() => {
                // The access token expired: refresh once, then retry once.
                match refresh_shared().await {
                    Ok(session) => {
                        self.auth.set(session);
                        self.attempt(method, path, body.as_ref()).await
                    }
                    Err(_) => {
                        self.auth.clear();
                        Err(e)
                    }
                }
            }
            other => other,
        }
    }

    async fn attempt(&self, method: Method, path: &str, body: Option<&Body>) -> ApiResult<String> {
        let mut req = RequestBuilder::new(&format!("{BASE}{path}")).method(method);
        if let Some(token) = self.auth.token() {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        let req = match body {
            Some(Body::Json(text)) => req
                .header("Content-Type", "application/json")
                .body(text.clone()),
            Some(Body::Form(form)) => req.body(form.clone()),
            None => req.build(),
        }
        .map_err(|e| ApiError::local(ErrorCode::BadRequest, e.to_string()))?;
        decode(req).await
    }
}

/// A request body: JSON text, or a multipart form the browser encodes.
enum Body {
    Json(String),
    Form(web_sys::FormData),
}

impl Body {
    fn json<B: Serialize>(body: &B) -> ApiResult<Self> {
        serde_json::to_string(body)
            .map(Body::Json)
            .map_err(|e| ApiError::local(ErrorCode::BadRequest, e.to_string()))
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> ApiResult<T> {
    let text = if text.is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(|e| {
        ApiError::local(
            ErrorCode::Internal,
            format!("Unexpected answer from the server: {e}"),
        )
    })
}

/// The body of a successful answer, or the server's error.
async fn decode(req: Request) -> ApiResult<String> {
    let res = req.send().await.map_err(|_| {
        ApiError::local(
            ErrorCode::Unavailable,
            "Aura cannot be reached. Check your connection and try again.",
        )
    })?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        return Ok(text);
    }
    Err(failure(status, &text))
}

/// What an unsuccessful answer means: the server's error, or its status in words.
fn failure(status: u16, text: &str) -> ApiError {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => ApiError(body.error),
        Err(_) => ApiError::local(
            if status >= 500 {
                ErrorCode::Internal
            } else {
                ErrorCode::BadRequest
            },
            format!("The server answered {status}."),
        ),
    }
}

/// A file fetched with the session's credentials, as the page can show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    /// An object URL for the file (`blob:…`).
    pub url: String,
    pub content_type: String,
    pub size: usize,
}

impl Api {
    /// Fetches a file (a text's picture) with the session's credentials.
    pub(in crate::api) async fn file(&self, path: &str) -> ApiResult<Fetched> {
        let unreachable = || {
            ApiError::local(
                ErrorCode::Unavailable,
                "Aura cannot be reached. Check your connection and try again.",
            )
        };
        let mut req = RequestBuilder::new(&format!("{BASE}{path}"));
        if let Some(token) = self.auth.token() {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        let res = req.send().await.map_err(|_| unreachable())?;
        let status = res.status();
        if !(200..300).contains(&status) {
            return Err(failure(status, &res.text().await.unwrap_or_default()));
        }
        let content_type = res.headers().get("content-type").unwrap_or_default();
        let bytes = res.binary().await.map_err(|_| unreachable())?;
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
        let bag = web_sys::BlobPropertyBag::new();
        bag.set_type(&content_type);
        let local = |_| ApiError::local(ErrorCode::Internal, "The file cannot be shown.");
        let blob =
            web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &bag).map_err(local)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(local)?;
        Ok(Fetched {
            url,
            content_type,
            size: bytes.len(),
        })
    }
}

thread_local! {
    /// The refresh in flight, if any: requests that fail together share one refresh, because a
    /// refresh token is single-use and presenting it twice ends the session (reuse detection).
    static REFRESHING: RefCell<Option<Shared<LocalBoxFuture<'static, ApiResult<Session>>>>> = const { RefCell::new(None) };
}

/// Exchanges the refresh cookie for a new session, joining a refresh already in flight.
pub async fn refresh_shared() -> ApiResult<Session> {
    let pending = REFRESHING.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(pending) = slot.as_ref() {
            return pending.clone();
        }
        let pending = async {
            let result = refresh().await;
            REFRESHING.with(|slot| slot.borrow_mut().take());
            result
        }
        .boxed_local()
        .shared();
        *slot = Some(pending.clone());
        pending
    });
    pending.await
}

/// Exchanges the refresh cookie for a new session.
async fn refresh() -> ApiResult<Session> {
    let req = RequestBuilder::new(&format!("{BASE}/auth/refresh"))
        .method(Method::POST)
        .build()
        .map_err(|e| ApiError::local(ErrorCode::BadRequest, e.to_string()))?;
    parse(&decode(req).await?)
}

/// Ends the session (revokes the refresh cookie).
pub async fn logout() {
    if let Ok(req) = RequestBuilder::new(&format!("{BASE}/auth/logout"))
        .method(Method::POST)
        .build()
    {
        let _ = req.send().await;
    }
}
