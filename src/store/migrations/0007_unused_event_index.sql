-- Every index is one more B-tree each write touches. events_by_object serves no query: events are
-- read by order (events_by_order) and by webhook state (events_webhook_due).
DROP INDEX events_by_object;
