-- The chat channel: inbound events kept once each (deduplicated on the provider's id), the last
-- time each person wrote to us (the 24-hour customer-service window), and operator alerts.
CREATE TABLE chat_events (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    provider     TEXT NOT NULL CHECK (provider IN ('meta', 'vapi')),
    event_key    TEXT NOT NULL, -- the provider's message id; "<id>:<status>" for statuses
    kind         TEXT NOT NULL CHECK (kind IN ('message', 'status', 'transcript')),
    from_phone   TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL, -- the event, normalised to our JSON shape
    received_at  TEXT NOT NULL,
    processed_at TEXT,
    outcome      TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, provider, event_key)
);
CREATE INDEX chat_events_phone_idx ON chat_events (tenant_id, from_phone, id);

CREATE TABLE chat_contacts (
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    phone           TEXT NOT NULL,
    last_inbound_at TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT '', -- onboarding step, e.g. 'awaiting_location'
    PRIMARY KEY (tenant_id, phone)
);

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER REFERENCES tenants (id),
    source      TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX alerts_open_idx ON alerts (resolved_at, id);
