/* Every limit in kameng, each with the reason for its value. A limit is a promise about how much
 * work one request or one queue can cause; change it here and nowhere else. */
#ifndef KM_LIMITS_H
#define KM_LIMITS_H

/* HTTP */
#define HTTP_BODY_BYTES_MAX (1024 * 1024) /* a 10,000-row card import in JSON fits; more is abuse  \
                                           */
#define HTTP_CONNECTIONS_MAX 1024         /* well above what 2 cores serve; beyond it, refuse */
#define HTTP_CONNECTIONS_PER_IP_MAX 512 /* a browser needs a handful; a gateway or load test more  \
                                         */
#define HTTP_CONNECTION_TIMEOUT_S 30    /* idle keep-alive connections are closed after this */
#define HTTP_THREADS 4                  /* 2 cores; blocking reads and argon2 need a spare thread */
/* Each connection's buffer for the request head and the answer's headers (bodies stream past
 * it). libmicrohttpd zeroes its unused part after every request, 3% of the CPU under writes, but
 * a smaller one refuses real heads: at 16 KiB a 6 KiB Cookie header of 60 cookies, as a shop on a
 * subdomain of a site with analytics gets, was answered 431. 32 KiB (libmicrohttpd's default)
 * takes 12 KiB of cookies. */
#define HTTP_CONNECTION_MEMORY_BYTES 32768
/* Memory for order views kept, 2-4 KiB each. Unless set, a sixteenth of the memory the shop may
 * use, within these bounds (the upper one holds about 150,000 views); 64 MiB if that memory is
 * unknown. */
#define ORDER_VIEW_CACHE_MB_AUTO_MIN 16
#define ORDER_VIEW_CACHE_MB_AUTO_MAX 512
#define ORDER_VIEW_CACHE_MB_UNKNOWN_MEMORY 64
#define ORDER_VIEW_CACHE_MEMORY_SHARE 16
#define ORDER_VIEW_CACHE_MB_MAX 65536
/* A place for a view per KiB of that memory, in sets of 4: two to four times the views it holds, so
 * that few sets overflow and push out a view the next read wants. 48 bytes a set, at most 48 MiB.
 */
#define ORDER_VIEW_BYTES_PER_SLOT 1024
#define ORDER_VIEW_SETS_MAX (1 << 20)
#define VIEW_WARM_DELAY_MS 100          /* a view is rebuilt this long after a commit drops it */
#define VIEW_WARM_QUEUE 16384           /* orders waiting for their view to be rebuilt */
#define VIEW_WARM_BUSY_PERCENT 50       /* of the CPUs, used by the rest of kameng: no warming */
#define HTTP_PATH_BYTES_MAX 512         /* our longest route is under 100 bytes */
#define HTTP_PATH_SEGMENTS_MAX 8        /* /v1/orders/{id}/keys/{id}/reveal is 6 */
#define HTTP_HEADER_VALUE_BYTES_MAX 256 /* idempotency keys, tokens and ids are far shorter */
#define IDEMPOTENCY_KEY_BYTES_MAX 128   /* Stripe allows 255; a UUID is 36 */
#define IDEMPOTENCY_INFLIGHT_MAX 4096   /* >= the write queue depth, so every queued write fits */

#define EVIDENCE_BYTES_MAX (4 * 1024 * 1024) /* a phone screenshot or a one-page PDF receipt */
#define EVIDENCE_PER_ORDER_MAX 20            /* an appeal's worth of screenshots, with room */

/* Writes: one writer, group commit */
#define WRITE_QUEUE_DEPTH_MAX 4096 /* beyond this, 503 rather than unbounded latency */
#define WRITE_BATCH_MAX 256        /* one commit per batch; larger ones add latency only */
/* Nice levels the serving shop's writer runs below the rest of the process (docs/design.md, "The
 * write path"). */
#define WRITER_NICE_AHEAD 10
/* Committed batches waiting for their WAL sync at most; the writer waits beyond. A sync takes a
 * few batches' time, so 16 never fills unless the disk stalls, and then the writer should too. */
#define SYNC_PIPELINE 16
/* WAL frames (4 KiB pages) after which the writer checkpoints and restarts the WAL itself. Under
 * steady writes a background checkpoint never finds a moment to restart it, and a WAL of gigabytes
 * slows every read; 256 MiB is two or three seconds of the heaviest write load. The later the
 * background checkpointer starts and the fewer times it runs, the more often a page it copies was
 * written many times over meanwhile: from 16,384 frames every 4,096 instead of from 4,096 every
 * 1,024, its CPU per write request fell by two fifths (bench/README.md). */
