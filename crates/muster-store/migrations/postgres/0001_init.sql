-- muster's directory on PostgreSQL (mirrors migrations/sqlite). tenant_id leads every key and index.
-- Text that is compared or range-scanned uses COLLATE "C": byte order, as on SQLite, so prefix
-- searches (`sw`) are index ranges and sort order is the same on both engines.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_norm   TEXT COLLATE "C" NOT NULL UNIQUE,
    mode        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created     TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    token_hash  BYTEA NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created     TEXT NOT NULL,
    last_used   TEXT,
    revoked_at  TEXT
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

CREATE TABLE users (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT COLLATE "C" NOT NULL,
    user_name     TEXT NOT NULL,
    name_norm     TEXT COLLATE "C" NOT NULL,
    external_id   TEXT COLLATE "C",
    active        BIGINT,
    display       TEXT NOT NULL,
    source        TEXT NOT NULL DEFAULT 'scim',
    data          TEXT NOT NULL,
    search        JSONB NOT NULL,
    created       TEXT COLLATE "C" NOT NULL,
    last_modified TEXT COLLATE "C" NOT NULL,
    version       BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_id ON users (tenant_id, id);
CREATE UNIQUE INDEX users_name_norm ON users (tenant_id, name_norm);
CREATE INDEX users_external_id ON users (tenant_id, external_id);
CREATE INDEX users_seq ON users (tenant_id, seq);

CREATE TABLE groups (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT COLLATE "C" NOT NULL,
    display_name  TEXT NOT NULL,
    name_norm     TEXT COLLATE "C" NOT NULL,
    external_id   TEXT COLLATE "C",
    kind          TEXT NOT NULL DEFAULT 'scim',
    data          TEXT NOT NULL,
    search        JSONB NOT NULL,
    created       TEXT COLLATE "C" NOT NULL,
    last_modified TEXT COLLATE "C" NOT NULL,
    version       BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_id ON groups (tenant_id, id);
CREATE UNIQUE INDEX groups_name_norm ON groups (tenant_id, name_norm);
CREATE INDEX groups_external_id ON groups (tenant_id, external_id);
CREATE INDEX groups_seq ON groups (tenant_id, seq);

-- member_kind: 0 = user, 1 = group.
CREATE TABLE group_members (
    tenant_id   TEXT NOT NULL,
    group_id    TEXT COLLATE "C" NOT NULL,
    member_id   TEXT COLLATE "C" NOT NULL,
    member_kind BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);
