// `kameng restore` killed at every step: before and after each rename, link and unlink it makes,
// in turn, the process is killed as by kill -9 (a preloaded shim raises SIGKILL; the page cache
// survives that, so this is not a power cut). After each such stop the data directory must hold
// one whole database, the one before or the one restored, that the shop starts on with balanced
// books and a verifying evidence log; and running the restore again must finish it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startShop, BIN, scratchDir } from './lib/server.mjs';
import { assertBalanced, cardProduct, paidOrder } from './lib/refunds.mjs';
import { buildPreload, preloadEnv } from './lib/preload.mjs';

const scratch = scratchDir('kameng-restore-crash-');
after(() => rmSync(scratch, { recursive: true, force: true }));

// Kills the process at its KAMENG_CRASH_AT-th rename, link or unlink, just before the call, or
// at the KAMENG_CRASH_AFTER-th just after it; logs each call (and its target) to KAMENG_CRASH_LOG.
const SHIM = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
static int calls;
static void step(const char *op, const char *path) {
    calls++;
    const char *log = getenv("KAMENG_CRASH_LOG");
    if (log != NULL) {
        FILE *f = fopen(log, "a");
        if (f != NULL) { fprintf(f, "%d %s %s\\n", calls, op, path); fclose(f); }
    }
    const char *at = getenv("KAMENG_CRASH_AT");
    if (at != NULL && atoi(at) == calls) raise(SIGKILL);
}
static void done(void) {
    const char *at = getenv("KAMENG_CRASH_AFTER");
    if (at != NULL && atoi(at) == calls) raise(SIGKILL);
}
int rename(const char *a, const char *b) {
    step("rename", b);
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    int rc = real(a, b);
    done();
    return rc;
}
int link(const char *a, const char *b) {
    step("link", b);
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
    int rc = real(a, b);
    done();
    return rc;
}
int unlink(const char *a) {
    step("unlink", a);
    int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    int rc = real(a);
    done();
    return rc;
}
`;

function restore(dir, backup, env) {
  const r = spawnSync(BIN, ['restore', backup, '--data', dir, '--accept-log-rollback'], {
    encoding: 'utf8', timeout: 60000, env: env ?? process.env,
  });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

// Starts the shop on dir; what it shows of the two orders, with its books and log checked.
async function stateOf(dir, clock, orders) {
  const shop = await startShop({ dataDir: dir, testClock: false, extraArgs: [`--test-clock=${clock}`] });
  try {
    const h = await shop.get('/healthz');
    assert.equal(h.status, 200, JSON.stringify(h.body));
    assert.equal(h.body.evidence_log, 'ok', JSON.stringify(h.body));
    await assertBalanced(shop);
    const seen = {};
    for (const [name, id] of Object.entries(orders)) {
      seen[name] = (await shop.get(`/v1/orders/${id}`, { token: shop.keys.admin })).status;
    }
    return seen;
  } finally {
    await shop.stop('SIGTERM');
  }
}

test('a restore killed at any step leaves one whole database, and a second run finishes it', { timeout: 600000 }, async () => {
  // A shop with an order in the backup and a later one after it, the later one's delivery under
  // a signed checkpoint (so the restore rolls the log back and moves that checkpoint aside), and
  // a WAL left by a kill.
  const shop = await startShop();
  const { product } = await cardProduct(shop, { price: 1500, digits: ['2', '7'] });
  const kept = await paidOrder(shop, product.id);
  await shop.advance(0);
  const backup = join(scratch, 'backup.db');
  const b = spawnSync(BIN, ['backup', backup, '--data', shop.dataDir], { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  const later = await paidOrder(shop, product.id);
  await shop.advance(0);
  const clock = (await shop.get('/v1/test/clock')).body.now;
  await shop.stop('SIGKILL');
  const template = join(scratch, 'template');
  cpSync(shop.dataDir, template, { recursive: true });
  const signed = readFileSync(join(template, 'log-checkpoint'), 'utf8');
  rmSync(shop.dataDir, { recursive: true, force: true });
  const orders = { kept: kept.order.id, later: later.order.id };
  const before = { kept: 200, later: 200 };
  const restored = { kept: 200, later: 404 };

  // How many file operations a whole restore makes.
  const lib = buildPreload(scratch, 'crash', SHIM);
  const counted = join(scratch, 'counted');
  cpSync(template, counted, { recursive: true });
  const log = join(scratch, 'ops.log');
  const whole = restore(counted, backup, preloadEnv(lib, { KAMENG_CRASH_LOG: log }));
  assert.equal(whole.status, 0, whole.out);
  const ops = readFileSync(log, 'utf8').trim().split('\n');
  assert.ok(ops.some((l) => / rename .*kameng\.db$/.test(l)), ops.join('\n'));
  assert.ok(ops.some((l) => / rename .*log-checkpoint\.before-restore-/.test(l)), 'the checkpoint is moved aside');

  const outcomes = [];
  for (let i = 0; i < 2 * ops.length; i++) {
    const step = `${i % 2 ? 'after' : 'before'} ${ops[i >> 1]}`;
    const dir = join(scratch, `kill-${i}`);
    cpSync(template, dir, { recursive: true });
    const where = { [i % 2 ? 'KAMENG_CRASH_AFTER' : 'KAMENG_CRASH_AT']: String((i >> 1) + 1) };
    const killed = restore(dir, backup, preloadEnv(lib, where));
    assert.equal(killed.signal, 'SIGKILL', `${step}: ${killed.out}`);
    const keptAside = readdirSync(dir).some((f) => f.startsWith('log-checkpoint.before-restore-') &&
      readFileSync(join(dir, f), 'utf8') === signed);
    const seen = await stateOf(dir, clock, orders);
    const whole = JSON.stringify(seen) === JSON.stringify(before) || JSON.stringify(seen) === JSON.stringify(restored);
    assert.ok(whole, `killed ${step}: the shop shows ${JSON.stringify(seen)}`);
    outcomes.push(seen.later === 200 ? 'before' : 'restored');
    // The restored log contradicts the checkpoint signed before: that checkpoint must have been
    // kept aside by then, not left for the shop to sign over.
    if (seen.later === 404) assert.ok(keptAside, `killed ${step}: the restored log met the checkpoint it contradicts`);

    const again = restore(dir, backup);
    assert.equal(again.status, 0, `rerun after a kill ${step}: ${again.out}`);
    assert.ok(!existsSync(join(dir, 'kameng.db.restoring')), 'no temporary copy is left');
    assert.deepEqual(await stateOf(dir, clock, orders), restored, `after the rerun (killed ${step})`);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(outcomes.includes('before') && outcomes.includes('restored'),
    `kills landed on both sides of the final rename: ${outcomes}`);
});
