// Idempotency-Key on POST (replayed answers, conflicts, scope, key validation, concurrency and
// restarts) and cursor pagination of the product and order lists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { assertError, assertNoSanitizerReports, rawRequest } from './lib/checks.mjs';

let shop;
let card, phone;

before(async () => {
  shop = await startShop();
  const products = await shop.products();
  card = products.find((p) => p.kind === 'card_key');
  phone = products.find((p) => p.kind === 'direct_topup' && p.target_format === 'phone_cn');
  assert.ok(card && phone);
});
after(async () => {
  if (shop) assertNoSanitizerReports(shop);
  await shop?.cleanup();
});

let keySeq = 0;
const newKey = (tag = 'k') => `test-${tag}-${process.pid}-${Date.now()}-${++keySeq}`;

function postKeyed(path, body, key, { token, headers = {} } = {}) {
  return shop.post(path, body, { token, headers: { ...headers, 'idempotency-key': key } });
}

async function allOrders() {
  const out = [];
  let after = '';
  for (;;) {
    const r = await shop.get(`/v1/orders?limit=100${after ? `&starting_after=${after}` : ''}`, { token: shop.keys.admin });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(...r.body.data);
    if (!r.body.has_more) return out;
    after = r.body.data.at(-1).id;
  }
}

async function reservedStock() {
  return (await shop.get(`/v1/products/${card.id}`, { token: shop.keys.admin })).body.stock;
}

test('the same key and body replays the stored answer and creates nothing more', async () => {
  const key = newKey('replay');
  const body = { product_id: card.id, quantity: 2, contact: 'replay@example.com' };
  const before = await allOrders();
  const stockBefore = await reservedStock();
  const first = await postKeyed('/v1/orders', body, key);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.match(first.body.buyer_token, /^bt_/);
  for (let i = 0; i < 3; i++) {
    const again = await postKeyed('/v1/orders', body, key);
    assert.equal(again.status, 201);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.buyer_token, first.body.buyer_token);
    assert.deepEqual(again.body, first.body);
    assert.notEqual(again.headers.get('request-id'), first.headers.get('request-id'));
  }
  const afterList = await allOrders();
  assert.equal(afterList.length, before.length + 1);
  assert.equal(afterList.filter((o) => o.id === first.body.id).length, 1);
  const stockAfter = await reservedStock();
  assert.equal(stockAfter.reserved, stockBefore.reserved + 2, 'stock reserved once');
  assert.equal(stockAfter.available, stockBefore.available - 2);
  // The replayed token works.
  const viewed = await shop.get(`/v1/orders/${first.body.id}`, { token: first.body.buyer_token });
  assert.equal(viewed.status, 200);
});

test('the same key with a different body or another path is a 422 idempotency_error', async () => {
  const key = newKey('conflict');
  const first = await postKeyed('/v1/orders', { product_id: card.id }, key);
  assert.equal(first.status, 201);
  const count = (await allOrders()).length;
  const variants = [
    ['another quantity', '/v1/orders', { product_id: card.id, quantity: 2 }],
    ['another product', '/v1/orders', { product_id: phone.id, target_account: '13800138000' }],
    ['an extra field', '/v1/orders', { product_id: card.id, contact: 'x@example.com' }],
    ['another path', '/v1/targets/check', { product_id: phone.id, target_account: '13800138000' }],
  ];
  for (const [what, path, body] of variants) {
    const r = await postKeyed(path, body, key);
    if (path === '/v1/targets/check') {
      // A read-only check stores nothing: the key does not apply there.
      assert.equal(r.status, 200, `${what}: ${JSON.stringify(r.body)}`);
      continue;
    }
    assertError(r, { status: 422, type: 'idempotency_error', code: 'idempotency_key_reused', param: 'Idempotency-Key' }, what);
  }
  // The same key used for another write of the same caller.
  const a = await postKeyed('/v1/sellers', { name: 'Idempotent seller' }, key, { token: shop.keys.admin });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  const b = await postKeyed('/v1/api_keys', { role: 'agent', label: 'x' }, key, { token: shop.keys.admin });
  assertError(b, { status: 422, code: 'idempotency_key_reused', param: 'Idempotency-Key' }, 'another endpoint');
  assert.equal((await allOrders()).length, count, 'no order created by a conflicting request');
  // The original still replays.
  const again = await postKeyed('/v1/orders', { product_id: card.id }, key);
  assert.equal(again.status, 201);
  assert.equal(again.body.id, first.body.id);
});

