-- OAuth clients and their secrets. A client id is unique within its organization.
-- List-valued settings are JSON arrays of strings.
CREATE TABLE oauth_clients (
    org_id                    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    id                        TEXT NOT NULL,
    name                      TEXT NOT NULL,
    description               TEXT,
    is_confidential           BOOLEAN NOT NULL,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    allowed_cors_origins      TEXT NOT NULL,
    allowed_scopes            TEXT NOT NULL,
    grant_types               TEXT NOT NULL,
    is_active                 BOOLEAN NOT NULL,
    require_pkce              BOOLEAN NOT NULL,
    require_consent           BOOLEAN NOT NULL,
    client_uri                TEXT,
    logo_uri                  TEXT,
    access_token_lifetime     BIGINT NOT NULL,
    refresh_token_lifetime    BIGINT NOT NULL,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX oauth_clients_created ON oauth_clients (org_id, created_at);

-- Live secrets of a client: several during a rotation grace period, each with its expiry.
CREATE TABLE oauth_client_secrets (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    hint         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    FOREIGN KEY (org_id, client_id) REFERENCES oauth_clients (org_id, id) ON DELETE CASCADE
);
CREATE INDEX oauth_client_secrets_client ON oauth_client_secrets (org_id, client_id);
