// Every acknowledged write survives: kill -9 the server while buyers are creating and paying
// orders, start it again on the same data directory, and every order, payment and charge the
// server answered 2xx for is there, the paid ones delivered, the stock and the books consistent.
// A graceful SIGTERM exits 0 and loses nothing either.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import {
  assertBalanced, createCardProduct, freshKeys, importJson, stockOf, orderView,
} from './lib/flows.mjs';

const KEYS = 600;
const PRICE = 321;

let shop, product;
before(async () => {
  shop = await startShop();
  product = await createCardProduct(shop, { price: PRICE });
  const r = await importJson(shop, product.id, freshKeys(KEYS, 'DUR'));
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
after(async () => { await shop.cleanup(); });

// Buyers in parallel, each looping create → open payment → pay at the provider, until told to
// stop or the server goes away. Only answers the server gave with 2xx are recorded as acked.
function load(target, { workers = 12 } = {}) {
  const acked = new Map(); // order id → { token, amount, payment, charged }
  let stopped = false;
  let charges = 0;
  let waiters = [];
  const notify = () => { waiters = waiters.filter((w) => !w()); };
  async function worker() {
    while (!stopped) {
      try {
        const c = await target.post('/v1/orders', { product_id: product.id });
        if (c.status !== 201) continue;
        const rec = { token: c.body.buyer_token, amount: c.body.amount_fen, payment: null, charged: false };
        acked.set(c.body.id, rec);
        const p = await target.post(`/v1/orders/${c.body.id}/payments`, { method: 'alipay' }, { token: rec.token });
        if (p.status !== 201) continue;
        rec.payment = p.body.id;
        const ch = await target.post(`/v1/sandbox/payments/${p.body.id}/pay`, { outcome: 'succeeded' });
        if (ch.status !== 202) continue;
        rec.charged = true;
        charges++;
        notify();
      } catch {
        return; // the server is gone
      }
    }
  }
  const running = Promise.all(Array.from({ length: workers }, worker));
  return {
    acked,
    untilCharges: (n) => new Promise((resolve) => {
      const check = () => { if (charges >= n) { resolve(); return true; } return false; };
      if (!check()) waiters.push(check);
    }),
    stop: async () => { stopped = true; await running; },
    done: running,
  };
}

// The test clock restarts where the server left it, so stored deadlines (payment windows,
// callback retries) keep their meaning across the restart.
async function clockNow(s) {
  const r = await s.get('/v1/test/clock');
  assert.equal(r.status, 200);
  return r.body.now;
}

function restart(s, now) {
  return startShop({ dataDir: s.dataDir, testClock: false, extraArgs: [`--test-clock=${now}`] });
}

async function allOrders(s) {
  const out = [];
  let after = '';
  for (;;) {
    const r = await s.get(`/v1/orders?limit=100${after ? `&starting_after=${after}` : ''}`, { token: s.keys.admin });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(...r.body.data);
    if (!r.body.has_more) return out;
    after = r.body.data.at(-1).id;
  }
}

// After a restart: every acked order readable with its own token, every acked payment on it,
// every acked charge captured and delivered; stock and revenue agree with the orders.
async function checkAcked(s, acked) {
  // Provider notifications still owed are delivered now. One that failed while the server was
  // going down waits for the provider's retry (2 s of clock time later), so the clock moves a
  // little: well inside the 15 minutes an unpaid order is held.
  await s.advance(30);
  let delivered = 0;
  for (const [id, rec] of acked) {
    const view = await orderView(s, id, rec.token);
    assert.equal(view.amount_fen, rec.amount);
    if (rec.payment) assert.ok(view.payments.some((p) => p.id === rec.payment), `payment ${rec.payment} of ${id} survived`);
    if (rec.charged) {
      assert.equal(view.status, 'delivered', `charged order ${id} is delivered`);
      assert.equal(view.amount_captured_fen, rec.amount);
      assert.equal(view.card_keys.length, 1);
      delivered++;
    } else {
      assert.ok(['pending_payment', 'delivered'].includes(view.status), `${id} is ${view.status}`);
    }
  }
  const orders = (await allOrders(s)).filter((o) => o.product_id === product.id);
  for (const id of acked.keys()) assert.ok(orders.some((o) => o.id === id));
  const nDelivered = orders.filter((o) => o.status === 'delivered').length;
  const nPending = orders.filter((o) => o.status === 'pending_payment').length;
  assert.equal(nDelivered + nPending, orders.length, 'no order in a half state');
  assert.ok(nDelivered >= delivered);
  const stock = await stockOf(s, product.id);
  assert.equal(stock.delivered, nDelivered, 'one key per delivered order');
  assert.equal(stock.reserved, nPending, 'one key held per unpaid order');
  assert.equal(stock.available + stock.reserved + stock.delivered, KEYS);
  const l = await assertBalanced(s);
  const h = await s.get('/v1/ledger/check', { token: s.keys.admin });
  assert.equal(h.status, 200);
  assert.equal(l.revenue_fen, nDelivered * PRICE, 'revenue is exactly the delivered orders');
  return { delivered: nDelivered, pending: nPending };
}

test('kill -9 while orders are being paid: every acknowledged order survives, books balance', async () => {
  const l = load(shop);
  // Let the provider's callbacks land meanwhile, so some orders are delivered before the kill.
  const ticker = (async () => {
    for (let i = 0; i < 20; i++) {
      try { await shop.advance(0); } catch { return; }
    }
  })();
  const now = await clockNow(shop); // nothing below moves it: advance(0) only runs due timers
  await l.untilCharges(40);
  const code = await shop.stop('SIGKILL');
  assert.equal(code, null, 'killed, not exited');
  await l.done;
  await ticker;
  assert.ok(l.acked.size >= 40);

  shop = await restart(shop, now);
  assert.equal(await clockNow(shop), now);
  const r = await checkAcked(shop, l.acked);
  assert.ok(r.delivered >= 40);
});

test('SIGTERM under load exits 0 and loses no acknowledged write', async () => {
  const now = await clockNow(shop);
  const l = load(shop, { workers: 8 });
  await l.untilCharges(20);
  const code = await shop.stop('SIGTERM');
  assert.equal(code, 0);
  await l.done;
  shop = await restart(shop, now);
  await checkAcked(shop, l.acked);
  // And a quiet server stops cleanly too.
  const later = await clockNow(shop);
  assert.equal(await shop.stop('SIGTERM'), 0);
  shop = await restart(shop, later);
  assert.equal((await shop.get('/healthz')).status, 200);
});
