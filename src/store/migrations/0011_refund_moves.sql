-- A refund the route could not pay (failed, or moved off an abnormal account) may be paid again to
-- the shop balance, once. The new refund names the one it replaces, and a unique index makes a
-- second replacement of the same refund impossible, whatever the amounts: a partial refund that
-- failed would otherwise fit under the payment's captured amount again and again.
ALTER TABLE refunds ADD COLUMN rerouted_from TEXT REFERENCES refunds(id);
CREATE UNIQUE INDEX refunds_rerouted_from ON refunds(rerouted_from) WHERE rerouted_from IS NOT NULL;
