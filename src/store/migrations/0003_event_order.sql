-- Events name their order in a column, so an order's timeline is one indexed read.
ALTER TABLE events ADD COLUMN order_id TEXT;
CREATE INDEX events_by_order ON events(order_id, created_at);

-- The automatic-refund sweep looks for captured payments an order did not need, and for refunds
-- of a payment: both stay indexed reads however large the books grow.
CREATE INDEX payments_unapplied ON payments(order_id) WHERE disposition != 'applied';
CREATE INDEX refunds_by_payment ON refunds(payment_id);
