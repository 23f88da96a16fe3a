-- A person's standard claims (OIDC Core §5.1) beyond user name, e-mail and name, as one JSON
-- object: given and family name, nickname, URLs, birthdate, zoneinfo, locale, phone, address.
ALTER TABLE users ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
