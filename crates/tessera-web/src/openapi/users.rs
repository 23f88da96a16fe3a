//! Users, their standard claims (OIDC Core §5.1) and postal address, and roles.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
pub struct UserSchema {
    pub id: String,
    pub org_id: String,
    pub username: String,
    /// The user name (OIDC Core §5.1 `preferred_username`).
    pub preferred_username: String,
    pub email: Option<String>,
    pub name: Option<String>,
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
    pub address: Option<AddressSchema>,
    pub roles: Vec<String>,
    pub is_system_admin: bool,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A person's standard claims (OIDC Core §5.1, in camelCase), each optional. In a create or
/// change body, `null` or `""` clears one; unknown names are refused, named.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StandardClaims)]
pub struct StandardClaimsSchema {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub nickname: Option<String>,
    /// An http(s) URL.
    pub profile: Option<String>,
    /// An http(s) URL.
    pub picture: Option<String>,
    /// An http(s) URL.
    pub website: Option<String>,
    pub gender: Option<String>,
    /// `YYYY-MM-DD`, `0000-MM-DD` or `YYYY`.
    pub birthdate: Option<String>,
    /// A time zone name such as `Europe/Paris`.
    pub zoneinfo: Option<String>,
    /// A language tag such as `en-US`.
    pub locale: Option<String>,
    pub email_verified: bool,
    /// E.164 recommended: `+1 555 0100`.
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub address: Option<AddressSchema>,
}

/// A postal address (OIDC Core §5.1.1).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Address)]
pub struct AddressSchema {
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// A role: built in, or defined by the organization.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Role)]
pub struct RoleSchema {
    pub name: String,
    pub permissions: Vec<String>,
    pub built_in: bool,
}
