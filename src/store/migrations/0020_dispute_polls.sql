-- When the shop may next ask the provider about an open dispute whose decision has not come
-- (0: at once). A question that fails, or a provider still deciding, waits DISPUTE_POLL_RETRY_MS,
-- so one dispute that cannot be closed neither fills the log nor holds up the others.
ALTER TABLE disputes ADD COLUMN poll_next_at INTEGER NOT NULL DEFAULT 0;
