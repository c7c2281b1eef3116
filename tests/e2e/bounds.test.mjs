// The bounds a user can run into: an order holds at most 20 pieces of evidence and takes at most
// 10 payment attempts, and a webhook receiver that never acknowledges gets each event 12 times
// and then no more — the shop stops trying instead of retrying forever. A browser's request head
// full of a parent domain's cookies is still answered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { startShop, buy } from './lib/server.mjs';

let shop, receiver;
const attempts = new Map(); // event id -> deliveries seen

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const id = JSON.parse(Buffer.concat(chunks).toString('utf8')).id;
      attempts.set(id, (attempts.get(id) ?? 0) + 1);
      res.writeHead(500).end('down'); // never acknowledged
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  shop = await startShop({ extraArgs: ['--webhook-url', `http://127.0.0.1:${receiver.address().port}/`] });
});

after(async () => {
  await shop.cleanup();
  receiver.closeAllConnections?.();
  await new Promise((resolve) => receiver.close(resolve));
});

// A tiny PNG that differs by one byte per n, so each upload is a new piece of evidence.
function png(n) {
  const b = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  return Buffer.concat([b, Buffer.from([n & 255, (n >> 8) & 255])]);
}

test('an order holds at most 20 pieces of evidence; the 21st is refused and stores nothing', async () => {
  const product = await shop.product('card_key');
  const { order, token } = await buy(shop, product.id, { quantity: 1 });
  for (let i = 0; i < 20; i++) {
    const r = await shop.req('POST', `/v1/orders/${order.id}/evidence`, { token, raw: png(i), headers: { 'content-type': 'image/png' } });
    assert.equal(r.status, 201, `upload ${i}: ${JSON.stringify(r.body)}`);
  }
  // At the cap even a repeat of held content is refused: the count is of what the order holds.
  const again = await shop.req('POST', `/v1/orders/${order.id}/evidence`, { token, raw: png(3), headers: { 'content-type': 'image/png' } });
  assert.equal(again.status, 409, 'the cap counts what is held, and 20 are held');
  const over = await shop.req('POST', `/v1/orders/${order.id}/evidence`, { token, raw: png(99), headers: { 'content-type': 'image/png' } });
  assert.equal(over.status, 409);
  assert.equal(over.body.error.code, 'too_much_evidence');
  // Nothing of the refused upload was stored.
  const refusedId = `ev_${createHash('sha256').update(png(99)).digest('hex').slice(0, 32)}`;
  const missing = await shop.get(`/v1/orders/${order.id}/evidence/${refusedId}`, { token });
  assert.equal(missing.status, 404);
});

test('an order takes at most 10 payment attempts; the 11th is refused and the order lists the 10 in order', async () => {
  const product = await shop.product('card_key');
  const created = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id, buyer_token: token } = created.body;
  const ids = [];
  for (let i = 0; i < 10; i++) {
    const r = await shop.post(`/v1/orders/${id}/payments`, { method: i % 2 ? 'wechat' : 'alipay' }, { token });
    assert.equal(r.status, 201, `attempt ${i}: ${JSON.stringify(r.body)}`);
    ids.push(r.body.id);
  }
  const over = await shop.post(`/v1/orders/${id}/payments`, { method: 'alipay' }, { token });
  assert.equal(over.status, 409);
  assert.equal(over.body.error.code, 'too_many_payments');
  assert.equal(over.body.error.param, 'order_id');
  const view = await shop.get(`/v1/orders/${id}`, { token });
  assert.equal(view.status, 200);
  assert.deepEqual(view.body.payments.map((p) => p.id), ids, 'the ten attempts, oldest first, and no eleventh');
  assert.equal(view.body.status, 'pending_payment');
});

test('a webhook nobody acknowledges is delivered 12 times, then given up', async () => {
  // One state change: an order created. Its event goes out, fails, and is retried with backoff.
  const product = await shop.product('card_key');
  const created = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(created.status, 201);
  await shop.advance(0);
  const eventIds = () => [...attempts.keys()];
  assert.ok(eventIds().length >= 1, 'the first delivery went out');
  // 2 s doubling, capped at about half an hour: a day of clock is far more than 12 attempts need.
  for (let i = 0; i < 40; i++) await shop.advance(2400);
  for (const [id, n] of attempts) assert.equal(n, 12, `event ${id} was tried ${n} times`);
  const before = new Map(attempts);
  await shop.advance(86400);
  assert.deepEqual(attempts, before, 'nothing more after giving up');
  // The shop itself is unaffected.
  assert.equal((await shop.get('/healthz')).status, 200);
});

test('a request head with 12 KiB of cookies from a parent domain is answered', async () => {
  // 60 analytics cookies and a proxy's headers, as a shop on a subdomain of a busy site gets them.
  const cookie = Array.from({ length: 60 }, (_, i) => `_ga_c${i}=${'x'.repeat(200)}`).join('; ');
  assert.ok(cookie.length > 12000);
  const r = await shop.req('GET', '/v1/products', {
    headers: { cookie, 'x-forwarded-for': '203.0.113.7, 198.51.100.9', 'x-request-pad': 'y'.repeat(1000) },
  });
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.body.data));
});
