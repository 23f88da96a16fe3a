//! A person's standard claims (OpenID Connect Core §5.1) beyond the user name, e-mail address
//! and display name that [`crate::User`] holds itself: given, family and middle name,
//! nickname, profile, picture and website URLs, gender, birthdate, zoneinfo, locale, whether
//! the e-mail address and phone number are verified, the phone number and the postal address.
//!
//! Every value is optional and valid by construction: a [`UserProfile`] is made only by
//! [`UserProfile::merged`], which reads the camelCase names the REST API, the CLI and the
//! console use (`givenName`, `address.postalCode`) and names the field of every error. The
//! claims a token's scopes release are [`UserProfile::claims_for`] (§5.4).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Collector, FieldError, ValidationError};

/// A postal address (OIDC Core §5.1.1); every part optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl Address {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The claim, with OIDC Core's snake_case member names.
    fn claim(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("formatted", &self.formatted),
            ("street_address", &self.street_address),
            ("locality", &self.locality),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
        ] {
            if let Some(v) = v {
                m.insert(k.to_owned(), Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }
}

/// The standard claims of a person, beyond name, e-mail and user name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserProfile {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub nickname: Option<String>,
    pub profile: Option<String>,
    pub picture: Option<String>,
    pub website: Option<String>,
    pub gender: Option<String>,
    pub birthdate: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub email_verified: bool,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub address: Option<Address>,
}

/// The profile's field names, as the REST API, the CLI and the console name them.
pub const PROFILE_FIELDS: &[&str] = &[
    "givenName",
    "familyName",
    "middleName",
    "nickname",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "emailVerified",
    "phoneNumber",
    "phoneNumberVerified",
    "address",
];

/// The parts of `address`.
pub const ADDRESS_FIELDS: &[&str] = &[
    "formatted",
    "streetAddress",
    "locality",
    "region",
    "postalCode",
    "country",
];

/// Which claims each scope releases (OIDC Core §5.4).
pub fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        // The user's roles in the organization; `role` is the seed's name for the scope.
        "roles" | "role" => &["roles"],
        _ => &[],
    }
}

const MAX_TEXT: usize = 200;

fn text(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.chars().count() > MAX_TEXT {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    crate::text::check_display_text(t, field)?;
    Ok(t.to_owned())
}

fn web_url(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    let ok = t.len() <= 2048
        && url::Url::parse(t)
            .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some());
    if ok && !t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(t.to_owned())
    } else {
        Err(FieldError::new(
            field,
            format!("'{t}' is not an http(s) URL"),
        ))
    }
}

/// OIDC Core §5.1: `YYYY-MM-DD`, `0000-MM-DD` (year withheld) or `YYYY` (year only).
fn birthdate(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    let bad = || {
        FieldError::new(
            field,
            format!("'{t}' is not a date: use YYYY-MM-DD, 0000-MM-DD or YYYY"),
        )
    };
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = t.split('-').collect();
    match parts.as_slice() {
        [y] if digits(y, 4) && *y != "0000" => Ok(t.to_owned()),
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
            let (m, d): (u8, u8) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
            // A year of 0000 is a leap year for the purpose of 29 February.
            let year: i32 = y.parse().map_err(|_| bad())?;
            let month = time::Month::try_from(m).map_err(|_| bad())?;
            let days = time::util::days_in_month(month, if year == 0 { 2000 } else { year });
            if d == 0 || d > days {
                return Err(bad());
            }
            Ok(t.to_owned())
        }
        _ => Err(bad()),
    }
}

/// An IANA time zone name such as `Europe/Paris` or `America/Argentina/Buenos_Aires`.
fn zoneinfo(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
        && !t.starts_with('/')
        && !t.ends_with('/');
    if ok {
        Ok(t.to_owned())
    } else {
        Err(FieldError::new(
            field,
            format!("'{t}' is not a time zone name such as Europe/Paris"),
        ))
    }
}

/// A BCP 47 language tag such as `en-US` or `fr` (OIDC Core §5.1 allows `_` too).
fn locale(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    let mut parts = t.split(['-', '_']);
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if first_ok && rest_ok && t.len() <= 35 {
        Ok(t.to_owned())
    } else {
        Err(FieldError::new(
            field,
            format!("'{t}' is not a language tag such as en-US"),
        ))
    }
}

/// A telephone number; E.164 (`+1 555 0100`) is recommended (§5.1), with an extension after
/// `;ext=`.
fn phone(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    let (number, ext) = t.split_once(";ext=").unwrap_or((t, ""));
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    let ok = (3..=20).contains(&digits)
        && number.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_digit()
                || matches!(b, b' ' | b'-' | b'.' | b'(' | b')')
                || (i == 0 && b == b'+')
        })
        && ext.bytes().all(|b| b.is_ascii_digit())
        && ext.len() <= 10;
    if ok {
        Ok(t.to_owned())
    } else {
        Err(FieldError::new(
            field,
            format!("'{t}' is not a telephone number such as +1 555 0100"),
        ))
    }
}

