// The shortest path a buyer takes: a card key bought, paid and delivered, and the books balanced.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { POSTGRES, startShop, buy } from './lib/server.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

test('a card key is bought, paid through the sandbox and delivered masked', async () => {
  const product = await shop.product('card_key');
  const { order } = await buy(shop, product.id, { quantity: 1 });
  assert.equal(order.status, 'delivered');
  assert.equal(order.card_keys.length, 1);
  assert.match(order.card_keys[0].masked, /^\*\*\*\*/);
  const ledger = await shop.ledger();
  assert.equal(ledger.balanced, true);
  const health = await shop.get('/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.body.store, POSTGRES ? 'postgres' : 'sqlite');
});

test('every answer keeps out of caches, frames and content sniffing; only pages may load the shop\'s own files', async () => {
  const common = (h) => {
    assert.equal(h.get('cache-control'), 'no-store');
    assert.equal(h.get('x-content-type-options'), 'nosniff');
    assert.equal(h.get('referrer-policy'), 'no-referrer');
    assert.match(h.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.match(h.get('request-id') ?? '', /^req_/);
  };
  const api = await fetch(shop.base + '/v1/policy');
  assert.equal(api.status, 200);
  common(api.headers);
  // JSON opened as a document could run nothing: no source is allowed.
  assert.equal(api.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
  const refused = await fetch(shop.base + '/v1/orders/ord_nope', { headers: { Authorization: 'Bearer bt_nope' } });
  assert.ok(refused.status >= 400 && refused.status < 500);
  common(refused.headers);
  const page = await fetch(shop.base + '/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  common(page.headers);
  const csp = page.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /object-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
});

test("the writer's WAL frames reach the file gathered, a commit's in a write or a few", { skip: POSTGRES ? "SQLite's WAL" : false }, async () => {
  const counters = async () => {
    const text = (await shop.get('/metrics')).body;
    const pick = (by) => Number((text.match(new RegExp(`^kameng_wal_writes_total\\{by="${by}"\\} (\\d+)$`, 'm')) ?? [, NaN])[1]);
    return { sqlite: pick('sqlite'), file: pick('file') };
  };
  const before = await counters();
  const product = await shop.product('card_key');
  for (let i = 0; i < 3; i++) {
    const { order } = await buy(shop, product.id, { quantity: 1 });
    assert.equal(order.status, 'delivered');
  }
  const after = await counters();
  const asked = after.sqlite - before.sqlite;
  const made = after.file - before.file;
  // Two writes a frame asked for (header, page); each commit reaches the file in one or a few.
  assert.ok(made > 0, `made ${made}`);
  assert.ok(asked >= 4 * made, `asked ${asked}, made ${made}`);
});
