-- Brute-force brakes and rate limits that every process on this database shares: one row per
-- key (which names the organization), counting the events of a window that starts at its
-- first event.
CREATE TABLE limit_counters (
    key          TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL
);
CREATE INDEX limit_counters_window ON limit_counters (window_start);

-- The change feed is read by time (the look-back for late commits) and pruned by time.
CREATE INDEX changes_created ON changes (created_at);
