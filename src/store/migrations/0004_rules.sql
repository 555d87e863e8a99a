CREATE TABLE rule_sets (
    version TEXT PRIMARY KEY,
    canonical TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE velocity_keys (
    key_kind TEXT NOT NULL,
    key TEXT NOT NULL,
    touched_at_ms BIGINT NOT NULL,
    PRIMARY KEY (key_kind, key)
);

CREATE INDEX velocity_keys_by_age ON velocity_keys (touched_at_ms);

CREATE TABLE velocity_events (
    key_kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL
);

CREATE INDEX velocity_events_by_key ON velocity_events (key_kind, key, at_ms);
CREATE INDEX velocity_events_by_age ON velocity_events (at_ms)
