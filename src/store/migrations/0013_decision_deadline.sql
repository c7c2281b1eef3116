-- Trust signals read "decided in time" from the data. A case's deadline (sla_due_at) is cleared
-- once it is decided, so a person's decision now keeps the deadline it was due by; the machine's
-- decisions have none. Decisions made before this migration have none either and are not counted.
-- The index finds the decisions of the trust window.
ALTER TABLE decisions ADD COLUMN sla_due_at INTEGER;

CREATE INDEX decisions_by_time ON decisions(created_at);
