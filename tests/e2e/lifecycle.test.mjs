// An order's life around its payment: unpaid orders expire and give their stock back, a payment
// that arrives late or twice is kept and marked for the refund engine, a replayed provider
// callback changes nothing, and a buyer finds the order again with its id and password.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startShop, buy } from './lib/server.mjs';
import {
  assertError, assertBalanced, createCardProduct, freshKeys, importJson, stockOf, orderView,
  startRecordedShop,
} from './lib/flows.mjs';

const PAYMENT_WINDOW_S = 15 * 60;

let shop;
before(async () => { shop = await startRecordedShop(); });
after(async () => { await shop.cleanup(); });
afterEach(async () => { await assertBalanced(shop); });

async function cardProduct(n, price = 700) {
  const p = await createCardProduct(shop, { price });
  const r = await importJson(shop, p.id, freshKeys(n, 'LC'));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return p;
}

async function createOrder(body) {
  const r = await shop.post('/v1/orders', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { order: r.body, token: r.body.buyer_token };
}

async function openPayment(order, token, method = 'alipay') {
  const r = await shop.post(`/v1/orders/${order.id}/payments`, { method }, { token });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.status, 'requires_payment');
  return r.body;
}

async function charge(payment) {
  const r = await shop.post(`/v1/sandbox/payments/${payment.id}/pay`, { outcome: 'succeeded' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
}

test('an unpaid order expires after 15 minutes and releases its reserved stock', async () => {
  const product = await cardProduct(3);
  const { order, token } = await createOrder({ product_id: product.id, quantity: 2 });
  assert.equal(Date.parse(order.expires_at) - Date.parse(order.created_at), PAYMENT_WINDOW_S * 1000);
  assert.deepEqual(await stockOf(shop, product.id), { available: 1, reserved: 2, delivered: 0 });
  await shop.advance(PAYMENT_WINDOW_S - 1);
  assert.equal((await orderView(shop, order.id, token)).status, 'pending_payment');
  assert.deepEqual(await stockOf(shop, product.id), { available: 1, reserved: 2, delivered: 0 });
  await shop.advance(1);
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'expired');
  assert.equal(view.card_keys.length, 0, 'the keys went back to stock');
  assert.deepEqual(await stockOf(shop, product.id), { available: 3, reserved: 0, delivered: 0 });
  // An expired order takes no payment; its stock sells to the next buyer.
  assertError(await shop.post(`/v1/orders/${order.id}/payments`, { method: 'alipay' }, { token }), 409, { param: 'order_id' });
  const next = await buy(shop, product.id, { quantity: 3 });
  assert.equal(next.order.status, 'delivered');
  assert.equal(next.order.card_keys.length, 3);
});

test('a payment completing after expiry is captured as "late" and held for the order', async () => {
  const product = await cardProduct(1, 950);
  const before = await shop.ledger();
  const { order, token } = await createOrder({ product_id: product.id });
  const payment = await openPayment(order, token, 'wechat');
  await shop.advance(PAYMENT_WINDOW_S);
  assert.equal((await orderView(shop, order.id, token)).status, 'expired');
  await charge(payment); // the buyer finishes paying in the wallet app after the window
  await shop.advance(0);
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'expired');
  assert.equal(view.payments.length, 1);
  assert.equal(view.payments[0].status, 'succeeded');
  assert.equal(view.payments[0].disposition, 'late');
  assert.equal(view.amount_captured_fen, 950);
  assert.equal(view.amount_unapplied_fen, 950);
  assert.equal(view.card_keys.length, 0);
  assert.deepEqual(await stockOf(shop, product.id), { available: 1, reserved: 0, delivered: 0 });
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen, before.revenue_fen, 'a late payment is not revenue');
  // On the books (the refund engine may already be paying it back: that only adds transfers).
  assert.ok(l.debits_posted_fen - before.debits_posted_fen >= 950, 'the late payment is on the books');
});