#define WAL_RESTART_FRAMES 65536
#define WAL_CHECKPOINT_FRAMES 16384 /* from here the background checkpointer copies */
#define WAL_NUDGE_FRAMES 4096       /* ... each time this many more were written */
#define WAL_RESTART_WAIT_MS                                                                        \
    5 /* for readers of older snapshots; else again WAL_NUDGE_FRAMES later */
/* Every write waits while the restart copies what the background checkpointer has not copied yet
 * and syncs the database. So past WAL_RESTART_FRAMES the checkpointer runs back to back, and the
 * writer restarts once it is at most WAL_RESTART_BEHIND_FRAMES behind (about what the heaviest
 * load writes during one short run), or once the WAL is WAL_RESTART_PATIENCE_FRAMES past
 * WAL_RESTART_FRAMES, however far behind. */
#define WAL_RESTART_BEHIND_FRAMES 1024
#define WAL_RESTART_PATIENCE_FRAMES 16384
/* A commit's WAL frames are gathered into writes of at most this: SQLite's unix VFS passes at
 * most 128 KiB - 1 to one pwrite (it masks the length with 0x1ffff), so 29 frames of 4 KiB. */
#define WAL_WRITE_BUFFER_BYTES (120 * 1024)

/* Lists */
#define LIST_LIMIT_DEFAULT 20
#define LIST_LIMIT_MAX 100 /* a page is one screen; more pages for more */
#define ATTENTION_LIST_MAX 500   /* items the staff list of what needs a person answers */

/* Orders */
#define ORDER_QUANTITY_MAX 100           /* a buyer buying more is a wholesaler, not a shop buyer */
#define ORDER_PAYMENT_WINDOW_S (15 * 60) /* unpaid orders hold stock for 15 minutes, then expire   \
                                          */
#define ORDER_CONTACT_BYTES_MAX 128      /* an e-mail address or phone number */
#define LOOKUP_PASSWORD_BYTES_MIN 6      /* shorter passwords are guessed within the rate limit */
#define LOOKUP_PASSWORD_BYTES_MAX 128
#define LOOKUP_ATTEMPTS_PER_MINUTE 10 /* per IP and per order: guessing 6 chars takes years */
#define LOOKUP_HASH_CONCURRENCY 2     /* argon2id costs 64 MiB and a core; two cores */
#define PAYMENTS_PER_ORDER_MAX 10     /* attempts; a buyer retrying ten times needs a person */

/* Catalog */
#define PRODUCT_NAME_BYTES_MAX 200
#define PRODUCT_REGIONS_BYTES_MAX 512    /* a comma-separated server list */
#define MONEY_FEN_MAX_DEFAULT 10000000   /* 100,000 CNY: above any single virtual-goods order */
#define TOPUP_TIMEOUT_MINUTES_DEFAULT 30 /* the policy's E1 default */
#define ACCOUNT_DELIVERY_BYTES_MAX 4096  /* an account, a password and a few lines of notes */

/* Jobs */
#define JOB_BATCH_MAX 200           /* rows one timer pass touches; the next pass takes more */
#define JOB_TICK_MS 500             /* real-clock timers run twice a second */
#define JOB_BACKLOG_PAUSE_MS 5      /* between passes while work is still coming */
#define UPSTREAM_POLL_INTERVAL_S 60 /* ask the upstream about an unanswered top-up each minute */
#define CALLBACK_ATTEMPTS_MAX 8     /* sandbox callbacks: then polling alone finds the result */
/* A dispute still open this long after its due date or the shop's answer is asked about at the
 * provider: its closing notification is retried for about 8.5 minutes, then given up. */
#define DISPUTE_POLL_GRACE_MS (15LL * 60 * 1000)
#define DISPUTE_POLL_RETRY_MS (5LL * 60 * 1000) /* then again, while it stays open */
/* A sandbox provider keeps posting its notifications for at most this long in one timer pass,
 * then lets the other timers run; under a steady stream of payments it would never stop. */
#define CALLBACK_PASS_MS 500
/* Acknowledged notifications recorded in one transaction: each record waits for a commit, during
 * which the window keeps going, so fewer and larger ones. */
#define CALLBACK_MARK_BATCH 128

/* Logs */
#define LOG_LINE_BYTES_MAX 2048

_Static_assert(IDEMPOTENCY_INFLIGHT_MAX >= WRITE_QUEUE_DEPTH_MAX,
               "every queued write may carry an idempotency key");
_Static_assert(WRITE_BATCH_MAX <= WRITE_QUEUE_DEPTH_MAX, "a batch comes from the queue");
_Static_assert(LIST_LIMIT_DEFAULT <= LIST_LIMIT_MAX, "the default page is a valid page");

#endif
