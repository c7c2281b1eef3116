// The order view a buyer polls is served from memory once built, and a committed write to the
// order drops it before the write is acknowledged: a buyer never reads an answer older than what
// the shop has told them. The suites run with --verify-read-cache, which checks every view served
// from memory against a fresh build; these tests pin the cases a buyer relies on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { assertError } from './lib/flows.mjs';
import { HOUR, cardProduct, paidOrder, orderOf, openCase } from './lib/refunds.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

async function cacheCounters() {
  const text = (await shop.get('/metrics')).body;
  const read = (re) => Number((text.match(re) ?? [, 'NaN'])[1]);
  return {
    hits: read(/kameng_read_cache_total\{cache="order_view",result="hit"\} (\d+)/),
    misses: read(/kameng_read_cache_total\{cache="order_view",result="miss"\} (\d+)/),
    drops: read(/kameng_read_cache_drops_total (\d+)/),
    tokenHits: read(/kameng_read_cache_total\{cache="buyer_token",result="hit"\} (\d+)/),
  };
}

test('a polled order is answered from memory, and every acknowledged write shows at once', async () => {
  const { product } = await cardProduct(shop, { noReasonDays: 0, digits: ['2'] });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id } = created.body;
  const token = created.body.buyer_token;

  const c0 = await cacheCounters();
  const first = await orderOf(shop, id, token);
  const second = await orderOf(shop, id, token);
  assert.deepEqual(second, first);
  assert.equal(first.status, 'pending_payment');
  const c1 = await cacheCounters();
  assert.equal(c1.hits - c0.hits, 1, 'the second read came from memory');
  assert.ok(c1.tokenHits > c0.tokenHits, 'the buyer token was recognised from memory');

  // Opening a payment is a write to the order: the next read lists it.
  const pay = await shop.post(`/v1/orders/${id}/payments`, { method: 'alipay' }, { token });
  assert.equal(pay.status, 201, JSON.stringify(pay.body));
  const withPayment = await orderOf(shop, id, token);
  assert.deepEqual(withPayment.payments.map((p) => p.id), [pay.body.id]);
  assert.ok((await cacheCounters()).drops > c1.drops);

  // Paying at the provider: the callback is the shop's write, then delivery.
  const paid = await shop.post(`/v1/sandbox/payments/${pay.body.id}/pay`, {});
  assert.equal(paid.status, 202, JSON.stringify(paid.body));
  await shop.advance(1);
  const delivered = await orderOf(shop, id, token);
  assert.equal(delivered.status, 'delivered', JSON.stringify(delivered));
  assert.equal(delivered.card_keys[0].revealed, false);
  assert.deepEqual(await orderOf(shop, id, token), delivered);

  // A reveal is acknowledged only after the kept view was dropped.
  const ck = delivered.card_keys[0].id;
  const rev = await shop.post(`/v1/orders/${id}/card_keys/${ck}/reveal`, {}, { token });
  assert.equal(rev.status, 200, JSON.stringify(rev.body));
  const after = await orderOf(shop, id, token);
  assert.equal(after.card_keys[0].revealed, true);
  assert.equal(after.reveals.length, 1);
});

test('an open case turns overdue in the order view at its deadline, with no write', async () => {
  const { product } = await cardProduct(shop, { noReasonDays: 0, windowHours: 72, digits: ['1'] });
  const { order, token } = await paidOrder(shop, product.id);
  const c = await openCase(shop, order.id, token, 'key_not_working', { message: 'the key is refused' });
  const before = await orderOf(shop, order.id, token);
  assert.equal(before.cases[0].overdue, false);
  assert.deepEqual(await orderOf(shop, order.id, token), before, 'kept while nothing changes');

  const now = Date.parse((await shop.get('/v1/test/clock')).body.now);
  await shop.advance((Date.parse(c.sla_due_at) - now) / 1000 + HOUR);
  const past = await orderOf(shop, order.id, token);
  assert.equal(past.cases[0].overdue, true, 'the kept view expired at the deadline');
});

test('a kept buyer token opens only its own order', async () => {
  const { product } = await cardProduct(shop, { digits: ['2', '3'] });
  const a = await shop.post('/v1/orders', { product_id: product.id });
  const b = await shop.post('/v1/orders', { product_id: product.id });
  for (const o of [a, b]) {
    assert.equal(o.status, 201, JSON.stringify(o.body));
    await orderOf(shop, o.body.id, o.body.buyer_token);
  }
  // Both tokens and both views are now kept: crossing them still finds nothing.
  assertError(await shop.get(`/v1/orders/${b.body.id}`, { token: a.body.buyer_token }), 404);
  assertError(await shop.get(`/v1/orders/${a.body.id}`, { token: b.body.buyer_token }), 404);
  const forged = `${a.body.buyer_token.slice(0, -1)}${a.body.buyer_token.endsWith('0') ? '1' : '0'}`;
  assertError(await shop.get(`/v1/orders/${a.body.id}`, { token: forged }), 401);
});
