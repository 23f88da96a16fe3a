-- The account page and the second factor.

-- When the user last signed in to the client under this consent (milliseconds; NULL: not
-- since the consent was given), for the account page's authorized apps.
ALTER TABLE consents ADD COLUMN last_used_at BIGINT;

-- How a login session was authenticated (RFC 8176 values, space-separated: `pwd`, `pwd otp`),
-- carried by the codes it hands out into the id_tokens' `amr`.
ALTER TABLE login_sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE auth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- A user's TOTP second factor (RFC 6238). The shared secret is sealed by the vault; until
-- the first code confirms it, confirmed_at is NULL and sign-in does not ask for it. last_step
-- is the last time step accepted, so that no code is accepted twice; recovery_codes holds
-- keyed hashes of the unused recovery codes (a JSON array).
CREATE TABLE user_totp (
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed  TEXT NOT NULL,
    confirmed_at   BIGINT,
    last_step      BIGINT NOT NULL DEFAULT 0,
    recovery_codes TEXT NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

-- An organization's sign-in rules (JSON: `{"requireSecondFactorForAdmins": false}`).
CREATE TABLE security_policies (
    org_id     TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    policy     TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Bots that system administrators configure for every organization (Discord): no
-- organization may customise them. The token is sealed by the vault; org_id is the nil UUID
-- (the vault's re-encryption reads every sealed column with its organization).
CREATE TABLE system_bots (
    platform       TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    application_id TEXT NOT NULL,
    bot_name       TEXT NOT NULL,
    token_sealed   TEXT NOT NULL,
    token_hint     TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);
