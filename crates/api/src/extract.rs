//! Request extractors that answer bad input with the API's JSON error: the JSON body (400 for
//! malformed JSON, 415 for another media type, 413 past the size limit, 422 naming the field for
//! wrong types and missing fields) and path ids (an id that cannot exist answers 404).

use crate::{error::ApiError, state::AppState};
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::{future::LocalBoxFuture, StreamExt};
use serde::de::DeserializeOwned;

/// A JSON request body parsed into `T`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.max_json_bytes)
            .unwrap_or(1024 * 1024);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::BadRequest(format!("Could not read the request body: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Json)
        })
    }
}

/// Parses a JSON document: syntax errors are 400, shape errors are 422 naming the field.
///
/// Syntax is checked first on its own, because serde_json reports some shape errors (an enum
/// given a number) as syntax errors when both are checked in one pass.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("The request body is not valid JSON: {e}")))?;
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = describe_data_error(&inner);
        let field = match (path.as_str(), missing_field_name(&inner)) {
            ("." | "", Some(missing)) => missing,
            ("." | "", None) => "body".into(),
            (p, Some(missing)) => format!("{p}.{missing}"),
            (p, None) => p.to_owned(),
        };
        ApiError::field(&field, message)
    })
}

fn missing_field_name(e: &serde_json::Error) -> Option<String> {
    let text = e.to_string();
    let rest = text.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

fn describe_data_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json appends " at line X column Y"; people do not need it.
    let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
    if text.starts_with("missing field") {
        "is required".into()
    } else {
        text
    }
}

/// Error handler for actix's own path extractor: a path segment that does not parse is an id that
/// cannot exist, so it answers 404 like any other unknown id.
pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

/// Error handler for actix's query-string extractor.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("Invalid query string: {err}")).into()
}

/// A file uploaded as `multipart/form-data`, with the form's other (text) fields.
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
    pub fields: std::collections::HashMap<String, String>,
}

/// Parts a form may have: the file and a few text fields. A form with more is refused as soon as
/// the part after the last allowed one begins, so a body of tens of thousands of tiny fields is
/// never parsed in full.
pub const MAX_FORM_PARTS: usize = 16;

/// Bytes a text (non-file) field of a form may have.
pub const MAX_FORM_FIELD_BYTES: usize = 64 * 1024;

/// Reads a multipart form with one file field named `file` of at most `max` bytes, and at most
/// [`MAX_FORM_PARTS`] parts in all, each text field at most [`MAX_FORM_FIELD_BYTES`].
pub async fn read_upload(
    mut form: actix_multipart::Multipart,
    max: usize,
) -> Result<Upload, ApiError> {
    use actix_multipart::MultipartError;
    let mut upload = Upload {
        filename: String::new(),
        bytes: Vec::new(),
        fields: Default::default(),
    };
    let mut has_file = false;
    let bad = |e: MultipartError| match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::BadRequest(
            "Send the file as multipart/form-data with a field named `file`.".into(),
        ),
        other => ApiError::BadRequest(format!("The upload could not be read: {other}")),
    };
    let mut parts = 0usize;
    while let Some(field) = form.next().await {
        parts += 1;
        if parts > MAX_FORM_PARTS {
            return Err(ApiError::BadRequest(format!(
                "The form has more than {MAX_FORM_PARTS} parts; send the file and its few fields only."
            )));
        }
        let mut field = field.map_err(bad)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" && has_file {
            return Err(ApiError::BadRequest(
                "The form has more than one `file`; send one file at a time.".into(),
            ));
        }
        let cap = if name == "file" {
            max
        } else {
            MAX_FORM_FIELD_BYTES
        };
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad)?;
            if data.len() + chunk.len() > cap {
                return Err(ApiError::PayloadTooLarge(cap));
            }
            data.extend_from_slice(&chunk);
        }
        if name == "file" {
            has_file = true;
            upload.filename = filename.unwrap_or_else(|| "upload.csv".into());
            upload.bytes = data;
        } else {
            upload
                .fields
                .insert(name, String::from_utf8_lossy(&data).into_owned());
        }
    }
    if !has_file {
        return Err(ApiError::field("file", "is required"));
    }
    Ok(upload)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aura_types::SignupRequest;

    fn fields(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Validation(f) => f.into_keys().collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse_json::<SignupRequest>(b"{\"email\":"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<SignupRequest>(b"not json"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let e = parse_json::<SignupRequest>(br#"{"email":"a@b.co","password":"x","name":"n"}"#)
            .unwrap_err();
        assert_eq!(fields(e), vec!["organization_name"]);
        let e = parse_json::<SignupRequest>(
            br#"{"email":5,"password":"x","name":"n","organization_name":"o"}"#,
        )
        .unwrap_err();
        assert_eq!(fields(e), vec!["email"]);
        let e = parse_json::<SignupRequest>(b"[]").unwrap_err();
        assert_eq!(fields(e), vec!["body"]);
        let e = parse_json::<aura_types::UpdateMemberRequest>(b"[1, 2]").unwrap_err();
        assert_eq!(fields(e), vec!["[0]"]);
        let e = parse_json::<aura_types::UpdateMemberRequest>(br#"{"role": 7}"#).unwrap_err();
        assert_eq!(fields(e), vec!["role"]);
    }
}
