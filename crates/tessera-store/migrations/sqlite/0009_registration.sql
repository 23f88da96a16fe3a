-- Dynamic client registration (RFC 7591 / RFC 7592).
-- The organization's policy, as JSON: {"mode": "closed"|"open"|"token", "allowedGrantTypes": [...],
-- "allowedScopes": [...], "redirectUriPrefixes": [...]}. No row: closed.
CREATE TABLE registration_policies (
    org_id     TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    policy     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Initial access tokens that let a developer register a client when the policy says "token".
CREATE TABLE initial_access_tokens (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    hint       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);

-- The registration access token (RFC 7592) of a client registered through the endpoint.
CREATE TABLE client_registrations (
    org_id     TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, client_id),
    FOREIGN KEY (org_id, client_id) REFERENCES oauth_clients (org_id, id) ON DELETE CASCADE
);
