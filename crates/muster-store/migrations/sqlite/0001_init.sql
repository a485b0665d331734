-- muster's directory on SQLite. tenant_id leads every key and index: nothing is read across tenants.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_norm   TEXT NOT NULL UNIQUE,
    mode        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created     TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created     TEXT NOT NULL,
    last_used   TEXT,
    revoked_at  TEXT
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

-- data: the canonical SCIM document (what GET returns); search: the same with the strings of
-- case-insensitive attributes folded (what filters and sorts read).
CREATE TABLE users (
    seq           INTEGER PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    name_norm     TEXT NOT NULL,
    external_id   TEXT,
    active        INTEGER,
    display       TEXT NOT NULL,
    source        TEXT NOT NULL DEFAULT 'scim',
    data          TEXT NOT NULL,
    search        TEXT NOT NULL,
    created       TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    version       INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_id ON users (tenant_id, id);
CREATE UNIQUE INDEX users_name_norm ON users (tenant_id, name_norm);
CREATE INDEX users_external_id ON users (tenant_id, external_id);
CREATE INDEX users_seq ON users (tenant_id, seq);

CREATE TABLE groups (
    seq           INTEGER PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    name_norm     TEXT NOT NULL,
    external_id   TEXT,
    kind          TEXT NOT NULL DEFAULT 'scim',
    data          TEXT NOT NULL,
    search        TEXT NOT NULL,
    created       TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    version       INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_id ON groups (tenant_id, id);
CREATE UNIQUE INDEX groups_name_norm ON groups (tenant_id, name_norm);
CREATE INDEX groups_external_id ON groups (tenant_id, external_id);
CREATE INDEX groups_seq ON groups (tenant_id, seq);

-- One row per membership: adding or removing a member touches one row, whatever the group's size.
-- member_kind: 0 = user, 1 = group.
CREATE TABLE group_members (
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_kind INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);
