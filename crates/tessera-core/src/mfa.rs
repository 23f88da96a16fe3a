//! The second factor: TOTP (RFC 6238) with recovery codes.
//!
//! A user enrols on their account page: a new 160-bit secret is sealed by the vault and shown
//! once (as text and as an `otpauth://` URI for authenticator apps); the first code typed in
//! confirms it and hands out ten recovery codes, shown once and kept as keyed hashes. From
//! then on, sign-in asks for a code after the password, and the id_token's `amr` says
//! `["pwd", "otp"]` (RFC 8176). Codes are HMAC-SHA1, six digits, 30-second steps (RFC 6238
//! §4, the parameters every authenticator app uses), accepted one step either side for clock
//! drift (§5.2) and never twice: the last accepted step is stored and only a later one passes
//! (§5.2, "the verifier MUST NOT accept the second attempt of the OTP").

use aws_lc_rs::hmac;
use serde_json::json;
use tessera_crypto::random::random_bytes;
use tessera_domain::{AuditAction, OrgId, Organization, Timestamp, UserId};
use tessera_store::{SealedColumn, UserTotp};

use crate::audit::AuditEntry;
use crate::connections::cell;
use crate::{Context, CoreError, CoreResult, Services};

/// Seconds per time step (RFC 6238 §4.1, X).
pub const TOTP_STEP_SECONDS: i64 = 30;
/// Digits of a code (RFC 4226 §5.3).
pub const TOTP_DIGITS: u32 = 6;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;

/// The code of `step` for `secret` (RFC 4226 §5.3 with the time step as the counter).
pub fn totp_code(secret: &[u8], step: i64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let h = tag.as_ref();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    bin % 10_u32.pow(TOTP_DIGITS)
}

/// The time step of `t` (RFC 6238 §4.2: T = (now - T0) / X with T0 = 0).
pub fn totp_step(t: Timestamp) -> i64 {
    t.unix_timestamp().div_euclid(TOTP_STEP_SECONDS)
}

/// A recovery code as typed, made comparable: no spaces or dashes, lower case.
fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What a new enrolment shows once (never printed by `Debug`).
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The secret in base32 (RFC 4648 §6), as authenticator apps take it typed in.
    pub secret: String,
    /// `otpauth://totp/…` (the Key URI Format authenticator apps read from a QR code).
    pub uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment { .. }")
    }
}

/// Where a user's second factor stands, for the account page and the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: usize,
}

impl Services {
    fn totp_cell_open(&self, t: &UserTotp) -> CoreResult<Vec<u8>> {
        let org = t.org_id.to_string();
        let user = t.user_id.to_string();
        self.vault
            .open(
                cell(&org, SealedColumn::TotpSecret, &user),
                &t.secret_sealed,
            )
            .map_err(|_| CoreError::internal("a second factor cannot be opened with the vault"))
    }

    fn recovery_hash(&self, org: OrgId, user: UserId, code: &str) -> String {
        self.handle_hash.hash(&format!(
            "recovery:{org}:{user}:{}",
            normalize_recovery(code)
        ))
    }

    /// A user's confirmed second factor, if they have one.
    pub(crate) async fn confirmed_totp(
        &self,
        org: OrgId,
        user: UserId,
    ) -> CoreResult<Option<UserTotp>> {
        let mut tx = self.store.read().await?;
        Ok(tx
            .find_totp(org, user)
            .await?
            .filter(|t| t.confirmed_at.is_some()))
    }

    /// Whether the user has a second factor, and how many recovery codes are left.
    pub async fn second_factor_status(
        &self,
        org: OrgId,
        user: UserId,
    ) -> CoreResult<SecondFactorStatus> {
        Ok(match self.confirmed_totp(org, user).await? {
            Some(t) => SecondFactorStatus {
                enabled: true,
                recovery_codes_left: t.recovery_codes.len(),
            },
            None => SecondFactorStatus {
                enabled: false,
                recovery_codes_left: 0,
            },
        })
    }

