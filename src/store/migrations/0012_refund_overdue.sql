-- A refund still with the provider after the date the buyer was promised is overdue: the shop says
-- so once (an order event, a webhook and a warning in its log) so that a person chases the
-- provider, and shows it on the refund. overdue_at is when it was noticed; the index finds the
-- ones to note. A refund on an abnormal account waits on the buyer, who is asked to move it, so
-- it is not counted. A shop upgraded with refunds already late notes each at its first ticks.
ALTER TABLE refunds ADD COLUMN overdue_at INTEGER;

CREATE INDEX refunds_to_note_overdue ON refunds(expected_by)
WHERE overdue_at IS NULL AND status = 'pending';
