-- Device authorization grant (RFC 8628): the device code and the user code are stored only as
-- keyed hashes. status: pending, approved, denied or redeemed.
CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code_hash   TEXT NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    client_id        TEXT NOT NULL,
    scope            TEXT NOT NULL,
    status           TEXT NOT NULL,
    user_id          TEXT,
    auth_time        INTEGER,
    interval_secs    INTEGER NOT NULL,
    last_polled_at   INTEGER,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    UNIQUE (org_id, user_code_hash)
);
