// Nothing is told before it is on disk. The writer commits a batch before the WAL sync that makes
// it durable, and other connections can see it in between; so while syncs are held (a test-only
// switch), a write is not acknowledged, and an answer built from a read that could see it waits
// too. Once the sync runs, both go out, and the read shows the write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { POSTGRES, startShop, scratchDir } from './lib/server.mjs';
import { buildPreload, preloadEnv } from './lib/preload.mjs';
import { createCardProduct, freshKeys, importJson, stockOf } from './lib/flows.mjs';

let shop, product;
before(async () => {
  shop = await startShop();
  product = await createCardProduct(shop, { price: 700 });
  const r = await importJson(shop, product.id, freshKeys(3, 'FENCE'));
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
after(async () => {
  await shop.post('/v1/test/syncs', { hold: false }).catch(() => {});
  await shop.cleanup();
});

const settled = (p) => {
  const s = { done: false, value: undefined };
  p.then((v) => { s.done = true; s.value = v; });
  return s;
};
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// A read that should answer at once fails the test after a while instead of hanging it.
const soon = (p, what) => Promise.race([p, pause(5000).then(() => { throw new Error(`${what}: no answer in 5 s`); })]);

test('a write waits for its sync, and so does any read that could see it', async () => {
  assert.equal((await stockOf(shop, product.id)).available, 3);
  // Every timer settles first (the evidence log's checkpoint is signed), so the timers' idle
  // passes that follow change nothing a read would wait for.
  await shop.advance(0);
  const held = await shop.post('/v1/test/syncs', { hold: true });
  assert.equal(held.status, 200, JSON.stringify(held.body));
  assert.deepEqual(held.body, { object: 'test_syncs', held: true });

  // With nothing unsynced, a read answers at once even while syncs are held.
  assert.equal((await soon(stockOf(shop, product.id), 'a read with nothing unsynced')).available, 3);

  const order = settled(shop.post('/v1/orders', { product_id: product.id }));
  await pause(300);
  assert.equal(order.done, false, 'the order was acknowledged before its sync');

  // The sale is committed and visible to readers, but not durable: the stock answer waits.
  const stock = settled(stockOf(shop, product.id));
  await pause(300);
  assert.equal(stock.done, false, 'a read of an unsynced sale was answered');

  const released = await shop.post('/v1/test/syncs', { hold: false });
  assert.equal(released.status, 200);
  assert.deepEqual(released.body, { object: 'test_syncs', held: false });
  for (let i = 0; i < 100 && !(order.done && stock.done); i++) await pause(20);
  assert.ok(order.done && stock.done, 'both went out once the sync ran');
  assert.equal(order.value.status, 201, JSON.stringify(order.value.body));
  assert.deepEqual(stock.value, { available: 2, reserved: 1, delivered: 0 }, 'the read shows the sale it waited for');
});

// Logs each fdatasync and fsync with the file it was called on and the monotonic clock, which
// node's process.hrtime reads too.
const SYNC_LOG_SHIM = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static void note(const char *op, int fd) {
    const char *log = getenv("KAMENG_SYNC_LOG");
    if (log == NULL) return;
    char link[64], path[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[640];
    int len = snprintf(line, sizeof line, "%lld %s %s\\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, op, path);
    int out = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (out >= 0) { (void)write(out, line, (size_t)len); close(out); }
}
int fdatasync(int fd) {
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int rc = real(fd);
    note("fdatasync", fd);
    return rc;
}
int fsync(int fd) {
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int rc = real(fd);
    note("fsync", fd);
    return rc;
}
`;

test('a write is acknowledged only after the WAL itself is synced', { skip: POSTGRES ? "SQLite's WAL (PostgreSQL's COMMIT returns once durable)" : false }, async () => {
  const dir = scratchDir('kameng-e2e-sync-');
  const log = join(dir, 'syncs.log');
  const lib = buildPreload(dir, 'synclog', SYNC_LOG_SHIM);
  const watched = await startShop({ env: preloadEnv(lib, { KAMENG_SYNC_LOG: log }) });
  try {
    const p = (await watched.get('/v1/products')).body.data.find((x) => x.kind === 'card_key');
    for (let i = 0; i < 3; i++) {
      const sent = process.hrtime.bigint();
      const created = await watched.post('/v1/orders', { product_id: p.id });
      const acked = process.hrtime.bigint();
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const syncs = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '))
        .filter(([at]) => BigInt(at) >= sent && BigInt(at) <= acked);
      assert.ok(syncs.some(([, op, file]) => op === 'fdatasync' && file === join(realpathSync(watched.dataDir), 'kameng.db-wal')),
        `between the request and its answer, the syncs were: ${JSON.stringify(syncs)}`);
    }
  } finally {
    await watched.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the switch is for tests only, and its input is checked', async () => {
  await shop.post('/v1/test/syncs', { hold: false }); // should the test above have stopped held
  const bad = await shop.post('/v1/test/syncs', { hold: 'yes' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, 'hold');
  const extra = await shop.post('/v1/test/syncs', { hold: false, other: 1 });
  assert.equal(extra.status, 400);
  const real = await startShop({ testClock: false });
  try {
    const r = await real.post('/v1/test/syncs', { hold: true });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'test_clock_disabled');
    assert.equal((await real.get('/healthz')).status, 200, 'nothing was held');
  } finally {
    await real.cleanup();
  }
});

// The writer runs ten nice levels ahead of the serving shop's other threads (docs/design.md),
// and where the system does not allow it, the start log says so.
// Each thread's name and nice value, from /proc.
function threadsOf(pid) {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return [{
        tid: Number(tid),
        name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(),
        nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]), // field 19
      }];
    } catch {
      return []; // a short-lived thread that ended meanwhile
    }
  });
}

test('the writer thread runs ahead of the others, or the log says why not', () => {
  const pid = shop.proc.pid;
  const threads = threadsOf(pid);
  const main = threads.find((t) => t.tid === pid);
  const writer = threads.find((t) => t.name === 'kameng-writer');
  assert.ok(writer, threads.map((t) => t.name).join(','));
  const unchanged = shop.logs.join('').includes('"writer_priority_unchanged"');
  // A shop holding CAP_SYS_NICE (bit 23 of its effective capabilities) may always raise it.
  const capEff = BigInt('0x' + readFileSync(`/proc/${pid}/status`, 'utf8').match(/^CapEff:\s*([0-9a-f]+)/m)[1]);
  if ((capEff >> 23n) & 1n) assert.equal(unchanged, false, 'the shop may raise its writer\'s priority');
  if (unchanged) {
    assert.equal(writer.nice, main.nice);
  } else {
    assert.equal(writer.nice, Math.max(-20, main.nice - 10));
  }
  for (const t of threads.filter((t) => t !== writer)) assert.equal(t.nice, main.nice, t.name);
});

// A shop started near the highest priority: the writer goes as far as it may, and at the top
// already the log says so. Needs CAP_SYS_NICE to start the shop there; skipped without.
test('a shop started at nice -15 or -20 takes its writer to -20 at most', async (t) => {
  const own = getPriority();
  try {
    setPriority(-20);
  } catch {
    t.skip('no CAP_SYS_NICE to start a shop at nice -20');
    return;
  }
  for (const nice of [-15, -20]) {
    setPriority(nice); // the shop's process inherits it
    let started;
    try {
      started = await startShop();
    } finally {
      setPriority(own);
    }
    try {
      const threads = threadsOf(started.proc.pid);
      const main = threads.find((x) => x.tid === started.proc.pid);
      const writer = threads.find((x) => x.name === 'kameng-writer');
      assert.equal(main.nice, nice);
      assert.equal(writer.nice, -20, `started at ${nice}`);
      const log = started.logs.join('');
      if (nice === -20) {
        assert.match(log, /"writer_priority_unchanged".*"reason":"the process runs at the highest priority"/);
      } else {
        assert.doesNotMatch(log, /writer_priority_unchanged/);
      }
    } finally {
      await started.cleanup();
    }
  }
});
