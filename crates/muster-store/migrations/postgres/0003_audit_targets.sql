-- The audit log's index by target moves out of audit_events. Keyed by the random resource id,
-- it dirtied one page per event (a third of a read's cost, since every SCIM request is
-- recorded). audit_targets is filled in sorted batches instead and keyed first by a bucket of
-- 16384 sequence numbers, so a batch lands on the few pages of the newest bucket. Events not
-- yet indexed (sequence numbers above audit_index.upto) are found by a range scan.
DROP INDEX audit_events_target;
CREATE TABLE audit_targets (
    bucket BIGINT NOT NULL,
    target TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    PRIMARY KEY (bucket, target, seq)
);
CREATE TABLE audit_index (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    upto BIGINT NOT NULL
);
INSERT INTO audit_targets (bucket, target, seq)
SELECT seq / 16384, target, seq FROM audit_events WHERE target IS NOT NULL ORDER BY 1, 2, 3;
INSERT INTO audit_index (id, upto) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_events;
