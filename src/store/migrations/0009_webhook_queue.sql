-- An event is queued for the webhook endpoint only if one is configured when it happens (as
-- with Stripe: an endpoint receives the events after it was set up). Events from a shop with no
-- endpoint are written 'no_endpoint' and never sent, so setting a URL later does not flood the
-- receiver with the shop's whole history.
--
-- The due-webhook index holds only queued events, oldest first, which is the order they are
-- sent in; with no endpoint, writing an event no longer touches it. Events already queued
-- before this migration stay queued.
DROP INDEX events_webhook_due;
CREATE INDEX events_webhook_due ON events(created_at) WHERE webhook_state = 'pending';
