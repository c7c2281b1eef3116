// Many buyers at once for the last few card keys: no key sold twice, no oversell, every buyer
// either gets the whole order or a clear 409, and the books balance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop, buy } from './lib/server.mjs';
import {
  assertError, assertBalanced, createCardProduct, freshKeys, importJson, stockOf, orderView,
} from './lib/flows.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

async function productWithKeys(n, price) {
  const product = await createCardProduct(shop, { price });
  const keys = freshKeys(n, 'CC');
  const r = await importJson(shop, product.id, keys);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.imported, n);
  return { product, keys };
}

async function revealAll(order, token) {
  const out = [];
  for (const k of order.card_keys) {
    const r = await shop.post(`/v1/orders/${order.id}/card_keys/${k.id}/reveal`, {}, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(`${r.body.number}|${r.body.password}`);
  }
  return out;
}

async function reruns() {
  const text = (await shop.get('/metrics')).body;
  const m = text.match(/^kameng_write_batch_reruns_total (\d+)$/m);
  assert.ok(m, 'kameng_write_batch_reruns_total is exported');
  return Number(m[1]);
}

test('40 buyers at once for 5 keys: exactly 5 orders, 5 distinct keys, 35 clean 409s', async () => {
  const { product, keys } = await productWithKeys(5, 990);
  const before = await shop.ledger();
  const rerunsBefore = await reruns();
  const results = await Promise.all(Array.from({ length: 40 }, () => buy(shop, product.id, { quantity: 1 })));

  const won = results.filter((r) => r.created.status === 201);
  const lost = results.filter((r) => r.created.status !== 201);
  assert.equal(won.length, 5);
  assert.equal(lost.length, 35);
  for (const r of lost) assertError(r.created, 409, { param: 'quantity', code: 'out_of_stock' });

  const keyIds = [];
  const secrets = [];
  for (const r of won) {
    assert.equal(r.pay.status, 201);
    const view = await orderView(shop, r.order.id, r.token);
    assert.equal(view.status, 'delivered');
    assert.equal(view.amount_captured_fen, 990);
    assert.equal(view.card_keys.length, 1);
    keyIds.push(view.card_keys[0].id);
    secrets.push(...await revealAll(view, r.token));
  }
  assert.equal(new Set(keyIds).size, 5, 'no key id delivered twice');
  assert.deepEqual(secrets.sort(), keys.map((k) => `${k.number}|${k.password}`).sort(),
    'the five buyers got exactly the five imported keys, one each');
  assert.deepEqual(await stockOf(shop, product.id), { available: 0, reserved: 0, delivered: 5 });
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen - before.revenue_fen, 5 * 990);
  // An order refused for stock has written its row by then: its batch, run without a savepoint
  // per command, was rolled back and run again with them. Nothing of the refused ones is left.
  assert.ok(await reruns() > rerunsBefore, 'the refusals went through the batch rerun');
  const orders = await shop.get(`/v1/orders?limit=100`, { token: shop.keys.admin });
  assert.equal(orders.status, 200);
  assert.equal(orders.body.data.filter((o) => o.product_id === product.id).length, 5,
    'no order row of a refused buyer was kept');
});

test('orders of several keys race for the rest: all or none for each, never a partial order', async () => {
  const { product } = await productWithKeys(7, 200);
  const results = await Promise.all(Array.from({ length: 10 }, () => buy(shop, product.id, { quantity: 2 })));
  const won = results.filter((r) => r.created.status === 201);
  assert.equal(won.length, 3);
  for (const r of results.filter((x) => x.created.status !== 201)) {
    assertError(r.created, 409, { code: 'out_of_stock' });
  }
  const ids = [];
  for (const r of won) {
    const view = await orderView(shop, r.order.id, r.token);
    assert.equal(view.status, 'delivered');
    assert.equal(view.card_keys.length, 2);
    assert.equal(view.amount_captured_fen, 400);
    ids.push(...view.card_keys.map((k) => k.id));
  }
  assert.equal(new Set(ids).size, 6);
  assert.deepEqual(await stockOf(shop, product.id), { available: 1, reserved: 0, delivered: 6 });
  // The last key still sells singly.
  const last = await buy(shop, product.id, { quantity: 1 });
  assert.equal(last.order.status, 'delivered');
  assert.ok(!ids.includes(last.order.card_keys[0].id));
  assert.deepEqual(await stockOf(shop, product.id), { available: 0, reserved: 0, delivered: 7 });
  await assertBalanced(shop);
});

