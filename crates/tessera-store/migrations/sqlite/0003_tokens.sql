-- Signing keys per organization. The private key is sealed by the vault (AES-256-GCM, the
-- row's identity as associated data). A key is active until retired; a retired key stays
-- published in the JWKS until `publish_until`, when every token it signed has expired.
CREATE TABLE signing_keys (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    alg           TEXT NOT NULL,
    private_key   TEXT NOT NULL,
    public_jwk    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER,
    publish_until INTEGER
);
CREATE INDEX signing_keys_org ON signing_keys (org_id, alg, created_at);

-- Revoked self-contained access tokens (RFC 7009), by `jti`, kept until they expire anyway.
CREATE TABLE revoked_tokens (
    org_id     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, jti)
);