    /// Starts an enrolment: a new secret, sealed and stored unconfirmed (a factor already
    /// confirmed stays until the new one is). `label` names the account in the app.
    pub async fn start_totp_enrolment(
        &self,
        org: &Organization,
        user: UserId,
        label: &str,
    ) -> CoreResult<TotpEnrolment> {
        if self.confirmed_totp(org.id, user).await?.is_some() {
            return Err(CoreError::Conflict(
                "a second factor is set up already: turn it off first".into(),
            ));
        }
        let secret: [u8; 20] = random_bytes(self.rng.as_ref()).map_err(CoreError::internal)?;
        let org_s = org.id.to_string();
        let user_s = user.to_string();
        let sealed = self
            .vault
            .seal(
                cell(&org_s, SealedColumn::TotpSecret, &user_s),
                &secret,
                self.rng.as_ref(),
            )
            .map_err(CoreError::internal)?;
        let mut tx = self.store.begin().await?;
        tx.put_totp(&UserTotp {
            org_id: org.id,
            user_id: user,
            secret_sealed: sealed,
            confirmed_at: None,
            last_step: 0,
            recovery_codes: Vec::new(),
            created_at: self.now(),
        })
        .await?;
        tx.commit().await?;
        let b32 = data_encoding::BASE32_NOPAD.encode(&secret);
        let issuer = format!("Tessera {}", org.name);
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let uri = format!(
            "otpauth://totp/{}:{}?secret={b32}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECONDS}",
            enc(&issuer).replace('+', "%20"),
            enc(label).replace('+', "%20"),
            enc(&issuer).replace('+', "%20"),
        );
        Ok(TotpEnrolment { secret: b32, uri })
    }

    /// The step a TOTP code matches (one step either side of now), if it is later than the
    /// last accepted one.
    fn matching_step(&self, t: &UserTotp, code: &str) -> CoreResult<Option<i64>> {
        let code = code.trim().replace(' ', "");
        if code.len() != TOTP_DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let Ok(n) = code.parse::<u32>() else {
            return Ok(None);
        };
        let secret = self.totp_cell_open(t)?;
        let now = totp_step(self.now());
        Ok((now - 1..=now + 1)
            .filter(|s| *s > t.last_step)
            .find(|s| totp_code(&secret, *s) == n))
    }

    /// Confirms an enrolment with its first code; the recovery codes to show once.
    pub async fn confirm_totp_enrolment(
        &self,
        ctx: &Context,
        org: OrgId,
        user: UserId,
        code: &str,
    ) -> CoreResult<Vec<String>> {
        let pending = {
            let mut tx = self.store.read().await?;
            tx.find_totp(org, user).await?
        }
        .filter(|t| t.confirmed_at.is_none())
        .ok_or_else(|| CoreError::invalid("code", "no set-up is in progress: start again"))?;
        let step = self.matching_step(&pending, code)?.ok_or_else(|| {
            CoreError::invalid("code", "that code is not right: try the current one")
        })?;
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let b: [u8; 5] = random_bytes(self.rng.as_ref()).map_err(CoreError::internal)?;
            let s = data_encoding::BASE32_NOPAD.encode(&b).to_ascii_lowercase();
            codes.push(format!("{}-{}", &s[..4], &s[4..]));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.put_totp(&UserTotp {
            confirmed_at: Some(now),
            last_step: step,
            recovery_codes: codes
                .iter()
                .map(|c| self.recovery_hash(org, user, c))
                .collect(),
            ..pending
        })
        .await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::UserSecondFactorEnrolled, "user")
                .org(org)
                .target(user.to_string())
                .after(Some(json!({"method": "totp"}))),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Checks a code at sign-in: a TOTP code (spent with its step) or a recovery code (spent).
    /// `Ok(Some(method))` names which.
    pub(crate) async fn check_second_factor(
        &self,
        org: OrgId,
        user: UserId,
        code: &str,
    ) -> CoreResult<Option<&'static str>> {
        let Some(t) = self.confirmed_totp(org, user).await? else {
            return Ok(None);
        };
        if let Some(step) = self.matching_step(&t, code)? {
            let mut tx = self.store.begin().await?;
            let ok = tx.accept_totp_step(org, user, step, self.now()).await?;
            tx.commit().await?;
            return Ok(ok.then_some("otp"));
        }
        if normalize_recovery(code).len() == 8 {
            let hash = self.recovery_hash(org, user, code);
            let mut tx = self.store.begin().await?;
            let ok = tx.spend_recovery_code(org, user, &hash).await?;
            tx.commit().await?;
            return Ok(ok.then_some("recovery code"));
        }
        Ok(None)
    }

    /// Removes a user's second factor (by themselves, or by an administrator who resets it);
    /// false when there was none.
    pub(crate) async fn remove_second_factor(
        &self,
        ctx: &Context,
        org: OrgId,
        user: UserId,
    ) -> CoreResult<bool> {
        let mut tx = self.store.begin().await?;
        if !tx.delete_totp(org, user).await? {
            return Ok(false);
        }
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::UserSecondFactorRemoved, "user")
                .org(org)
                .target(user.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// `DELETE …/users/{id}/second-factor`: an administrator resets a member's second factor
    /// (they lost their device and their recovery codes); they sign in with the password alone
    /// and may enrol again.
    pub async fn reset_second_factor(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<()> {
        let (org_id, user) = self
            .member_for(ctx, org, id, tessera_domain::Permission::UsersEdit)
            .await?;
        // As for any change to a member: nobody weakens the sign-in of a member who holds
        // more than they do, and only a system administrator that of another.
        {
            let mut tx = self.store.read().await?;
            let member = tx
                .find_user(org_id, user)
                .await?
                .ok_or_else(|| CoreError::not_found("user", id))?
                .user;
            if member.is_system_admin && !ctx.principal.is_system_admin {
                return Err(CoreError::SystemAdminOnly(
                    "reset a system administrator's second factor",
                ));
            }
            self.check_grantable(
                tx.as_mut(),
                ctx,
                org_id,
                &member.roles,
                tessera_domain::PermissionSet::EMPTY,
            )
            .await?;
        }
        if !self.remove_second_factor(ctx, org_id, user).await? {
            return Err(CoreError::not_found("second factor", id));
        }
        Ok(())
    }
}

/// An organization's sign-in rules (`GET/PUT …/security-policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Members who may enter the console (`admin:access`) must have two-step verification:
    /// without it, their console sign-in is refused with a pointer to their account page.
    #[serde(default)]
    pub require_second_factor_for_admins: bool,
}

