// The order view a buyer polls is served from memory once built, and a committed write to the
// order drops it before the write is acknowledged: a buyer never reads an answer older than what
// the shop has told them. The suites run with --verify-read-cache, which checks every view served
// from memory against a fresh build; these tests pin the cases a buyer relies on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { BIN, startShop, scratchDir } from './lib/server.mjs';
import { assertError } from './lib/flows.mjs';
import { HOUR, cardProduct, paidOrder, orderOf, openCase } from './lib/refunds.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

async function cacheCounters(at = shop) {
  const text = (await at.get('/metrics')).body;
  const read = (re) => Number((text.match(re) ?? [, 'NaN'])[1]);
  return {
    hits: read(/kameng_read_cache_total\{cache="order_view",result="hit"\} (\d+)/),
    misses: read(/kameng_read_cache_total\{cache="order_view",result="miss"\} (\d+)/),
    drops: read(/kameng_read_cache_drops_total (\d+)/),
    tokenHits: read(/kameng_read_cache_total\{cache="buyer_token",result="hit"\} (\d+)/),
    tokenMisses: read(/kameng_read_cache_total\{cache="buyer_token",result="miss"\} (\d+)/),
  };
}

test('a polled order is answered from memory, and every acknowledged write shows at once', async () => {
  const { product } = await cardProduct(shop, { noReasonDays: 0, digits: ['2'] });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id } = created.body;
  const token = created.body.buyer_token;

  const c0 = await cacheCounters();
  assert.ok(!Number.isNaN(c0.tokenMisses));
  const first = await orderOf(shop, id, token);
  const second = await orderOf(shop, id, token);
  assert.deepEqual(second, first);
  assert.equal(first.status, 'pending_payment');
  const c1 = await cacheCounters();
  assert.equal(c1.hits - c0.hits, 1, 'the second read came from memory');
  assert.ok(c1.tokenHits > c0.tokenHits, 'the buyer token was recognised from memory');
  assert.equal(c1.tokenMisses, c0.tokenMisses, 'checkout kept the token it issued: no lookup');

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

// Until the view warmer has nothing left to do: each view it was asked for is built or skipped.
async function warmerIdle(at = shop) {
  for (let i = 0; i < 600; i++) {
    const text = (await at.get('/metrics')).body;
    if (/^kameng_order_views_warm_pending 0$/m.test(text)) return;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  assert.fail('the view warmer never caught up');
}

const paymentCallbacks = async () => Number(((await shop.get('/metrics')).body
  .match(/^kameng_http_requests_total\{route="callbacks\.payment",status="2xx"\} (\d+)$/m) ?? [, 0])[1]);

test("an order's view is rebuilt before its buyer's next read: on a new status, and after any change they saw", async () => {
  const { product } = await cardProduct(shop, { noReasonDays: 0, digits: ['4'] });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id, buyer_token: token } = created.body;

  // A change nobody reads and that leaves the status as it was is not rebuilt: a burst of writes
  // to unread orders costs the warmer nothing.
  const warmed = async () => Number(((await shop.get('/metrics')).body
    .match(/^kameng_order_views_warmed_total (\d+)$/m) ?? [, NaN])[1]);
  await warmerIdle();
  const w0 = await warmed();
  const p = await shop.post(`/v1/orders/${id}/payments`, { method: 'alipay' }, { token });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  await warmerIdle();
  assert.equal(await warmed(), w0, 'opening a payment on an unread order warms nothing');

  // Paid and delivered with nobody reading the order: its status change alone gets it warmed.
  const before = await paymentCallbacks();
  const paid = await shop.post(`/v1/sandbox/payments/${p.body.id}/pay`, { outcome: 'succeeded' });
  assert.equal(paid.status, 202, JSON.stringify(paid.body));
  for (let i = 0; (await paymentCallbacks()) === before; i++) {
    assert.ok(i < 1000, 'the provider called back');
    await new Promise((ok) => setTimeout(ok, 10));
  }
  await warmerIdle();
  const c0 = await cacheCounters();
  const delivered = await orderOf(shop, id, token);
  assert.equal(delivered.status, 'delivered', JSON.stringify(delivered));
  const c1 = await cacheCounters();
  assert.equal(c1.hits - c0.hits, 1, 'the first read after delivery came from memory');
  assert.equal(c1.misses, c0.misses, 'no read built the view');

  // The buyer has read it: a reveal (no new status) drops the view, and the warmed one shows it.
  const ck = delivered.card_keys[0].id;
  const rev = await shop.post(`/v1/orders/${id}/card_keys/${ck}/reveal`, {}, { token });
  assert.equal(rev.status, 200, JSON.stringify(rev.body));
  await warmerIdle();
  const c2 = await cacheCounters();
  const revealed = await orderOf(shop, id, token);
  assert.equal(revealed.card_keys[0].revealed, true);
  assert.equal(revealed.reveals.length, 1);
  const c3 = await cacheCounters();
  assert.equal(c3.hits - c2.hits, 1);
  assert.equal(c3.misses, c2.misses);
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

test('with order_view_cache_mb = 0 no view is kept, and every read still shows the latest state', async () => {
  const dir = scratchDir('kameng-e2e-');
  const conf = join(dir, 'nocache.conf');
  writeFileSync(conf, 'order_view_cache_mb = 0\n');
  const plain = await startShop({ extraArgs: ['--config', conf] });
  try {
    const product = (await plain.get('/v1/products')).body.data.find((p) => p.kind === 'card_key');
    const created = await plain.post('/v1/orders', { product_id: product.id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, buyer_token: token } = created.body;
    assert.equal((await orderOf(plain, id, token)).payments.length, 0);
    const pay = await plain.post(`/v1/orders/${id}/payments`, { method: 'alipay' }, { token });
    assert.equal(pay.status, 201, JSON.stringify(pay.body));
    assert.equal((await orderOf(plain, id, token)).payments.length, 1);
    // Read again with no write between: with a cache this second read would be a hit.
    assert.equal((await orderOf(plain, id, token)).payments.length, 1);
    assert.equal((await cacheCounters(plain)).hits, 0, 'nothing was answered from memory');
  } finally {
    await plain.cleanup();
  }
});

test('unless set, the view cache is sized from memory, and the shop says how large it is', async () => {
  // The suite's shop sets nothing: a sixteenth of the memory it may use, between 16 and 512 MiB.
  const budget = async (at) => Number(((await at.get('/metrics')).body
    .match(/kameng_read_cache_budget_bytes (\d+)/) ?? [, 'NaN'])[1]);
  // The start log line is written just after the server answers its first request.
  const listening = async (at) => {
    for (let i = 0; i < 250; i++) {
      const line = at.logs.join('').split('\n')
        .map((l) => { try { return JSON.parse(l); } catch { return {}; } })
        .find((l) => l.event === 'listening');
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('no "listening" line in the start log');
  };
  const MiB = 1024 * 1024;
  const auto = await budget(shop);
  const started = await listening(shop);
  assert.equal(started.order_view_cache_sized, 'auto');
  assert.equal(Number(started.order_view_cache_mb) * MiB, auto, 'the start log names the size');
  const memoryMb = Number(started.memory_mb);
  assert.ok(memoryMb > 0 && memoryMb * MiB <= totalmem(), `memory_mb ${started.memory_mb}`);
  assert.equal(auto / MiB, Math.min(512, Math.max(16, Math.floor(memoryMb / 16))));

  const dir = scratchDir('kameng-e2e-');
  for (const [value, mb] of [['auto', auto / MiB], ['300', 300]]) {
    const conf = join(dir, `cache-${value}.conf`);
    writeFileSync(conf, `order_view_cache_mb = ${value}\n`);
    const sized = await startShop({ extraArgs: ['--config', conf] });
    try {
      assert.equal(await budget(sized), mb * MiB, `order_view_cache_mb = ${value}`);
      assert.equal((await listening(sized)).order_view_cache_sized, value === 'auto' ? 'auto' : 'set');
    } finally {
      await sized.cleanup();
    }
  }
});

test('a bad order_view_cache_mb stops the shop at start, naming the file, line and setting', () => {
  const dir = scratchDir('kameng-e2e-');
  const conf = join(dir, 'bad.conf');
  for (const value of ['-1', 'lots', '65537', 'autox', '']) {
    writeFileSync(conf, `# memory for order views\norder_view_cache_mb = ${value}\n`);
    const r = spawnSync(BIN, ['serve', '--data', join(dir, 'data'), '--port', '1', '--config', conf],
      { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r.status, 0, `started with order_view_cache_mb = ${value}`);
    assert.match(r.stderr, /bad\.conf:2: bad value for order_view_cache_mb/);
  }
});
