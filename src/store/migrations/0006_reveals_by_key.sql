-- "Was this key ever revealed?" is asked per key by the refund policy and at every reveal.
CREATE INDEX reveals_by_key ON reveals(card_key_id);
