// Helpers shared by the flow tests (cards, top-ups, escrow, lifecycle, concurrency, durability):
// assertions on error objects and the books, admin shortcuts, and a recorder that sits between
// the server and its own callbacks so a test can replay one exactly as the provider sent it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { BIN, startShop, scratchDir, storeArgs } from './server.mjs';

// A 4xx/5xx answer in the API's error shape, naming the field.
export function assertError(res, status, { param, code } = {}) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body, 'object', `error body is JSON: ${res.body}`);
  assert.ok(res.body.error, `error object present: ${JSON.stringify(res.body)}`);
  if (param !== undefined) assert.equal(res.body.error.param, param, JSON.stringify(res.body));
  if (code !== undefined) assert.equal(res.body.error.code, code, JSON.stringify(res.body));
  return res.body.error;
}

// The trial balance: debits equal credits, posted and pending, and every account's stored
// balance equals the sum of its transfers.
export async function assertBalanced(shop) {
  const l = await shop.ledger();
  assert.equal(l.balanced, true, `ledger not balanced: ${JSON.stringify(l)}`);
  assert.equal(l.mismatched_accounts, 0, `mismatched accounts: ${JSON.stringify(l)}`);
  assert.equal(l.debits_posted_fen, l.credits_posted_fen);
  assert.equal(l.debits_pending_fen, l.credits_pending_fen);
  return l;
}

export async function productAdmin(shop, id) {
  const r = await shop.get(`/v1/products/${id}`, { token: shop.keys.admin });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

export async function stockOf(shop, id) {
  return (await productAdmin(shop, id)).stock;
}

let productSeq = 0;
export async function createCardProduct(shop, { price = 1000, name } = {}) {
  const r = await shop.post('/v1/products', {
    kind: 'card_key',
    name: name ?? `e2e card ${process.pid}-${++productSeq}`,
    price_fen: price,
    face_value_fen: price,
  }, { token: shop.keys.admin });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

// Distinct keys nobody else uses: a prefix unique to this process and call.
let keySeq = 0;
export function freshKeys(n, tag = 'K') {
  const base = `${tag}${process.pid}x${Date.now().toString(36)}x${++keySeq}`;
  return Array.from({ length: n }, (_, i) => ({
    number: `${base}N${String(i).padStart(4, '0')}`,
    password: `${base}P${String(i).padStart(4, '0')}`,
  }));
}

export async function importJson(shop, productId, cardKeys) {
  return shop.post(`/v1/products/${productId}/card_keys`, { card_keys: cardKeys },
    { token: shop.keys.admin });
}

export async function importCsv(shop, productId, text) {
  return shop.req('POST', `/v1/products/${productId}/card_keys`, {
    raw: text, token: shop.keys.admin, headers: { 'content-type': 'text/csv' },
  });
}

// Open a payment for an order, complete it at the sandbox provider, and let the callback land.
export async function payOrder(shop, order, token, { method = 'alipay', confirm } = {}) {
  const body = { method };
  if (order.target) body.target_confirmed = confirm ?? order.target.account;
  const pay = await shop.post(`/v1/orders/${order.id}/payments`, body, { token });
  assert.equal(pay.status, 201, JSON.stringify(pay.body));
  const charge = await shop.post(`/v1/sandbox/payments/${pay.body.id}/pay`, { outcome: 'succeeded' });
  assert.equal(charge.status, 202, JSON.stringify(charge.body));
  await shop.advance(0);
  return pay.body;
}

export async function orderView(shop, id, token) {
  const r = await shop.get(`/v1/orders/${id}`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

// A server whose callbacks (payment notifications, upstream results) go through a recorder on
// loopback before reaching it: each callback's path, signature header and exact body are kept,
// so a test can deliver the very same request again. A test may set shop.drop to a function of
// (path, body) that loses a callback on the way: it is answered 503 and never reaches the shop.
export async function startRecordedShop() {
  const recorded = [];
  let shop = null;
  let target = null;
  // Forwarded on a fresh connection each time (agent: false): the server sends callbacks from
  // inside POST /v1/test/clock/advance, and a pooled keep-alive connection could belong to the
  // very server thread that is busy answering that advance.
  const forward = (path, headers, body) => new Promise((resolve, reject) => {
    const u = new URL(target + path);
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', agent: false,
      headers: { ...headers, 'content-length': Buffer.byteLength(body), connection: 'close' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], text: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['kameng-signature'];
      if (shop?.drop?.(req.url, body)) {
        recorded.push({ path: req.url, signature, body, status: 503, dropped: true });
        res.writeHead(503);
        res.end();
        return;
      }
      try {
        const r = await forward(req.url, {
          'content-type': req.headers['content-type'] ?? 'application/json',
          ...(signature ? { 'kameng-signature': signature } : {}),
        }, body);
        recorded.push({ path: req.url, signature, body, status: r.status });
        res.writeHead(r.status, { 'content-type': r.type ?? 'text/plain' });
        res.end(r.text);
      } catch (err) {
        res.writeHead(502);
        res.end(String(err));
      }
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const dir = scratchDir('kameng-e2e-');
  execFileSync(BIN, ['demo', '--data', dir, ...storeArgs(dir)], { stdio: ['ignore', 'ignore', 'ignore'] });
  const conf = join(dir, 'e2e.conf');
  writeFileSync(conf, `public_url = http://127.0.0.1:${proxy.address().port}\n`);
  shop = await startShop({ dataDir: dir, extraArgs: ['--config', conf] });
  target = shop.base;
  shop.recorded = recorded;
  const cleanup = shop.cleanup.bind(shop);
  shop.cleanup = async () => {
    await cleanup();
    proxy.closeAllConnections?.();
    await new Promise((resolve) => proxy.close(resolve));
  };
  // Deliver a recorded callback again, byte for byte.
  shop.replay = (rec) => shop.req('POST', rec.path, {
    raw: rec.body, headers: { 'content-type': 'application/json', 'kameng-signature': rec.signature },
  });
  return shop;
}
