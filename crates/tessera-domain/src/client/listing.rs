//! How a list of clients is ordered and narrowed ([`ClientListOptions`]): the `sort`,
//! `isActive`, `clientType` and `grantType` parameters of `GET …/oauth-clients`, parsed once
//! with every bad one named.

use super::GrantType;
use crate::error::{Collector, FieldError, ValidationError};

/// What a list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSortKey {
    Name,
    CreatedAt,
    UpdatedAt,
    /// The last use of any of the client's secrets (clients never used last).
    LastUsedAt,
}

/// A sort key and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSort {
    pub key: ClientSortKey,
    pub descending: bool,
}

impl Default for ClientSort {
    /// Newest first, as the list has always been.
    fn default() -> Self {
        Self {
            key: ClientSortKey::CreatedAt,
            descending: true,
        }
    }
}

/// The order and filters of a list of clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientListOptions {
    pub sort: ClientSort,
    pub is_active: Option<bool>,
    /// `Some(true)`: confidential clients only; `Some(false)`: public ones.
    pub confidential: Option<bool>,
    pub grant_type: Option<GrantType>,
}

const SORTS: &str = "name, createdAt, updatedAt or lastUsedAt, with - in front for descending";

impl ClientListOptions {
    /// The options of a list request's parameters (absent: none); each bad one is named.
    pub fn parse(
        sort: Option<&str>,
        is_active: Option<&str>,
        client_type: Option<&str>,
        grant_type: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let sort = match sort.filter(|s| !s.is_empty()) {
            None => ClientSort::default(),
            Some(s) => {
                let (descending, name) = match s.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, s),
                };
                let key = match name {
                    "name" => Some(ClientSortKey::Name),
                    "createdAt" => Some(ClientSortKey::CreatedAt),
                    "updatedAt" => Some(ClientSortKey::UpdatedAt),
                    "lastUsedAt" => Some(ClientSortKey::LastUsedAt),
                    _ => None,
                };
                match key {
                    Some(key) => ClientSort { key, descending },
                    None => {
                        c.push(FieldError::new(
                            "sort",
                            format!("unknown sort '{s}': use {SORTS}"),
                        ));
                        ClientSort::default()
                    }
                }
            }
        };
        let is_active = match is_active.filter(|s| !s.is_empty()) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                c.push(FieldError::new(
                    "isActive",
                    format!("'{other}' is not true or false"),
                ));
                None
            }
        };
        let confidential = match client_type.filter(|s| !s.is_empty()) {
            None => None,
            Some("confidential") => Some(true),
            Some("public") => Some(false),
            Some(other) => {
                c.push(FieldError::new(
                    "clientType",
                    format!("unknown client type '{other}': use public or confidential"),
                ));
                None
            }
        };
        let grant_type = grant_type
            .filter(|s| !s.is_empty())
            .and_then(|g| c.take(GrantType::parse(g).map_err(|e| e.at("grantType"))));
        c.finish()?;
        Ok(Self {
            sort,
            is_active,
            confidential,
            grant_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_filters_parse_and_bad_ones_are_named() {
        let o = ClientListOptions::parse(
            Some("-lastUsedAt"),
            Some("true"),
            Some("public"),
            Some("client_credentials"),
        )
        .unwrap();
        assert_eq!(
            o.sort,
            ClientSort {
                key: ClientSortKey::LastUsedAt,
                descending: true
            }
        );
        assert_eq!((o.is_active, o.confidential), (Some(true), Some(false)));
        assert_eq!(o.grant_type, Some(GrantType::ClientCredentials));
        assert_eq!(
            ClientListOptions::parse(None, None, None, None).unwrap(),
            ClientListOptions::default()
        );
        let e = ClientListOptions::parse(Some("size"), Some("yes"), Some("machine"), Some("magic"))
            .unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["sort", "isActive", "clientType", "grantType"]);
        assert!(e.errors[0].message.contains("createdAt"));
    }
}