test('a second payment for the same order is captured as "duplicate"', async () => {
  const product = await cardProduct(2, 880);
  const before = await shop.ledger();
  const { order, token } = await createOrder({ product_id: product.id });
  const p1 = await openPayment(order, token, 'alipay');
  const p2 = await openPayment(order, token, 'bank_card');
  await charge(p1);
  await charge(p2);
  await shop.advance(0);
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivered');
  assert.equal(view.card_keys.length, 1, 'paying twice does not deliver twice');
  const dispositions = view.payments.map((p) => p.disposition).sort();
  assert.deepEqual(dispositions, ['applied', 'duplicate']);
  assert.ok(view.payments.every((p) => p.status === 'succeeded'));
  assert.equal(view.amount_captured_fen, 1760);
  assert.equal(view.amount_unapplied_fen, 880);
  assert.deepEqual(await stockOf(shop, product.id), { available: 1, reserved: 0, delivered: 1 });
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen - before.revenue_fen, 880);
  // A paid order opens no new payment, and a completed charge cannot be charged again.
  assertError(await shop.post(`/v1/orders/${order.id}/payments`, { method: 'alipay' }, { token }), 409, { param: 'order_id' });
  assertError(await shop.post(`/v1/sandbox/payments/${p1.id}/pay`, { outcome: 'succeeded' }), 409);
});

test('a failed charge captures nothing; the order can still be paid', async () => {
  const product = await cardProduct(1, 300);
  const { order, token } = await createOrder({ product_id: product.id });
  const p1 = await openPayment(order, token);
  const r = await shop.post(`/v1/sandbox/payments/${p1.id}/pay`, { outcome: 'failed' });
  assert.equal(r.status, 202);
  await shop.advance(0);
  let view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'pending_payment');
  assert.equal(view.payments[0].status, 'failed');
  assert.equal(view.amount_captured_fen, 0);
  const p2 = await openPayment(order, token, 'balance');
  await charge(p2);
  await shop.advance(0);
  view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivered');
  assert.equal(view.amount_captured_fen, 300);
  assert.equal(view.amount_unapplied_fen, 0);
});

test('the same provider callback delivered twice changes nothing', async () => {
  const product = await cardProduct(2, 610);
  const { order, token } = await buy(shop, product.id);
  assert.equal(order.status, 'delivered');
  const paymentId = order.payments[0].id;
  const rec = shop.recorded.find((c) => c.path === '/v1/callbacks/payments/sandbox' && JSON.parse(c.body).payment_id === paymentId);
  assert.ok(rec, 'the provider\'s callback went through the recorder');
  assert.equal(rec.status, 200);
  const viewBefore = await orderView(shop, order.id, token);
  const ledgerBefore = await shop.ledger();
  const stockBefore = await stockOf(shop, product.id);
  for (let i = 0; i < 2; i++) {
    const r = await shop.replay(rec);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.received, true);
    assert.equal(r.body.replayed, true);
    assert.equal(r.body.payment.id, paymentId);
  }
  assert.deepEqual(await orderView(shop, order.id, token), viewBefore);
  assert.deepEqual(await shop.ledger(), ledgerBefore);
  assert.deepEqual(await stockOf(shop, product.id), stockBefore);
  // The same notification with its amount changed no longer carries a valid signature.
  const forged = { ...rec, body: rec.body.replace(/"amount_fen":\d+/, '"amount_fen":1') };
  assertError(await shop.replay(forged), 400, { param: 'Kameng-Signature' });
  assert.deepEqual(await shop.ledger(), ledgerBefore);
});

test('a replayed top-up result changes nothing either', async () => {
  const phone = await shop.product('direct_topup', (p) => p.target_format === 'phone_cn');
  const { order, token } = await buy(shop, phone.id, { target_account: '13612345678' });
  await shop.advance(5);
  const done = await orderView(shop, order.id, token);
  assert.equal(done.status, 'delivered');
  const rec = shop.recorded.find((c) => c.path === '/v1/callbacks/upstream/sandbox' && JSON.parse(c.body).topup_id === done.topup.id);
  assert.ok(rec);
  const ledgerBefore = await shop.ledger();
  const r = await shop.replay(rec);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(await orderView(shop, order.id, token), done);
  assert.deepEqual(await shop.ledger(), ledgerBefore);
});

