-- The algorithm of a client's id_tokens (RS256 unless the client chose ES256 or EdDSA).
ALTER TABLE oauth_clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256';