test('keys are scoped per caller: the same key from different callers makes different objects', async () => {
  const key = newKey('scope');
  const body = { product_id: card.id };
  const ids = new Set();
  for (const token of [undefined, shop.keys.admin, shop.keys.agent, shop.keys.seller]) {
    const r = await postKeyed('/v1/orders', body, key, { token });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ids.add(r.body.id);
    // Each caller's own replay is its own order.
    const again = await postKeyed('/v1/orders', body, key, { token });
    assert.equal(again.body.id, r.body.id);
  }
  assert.equal(ids.size, 4);
  // Two buyers paying their own orders with the same key get their own payments.
  const o1 = await shop.post('/v1/orders', { product_id: card.id });
  const o2 = await shop.post('/v1/orders', { product_id: card.id });
  const payKey = newKey('pay');
  const p1 = await postKeyed(`/v1/orders/${o1.body.id}/payments`, { method: 'alipay' }, payKey, { token: o1.body.buyer_token });
  const p2 = await postKeyed(`/v1/orders/${o2.body.id}/payments`, { method: 'alipay' }, payKey, { token: o2.body.buyer_token });
  assert.equal(p1.status, 201, JSON.stringify(p1.body));
  assert.equal(p2.status, 201, JSON.stringify(p2.body));
  assert.notEqual(p1.body.id, p2.body.id);
  assert.equal(p1.body.order_id, o1.body.id);
  assert.equal(p2.body.order_id, o2.body.id);
  // The buyer's replay returns the same payment and opens no second one.
  const p1again = await postKeyed(`/v1/orders/${o1.body.id}/payments`, { method: 'alipay' }, payKey, { token: o1.body.buyer_token });
  assert.equal(p1again.status, 201);
  assert.equal(p1again.body.id, p1.body.id);
  const o1view = await shop.get(`/v1/orders/${o1.body.id}`, { token: o1.body.buyer_token });
  assert.equal(o1view.body.payments.length, 1);
});

test('invalid keys are refused with 400 and change nothing', async () => {
  const count = (await allOrders()).length;
  const bad = [
    ['129 characters', 'k'.repeat(129)],
    ['255 characters', 'k'.repeat(255)],
    ['a space', 'has space'],
    ['a tab', 'has\ttab'],
    ['non-ASCII', 'caf\u00e9'],
    ['empty', ''],
  ];
  for (const [what, key] of bad) {
    const r = await rawRequest(shop, 'POST', '/v1/orders', {
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: Buffer.from(JSON.stringify({ product_id: card.id }), 'utf8'),
    });
    assertError(r, { status: 400, code: 'idempotency_key_invalid', param: 'Idempotency-Key' }, what);
  }
  // Raw bytes the fetch API would refuse to send: a DEL and a high byte.
  for (const [what, bytes] of [['DEL', Buffer.from('abc\x7fdef', 'latin1')], ['0xff', Buffer.from([0x61, 0xff, 0x62])]]) {
    const r = await new Promise((resolve, reject) => {
      import('node:net').then(({ default: net }) => {
        const sock = net.connect(shop.port, '127.0.0.1');
        const body = JSON.stringify({ product_id: card.id });
        const chunks = [];
        sock.on('data', (c) => chunks.push(c));
        sock.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        sock.on('error', reject);
        sock.write(Buffer.concat([
          Buffer.from('POST /v1/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n'
            + `Content-Length: ${body.length}\r\nIdempotency-Key: `), bytes, Buffer.from(`\r\n\r\n${body}`)]));
      });
    });
    const status = Number(r.split(' ')[1]);
    assert.ok(status >= 400 && status < 500, `${what}: ${r.slice(0, 200)}`);
  }
  assert.equal((await allOrders()).length, count, 'no order created with an invalid key');
  // 128 printable characters is the longest valid key.
  const longest = `${newKey('max')}-`.padEnd(128, 'x');
  const ok = await postKeyed('/v1/orders', { product_id: card.id }, longest);
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  const again = await postKeyed('/v1/orders', { product_id: card.id }, longest);
  assert.equal(again.body.id, ok.body.id);
});

test('a request refused by validation stores nothing: the key can be used again', async () => {
  const key = newKey('retry');
  const bad = await postKeyed('/v1/orders', { product_id: card.id, quantity: 0 }, key);
  assertError(bad, { status: 400, param: 'quantity' });
  const good = await postKeyed('/v1/orders', { product_id: card.id, quantity: 1 }, key);
  assert.equal(good.status, 201, JSON.stringify(good.body));
  const replay = await postKeyed('/v1/orders', { product_id: card.id, quantity: 1 }, key);
  assert.equal(replay.body.id, good.body.id);
});

test('parallel requests with one key create one order; the rest replay it or wait with 409', async () => {
  const key = newKey('race');
  const body = { product_id: card.id };
  const before = (await allOrders()).length;
  const results = await Promise.all(Array.from({ length: 12 }, () => postKeyed('/v1/orders', body, key)));
  const created = results.filter((r) => r.status === 201);
  assert.ok(created.length >= 1, JSON.stringify(results.map((r) => r.status)));
  assert.equal(new Set(created.map((r) => r.body.id)).size, 1, 'one order id for one key');
  for (const r of results.filter((x) => x.status !== 201)) {
    assertError(r, { status: 409, type: 'idempotency_error', code: 'idempotency_key_in_use', param: 'Idempotency-Key' });
  }
  assert.equal((await allOrders()).length, before + 1);
  const replay = await postKeyed('/v1/orders', body, key);
  assert.equal(replay.body.id, created[0].body.id);
});

