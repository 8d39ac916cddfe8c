-- A tenant's flash version never comes back to a value it had. A reset or a deleted tenant
-- removes its flash_versions row, and the counter restarting at 1 met versions a running server
-- had cached (the body of erased windows served again; under a reused tenant id, another
-- tenant's). Every change now takes the next value of one sequence shared by all tenants and
-- never purged, so each (tenant, version) names one committed state for the life of the database.
CREATE SEQUENCE flash_version_seq;
SELECT setval('flash_version_seq', greatest((SELECT max(version) FROM flash_versions), 0) + 1);

CREATE OR REPLACE FUNCTION flash_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO flash_versions (tenant_id, version)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END,
                nextval('flash_version_seq'))
        ON CONFLICT (tenant_id) DO UPDATE SET version = nextval('flash_version_seq');
    RETURN NULL;
END
$$;
