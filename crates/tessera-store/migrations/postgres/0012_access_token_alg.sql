-- The algorithm of a client's access tokens (RFC 9068 §2.1: RS256 must be possible; ES256
-- unless the client chose RS256 or EdDSA).
ALTER TABLE oauth_clients ADD COLUMN access_token_alg TEXT NOT NULL DEFAULT 'ES256';
