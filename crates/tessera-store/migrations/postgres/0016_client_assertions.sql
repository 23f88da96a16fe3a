-- A client's public keys (RFC 7591 §2 `jwks`, a JWK Set as JSON; NULL: none) or where it
-- publishes them (`jwks_uri`), which verify its `private_key_jwt` assertions (RFC 7523).
ALTER TABLE oauth_clients ADD COLUMN jwks TEXT;
ALTER TABLE oauth_clients ADD COLUMN jwks_uri TEXT;

-- The `jti` of every client assertion accepted, kept until the assertion expires, so that
-- none is accepted twice (RFC 7523 §3, item 7).
CREATE TABLE client_assertions (
    org_id     TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, client_id, jti)
);
CREATE INDEX client_assertions_expiry ON client_assertions (expires_at);
