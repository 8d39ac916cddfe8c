-- Server-wide settings and secrets shared by every process on this database
-- (e.g. the key that signs login tokens).
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
