-- Email as a second channel of the outbox: a message goes by WhatsApp (the phone) or by email
-- (the address, with a subject and attachments), through the same delivery job, policy and
-- retries. Attachments are kept as base64 text until the message is sent.
ALTER TABLE messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'whatsapp'
    CHECK (channel IN ('whatsapp', 'email'));
ALTER TABLE messages ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN subject TEXT NOT NULL DEFAULT '';

CREATE TABLE message_attachments (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    message_id   INTEGER NOT NULL REFERENCES messages (id),
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    content      TEXT NOT NULL, -- base64
    UNIQUE (message_id, position)
);
