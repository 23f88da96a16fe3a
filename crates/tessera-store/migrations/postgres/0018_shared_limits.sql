-- Brute-force brakes and rate limits that every node shares: one row per key (which names
-- the organization), counting the events of a window that starts at its first event.
CREATE TABLE limit_counters (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL
);
CREATE INDEX limit_counters_window ON limit_counters (window_start);

-- The change feed is read by time (the look-back for late commits) and pruned by time.
CREATE INDEX changes_created ON changes (created_at);

-- Every change is also announced as it commits (LISTEN tessera_changes), so that the other
-- nodes drop what they cached within milliseconds; polling stays as the fallback. The payload
-- is the change itself, tab-separated (seq, org, kind, key), well under NOTIFY's 8000 bytes.
CREATE FUNCTION tessera_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('tessera_changes',
        NEW.seq::text || E'\t' || COALESCE(NEW.org_id, '') || E'\t' || NEW.kind || E'\t' || left(NEW.key, 4000));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER changes_notify AFTER INSERT ON changes
    FOR EACH ROW EXECUTE FUNCTION tessera_notify_change();