test('the stored answer is replayed as first given, even after the order moved on and a restart', async () => {
  const key = newKey('later');
  const body = { product_id: card.id };
  const first = await postKeyed('/v1/orders', body, key);
  assert.equal(first.status, 201);
  const token = first.body.buyer_token;
  const pay = await shop.post(`/v1/orders/${first.body.id}/payments`, { method: 'wechat' }, { token });
  assert.equal(pay.status, 201);
  await shop.post(`/v1/sandbox/payments/${pay.body.id}/pay`, { outcome: 'succeeded' });
  await shop.advance(0);
  const now = await shop.get(`/v1/orders/${first.body.id}`, { token });
  assert.equal(now.body.status, 'delivered');
  // Restart on the same data directory: the stored answer is in the database.
  await shop.stop();
  const restarted = await startShop({ dataDir: shop.dataDir });
  restarted.keys = shop.keys;
  shop = restarted;
  const replay = await postKeyed('/v1/orders', body, key);
  assert.equal(replay.status, 201);
  assert.deepEqual(replay.body, first.body);
  assert.equal(replay.body.status, 'pending_payment');
});

// Pagination: every object once, pages no longer than the limit, has_more until the last page.
async function pages(path, token, limit) {
  const seen = [];
  const sizes = [];
  let after = '';
  for (let guard = 0; guard < 1000; guard++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await shop.get(`${path}${sep}limit=${limit}${after ? `&starting_after=${after}` : ''}`, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.object, 'list');
    assert.ok(Array.isArray(r.body.data));
    assert.equal(typeof r.body.has_more, 'boolean');
    assert.ok(r.body.data.length <= limit);
    sizes.push(r.body.data.length);
    seen.push(...r.body.data);
    if (!r.body.has_more) {
      return { seen, sizes };
    }
    assert.equal(r.body.data.length, limit, 'a page with more after it is full');
    after = r.body.data.at(-1).id;
  }
  throw new Error('pagination did not end');
}

test('products page with limit and starting_after', async () => {
  for (const token of [undefined, shop.keys.admin]) {
    const all = await shop.get('/v1/products?limit=100', { token });
    assert.equal(all.body.has_more, false);
    const n = all.body.data.length;
    assert.ok(n >= 3);
    for (const limit of [1, 2, 3, n, 100]) {
      const { seen, sizes } = await pages('/v1/products', token, limit);
      const ids = seen.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `no duplicates at limit ${limit}`);
      assert.deepEqual(ids, all.body.data.map((p) => p.id), `same objects, same order at limit ${limit}`);
      assert.equal(sizes.length, Math.max(1, Math.ceil(n / limit)));
    }
    // After the last object: an empty page.
    const last = all.body.data.at(-1).id;
    const empty = await shop.get(`/v1/products?starting_after=${last}`, { token });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.data, []);
    assert.equal(empty.body.has_more, false);
  }
  const dflt = await shop.get('/v1/products');
  assert.equal(dflt.status, 200);
  assert.ok(dflt.body.data.length <= 20);
});

test('orders page with limit and starting_after, newest first', async () => {
  for (let i = 0; i < 7; i++) {
    const r = await shop.post('/v1/orders', { product_id: card.id });
    assert.equal(r.status, 201);
    if (i === 3) await shop.advance(1);
  }
  const admin = shop.keys.admin;
  const all = await allOrders();
  assert.ok(all.length >= 7);
  for (let i = 1; i < all.length; i++) {
    assert.ok(all[i - 1].created_at >= all[i].created_at, 'newest first');
  }
  for (const limit of [1, 3, 5, 100]) {
    const { seen } = await pages('/v1/orders', admin, limit);
    const ids = seen.map((o) => o.id);
    assert.equal(new Set(ids).size, ids.length, `no duplicates at limit ${limit}`);
    assert.deepEqual(ids, all.map((o) => o.id), `same orders, same order at limit ${limit}`);
  }
  // An agent sees the same list; a status filter pages too.
  const { seen: agentSeen } = await pages('/v1/orders', shop.keys.agent, 4);
  assert.equal(agentSeen.length, all.length);
  const pending = all.filter((o) => o.status === 'pending_payment').map((o) => o.id);
  const { seen: pendingSeen } = await pages('/v1/orders?status=pending_payment', admin, 2);
  assert.deepEqual(pendingSeen.map((o) => o.id), pending);
  const empty = await shop.get(`/v1/orders?starting_after=${all.at(-1).id}`, { token: admin });
  assert.deepEqual(empty.body.data, []);
  assert.equal(empty.body.has_more, false);
});

test('limit out of range is a 400 naming limit', async () => {
  const bad = ['0', '-1', '101', '1000', 'abc', '1.5', '', '1e1', '99999999999999999999', '%20', '10abc', '0x10'];
  for (const v of bad) {
    for (const [path, token] of [['/v1/products', undefined], ['/v1/orders', shop.keys.admin]]) {
      const r = await shop.get(`${path}?limit=${v}`, { token });
      assertError(r, { status: 400, param: 'limit' }, `${path}?limit=${v}`);
    }
  }
  for (const v of ['1', '100']) {
    assert.equal((await shop.get(`/v1/products?limit=${v}`)).status, 200);
    assert.equal((await shop.get(`/v1/orders?limit=${v}`, { token: shop.keys.admin })).status, 200);
  }
});
