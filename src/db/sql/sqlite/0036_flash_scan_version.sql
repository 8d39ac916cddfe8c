-- A per-tenant version of what a scan reads: sellers, buyers, their demand, their marketing
-- consent (contacts) and the flash configuration. Bumped by triggers in the writing transaction;
-- each bump takes the next value of flash_version_seq (0021), so a (tenant, version) names one
-- committed state for the life of the database, and every process keeping a tenant's scan inputs
-- in memory (src/domain/flash/live_index.c) sees a change committed by any process with one read.
-- Pre-commit counts follow flash_versions (0019), which already moves with windows and pre-commits.
CREATE TABLE flash_scan_versions (
    tenant_id INTEGER PRIMARY KEY,
    version   INTEGER NOT NULL
);

CREATE TRIGGER flash_scan_versions_seq_i AFTER INSERT ON flash_scan_versions BEGIN
    UPDATE flash_version_seq SET value = value + 1 WHERE id = 1;
    UPDATE flash_scan_versions SET version = (SELECT value FROM flash_version_seq WHERE id = 1)
        WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER flash_scan_versions_seq_u AFTER UPDATE OF version ON flash_scan_versions BEGIN
    UPDATE flash_version_seq SET value = value + 1 WHERE id = 1;
    UPDATE flash_scan_versions SET version = (SELECT value FROM flash_version_seq WHERE id = 1)
        WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER sellers_scan_version_i AFTER INSERT ON sellers BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER sellers_scan_version_u AFTER UPDATE ON sellers BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER sellers_scan_version_d AFTER DELETE ON sellers BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER buyers_scan_version_i AFTER INSERT ON buyers BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER buyers_scan_version_u AFTER UPDATE ON buyers BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER buyers_scan_version_d AFTER DELETE ON buyers BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER demand_signals_scan_version_i AFTER INSERT ON demand_signals BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER demand_signals_scan_version_u AFTER UPDATE ON demand_signals BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER demand_signals_scan_version_d AFTER DELETE ON demand_signals BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER contacts_scan_version_i AFTER INSERT ON contacts BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER contacts_scan_version_u AFTER UPDATE ON contacts BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER contacts_scan_version_d AFTER DELETE ON contacts BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER flash_config_scan_version_i AFTER INSERT ON flash_config BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
-- last_scan_at moves on every automatic scan and is not read by one
CREATE TRIGGER flash_config_scan_version_u AFTER UPDATE OF config ON flash_config BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER flash_config_scan_version_d AFTER DELETE ON flash_config BEGIN
    INSERT INTO flash_scan_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
