-- Reserving card keys takes the oldest available ones of a product: with this index that is a
-- range read of `quantity` rows, not a sort of the product's whole stock.
CREATE INDEX card_keys_reservation ON card_keys(product_id, status, created_at, id);
DROP INDEX card_keys_by_product_status;

-- Stock counts kept on the product, so reading a product is one row whatever its stock. Every
-- statement that moves a key between states moves the counts with it (store_catalog.c).
ALTER TABLE products ADD COLUMN stock_available INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN stock_reserved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN stock_delivered INTEGER NOT NULL DEFAULT 0;
UPDATE products SET
    stock_available = (SELECT COUNT(*) FROM card_keys c WHERE c.product_id = products.id AND c.status = 'available'),
    stock_reserved = (SELECT COUNT(*) FROM card_keys c WHERE c.product_id = products.id AND c.status = 'reserved'),
    stock_delivered = (SELECT COUNT(*) FROM card_keys c WHERE c.product_id = products.id AND c.status = 'delivered');
