-- API resources: the APIs an organization protects (RFC 8707 resource indicators). The
-- identifier is the `aud` of their tokens, unique in the organization. Scopes and allowed
-- clients are JSON text, read and written whole.
CREATE TABLE api_resources (
    org_id                TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                    TEXT NOT NULL,
    identifier            TEXT NOT NULL,
    name                  TEXT NOT NULL,
    description           TEXT,
    scopes                TEXT NOT NULL,
    access_token_lifetime BIGINT,
    access_token_alg      TEXT,
    allowed_clients       TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, identifier)
);
