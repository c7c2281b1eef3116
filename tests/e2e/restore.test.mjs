// Backup and restore, as an operator runs them: `kameng backup FILE` while the shop serves, and
// `kameng restore FILE` with the shop stopped. A restore checks the backup before it replaces
// anything, keeps the database it replaces, and refuses to roll the published evidence log back
// unless told to. A running shop owns its data directory: a second shop or a restore under it is
// refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startShop, BIN, scratchDir } from './lib/server.mjs';
import { assertBalanced, cardProduct, paidOrder } from './lib/refunds.mjs';

const scratch = scratchDir('kameng-restore-');
const shops = [];
after(async () => {
  for (const s of shops) await s.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

async function shopOn(opts) {
  const s = await startShop(opts);
  shops.push(s);
  return s;
}

function sqlite3(file, sql) {
  const r = spawnSync('sqlite3', [file, sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3 ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

// `kameng ARGS…`: { status, out } with stdout and stderr together.
function kameng(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const digest = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const clockOf = async (shop) => (await shop.get('/v1/test/clock')).body.now;
const orderAsAdmin = (shop, id) => shop.get(`/v1/orders/${id}`, { token: shop.keys.admin });

test('a serving shop owns its data directory: a second shop and a restore are refused', async () => {
  const shop = await shopOn();
  const backup = join(scratch, 'owned.db');
  assert.equal(kameng('backup', backup, '--data', shop.dataDir).status, 0, 'backup runs beside the shop');
  const second = kameng('serve', '--data', shop.dataDir, '--port', '1');
  assert.equal(second.status, 1, second.out);
  assert.match(second.out, /another kameng is using .*; stop it first/);
  const before = digest(join(shop.dataDir, 'kameng.db'));
  const r = kameng('restore', backup, '--data', shop.dataDir);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /another kameng is using/);
  assert.equal((await shop.get('/healthz')).status, 200);
  await shop.stop('SIGTERM');
  assert.equal(digest(join(shop.dataDir, 'kameng.db')), before, 'nothing was replaced');
});

test('a restore brings the backup back and keeps the database it replaces', async () => {
  let shop = await shopOn();
  const dir = shop.dataDir;
  const { product } = await cardProduct(shop, { price: 1200, digits: ['4', '5', '6'] });
  const kept = await paidOrder(shop, product.id);
  await shop.advance(0); // its deliveries are in the log, and a checkpoint covers them
  const backup = join(scratch, 'then.db');
  const b = kameng('backup', backup, '--data', dir);
  assert.equal(b.status, 0, b.out);
  // Not paid, so nothing of it enters the evidence log: the restore rolls back no signed entry.
  const lost = (await shop.post('/v1/orders', { product_id: product.id })).body;
  assert.ok(lost.id, JSON.stringify(lost));
  const clock = await clockOf(shop);
  // Killed, as after a crash: the later order is only in the WAL, which must neither be lost
  // with the replaced database nor replayed into the restored one.
  await shop.stop('SIGKILL');
  assert.ok(statSync(join(dir, 'kameng.db-wal')).size > 0);

  const r = kameng('restore', backup, '--data', dir);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /restored: schema \d+, \d+ ledger transfers, \d+ evidence log entries; the books balance/);
  const asideName = readdirSync(dir).find((f) => /^kameng\.db\.before-restore-\d{8}T\d{6}Z(-\d+)?$/.test(f));
  assert.ok(asideName, `the replaced database is kept: ${readdirSync(dir)}`);
  assert.match(r.out, new RegExp(`kept as .*${asideName}`));
  assert.ok(!existsSync(join(dir, 'kameng.db.restoring')), 'no temporary copy is left');

  shop = await shopOn({ dataDir: dir, testClock: false, extraArgs: [`--test-clock=${clock}`] });
  assert.equal((await orderAsAdmin(shop, kept.order.id)).status, 200, 'the order in the backup is there');
  assert.equal((await orderAsAdmin(shop, kept.order.id)).body.status, 'delivered');
  assert.equal((await orderAsAdmin(shop, lost.id)).status, 404, 'the order after the backup is not');
  await assertBalanced(shop);
  const h = await shop.get('/healthz');
  assert.equal(h.status, 200, JSON.stringify(h.body));
  await shop.stop('SIGTERM');

  // The replaced database still holds the later order: put it back the same way.
  const again = kameng('restore', join(dir, asideName), '--data', dir);
  assert.equal(again.status, 0, again.out);
  const asides = readdirSync(dir).filter((f) => f.startsWith('kameng.db.before-restore-'));
  assert.equal(asides.length, 2, `each restore keeps what it replaced, under its own name: ${asides}`);
  shop = await shopOn({ dataDir: dir, testClock: false, extraArgs: [`--test-clock=${clock}`] });
  assert.equal((await orderAsAdmin(shop, lost.id)).status, 200, 'the replaced database had it');
  await assertBalanced(shop);
  await shop.stop('SIGTERM');
});

test('a file that is not a sound backup of this shop is refused, and nothing changes', async () => {
  const shop = await shopOn();
  const dir = shop.dataDir;
  const other = await shopOn(); // another shop: its own master key and log key
  const { product } = await cardProduct(other, { price: 900, digits: ['7'] });
  await paidOrder(other, product.id);
  const foreign = join(scratch, 'foreign.db');
  assert.equal(kameng('backup', foreign, '--data', other.dataDir).status, 0);
  const good = join(scratch, 'good.db');
  assert.equal(kameng('backup', good, '--data', dir).status, 0);
  await shop.stop('SIGTERM');
  await other.stop('SIGTERM');

  const garbage = join(scratch, 'garbage.db');
  writeFileSync(garbage, 'this is not a database\n'.repeat(200));
  const truncated = join(scratch, 'truncated.db');
  copyFileSync(good, truncated);
  truncateSync(truncated, Math.floor(statSync(good).size / 2));
  const empty = join(scratch, 'empty.db');
  writeFileSync(empty, '');
  const otherApp = join(scratch, 'other-app.db'); // a sound SQLite file of something else
  sqlite3(otherApp, 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES (\'hi\');');
  const cases = [
    [garbage, /refused: not a SQLite database/],
    [empty, /refused: not a kameng database/],
    [otherApp, /refused: not a kameng database/],
    [join(dir, 'kameng.db'), /refused: .* is this data directory's own database/],
    [join(dir, 'kameng.db.restoring'), /cannot read/],
    [truncated, /refused: (not a sound SQLite database|not a SQLite database)/],
    [foreign, /refused: this data directory's master key does not open its card keys/],
    [join(scratch, 'missing.db'), /cannot read/],
  ];
  const files = readdirSync(dir).sort();
  const before = digest(join(dir, 'kameng.db'));
  for (const [file, why] of cases) {
    const r = kameng('restore', file, '--data', dir);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, why, r.out);
    assert.match(r.out, /nothing was changed/);
    assert.equal(digest(join(dir, 'kameng.db')), before, `${file}: the database is untouched`);
    assert.deepEqual(readdirSync(dir).sort(), files, `${file}: no file was added or removed`);
  }
});

test('a backup older than the last signed checkpoint is restored only with --accept-log-rollback', async () => {
  let shop = await shopOn();
  const dir = shop.dataDir;
  const { product } = await cardProduct(shop, { price: 1100, digits: ['3', '8'] });
  await paidOrder(shop, product.id);
  await shop.advance(0);
  const backup = join(scratch, 'older.db');
  assert.equal(kameng('backup', backup, '--data', dir).status, 0);
  await paidOrder(shop, product.id); // a delivery: the log grows, and the next checkpoint covers it
  await shop.advance(0);
  const signed = readFileSync(join(dir, 'log-checkpoint'), 'utf8');
  const clock = await clockOf(shop);
  await shop.stop('SIGTERM');
  const before = digest(join(dir, 'kameng.db'));

  const refused = kameng('restore', backup, '--data', dir);
  assert.equal(refused.status, 1, refused.out);
  assert.match(refused.out, /does not extend the checkpoint this shop last signed/);
  assert.match(refused.out, /entr(y|ies) .* missing/);
  assert.match(refused.out, /--accept-log-rollback/);
  assert.equal(digest(join(dir, 'kameng.db')), before);
  assert.equal(readFileSync(join(dir, 'log-checkpoint'), 'utf8'), signed);

  const r = kameng('restore', backup, '--data', dir, '--accept-log-rollback');
  assert.equal(r.status, 0, r.out);
  const keptName = readdirSync(dir).find((f) => f.startsWith('log-checkpoint.before-restore-'));
  assert.ok(keptName, 'the contradicted checkpoint is kept');
  assert.equal(readFileSync(join(dir, keptName), 'utf8'), signed);
  assert.ok(!existsSync(join(dir, 'log-checkpoint')));

  // The shop serves the restored log, and signs it again as it grows.
  shop = await shopOn({ dataDir: dir, testClock: false, extraArgs: [`--test-clock=${clock}`] });
  await paidOrder(shop, product.id);
  await shop.advance(0);
  const h = await shop.get('/healthz');
  assert.equal(h.status, 200, JSON.stringify(h.body));
  assert.equal(h.body.evidence_log, 'ok');
  assert.ok(existsSync(join(dir, 'log-checkpoint')), 'a new checkpoint is signed');
  await assertBalanced(shop);
  await shop.stop('SIGTERM');
});

test('a database file lost after a crash is restored without its orphaned WAL replayed into it', async () => {
  const shop = await shopOn();
  const dir = shop.dataDir;
  const { product } = await cardProduct(shop, { price: 1300, digits: ['1'] });
  const backup = join(scratch, 'before-loss.db');
  assert.equal(kameng('backup', backup, '--data', dir).status, 0);
  const later = (await shop.post('/v1/orders', { product_id: product.id })).body;
  assert.ok(later.id);
  await shop.stop('SIGKILL');
  rmSync(join(dir, 'kameng.db')); // the file is lost; its WAL and shared memory are not
  assert.ok(statSync(join(dir, 'kameng.db-wal')).size > 0);

  const r = kameng('restore', backup, '--data', dir);
  assert.equal(r.status, 0, r.out);
  const orphan = readdirSync(dir).find((f) => /^kameng\.db\.before-restore-.*-wal$/.test(f));
  assert.ok(orphan, `the orphaned WAL is kept aside: ${readdirSync(dir)}`);
  assert.ok(!existsSync(join(dir, 'kameng.db-wal')) || statSync(join(dir, 'kameng.db-wal')).size === 0);
  const check = kameng('ledger-check', '--data', dir);
  assert.equal(check.status, 0, check.out);
  assert.equal(sqlite3(join(dir, 'kameng.db'), 'PRAGMA integrity_check'), 'ok');
  const restarted = await shopOn({ dataDir: dir });
  assert.equal((await orderAsAdmin(restarted, later.id)).status, 404);
  assert.equal((await restarted.get('/healthz')).status, 200);
  await restarted.stop('SIGTERM');
});

test('a backup from an older kameng is migrated forward in the copy, then restored', async () => {
  const shop = await shopOn();
  const dir = shop.dataDir;
  await shop.stop('SIGTERM');
  // A database as the first four migrations left it.
  const old = join(scratch, 'schema4.db');
  const migrationsDir = new URL('../../src/store/migrations/', import.meta.url).pathname;
  const names = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort().slice(0, 4);
  let sql = 'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);';
  for (const [i, f] of names.entries()) {
    sql += readFileSync(join(migrationsDir, f), 'utf8');
    sql += `INSERT INTO schema_migrations VALUES (${i + 1}, '${f.replace(/\.sql$/, '')}', 0);`;
  }
  sqlite3(old, sql);

  const r = kameng('restore', old, '--data', dir, '--accept-log-rollback');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /schema 4 migrated to \d+ in the copy/);
  const again = await shopOn({ dataDir: dir });
  assert.equal((await again.get('/healthz')).status, 200);
  await again.stop('SIGTERM');
  // The old database had no API keys yet, so the books are checked from the command line.
  const check = kameng('ledger-check', '--data', dir);
  assert.equal(check.status, 0, check.out);
});

test('restore takes the file first, and says so', () => {
  const r = kameng('restore', '--data', scratch, 'x.db');
  assert.equal(r.status, 2, r.out);
  assert.match(r.out, /restore takes the file first: kameng restore FILE/);
});

test('a restore that cannot take the current WAL into its file changes nothing', async () => {
  const shop = await shopOn();
  const dir = shop.dataDir;
  const backup = join(scratch, 'while-read.db');
  assert.equal(kameng('backup', backup, '--data', dir).status, 0);
  const later = (await shop.post('/v1/orders', { product_id: (await shop.product('card_key')).id })).body;
  assert.ok(later.id);
  await shop.stop('SIGKILL'); // the order is only in the WAL
  // Another program reads the database and keeps its snapshot open.
  const reader = spawn('sqlite3', [join(dir, 'kameng.db')], { stdio: ['pipe', 'pipe', 'ignore'] });
  const read = new Promise((resolve) => reader.stdout.once('data', resolve));
  reader.stdin.write('BEGIN; SELECT COUNT(*) FROM orders;\n');
  await read;
  try {
    // The file may take in some of the WAL's pages before the restore gives up; what the
    // database holds stays the same, which the restart below checks.
    const files = readdirSync(dir).sort();
    const r = kameng('restore', backup, '--data', dir);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /WAL could not be copied into it/);
    assert.match(r.out, /nothing was changed/);
    assert.deepEqual(readdirSync(dir).sort(), files);
  } finally {
    reader.stdin.end('ROLLBACK;\n');
    await new Promise((resolve) => reader.once('exit', resolve));
  }
  const restarted = await shopOn({ dataDir: dir });
  assert.equal((await orderAsAdmin(restarted, later.id)).status, 200, 'the order in the WAL is still there');
  await restarted.stop('SIGTERM');
});
