//! A partial change of a client ([`ClientPatch`]): the body of a PATCH as REST and GraphQL take
//! it, and what the console and registration build. Applied over the client's current settings
//! ([`ClientPatch::apply`]), the result is validated like any [`ClientInput`].

use serde::{Deserialize, Deserializer};

use super::settings::Echoed;
use super::{ClientInput, TokenExchangePolicy};

/// A change of a client: only the fields given change, and `null` clears a nullable one.
/// Unknown fields are refused; the read-only fields of the client object are accepted and
/// ignored.
//
// In Rust: `None` leaves a field as it is; for a nullable field, `Some(None)` clears it.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OauthClientPatch))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ClientPatch {
    /// The client's own id, accepted so that a GET answer can be sent back; another is refused.
    pub id: Option<String>,
    /// The client's own id, as `id`.
    pub client_id: Option<String>,
    pub name: Option<String>,
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    pub is_confidential: Option<bool>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub allowed_cors_origins: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    /// `false` disables the client, `true` enables it.
    pub is_active: Option<bool>,
    pub require_pkce: Option<bool>,
    pub require_consent: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub client_uri: Option<Option<String>>,
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub logo_uri: Option<Option<String>>,
    pub access_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    pub id_token_signed_response_alg: Option<String>,
    pub access_token_signed_response_alg: Option<String>,
    /// null: plain JSON at userinfo.
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub userinfo_signed_response_alg: Option<Option<String>>,
    /// null: request objects signed with any algorithm of the keys.
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub request_object_signing_alg: Option<Option<String>>,
    /// null: the default of the client's type.
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub token_endpoint_auth_method: Option<Option<String>>,
    /// null removes the client's keys.
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<Option<serde_json::Value>>,
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub jwks_uri: Option<Option<String>>,
    pub token_exchange: Option<TokenExchangePolicy>,
    pub require_pushed_authorization_requests: Option<bool>,
    pub dpop_bound_access_tokens: Option<bool>,
    pub require_signed_request_object: Option<bool>,
    /// null: no back-channel logout.
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub backchannel_logout_uri: Option<Option<String>>,
    pub backchannel_logout_session_required: Option<bool>,
    /// null: no security profile.
    #[serde(deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub security_profile: Option<Option<String>>,
    /// `public` or `confidential`; derived from `isConfidential` and, when sent, must agree
    /// with it (alone, it sets it).
    pub client_type: Option<String>,
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub secrets: Echoed,
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub created_at: Echoed,
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub updated_at: Echoed,
}

/// A field that was sent, `null` included: `Some(None)` for `null` (absent stays `None`
/// through `#[serde(default)]`). For every PATCH body that can clear a field.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl ClientPatch {
    /// The client's settings `current` with this change made. The client's type follows
    /// from what the patch itself says (`isConfidential`, else `clientType`, else a
    /// `tokenEndpointAuthMethod` that only one type uses), so that `{"clientType": "public"}`
    /// alone makes a client public.
    pub fn apply(mut self, mut i: ClientInput) -> ClientInput {
        if let Some(c) = ClientInput::confidential_from(
            self.is_confidential,
            self.client_type.as_deref(),
            self.token_endpoint_auth_method
                .as_ref()
                .and_then(|m| m.as_deref()),
        ) {
            i.is_confidential = Some(c);
        }
        i.client_type = self.client_type.take();
        if let Some(v) = self.allowed_scopes.take() {
            i.allowed_scopes = Some(v);
        }
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { i.$f = v; } )* };
        }
        set!(
            name,
            description,
            redirect_uris,
            post_logout_redirect_uris,
            allowed_cors_origins,
            grant_types,
            is_active,
            require_pkce,
            require_consent,
            client_uri,
            logo_uri,
            access_token_lifetime,
            refresh_token_lifetime,
            id_token_signed_response_alg,
            access_token_signed_response_alg,
            userinfo_signed_response_alg,
            request_object_signing_alg,
            token_endpoint_auth_method,
            jwks,
            jwks_uri,
            token_exchange,
            require_pushed_authorization_requests,
            dpop_bound_access_tokens,
            require_signed_request_object,
            backchannel_logout_uri,
            backchannel_logout_session_required,
            security_profile
        );
        i
    }

    /// The ids the patch names, with their field names, to hold to the client's own.
    pub fn ids(&self) -> [(&'static str, Option<&str>); 2] {
        [
            ("id", self.id.as_deref()),
            ("clientId", self.client_id.as_deref()),
        ]
    }
}

impl ClientInput {
    /// As [`ClientPatch::ids`].
    pub fn ids(&self) -> [(&'static str, Option<&str>); 2] {
        [
            ("id", self.id.as_deref()),
            ("clientId", self.client_id.as_deref()),
        ]
    }
}