impl SecurityPolicy {
    /// The stored policy (JSON), or the default when none was ever set.
    pub(crate) fn from_stored(raw: Option<&str>) -> CoreResult<Self> {
        raw.map_or(Ok(Self::default()), |j| {
            serde_json::from_str(j).map_err(CoreError::internal)
        })
    }
}

impl Services {
    /// `GET …/users/{id}/second-factor`.
    pub async fn user_second_factor(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<SecondFactorStatus> {
        let (org, user) = self
            .member_for(ctx, org, id, tessera_domain::Permission::UsersRead)
            .await?;
        self.second_factor_status(org, user).await
    }

    /// The policy in force (the default when none was set).
    pub(crate) async fn security_policy_of(&self, org: OrgId) -> CoreResult<SecurityPolicy> {
        let raw = {
            let mut tx = self.store.read().await?;
            tx.find_security_policy(org).await?
        };
        SecurityPolicy::from_stored(raw.as_deref())
    }

    /// `GET …/security-policy` (`users:read`).
    pub async fn get_security_policy(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<SecurityPolicy> {
        let org = {
            let mut tx = self.store.read().await?;
            self.org_for(
                tx.as_mut(),
                ctx,
                org,
                Some(tessera_domain::Permission::UsersRead),
            )
            .await?
        };
        self.security_policy_of(org.id).await
    }

    /// `PUT …/security-policy` (`users:edit`); audited as `security_policy.updated`.
    pub async fn set_security_policy(
        &self,
        ctx: &Context,
        org: &str,
        policy: SecurityPolicy,
    ) -> CoreResult<SecurityPolicy> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(
                tx.as_mut(),
                ctx,
                org,
                Some(tessera_domain::Permission::UsersEdit),
            )
            .await?;
        let before =
            SecurityPolicy::from_stored(tx.find_security_policy(org.id).await?.as_deref())?;
        if before == policy {
            return Ok(policy);
        }
        let json = serde_json::to_string(&policy).map_err(CoreError::internal)?;
        tx.put_security_policy(org.id, &json, self.now()).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::SecurityPolicyUpdated, "security_policy")
                .org(org.id)
                .target(org.slug.to_string())
                .before(crate::snapshot(&before))
                .after(crate::snapshot(&policy)),
        )
        .await?;
        tx.commit().await?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (eight digits there; the last six are ours).
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59_i64, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(totp_code(secret, t / 30), expected % 1_000_000, "T = {t}");
        }
    }

    #[test]
    fn recovery_codes_compare_without_dashes_or_case() {
        assert_eq!(normalize_recovery(" AbCd-eF12 "), "abcdef12");
    }
}
