-- A client's signed userinfo responses (OIDC Core §5.3.2; NULL: plain JSON) and the token
-- endpoint authentication method it declared (RFC 7591 §2; NULL: the default of its type).
ALTER TABLE oauth_clients ADD COLUMN userinfo_alg TEXT;
ALTER TABLE oauth_clients ADD COLUMN token_endpoint_auth_method TEXT;
