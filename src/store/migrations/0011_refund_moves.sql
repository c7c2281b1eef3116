-- A refund the route could not pay (failed, or moved off an abnormal account) may be paid again to
-- the shop balance, once. The new refund names the one it replaces, and a unique index makes a
-- second replacement of the same refund impossible, whatever the amounts: a partial refund that
-- failed would otherwise fit under the payment's captured amount again and again.
ALTER TABLE refunds ADD COLUMN rerouted_from TEXT REFERENCES refunds(id);

-- Moves made before this migration: a balance refund of a payment that was not paid from the
-- balance is a move. It replaced the failed refund of the same payment, case and amount that
-- ended last before it was made. Should two moves point at one refund, the earlier keeps it.
UPDATE refunds SET rerouted_from = (
    SELECT f.id FROM refunds AS f
    WHERE f.payment_id = refunds.payment_id AND f.status = 'failed'
      AND f.amount_fen = refunds.amount_fen AND f.case_id IS refunds.case_id -- IS: NULLs equal too
      AND f.id != refunds.id AND f.completed_at <= refunds.created_at
    ORDER BY f.completed_at DESC LIMIT 1)
WHERE method = 'balance'
  AND (SELECT p.method FROM payments AS p WHERE p.id = refunds.payment_id) != 'balance';
UPDATE refunds SET rerouted_from = NULL
WHERE rerouted_from IS NOT NULL
  AND id != (SELECT MIN(r.id) FROM refunds AS r WHERE r.rerouted_from = refunds.rerouted_from);

CREATE UNIQUE INDEX refunds_rerouted_from ON refunds(rerouted_from) WHERE rerouted_from IS NOT NULL;
