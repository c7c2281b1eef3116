-- A product's keys are sold oldest import first and, within one import, in the order of its
-- file: by rowid. Ordered by id, keys imported in the same millisecond (a hundred or so) went out
-- in a random order, so each sale and each delivery wrote a page of card_keys of its own; in file
-- order a product's next sales land on the page its last ones did. Every index ends with the
-- rowid, so (product_id, created_at) gives that order without a sort.
DROP INDEX card_keys_available;
CREATE INDEX card_keys_available ON card_keys(product_id, created_at)
    WHERE status = 'available';
