-- Connections to streaming platforms and tools. Every secret column holds a vault seal
-- (`v1.<key id>.<nonce>.<ciphertext>`) bound to its organization, table, row id and column.

-- The system-wide switch of each platform. No row: enabled.
CREATE TABLE providers (
    platform   TEXT PRIMARY KEY,
    enabled    BOOLEAN NOT NULL,
    updated_at INTEGER NOT NULL
);

-- An organization's OAuth application at a platform.
CREATE TABLE platform_credentials (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    platform       TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    client_secret  TEXT NOT NULL,
    client_id_hint TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (org_id, platform)
);

-- A live connection: the organization's channel, or its custom bot, at one platform.
-- The refresh worker claims due rows with a lease (lease_owner, lease_until).
CREATE TABLE connections (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    platform          TEXT NOT NULL,
    kind              TEXT NOT NULL,
    channel_id        TEXT NOT NULL,
    channel_name      TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    access_token      TEXT NOT NULL,
    refresh_token     TEXT,
    token_expires_at  INTEGER,
    connected_at      INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_refreshed_at INTEGER,
    next_refresh_at   INTEGER,
    next_validate_at  INTEGER,
    refresh_attempts  INTEGER NOT NULL,
    refresh_failed_at INTEGER,
    refresh_error     TEXT,
    lease_owner       TEXT,
    lease_until       INTEGER,
    UNIQUE (org_id, platform, kind)
);
CREATE INDEX connections_next_refresh ON connections (next_refresh_at);
CREATE INDEX connections_next_validate ON connections (next_validate_at);

-- The `state` of a connect flow in progress (its keyed hash), single-use.
CREATE TABLE connection_states (
    state_hash    TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    actor_type    TEXT NOT NULL,
    actor_id      TEXT,
    actor_name    TEXT NOT NULL,
    code_verifier TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);

-- OBS and Streamer.bot instances.
CREATE TABLE integrations (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    label         TEXT NOT NULL,
    host          TEXT NOT NULL,
    port          INTEGER NOT NULL,
    endpoint      TEXT NOT NULL,
    remote_access BOOLEAN NOT NULL,
    password      TEXT,
    enabled       BOOLEAN NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX integrations_org ON integrations (org_id, created_at);

-- StreamElements JWTs for tip ingestion.
CREATE TABLE streamelements_tokens (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    platform   TEXT NOT NULL,
    label      TEXT,
    token      TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX streamelements_tokens_org ON streamelements_tokens (org_id, created_at);
