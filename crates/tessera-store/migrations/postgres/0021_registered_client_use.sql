-- When a dynamically registered client last got a token (NULL: never), so that one never
-- used past the policy's `unusedClientLifetime` can be removed.
ALTER TABLE client_registrations ADD COLUMN last_used_at BIGINT;
