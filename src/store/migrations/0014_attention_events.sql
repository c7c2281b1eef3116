-- The events a person must act on (a buyer paid twice, a top-up credited after its refund) are
-- listed for staff oldest first. They are rare; this index holds only them, so the list is read
-- without a scan of every event, and no other event touches it.
CREATE INDEX events_needing_a_person ON events(created_at)
WHERE type IN ('refund.paid_twice', 'topup.credited_after_refund');
