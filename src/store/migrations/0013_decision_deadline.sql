-- Trust signals read "decided in time" from the data. A case's deadline (sla_due_at) is cleared
-- once it is decided, and while the buyer is asked for evidence it holds the buyer's deadline
-- instead; so a person's decision keeps the deadline it was due by, and a case keeps the first
-- deadline an agent missed (late_at), which asking the buyer for evidence afterwards does not
-- wipe out. The machine's decisions have no deadline. Decisions made before this migration have
-- none either and are not counted. The index finds the decisions of the trust window.
ALTER TABLE decisions ADD COLUMN sla_due_at INTEGER;
ALTER TABLE cases ADD COLUMN late_at INTEGER;

CREATE INDEX decisions_by_time ON decisions(created_at);
