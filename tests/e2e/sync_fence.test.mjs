// Nothing is told before it is on disk. The writer commits a batch before the WAL sync that makes
// it durable, and other connections can see it in between; so while syncs are held (a test-only
// switch), a write is not acknowledged, and an answer built from a read that could see it waits
// too. Once the sync runs, both go out, and the read shows the write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { createCardProduct, freshKeys, importJson, stockOf } from './lib/flows.mjs';

let shop, product;
before(async () => {
  shop = await startShop();
  product = await createCardProduct(shop, { price: 700 });
  const r = await importJson(shop, product.id, freshKeys(3, 'FENCE'));
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
after(async () => {
  await shop.post('/v1/test/syncs', { hold: false }).catch(() => {});
  await shop.cleanup();
});

const settled = (p) => {
  const s = { done: false, value: undefined };
  p.then((v) => { s.done = true; s.value = v; });
  return s;
};
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// A read that should answer at once fails the test after a while instead of hanging it.
const soon = (p, what) => Promise.race([p, pause(5000).then(() => { throw new Error(`${what}: no answer in 5 s`); })]);

test('a write waits for its sync, and so does any read that could see it', async () => {
  assert.equal((await stockOf(shop, product.id)).available, 3);
  // Every timer settles first (the evidence log's checkpoint is signed), so the timers' idle
  // passes that follow change nothing a read would wait for.
  await shop.advance(0);
  const held = await shop.post('/v1/test/syncs', { hold: true });
  assert.equal(held.status, 200, JSON.stringify(held.body));
  assert.deepEqual(held.body, { object: 'test_syncs', held: true });

  // With nothing unsynced, a read answers at once even while syncs are held.
  assert.equal((await soon(stockOf(shop, product.id), 'a read with nothing unsynced')).available, 3);

  const order = settled(shop.post('/v1/orders', { product_id: product.id }));
  await pause(300);
  assert.equal(order.done, false, 'the order was acknowledged before its sync');

  // The sale is committed and visible to readers, but not durable: the stock answer waits.
  const stock = settled(stockOf(shop, product.id));
  await pause(300);
  assert.equal(stock.done, false, 'a read of an unsynced sale was answered');

  const released = await shop.post('/v1/test/syncs', { hold: false });
  assert.equal(released.status, 200);
  assert.deepEqual(released.body, { object: 'test_syncs', held: false });
  for (let i = 0; i < 100 && !(order.done && stock.done); i++) await pause(20);
  assert.ok(order.done && stock.done, 'both went out once the sync ran');
  assert.equal(order.value.status, 201, JSON.stringify(order.value.body));
  assert.deepEqual(stock.value, { available: 2, reserved: 1, delivered: 0 }, 'the read shows the sale it waited for');
});

test('the switch is for tests only, and its input is checked', async () => {
  await shop.post('/v1/test/syncs', { hold: false }); // should the test above have stopped held
  const bad = await shop.post('/v1/test/syncs', { hold: 'yes' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, 'hold');
  const extra = await shop.post('/v1/test/syncs', { hold: false, other: 1 });
  assert.equal(extra.status, 400);
  const real = await startShop({ testClock: false });
  try {
    const r = await real.post('/v1/test/syncs', { hold: true });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'test_clock_disabled');
    assert.equal((await real.get('/healthz')).status, 200, 'nothing was held');
  } finally {
    await real.cleanup();
  }
});
