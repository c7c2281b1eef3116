-- Every index entry a write moves is more work for the writer and more pages in each commit.
-- Indexes that are only ever searched for one status hold only the rows in that status, so the
-- steps an order or a key goes through afterwards leave them alone.

-- Orders are looked up by status in three sets only: awaiting payment (by expiry), account orders
-- in escrow (by release time) and failed orders. orders(status, expires_at) moved an entry on
-- every change of status (paid, delivered, completed, refunded).
DROP INDEX orders_pending_by_expiry;
CREATE INDEX orders_awaiting_payment ON orders(expires_at) WHERE status = 'pending_payment';
CREATE INDEX orders_in_escrow ON orders(escrow_release_at)
    WHERE status = 'delivered' AND kind = 'account';
CREATE INDEX orders_failed ON orders(id) WHERE status = 'failed';

-- Card keys are reserved from the available ones of a product, oldest first. The index over all
-- statuses moved each sold key twice (available -> reserved -> delivered), into parts of the
-- index spread over every product; now a sale takes one entry out and delivery touches nothing.
DROP INDEX card_keys_reservation;
CREATE INDEX card_keys_available ON card_keys(product_id, created_at, id)
    WHERE status = 'available';
-- For recounting a product's stock after an import, and the products(id) foreign key; written
-- once per key, at import.
CREATE INDEX card_keys_by_product ON card_keys(product_id);
-- Keys are found by order only for keys that have one. Unsold keys (most of them) held NULL
-- entries in rowid order, so each sale deleted one from a random page. With the id in the index,
-- an order's keys come out in the order they are listed in, without a sort.
DROP INDEX card_keys_by_order;
CREATE INDEX card_keys_by_order ON card_keys(order_id, id) WHERE order_id IS NOT NULL;

-- An order's payments are listed by creation; with created_at in the index (and the rowid after
-- it, as in every index) they come out in that order without a sort.
DROP INDEX payments_by_order;
CREATE INDEX payments_by_order ON payments(order_id, created_at);
