//! The `claims` request parameter (OpenID Connect Core §5.5): which individual claims a client
//! asks to receive in the id_token and at userinfo, beyond what its scopes release.
//!
//! Only the names are kept: Tessera releases a requested claim when the user has a value for
//! it, whether the request marked it essential or not (§5.5.1: "essential" only tells the OP
//! that the client needs it). Values asked for with `value` or `values` matter for `acr`
//! alone, which Tessera answers with the one class it has.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldError;

/// The claims a request names, per place.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_token: Vec<String>,
}

/// More than any real request names.
const MAX_CLAIMS: usize = 64;

fn names(target: &str, v: &Value) -> Result<Vec<String>, FieldError> {
    let bad = |m: &str| FieldError::new("claims", format!("{target}: {m}"));
    let members = match v {
        Value::Null => return Ok(vec![]),
        Value::Object(m) => m,
        _ => return Err(bad("must be a JSON object of claim names")),
    };
    if members.len() > MAX_CLAIMS {
        return Err(bad(&format!("at most {MAX_CLAIMS} claims")));
    }
    let mut out = Vec::with_capacity(members.len());
    for (name, spec) in members {
        match spec {
            Value::Null => {}
            Value::Object(o) => {
                if o.get("essential").is_some_and(|e| !e.is_boolean()) {
                    return Err(bad(&format!("{name}.essential must be true or false")));
                }
                if o.get("values").is_some_and(|e| !e.is_array()) {
                    return Err(bad(&format!("{name}.values must be an array")));
                }
            }
            _ => return Err(bad(&format!("{name} must be null or an object"))),
        }
        // A claim Tessera has is a short snake_case name; any other (a URL-named claim of
        // another provider) is ignored, as §5.5 asks of claims an OP does not know.
        let known = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if known {
            out.push(name.clone());
        }
    }
    // In name order, whatever order the JSON had (and whichever map serde_json was built with).
    out.sort_unstable();
    Ok(out)
}

impl ClaimsRequest {
    /// Parses the parameter's JSON (§5.5). Members other than `userinfo` and `id_token` are
    /// ignored, as §5.5 allows; anything malformed names `claims`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v: Value = serde_json::from_str(raw)
            .map_err(|e| FieldError::new("claims", format!("is not valid JSON: {e}")))?;
        let Value::Object(top) = v else {
            return Err(FieldError::new("claims", "must be a JSON object"));
        };
        Ok(Self {
            userinfo: names("userinfo", top.get("userinfo").unwrap_or(&Value::Null))?,
            id_token: names("id_token", top.get("id_token").unwrap_or(&Value::Null))?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty() && self.id_token.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_specifications_example_parses() {
        // OIDC Core §5.5.
        let c = ClaimsRequest::parse(
            r#"{"userinfo": {"given_name": {"essential": true}, "nickname": null,
                 "email": {"essential": true}, "email_verified": {"essential": true},
                 "picture": null, "http://example.info/claims/groups": null},
                "id_token": {"auth_time": {"essential": true},
                 "acr": {"values": ["urn:mace:incommon:iap:silver"]}}}"#,
        );
        // A URL-named claim is not one Tessera has: ignored.
        assert_eq!(
            c.unwrap().userinfo,
            [
                "email",
                "email_verified",
                "given_name",
                "nickname",
                "picture"
            ]
        );
        let c = ClaimsRequest::parse(
            r#"{"userinfo": {"given_name": {"essential": true}, "nickname": null},
                "id_token": {"auth_time": {"essential": true}, "acr": {"values": ["1"]}}}"#,
        )
        .unwrap();
        assert_eq!(c.userinfo, ["given_name", "nickname"]);
        assert_eq!(c.id_token, ["acr", "auth_time"]);
    }

    #[test]
    fn malformed_requests_name_the_parameter() {
        for bad in [
            "not json",
            "[]",
            r#"{"userinfo": []}"#,
            r#"{"userinfo": {"name": 1}}"#,
            r#"{"id_token": {"name": {"essential": "yes"}}}"#,
        ] {
            assert_eq!(
                ClaimsRequest::parse(bad).unwrap_err().field,
                "claims",
                "{bad}"
            );
        }
        assert!(ClaimsRequest::parse("{}").unwrap().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_parsed_or_refused(s in "\\PC{0,60}") {
            let _ = ClaimsRequest::parse(&s);
        }
    }
}
