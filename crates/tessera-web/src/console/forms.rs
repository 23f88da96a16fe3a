//! Reading the console's forms (`application/x-www-form-urlencoded`, with repeated names for
//! checkbox groups) and placing a service's field errors next to their fields.

use std::collections::BTreeMap;

use tessera_core::CoreError;

/// A submitted form, in order, repeated names kept. Forms carry passwords and secrets, so
/// its `Debug` names the fields and shows no value.
#[derive(Default, Clone)]
pub struct Form(Vec<(String, String)>);

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_owned()
    }

    /// A field that may be left empty: `None` then.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|s| !s.is_empty())
    }

    /// Every value of a repeated field (a group of checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A textarea of one value per line, blank lines skipped.
    pub fn lines(&self, name: &str) -> Vec<String> {
        split_lines(self.get(name).unwrap_or(""))
    }

    /// Words separated by spaces, commas or new lines (scopes).
    pub fn words(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or("")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// One value per line, trimmed, blank lines skipped.
pub fn split_lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Errors by form field. A service names a field as the API spells it (`redirectUris[1]`);
/// the form field is the part before the index, and the index becomes the line number.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    by_field: BTreeMap<String, Vec<String>>,
    /// Errors that belong to no field of the form.
    pub general: Vec<String>,
}

impl FieldErrors {
    /// The field errors of a validation error; any other error as a general one.
    pub fn from_error(e: &CoreError, fields: &[&str]) -> Self {
        let mut out = Self::default();
        match e {
            CoreError::Validation(v) => {
                for fe in &v.errors {
                    let (field, line) = split_field(&fe.field);
                    let message = match line {
                        Some(i) => format!("Line {}: {}", i + 1, fe.message),
                        None => fe.message.clone(),
                    };
                    if fields.contains(&field) {
                        out.by_field
                            .entry(field.to_owned())
                            .or_default()
                            .push(message);
                    } else {
                        out.general.push(format!("{}: {}", fe.field, fe.message));
                    }
                }
                if v.errors.is_empty() {
                    out.general.push(v.to_string());
                }
            }
            CoreError::Conflict(m) => {
                // A taken client id belongs next to the id.
                if fields.contains(&"clientId") && m.contains("client") {
                    out.by_field
                        .entry("clientId".into())
                        .or_default()
                        .push(m.clone());
                } else {
                    out.general.push(m.clone());
                }
            }
            other => out.general.push(other.to_string()),
        }
        out
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.by_field
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    /// Whether a field has an error (the template marks it `aria-invalid`).
    pub fn has(&self, field: &str) -> bool {
        self.by_field.contains_key(field)
    }

    /// The field's errors, joined for display; empty when none.
    pub fn get(&self, field: &str) -> String {
        self.by_field
            .get(field)
            .map(|m| m.join(" "))
            .unwrap_or_default()
    }
}

/// `redirectUris[1]` → (`redirectUris`, Some(1)); `tokenExchange.subjectClients[0]` →
/// (`tokenExchange`, None): nested fields are shown on their parent.
fn split_field(field: &str) -> (&str, Option<usize>) {
    let end = field.find(['[', '.']).unwrap_or(field.len());
    let name = &field[..end];
    let index = field[end..]
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(i, rest)| rest.is_empty().then(|| i.parse().ok()).flatten());
    (name, index)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tessera_domain::error::{FieldError, ValidationError};

    #[test]
    fn repeated_fields_and_lines() {
        let f = Form::parse(b"grantTypes=a&grantTypes=b&redirectUris=x%0D%0A%0D%0A+y+&on=1");
        assert_eq!(f.all("grantTypes"), ["a", "b"]);
        assert_eq!(f.lines("redirectUris"), ["x", "y"]);
        assert!(f.checked("on"));
        assert!(!f.checked("off"));
        assert_eq!(f.optional("missing"), None);
        let shown = format!("{f:?}");
        assert!(
            shown.contains("redirectUris") && !shown.contains('x'),
            "{shown}"
        );
    }

    #[test]
    fn field_errors_land_on_their_field_with_the_line() {
        let v = ValidationError {
            errors: vec![
                FieldError::new("redirectUris[1]", "must use https"),
                FieldError::new("tokenExchange.subjectClients[0]", "unknown client"),
                FieldError::new("somethingElse", "bad"),
            ],
        };
        let e = FieldErrors::from_error(
            &CoreError::Validation(v),
            &["redirectUris", "tokenExchange"],
        );
        assert_eq!(e.get("redirectUris"), "Line 2: must use https");
        assert_eq!(e.get("tokenExchange"), "unknown client");
        assert_eq!(e.general, ["somethingElse: bad"]);
        assert!(e.has("redirectUris") && !e.has("name"));
    }
}
