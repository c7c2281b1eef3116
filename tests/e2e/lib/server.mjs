// Starts a real kameng server process on loopback for end-to-end tests: a fresh data directory,
// the demo seed (products, card keys, API keys), and --test-clock so timers move only when told.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import net from 'node:net';

export const BIN = process.env.KAMENG_BIN ?? new URL('../../../build/kameng', import.meta.url).pathname;

// Every scratch directory and shop process a test file makes goes when its process exits, whether
// or not the test got to clean up: data directories hold a master key and a log signing key.
const scratchDirs = new Set();
const shopProcs = new Set();
process.on('exit', () => {
  for (const proc of shopProcs) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

// A new directory under the system's temporary one, removed when the test process exits.
export function scratchDir(prefix = 'kameng-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.add(dir);
  return dir;
}

// KAMENG_TEST_POSTGRES, the URL of a PostgreSQL server (scripts/postgres-test.sh prints one),
// runs the shops on PostgreSQL: each data directory gets a database of its own there.
export const POSTGRES = process.env.KAMENG_TEST_POSTGRES ?? '';
const databases = new Map();

// The options that put a data directory's shop on its store: none for SQLite (the file in the
// directory), `--database URL` for PostgreSQL, its database made the first time.
export function storeArgs(dir) {
  if (!POSTGRES) return [];
  let url = databases.get(dir);
  if (!url) {
    const name = `k_${basename(dir).toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
    execFileSync('psql', [POSTGRES, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    url = POSTGRES.replace('/postgres?', `/${name}?`);
    databases.set(dir, url);
  }
  return ['--database', url];
}

// PostgreSQL only: a second server on the database of `shop`, as an operator scales out: a data
// directory of its own (its lock, its saved log checkpoint) holding the same master key and
// evidence-log key.
export async function startSecondShop(shop, opts = {}) {
  if (!POSTGRES) throw new Error('a second server on one database needs PostgreSQL');
  const dir = scratchDir();
  for (const f of ['master.key', 'log.key', 'demo-keys.txt']) {
    copyFileSync(join(shop.dataDir, f), join(dir, f));
    chmodSync(join(dir, f), 0o600);
  }
  databases.set(dir, databases.get(shop.dataDir));
  return startShop({ ...opts, dataDir: dir });
}

// Runs one SQL statement on a data directory's store behind the shop's back (with the shop
// stopped), through sqlite3 or psql; returns what it printed.
export function storeSql(dir, sql) {
  const [cmd, args] = POSTGRES
    ? ['psql', [storeArgs(dir)[1], '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', sql]]
    : ['sqlite3', [join(dir, 'kameng.db'), sql]];
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export class Shop {
  constructor({ dataDir, port, proc, keys }) {
    this.dataDir = dataDir;
    this.port = port;
    this.proc = proc;
    this.keys = keys;
    this.base = `http://127.0.0.1:${port}`;
    this.logs = [];
  }

  // fetch wrapper: returns { status, body (parsed JSON or text), headers }.
  async req(method, path, { body, token, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) {
      payload = raw;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed = text;
    if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
      parsed = JSON.parse(text);
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  get(path, opts) { return this.req('GET', path, opts); }
  post(path, body, opts = {}) { return this.req('POST', path, { ...opts, body }); }

  async advance(seconds) {
    const r = await this.post('/v1/test/clock/advance', { seconds });
    if (r.status !== 200) throw new Error(`advance failed: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async products() {
    const r = await this.get('/v1/products?limit=100', { token: this.keys.admin });
    return r.body.data;
  }

  async product(kind, predicate = () => true) {
    return (await this.products()).find((p) => p.kind === kind && predicate(p));
  }

  async ledger() {
    const r = await this.get('/v1/ledger/check', { token: this.keys.admin });
    return r.body;
  }

  async stop(signal = 'SIGTERM') {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    const done = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.proc.kill(signal);
    return done;
  }

  async cleanup() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function waitHealthy(base, proc, deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`kameng exited with ${proc.exitCode}`);
    try {
      const r = await fetch(base + '/healthz');
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('kameng did not become healthy');
}

// Start a server process; `dataDir` to reuse one (restart after kill -9), `testClock` on by default,
// `env` for the process's environment.
// `clock` chooses where the test clock starts (an ISO time; default 2026-03-02T02:00:00Z).
export async function startShop({ dataDir, testClock = true, seed = true, extraArgs = [], clock = '2026-03-02T02:00:00Z', env } = {}) {
  const dir = dataDir ?? scratchDir();
  if (seed && !dataDir) {
    execFileSync(BIN, ['demo', '--data', dir, ...storeArgs(dir)], { stdio: ['ignore', 'ignore', 'ignore'] });
  }
  const keys = {};
  try {
    for (const line of readFileSync(join(dir, 'demo-keys.txt'), 'utf8').split('\n')) {
      const [role, key] = line.trim().split(/\s+/);
      if (role && key) keys[role] = key;
    }
  } catch { /* not seeded */ }
  const port = await freePort();
  // Every order view served from memory is checked against a fresh build; a stale one stops
  // the server, so each suite also tests the read cache's invalidation.
  const args = ['serve', '--data', dir, ...storeArgs(dir), '--port', String(port), '--verify-read-cache'];
  if (testClock) args.push(`--test-clock=${clock}`);
  args.push(...extraArgs);
  const proc = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
  shopProcs.add(proc);
  const shop = new Shop({ dataDir: dir, port, proc, keys });
  proc.stderr.on('data', (d) => shop.logs.push(d.toString()));
  await waitHealthy(shop.base, proc, 10000);
  return shop;
}

// Create an order, pay it through the sandbox and wait until the capture is recorded.
export async function buy(shop, productId, extra = {}, { method = 'alipay', confirm } = {}) {
  const created = await shop.post('/v1/orders', { product_id: productId, ...extra });
  if (created.status !== 201) return { created };
  const order = created.body;
  const token = order.buyer_token;
  const payBody = { method };
  if (order.target) payBody.target_confirmed = confirm ?? order.target.account;
  const pay = await shop.post(`/v1/orders/${order.id}/payments`, payBody, { token });
  if (pay.status !== 201) return { created, pay, token, order };
  const charge = await shop.post(`/v1/sandbox/payments/${pay.body.id}/pay`, { outcome: 'succeeded' });
  await shop.advance(0); // runs due timers: the provider's callback is delivered before this returns
  const after = await shop.get(`/v1/orders/${order.id}`, { token });
  return { created, pay, charge, token, order: after.body };
}
