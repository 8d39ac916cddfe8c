-- A per-tenant version of what a scan reads: sellers, buyers, their demand, their marketing
-- consent (contacts) and the flash configuration. Bumped by triggers in the writing transaction,
-- from the never-repeating sequence of 0021, so every process keeping a tenant's scan inputs in
-- memory (src/domain/flash/live_index.c) sees a change committed by any process with one read.
-- Pre-commit counts follow flash_versions (0019), which already moves with windows and pre-commits.
CREATE TABLE flash_scan_versions (
    tenant_id BIGINT PRIMARY KEY,
    version   BIGINT NOT NULL
);

CREATE FUNCTION flash_scan_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END,
                nextval('flash_version_seq'))
        ON CONFLICT (tenant_id) DO UPDATE SET version = nextval('flash_version_seq');
    RETURN NULL;
END
$$;

CREATE TRIGGER sellers_scan_version AFTER INSERT OR UPDATE OR DELETE ON sellers
    FOR EACH ROW EXECUTE FUNCTION flash_scan_version_bump();
CREATE TRIGGER buyers_scan_version AFTER INSERT OR UPDATE OR DELETE ON buyers
    FOR EACH ROW EXECUTE FUNCTION flash_scan_version_bump();
CREATE TRIGGER demand_signals_scan_version AFTER INSERT OR UPDATE OR DELETE ON demand_signals
    FOR EACH ROW EXECUTE FUNCTION flash_scan_version_bump();
CREATE TRIGGER contacts_scan_version AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION flash_scan_version_bump();
-- last_scan_at moves on every automatic scan and is not read by one
CREATE TRIGGER flash_config_scan_version AFTER INSERT OR UPDATE OF config OR DELETE ON flash_config
    FOR EACH ROW EXECUTE FUNCTION flash_scan_version_bump();