/// `null` or an empty string: no value.
fn string_value<'a>(field: &str, v: &'a Value) -> Result<Option<&'a str>, FieldError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(FieldError::new(field, "must be a string or null")),
    }
}

fn bool_value(field: &str, v: &Value) -> Result<bool, FieldError> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        _ => Err(FieldError::new(field, "must be true or false")),
    }
}

impl UserProfile {
    /// This profile with `changes` applied: each camelCase field present replaces the value
    /// (`null` or `""` clears it; `address` merges part by part, and `null` clears it all).
    /// Every bad field is reported, by name (`birthdate`, `address.postalCode`).
    pub fn merged(&self, changes: &Map<String, Value>) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let mut out = self.clone();
        for (k, v) in changes {
            let field = k.as_str();
            let opt = |parse: fn(&str, &str) -> Result<String, FieldError>,
                       c: &mut Collector|
             -> Option<Option<String>> {
                match string_value(field, v) {
                    Ok(None) => Some(None),
                    Ok(Some(s)) => c.take(parse(field, s)).map(Some),
                    Err(e) => {
                        c.push(e);
                        None
                    }
                }
            };
            let set = |slot: &mut Option<String>, value: Option<Option<String>>| {
                if let Some(v) = value {
                    *slot = v;
                }
            };
            match field {
                "givenName" => set(&mut out.given_name, opt(text, &mut c)),
                "familyName" => set(&mut out.family_name, opt(text, &mut c)),
                "middleName" => set(&mut out.middle_name, opt(text, &mut c)),
                "nickname" => set(&mut out.nickname, opt(text, &mut c)),
                "gender" => set(&mut out.gender, opt(text, &mut c)),
                "profile" => set(&mut out.profile, opt(web_url, &mut c)),
                "picture" => set(&mut out.picture, opt(web_url, &mut c)),
                "website" => set(&mut out.website, opt(web_url, &mut c)),
                "birthdate" => set(&mut out.birthdate, opt(birthdate, &mut c)),
                "zoneinfo" => set(&mut out.zoneinfo, opt(zoneinfo, &mut c)),
                "locale" => set(&mut out.locale, opt(locale, &mut c)),
                "phoneNumber" => set(&mut out.phone_number, opt(phone, &mut c)),
                "emailVerified" => {
                    if let Some(b) = c.take(bool_value(field, v)) {
                        out.email_verified = b;
                    }
                }
                "phoneNumberVerified" => {
                    if let Some(b) = c.take(bool_value(field, v)) {
                        out.phone_number_verified = b;
                    }
                }
                "address" => match v {
                    Value::Null => out.address = None,
                    Value::Object(parts) => {
                        let mut a = out.address.clone().unwrap_or_default();
                        for (pk, pv) in parts {
                            let pfield = format!("address.{pk}");
                            let slot = match pk.as_str() {
                                "formatted" => &mut a.formatted,
                                "streetAddress" => &mut a.street_address,
                                "locality" => &mut a.locality,
                                "region" => &mut a.region,
                                "postalCode" => &mut a.postal_code,
                                "country" => &mut a.country,
                                _ => {
                                    c.push(FieldError::new(
                                        &pfield,
                                        format!("unknown field: use {}", ADDRESS_FIELDS.join(", ")),
                                    ));
                                    continue;
                                }
                            };
                            // A formatted address may span lines (§5.1.1); the rest is one line.
                            let value = match string_value(&pfield, pv) {
                                Ok(None) => Some(None),
                                Ok(Some(s)) if pk == "formatted" => {
                                    let one_line = s.replace(['\n', '\r'], " ");
                                    c.take(text(&pfield, &one_line))
                                        .map(|_| Some(s.trim().replace("\r\n", "\n")))
                                }
                                Ok(Some(s)) => c.take(text(&pfield, s)).map(Some),
                                Err(e) => {
                                    c.push(e);
                                    None
                                }
                            };
                            if let Some(v) = value {
                                *slot = v;
                            }
                        }
                        out.address = (!a.is_empty()).then_some(a);
                    }
                    _ => c.push(FieldError::new(field, "must be an object or null")),
                },
                other => c.push(FieldError::new(
                    other,
                    format!("unknown field: use {}", PROFILE_FIELDS.join(", ")),
                )),
            }
        }
        c.finish()?;
        Ok(out)
    }

    /// The claims a person's profile releases for `claims` (OIDC Core names), present values
    /// only; the booleans are always present.
    pub fn claim(&self, name: &str) -> Option<Value> {
        let s = |v: &Option<String>| v.as_ref().map(|v| Value::String(v.clone()));
        match name {
            "given_name" => s(&self.given_name),
            "family_name" => s(&self.family_name),
            "middle_name" => s(&self.middle_name),
            "nickname" => s(&self.nickname),
            "profile" => s(&self.profile),
            "picture" => s(&self.picture),
            "website" => s(&self.website),
            "gender" => s(&self.gender),
            "birthdate" => s(&self.birthdate),
            "zoneinfo" => s(&self.zoneinfo),
            "locale" => s(&self.locale),
            "email_verified" => Some(Value::Bool(self.email_verified)),
            "phone_number" => s(&self.phone_number),
            "phone_number_verified" => self
                .phone_number
                .as_ref()
                .map(|_| Value::Bool(self.phone_number_verified)),
            "address" => self.address.as_ref().map(Address::claim),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn merge(p: &UserProfile, v: Value) -> Result<UserProfile, ValidationError> {
        p.merged(v.as_object().unwrap())
    }

    #[test]
    fn every_field_parses_and_clears() {
        let p = merge(
            &UserProfile::default(),
            json!({
                "givenName": "Alice", "familyName": "Liddell", "middleName": "Pleasance",
                "nickname": "Al", "profile": "https://example.com/alice",
                "picture": "https://example.com/a.png", "website": "http://alice.example",
                "gender": "female", "birthdate": "1852-05-04", "zoneinfo": "Europe/London",
                "locale": "en-GB", "emailVerified": true, "phoneNumber": "+44 20 7946 0000",
                "phoneNumberVerified": true,
                "address": {"formatted": "1 Wonder Lane\nOxford", "streetAddress": "1 Wonder Lane",
                            "locality": "Oxford", "region": "Oxfordshire", "postalCode": "OX1 1AA",
                            "country": "GB"},
            }),
        )
        .unwrap();
        assert_eq!(p.claim("given_name"), Some(json!("Alice")));
        assert_eq!(p.claim("address").unwrap()["postal_code"], "OX1 1AA");
        assert_eq!(p.claim("phone_number_verified"), Some(json!(true)));
        let cleared = merge(
            &p,
            json!({"givenName": null, "nickname": "", "address": null}),
        )
        .unwrap();
        assert_eq!(cleared.given_name, None);
        assert_eq!(cleared.nickname, None);
        assert_eq!(cleared.address, None);
        assert_eq!(cleared.family_name.as_deref(), Some("Liddell"));
        let part = merge(&p, json!({"address": {"region": null}})).unwrap();
        assert_eq!(part.address.unwrap().locality.as_deref(), Some("Oxford"));
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = merge(
            &UserProfile::default(),
            json!({
                "birthdate": "1852-02-30", "zoneinfo": "Europe Paris", "locale": "english!",
                "website": "javascript:alert(1)", "phoneNumber": "call me",
                "givenName": "Al\u{202e}ice", "emailVerified": "yes", "colour": "red",
                "address": {"planet": "Earth", "country": 7},
            }),
        )
        .unwrap_err();
        let mut fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "address.country",
                "address.planet",
                "birthdate",
                "colour",
                "emailVerified",
                "givenName",
                "locale",
                "phoneNumber",
                "website",
                "zoneinfo"
            ]
        );
    }

    #[test]
    fn birthdates_follow_oidc_core() {
        for ok in ["1990-12-31", "0000-02-29", "1990", "2000-02-29"] {
            assert!(birthdate("b", ok).is_ok(), "{ok}");
        }
        for bad in [
            "1990-13-01",
            "1990-02-30",
            "1990-1-1",
            "0000",
            "90",
            "1990/01/01",
            "2001-02-29",
        ] {
            assert!(birthdate("b", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_release_the_claims_of_oidc_core_5_4() {
        assert!(scope_claims("profile").contains(&"updated_at"));
        assert_eq!(
            scope_claims("phone"),
            ["phone_number", "phone_number_verified"]
        );
        assert!(scope_claims("openid").is_empty());
    }

    proptest::proptest! {
        /// Whatever is sent, merging never panics, and what is accepted is shown as it is.
        #[test]
        fn merging_is_total(key in proptest::sample::select(PROFILE_FIELDS.to_vec()), value in "\\PC{0,30}") {
            let mut m = Map::new();
            m.insert(key.to_owned(), Value::String(value));
            if let Ok(p) = UserProfile::default().merged(&m) {
                let again = p.merged(&Map::new()).unwrap();
                proptest::prop_assert_eq!(again, p);
            }
        }
    }
}
