-- The API resources (RFC 8707) a device authorization was for, as a JSON array of
-- identifiers (NULL: none).
ALTER TABLE device_codes ADD COLUMN resources TEXT;
