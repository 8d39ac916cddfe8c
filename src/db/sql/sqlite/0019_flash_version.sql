-- A per-tenant version of what the window lists show: bumped by triggers, in the writing
-- transaction, whenever a window, its targets, pre-commits, participants or its seller change.
-- GET /api/flash-windows/active reads it to answer 304 (ETag) and to reuse a cached body, in
-- every process sharing the database.
CREATE TABLE flash_versions (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    version   INTEGER NOT NULL
);

CREATE TRIGGER flash_windows_version_i AFTER INSERT ON flash_windows BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER flash_windows_version_u AFTER UPDATE ON flash_windows BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER flash_windows_version_d AFTER DELETE ON flash_windows BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER window_targets_version_i AFTER INSERT ON window_targets BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER window_targets_version_d AFTER DELETE ON window_targets BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER precommits_version_i AFTER INSERT ON precommits BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER precommits_version_u AFTER UPDATE ON precommits BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER precommits_version_d AFTER DELETE ON precommits BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER participants_version_i AFTER INSERT ON participants BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER participants_version_u AFTER UPDATE ON participants BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER participants_version_d AFTER DELETE ON participants BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER sellers_version_u AFTER UPDATE ON sellers BEGIN
    INSERT INTO flash_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
