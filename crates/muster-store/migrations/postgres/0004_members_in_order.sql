-- Memberships are stored in the order they were added, and found by member through a unique
-- index. Keyed by (group, member), adding 100 random members wrote up to 100 pages of the
-- group's own range, so a PATCH cost grew with the group. Now a group's new entries land at
-- the end of group_members_group; only group_members_member takes random pages, as many
-- whatever the group's size.
CREATE TABLE group_members_new (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    group_id    TEXT COLLATE "C" NOT NULL,
    member_id   TEXT COLLATE "C" NOT NULL,
    member_kind BIGINT NOT NULL
);
INSERT INTO group_members_new (tenant_id, group_id, member_id, member_kind)
SELECT tenant_id, group_id, member_id, member_kind FROM group_members
ORDER BY tenant_id, group_id, member_id;
DROP TABLE group_members;
ALTER TABLE group_members_new RENAME TO group_members;
CREATE INDEX group_members_group ON group_members (tenant_id, group_id, seq) INCLUDE (member_id, member_kind);
CREATE UNIQUE INDEX group_members_member ON group_members (tenant_id, member_id, group_id);
