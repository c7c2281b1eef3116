-- A refund of account goods after their escrow went to the seller is paid by the shop and
-- recovered from the seller outside it: its event joins the few a person must act on, in the
-- same partial index. The condition is written with OR, not IN: a list of three in a partial
-- index's condition builds a temporary B-tree at every insert of an event (see 0010); the
-- queries that read the index repeat it as it stands.
DROP INDEX events_needing_a_person;
CREATE INDEX events_needing_a_person ON events(created_at)
WHERE type = 'refund.paid_twice' OR type = 'topup.credited_after_refund'
    OR type = 'refund.seller_recovery_due';
