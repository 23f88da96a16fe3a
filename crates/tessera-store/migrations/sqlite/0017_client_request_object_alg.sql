-- The one algorithm a client's request objects must be signed with (OIDC Registration §2
-- `request_object_signing_alg`); NULL: any its keys allow.
ALTER TABLE oauth_clients ADD COLUMN request_object_alg TEXT;
