-- Memberships are stored in the order they were added, and found by member through a unique
-- index. Keyed by (group, member), adding 100 random members wrote up to 100 pages of the
-- group's own range, so a PATCH cost grew with the group (2.3x from 1k to 100k members). Now
-- a group's new rows land at the end of the table and of group_members_group; only
-- group_members_member takes random pages, as many whatever the group's size.
CREATE TABLE group_members_new (
    seq         INTEGER PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_kind INTEGER NOT NULL
);
INSERT INTO group_members_new (tenant_id, group_id, member_id, member_kind)
SELECT tenant_id, group_id, member_id, member_kind FROM group_members
ORDER BY tenant_id, group_id, member_id;
DROP TABLE group_members;
ALTER TABLE group_members_new RENAME TO group_members;
-- A group's members in the order they were added, read from the index alone.
CREATE INDEX group_members_group ON group_members (tenant_id, group_id, seq, member_id, member_kind);
CREATE UNIQUE INDEX group_members_member ON group_members (tenant_id, member_id, group_id);
