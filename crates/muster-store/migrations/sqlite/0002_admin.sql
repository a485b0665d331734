-- The administrator's side (product.md §1, §4): SSO connections, admin/operator/access keys,
-- admin passwords and sessions, product instances, roles and grants, and the audit log.

ALTER TABLE api_tokens ADD COLUMN connection_id TEXT;
-- Set when a token is rotated: it keeps working until then (the overlap window).
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;

CREATE TABLE sso_connections (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_norm   TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    scim_bound  INTEGER NOT NULL DEFAULT 0,
    created     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX sso_connections_name ON sso_connections (tenant_id, name_norm);
-- SCIM is bound to at most one connection per tenant.
CREATE UNIQUE INDEX sso_connections_scim ON sso_connections (tenant_id) WHERE scim_bound = 1;

-- Bearer keys that are not SCIM tokens: operator (all tenants), admin (one tenant), access (one
-- product instance). Only hashes are kept, like SCIM tokens.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    scope       TEXT NOT NULL,
    tenant_id   TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    instance_id TEXT,
    key_hash    BLOB NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL,
    last_used   TEXT,
    revoked_at  TEXT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- An administrator's password (argon2id PHC string) or a pending one-time set-password link.
CREATE TABLE admin_credentials (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    password_hash TEXT,
    setup_hash    BLOB UNIQUE,
    setup_expires TEXT,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE admin_sessions (
    id_hash     BLOB PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created     TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);
CREATE INDEX admin_sessions_user ON admin_sessions (tenant_id, user_id);

CREATE TABLE product_instances (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_norm   TEXT NOT NULL,
    product     TEXT NOT NULL,
    created     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX product_instances_name ON product_instances (tenant_id, name_norm);

-- group_id: the product group created with the role (kind 'product').
CREATE TABLE product_roles (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_norm   TEXT NOT NULL,
    group_id    TEXT,
    created     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX product_roles_name ON product_roles (tenant_id, instance_id, name_norm);

CREATE TABLE grants (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    role_id     TEXT NOT NULL,
    created     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX grants_unique ON grants (tenant_id, group_id, role_id);
CREATE INDEX grants_instance ON grants (tenant_id, instance_id);
CREATE INDEX grants_role ON grants (tenant_id, role_id);

-- One row per change and per refused request. tenant_id is NULL for operator actions on no tenant.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    tenant_id   TEXT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    operation   TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,
    status      INTEGER NOT NULL,
    request_id  TEXT,
    method      TEXT,
    path        TEXT,
    message     TEXT,
    before      TEXT,
    after       TEXT,
    duration_us INTEGER
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, seq);
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor, seq);
CREATE INDEX audit_events_target ON audit_events (tenant_id, target, seq);

-- One name for a user's source (scim, manual, jit) and a group's kind (scim, custom, system,
-- product), so filters on it are written once.
ALTER TABLE users RENAME COLUMN source TO class;
ALTER TABLE groups RENAME COLUMN kind TO class;
CREATE INDEX users_class ON users (tenant_id, class, seq);
CREATE INDEX groups_class ON groups (tenant_id, class, seq);

-- Every tenant has the two system groups; tenants made before this migration get them now. A
-- group an IdP pushed with a reserved name before names were reserved is renamed out of the way
-- (rule 4), keeping its id and members.
UPDATE groups SET display_name = 'SCIM_' || display_name, name_norm = 'scim_' || name_norm,
    data = json_set(data, '$.displayName', 'SCIM_' || display_name),
    search = json_set(search, '$.displayName', 'scim_' || name_norm)
WHERE name_norm IN ('everyone', 'admin center administrators');
INSERT INTO groups (tenant_id, id, display_name, name_norm, class, data, search, created, last_modified, version)
SELECT t.id,
       lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
         || '-a' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
       n.name, lower(n.name), 'system',
       json_object('schemas', json_array('urn:ietf:params:scim:schemas:core:2.0:Group'), 'displayName', n.name),
       json_object('schemas', json_array('urn:ietf:params:scim:schemas:core:2.0:Group'), 'displayName', lower(n.name)),
       t.created, t.created, 1
FROM tenants t
CROSS JOIN (SELECT 'Everyone' AS name UNION ALL SELECT 'Admin Center Administrators') n
WHERE NOT EXISTS (SELECT 1 FROM groups x WHERE x.tenant_id = t.id AND x.name_norm = lower(n.name));
