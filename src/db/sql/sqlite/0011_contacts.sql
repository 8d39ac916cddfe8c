-- People we send messages to, whatever module they came from: a phone (E.164) and/or an email
-- address, their language, consent per purpose (marketing: offers and reminders;
-- transactional: confirmations, cancellations, receipts), when they last wrote to us (the
-- WhatsApp 24-hour window) and the conversation's state. Replaces chat_contacts and
-- buyers.consent: there is one place that says whether a person may get an offer.
CREATE TABLE contacts (
    id                    INTEGER PRIMARY KEY,
    tenant_id             INTEGER NOT NULL REFERENCES tenants (id),
    phone                 TEXT,
    email                 TEXT,
    language              TEXT NOT NULL DEFAULT 'tr',
    marketing_consent     INTEGER NOT NULL DEFAULT 1,
    transactional_consent INTEGER NOT NULL DEFAULT 1,
    last_inbound_at       TEXT,
    state                 TEXT NOT NULL DEFAULT '',
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    UNIQUE (tenant_id, phone),
    UNIQUE (tenant_id, email)
);

INSERT INTO contacts (tenant_id, phone, language, marketing_consent, created_at, updated_at)
SELECT tenant_id, phone, language, consent, created_at, updated_at FROM buyers
WHERE phone IS NOT NULL;

INSERT INTO contacts (tenant_id, phone, last_inbound_at, state, created_at, updated_at)
SELECT tenant_id, CASE WHEN phone LIKE '+%' THEN phone ELSE '+' || phone END, last_inbound_at,
       state, last_inbound_at, last_inbound_at
FROM chat_contacts WHERE true
ON CONFLICT (tenant_id, phone) DO UPDATE SET last_inbound_at = excluded.last_inbound_at,
    state = excluded.state;

DROP TABLE chat_contacts;
ALTER TABLE buyers DROP COLUMN consent;
