-- Money to recover (a buyer paid twice, a top-up credited after a refund of it was paid) is
-- settled by a person outside the shop: with the buyer, or with the provider. Staff record that
-- they did, who and why, and the item leaves the list of what needs a person.
CREATE TABLE attention_settlements (
    event_id TEXT PRIMARY KEY REFERENCES events(id),
    order_id TEXT NOT NULL,
    settled_by TEXT NOT NULL,
    note TEXT NOT NULL,
    settled_at INTEGER NOT NULL
);
