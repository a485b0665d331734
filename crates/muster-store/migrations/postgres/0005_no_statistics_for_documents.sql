-- ANALYZE gathers no statistics on the documents. No plan reads them: filters on a resource's
-- attributes are expressions over `search` (estimated without column statistics), lookups use
-- the promoted columns. Sorting a sample of 30 000 JSONB documents was most of each ANALYZE of
-- users: 5.6 % of the machine's CPU during a burst of creates, when the statistics keeper (and
-- autovacuum) analyze most often. The cost: the planner guesses these columns' width (32 bytes
-- for a document of ~1-2 KB), which only sizes its memory estimates for sorts and hashes of
-- whole rows; muster's pages are sorted by key with a LIMIT.
ALTER TABLE users ALTER COLUMN data SET STATISTICS 0;
ALTER TABLE users ALTER COLUMN search SET STATISTICS 0;
ALTER TABLE groups ALTER COLUMN data SET STATISTICS 0;
ALTER TABLE groups ALTER COLUMN search SET STATISTICS 0;
ALTER TABLE audit_events ALTER COLUMN message SET STATISTICS 0;
ALTER TABLE audit_events ALTER COLUMN before SET STATISTICS 0;
ALTER TABLE audit_events ALTER COLUMN after SET STATISTICS 0;