test('one buyer paying the same order five times at once: one delivery, four duplicates kept', async () => {
  const { product } = await productWithKeys(3, 1500);
  const before = await shop.ledger();
  const c = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(c.status, 201);
  const token = c.body.buyer_token;
  const pays = await Promise.all(Array.from({ length: 5 }, () =>
    shop.post(`/v1/orders/${c.body.id}/payments`, { method: 'wechat' }, { token })));
  assert.ok(pays.every((p) => p.status === 201), JSON.stringify(pays.map((p) => p.status)));
  const charges = await Promise.all(pays.map((p) =>
    shop.post(`/v1/sandbox/payments/${p.body.id}/pay`, { outcome: 'succeeded' })));
  assert.ok(charges.every((x) => x.status === 202));
  await shop.advance(0);
  const view = await orderView(shop, c.body.id, token);
  assert.equal(view.status, 'delivered');
  assert.equal(view.card_keys.length, 1);
  assert.deepEqual(view.payments.map((p) => p.disposition).sort(),
    ['applied', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
  assert.equal(view.amount_captured_fen, 5 * 1500);
  assert.equal(view.amount_unapplied_fen, 4 * 1500);
  assert.deepEqual(await stockOf(shop, product.id), { available: 2, reserved: 0, delivered: 1 });
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen - before.revenue_fen, 1500);
});

test('many unpaid orders expiring together give back exactly what they held', async () => {
  const { product } = await productWithKeys(20, 100);
  const created = await Promise.all(Array.from({ length: 12 }, (_, i) =>
    shop.post('/v1/orders', { product_id: product.id, quantity: (i % 3) + 1 })));
  const ok = created.filter((r) => r.status === 201);
  const held = ok.reduce((n, r) => n + r.body.quantity, 0);
  assert.ok(held <= 20);
  // 12 orders of 1..3 keys want 24; those that found stock hold it.
  assert.equal(held + (await stockOf(shop, product.id)).available, 20);
  for (const r of created.filter((x) => x.status !== 201)) assertError(r, 409, { code: 'out_of_stock' });
  await shop.advance(15 * 60);
  for (const r of ok) assert.equal((await orderView(shop, r.body.id, r.body.buyer_token)).status, 'expired');
  assert.deepEqual(await stockOf(shop, product.id), { available: 20, reserved: 0, delivered: 0 });
  await assertBalanced(shop);
});

test('300 payments at once: the provider notifies each exactly once, more than one window of them', async () => {
  // The sandbox provider keeps up to 256 notifications in flight and tops the window up as they
  // are answered, so 300 need it refilled; none may be lost or sent twice on the way.
  const n = 300;
  const { product } = await productWithKeys(n, 100);
  const notified = async () => {
    const text = (await shop.get('/metrics')).body;
    const m = text.match(/^kameng_http_requests_total\{route="callbacks\.payment",status="2xx"\} (\d+)$/m);
    return m ? Number(m[1]) : 0;
  };
  const before = await notified();
  const orders = [];
  for (let i = 0; i < n; i += 50) {
    orders.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, async () => {
      const c = await shop.post('/v1/orders', { product_id: product.id });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      const token = c.body.buyer_token;
      const p = await shop.post(`/v1/orders/${c.body.id}/payments`, { method: 'alipay' }, { token });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      const s = await shop.post(`/v1/sandbox/payments/${p.body.id}/pay`, { outcome: 'succeeded' });
      assert.equal(s.status, 202, JSON.stringify(s.body));
      return { id: c.body.id, token };
    })));
  }
  await shop.advance(0);
  for (const o of orders) {
    assert.equal((await orderView(shop, o.id, o.token)).status, 'delivered', o.id);
  }
  assert.equal(await notified() - before, n, 'one acknowledged notification per payment');
  await shop.advance(5); // past the first retry's backoff: nothing is due again
  assert.equal(await notified() - before, n);
  assert.deepEqual(await stockOf(shop, product.id), { available: 0, reserved: 0, delivered: n });
  await assertBalanced(shop);
});

test('with the real clock the timers deliver payments by themselves, a rush and then another', async () => {
  // A test clock's advance runs the timers on a server thread, which opens a connection per
  // notification; here the timers thread runs them, on its own kept-alive connections, and they
  // must still reach the shop when those connections have sat idle between two rushes.
  const real = await startShop({ testClock: false });
  try {
    const product = await createCardProduct(real, { price: 100 });
    const imported = await importJson(real, product.id, freshKeys(60, 'RC'));
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    const notified = async () => {
      const m = (await real.get('/metrics')).body
        .match(/^kameng_http_requests_total\{route="callbacks\.payment",status="2xx"\} (\d+)$/m);
      return m ? Number(m[1]) : 0;
    };
    const before = await notified();
    for (const rush of [1, 2]) {
      const orders = await Promise.all(Array.from({ length: 30 }, async () => {
        const c = await real.post('/v1/orders', { product_id: product.id });
        assert.equal(c.status, 201, JSON.stringify(c.body));
        const token = c.body.buyer_token;
        const p = await real.post(`/v1/orders/${c.body.id}/payments`, { method: 'wechat' }, { token });
        assert.equal(p.status, 201, JSON.stringify(p.body));
        const s = await real.post(`/v1/sandbox/payments/${p.body.id}/pay`, { outcome: 'succeeded' });
        assert.equal(s.status, 202, JSON.stringify(s.body));
        return { id: c.body.id, token };
      }));
      for (const o of orders) {
        let status = '';
        for (let i = 0; i < 100 && status !== 'delivered'; i++) {
          status = (await orderView(real, o.id, o.token)).status;
          if (status !== 'delivered') await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(status, 'delivered', `rush ${rush}: ${o.id}`);
      }
      assert.equal(await notified() - before, 30 * rush, 'one acknowledged notification each');
      if (rush === 1) await new Promise((r) => setTimeout(r, 1500)); // the connections sit idle
    }
    assert.deepEqual(await stockOf(real, product.id), { available: 0, reserved: 0, delivered: 60 });
    await assertBalanced(real);
  } finally {
    await real.cleanup();
  }
});
