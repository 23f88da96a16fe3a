//! JSON bodies and query strings whose rejections speak the API's error format: a malformed
//! body, an unknown field (request types deny them) or a wrong type is a 400 that says what
//! was wrong.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::Json` with our rejection: every problem names the field it is about (`isActive`,
/// `redirectUris[1]`), including unknown and missing fields.
pub struct Json<T>(pub T);

/// Drops serde_json's " at line L column C" suffix: the field path says more.
fn clean(msg: &str) -> &str {
    msg.rsplit_once(" at line ").map_or(msg, |(m, _)| m)
}

/// The field a serde message is about when the path is the enclosing object.
fn named_field(msg: &str) -> Option<&str> {
    let rest = msg
        .strip_prefix("missing field `")
        .or_else(|| msg.strip_prefix("unknown field `"))?;
    rest.split('`').next()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::bad_request(
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_request", e.body_text()))?;
        parse(&bytes).map(Json)
    }
}

/// A JSON body that may be left out entirely (then `T::default()`).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_type = req.headers().contains_key(http::header::CONTENT_TYPE);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_request", e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !has_type {
            return Err(ApiError::bad_request(
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        parse(&bytes).map(OptionalJson)
    }
}

/// Parses a JSON document, naming the field of any error.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => match de.end() {
            Ok(()) => Ok(v),
            Err(e) => Err(ApiError::bad_request(format!(
                "malformed JSON body: {}",
                clean(&e.to_string())
            ))),
        },
        Err(e) => {
            let inner = e.inner();
            let msg = clean(&inner.to_string()).to_owned();
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::bad_request(format!("malformed JSON body: {msg}")));
            }
            let path = e.path().to_string();
            let field = if path == "." {
                named_field(&msg).unwrap_or("body").to_owned()
            } else {
                path
            };
            Err(ApiError::invalid_field(&field, msg))
        }
    }
}

/// `axum::extract::Query` with our rejection.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::bad_request(format!(
                    "invalid query string: {}",
                    e.body_text()
                        .trim_start_matches("Failed to deserialize query string: ")
                )))
            }
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;
    use serde_json::Value;

    use tessera_domain::client::ClientInput;

    /// Extra names for a client body: the read-only fields sent back, and a few that are not
    /// fields at all (the editable ones are the console form's).
    const MORE_FIELDS: &[&str] = &[
        "clientId",
        "id",
        "isActive",
        "clientType",
        "secrets",
        "createdAt",
        "updatedAt",
        "secret",
        "bogus",
    ];

    fn field_name() -> impl Strategy<Value = &'static str> {
        let all: Vec<&'static str> = crate::console::clients::EDIT_FIELDS
            .iter()
            .chain(MORE_FIELDS)
            .copied()
            .collect();
        proptest::sample::select(all)
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,30}".prop_map(Value::String),
            "(https|http|myapp|javascript)://[a-z0-9.:/#?]{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any JSON sent as a client either parses and validates (or fails validation naming
        /// fields), or is refused with a 400 that names what was wrong. Never a panic.
        #[test]
        fn any_client_json_is_a_client_or_a_named_400(
            entries in proptest::collection::vec((field_name(), json_value()), 0..8)
        ) {
            let body: serde_json::Map<String, Value> =
                entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let bytes = serde_json::to_vec(&Value::Object(body)).unwrap();
            match super::parse::<ClientInput>(&bytes) {
                Ok(b) => {
                    if let Err(e) = tessera_domain::client::ClientSettings::validate(&b) {
                        prop_assert!(!e.errors.is_empty());
                        prop_assert!(e.errors.iter().all(|f| !f.field.is_empty()));
                    }
                }
                Err(e) => {
                    prop_assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
                    prop_assert!(!e.description.is_empty());
                }
            }
        }

        /// Bytes that are not JSON at all are a 400, never a panic.
        #[test]
        fn any_bytes_are_a_client_or_a_400(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Err(e) = super::parse::<ClientInput>(&bytes) {
                prop_assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
            }
        }
    }
}
