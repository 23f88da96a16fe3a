-- Console sign-in. A console browser session (its cookie is stored only as a keyed hash) may
-- hold sign-ins in several organizations; the current organization is the one the console
-- shows. Deleting that organization leaves the session without one until another is chosen.
CREATE TABLE console_sessions (
    id_hash        TEXT PRIMARY KEY,
    current_org_id TEXT REFERENCES organizations(id) ON DELETE SET NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ended_at       BIGINT
);

-- One sign-in of a console session in one organization: a newer one replaces it.
CREATE TABLE console_logins (
    session_hash TEXT NOT NULL REFERENCES console_sessions(id_hash) ON DELETE CASCADE,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (session_hash, org_id)
);