test('look-up by order id and password returns the order and a new working buyer token', async () => {
  const product = await cardProduct(1);
  const c = await shop.post('/v1/orders', { product_id: product.id, lookup_password: 'correct horse 1' });
  assert.equal(c.status, 201);
  assert.equal(c.body.lookup_password_set, true);
  const first = c.body.buyer_token;
  const pay = await openPayment(c.body, first);
  await charge(pay);
  await shop.advance(0);

  const r = await shop.post('/v1/orders/lookup', { order_id: c.body.id, lookup_password: 'correct horse 1' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.id, c.body.id);
  assert.equal(r.body.status, 'delivered');
  assert.match(r.body.buyer_token, /^bt_/);
  assert.notEqual(r.body.buyer_token, first);
  assert.equal(JSON.stringify(r.body).includes('"password"'), false, 'a look-up shows no secret');
  const token = r.body.buyer_token;
  const view = await orderView(shop, c.body.id, token);
  assert.equal(view.card_keys.length, 1);
  const rv = await shop.post(`/v1/orders/${c.body.id}/card_keys/${view.card_keys[0].id}/reveal`, {}, { token });
  assert.equal(rv.status, 200, 'the new token opens the order like the first one');
  assert.equal((await orderView(shop, c.body.id, first)).id, c.body.id, 'the first token still works');
});

test('a wrong password, an unknown id and an order without a password all get the same 401', async () => {
  const product = await cardProduct(2);
  const withPw = await createOrder({ product_id: product.id, lookup_password: 'right-password' });
  const withoutPw = await createOrder({ product_id: product.id });
  assert.equal(withoutPw.order.lookup_password_set, false);
  const answers = [
    await shop.post('/v1/orders/lookup', { order_id: withPw.order.id, lookup_password: 'wrong-password' }),
    await shop.post('/v1/orders/lookup', { order_id: 'ord_doesnotexist000000', lookup_password: 'right-password' }),
    await shop.post('/v1/orders/lookup', { order_id: withoutPw.order.id, lookup_password: 'right-password' }),
  ];
  for (const a of answers) {
    assertError(a, 401, { param: 'lookup_password', code: 'lookup_failed' });
    assert.equal(a.body.buyer_token, undefined);
  }
  assert.equal(answers[0].body.error.message, answers[2].body.error.message, 'nothing tells the cases apart');
  // Contact alone is never a key to an order.
  assertError(await shop.post('/v1/orders/lookup', { order_id: withPw.order.id }), 400, { param: 'lookup_password' });
});

test('another buyer\'s token opens nothing of this order', async () => {
  const product = await cardProduct(2);
  const a = await buy(shop, product.id);
  const b = await buy(shop, product.id);
  assertError(await shop.get(`/v1/orders/${a.order.id}`, { token: b.token }), 404, { param: 'order_id' });
  assertError(await shop.post(`/v1/orders/${a.order.id}/payments`, { method: 'alipay' }, { token: b.token }), 404);
  assertError(await shop.get(`/v1/orders/${a.order.id}`), 401);
  assertError(await shop.get(`/v1/orders/${a.order.id}`, { token: 'bt_notatoken' }), 401);
  // Buyers do not list orders.
  assertError(await shop.get('/v1/orders', { token: a.token }), 403);
});

test('look-ups are rate-limited: the 11th attempt in a minute gets 429, even with the right password', async () => {
  // A shop of its own: the limit counts per client address, and the other tests used some.
  const own = await startShop();
  try {
    const product = await own.product('card_key');
    const MINUTE_NS = 60_000_000_000n;
    const window = () => Number(process.hrtime.bigint() / MINUTE_NS); // the server's monotonic minute
    // The per-address budget is counted in those minutes. A burst starts early in one, so that
    // it ends in the same; after a burst that straddled two, the next waits for a fresh minute,
    // as the straddling requests count in the new one.
    const freshMinute = async (marginS) => {
      const left = Number(MINUTE_NS - (process.hrtime.bigint() % MINUTE_NS)) / 1e6;
      if (left < marginS * 1000) await new Promise((ok) => setTimeout(ok, left + 50));
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      await freshMinute(attempt === 0 ? 20 : 60);
      const c = await own.post('/v1/orders', { product_id: product.id, lookup_password: 'the-real-one' });
      assert.equal(c.status, 201);
      const w0 = window();
      const statuses = [];
      for (let i = 0; i < 10; i++) {
        statuses.push((await own.post('/v1/orders/lookup', { order_id: c.body.id, lookup_password: `guess-${i}` })).status);
      }
      const limited = await own.post('/v1/orders/lookup', { order_id: c.body.id, lookup_password: 'the-real-one' });
      if (window() !== w0) continue; // a minute boundary fell inside the burst: the budget refilled
      assert.deepEqual(statuses, Array(10).fill(401));
      assertError(limited, 429, { param: 'lookup_password', code: 'rate_limited' });
      assert.equal(limited.body.error.type, 'rate_limit_error');
      assert.equal(limited.body.buyer_token, undefined);
      return;
    }
    assert.fail('three bursts in a row straddled a minute boundary');
  } finally {
    await own.cleanup();
  }
});
