-- The API resources (RFC 8707) an authorization was for, as a JSON array of identifiers
-- (NULL: none): carried by its code and its refresh tokens to every token they give.
ALTER TABLE auth_codes ADD COLUMN resources TEXT;
ALTER TABLE refresh_tokens ADD COLUMN resources TEXT;
