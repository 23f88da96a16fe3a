-- The claims request (OIDC Core §5.5) of an authorization, as JSON: carried by its code and its
-- refresh tokens to every token they give.
ALTER TABLE auth_codes ADD COLUMN claims TEXT;
ALTER TABLE refresh_tokens ADD COLUMN claims TEXT;
