-- Which access tokens a client may exchange (RFC 8693), as the client object's
-- `tokenExchange` JSON: {"subjectClients": [...], "allowImpersonation": false}.
ALTER TABLE oauth_clients ADD COLUMN token_exchange TEXT NOT NULL DEFAULT '{}';
