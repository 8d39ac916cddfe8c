-- A per-tenant version of what the window lists show: bumped by triggers, in the writing
-- transaction, whenever a window, its targets, pre-commits, participants or its seller change.
-- GET /api/flash-windows/active reads it to answer 304 (ETag) and to reuse a cached body, in
-- every process sharing the database.
CREATE TABLE flash_versions (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants (id),
    version   BIGINT NOT NULL
);

CREATE FUNCTION flash_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO flash_versions (tenant_id, version)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = flash_versions.version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER flash_windows_version AFTER INSERT OR UPDATE OR DELETE ON flash_windows
    FOR EACH ROW EXECUTE FUNCTION flash_version_bump();
CREATE TRIGGER window_targets_version AFTER INSERT OR DELETE ON window_targets
    FOR EACH ROW EXECUTE FUNCTION flash_version_bump();
CREATE TRIGGER precommits_version AFTER INSERT OR UPDATE OR DELETE ON precommits
    FOR EACH ROW EXECUTE FUNCTION flash_version_bump();
CREATE TRIGGER participants_version AFTER INSERT OR UPDATE OR DELETE ON participants
    FOR EACH ROW EXECUTE FUNCTION flash_version_bump();
CREATE TRIGGER sellers_version AFTER UPDATE ON sellers
    FOR EACH ROW EXECUTE FUNCTION flash_version_bump();
