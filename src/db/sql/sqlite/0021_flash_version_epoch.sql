-- A tenant's flash version never comes back to a value it had. A reset or a deleted tenant
-- removes its flash_versions row, and the counter restarting at 1 met versions a running server
-- had cached (the body of erased windows served again; under a reused tenant id, another
-- tenant's). Every change now takes the next value of one sequence shared by all tenants and
-- never purged, so each (tenant, version) names one committed state for the life of the database.
-- SQLite fires a trigger's own UPDATE through the other trigger but never recursively.
CREATE TABLE flash_version_seq (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO flash_version_seq (id, value)
    VALUES (1, (SELECT coalesce(max(version), 0) FROM flash_versions));

CREATE TRIGGER flash_versions_seq_i AFTER INSERT ON flash_versions BEGIN
    UPDATE flash_version_seq SET value = value + 1 WHERE id = 1;
    UPDATE flash_versions SET version = (SELECT value FROM flash_version_seq WHERE id = 1)
        WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER flash_versions_seq_u AFTER UPDATE OF version ON flash_versions BEGIN
    UPDATE flash_version_seq SET value = value + 1 WHERE id = 1;
    UPDATE flash_versions SET version = (SELECT value FROM flash_version_seq WHERE id = 1)
        WHERE tenant_id = NEW.tenant_id;
END;
