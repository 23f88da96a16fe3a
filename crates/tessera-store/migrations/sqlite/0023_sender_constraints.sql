-- A client's PAR, DPoP, signed request object, back-channel logout and security profile
-- switches, as one JSON document (NULL: all off).
ALTER TABLE oauth_clients ADD COLUMN security TEXT;

-- The DPoP key (RFC 7638 thumbprint) an authorization code or a refresh token is bound to
-- (RFC 9449 §10, §5), and the login session (`sid`) it came from.
ALTER TABLE auth_codes ADD COLUMN dpop_jkt TEXT;
ALTER TABLE auth_codes ADD COLUMN sid TEXT;
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN sid TEXT;

-- Pushed authorization requests (RFC 9126): the checked parameters behind a request_uri,
-- by the hash of its handle, used once.
CREATE TABLE pushed_requests (
    org_id      TEXT NOT NULL,
    handle_hash TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    params      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, handle_hash)
);
CREATE INDEX pushed_requests_expiry ON pushed_requests (expires_at);

-- The clients a login session signed a user in to, which hear of its end (OpenID Connect
-- Back-Channel Logout 1.0 §2.5); a row goes when its logout token is queued.
CREATE TABLE session_clients (
    org_id       TEXT NOT NULL,
    session_hash TEXT NOT NULL,
    sid          TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, session_hash, client_id)
);

-- Logout tokens waiting to be posted to clients' backchannel_logout_uri, by the worker
-- holding the lease, with retries.
CREATE TABLE logout_deliveries (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    uri             TEXT NOT NULL,
    logout_token    TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    delivered_at    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX logout_deliveries_due ON logout_deliveries (delivered_at, next_attempt_at);
