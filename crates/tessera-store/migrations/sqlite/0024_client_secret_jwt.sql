-- The secret itself, sealed by the vault, for a client that signs assertions with it
-- (`client_secret_jwt`, RFC 7523 §2.2 with HMAC, OIDC Core §9); NULL for the others, whose
-- secrets are kept only as hashes.
ALTER TABLE oauth_client_secrets ADD COLUMN sealed TEXT;

-- When all of a client's tokens were last revoked (milliseconds; NULL: never): an access
-- token issued no later than this is inactive.
ALTER TABLE oauth_clients ADD COLUMN tokens_revoked_at INTEGER;
