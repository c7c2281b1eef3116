// Direct top-ups: the target account is checked and echoed back before money moves, then the
// sandbox upstream's outcome follows from the account (see src/adapters/upstream_sandbox.c):
//   ends in 0000 / starts with "fail"  → failed
//   ends in 9999 / starts with "stall" → never answers
//   starts with "wrong"                → credited to region S99
//   ends in 8888 / starts with "nocb"  → succeeds, but the callback is lost (polling finds it)
//   anything else                      → succeeds, reported by callback after 5 s
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop, buy } from './lib/server.mjs';
import { assertError, assertBalanced, orderView } from './lib/flows.mjs';

let shop, phone, game;
before(async () => {
  shop = await startShop();
  phone = await shop.product('direct_topup', (p) => p.target_format === 'phone_cn');
  game = await shop.product('direct_topup', (p) => p.target_format === 'game_account');
  assert.ok(phone && game, 'demo has a phone and a game top-up');
});
after(async () => { await shop.cleanup(); });

const UPSTREAM_DELAY_S = 5;
const POLL_INTERVAL_S = 60;

test('target check normalises and echoes the account; a bad one is refused naming the field', async () => {
  const ok = await shop.post('/v1/targets/check', { product_id: phone.id, target_account: '+86 138-1234-5678' });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.object, 'target_check');
  assert.equal(ok.body.account, '13812345678');
  assert.equal(ok.body.display, '138 1234 5678');
  assert.equal(ok.body.region, null);

  const g = await shop.post('/v1/targets/check', { product_id: game.id, target_account: ' player_01 ', target_region: 'Asia' });
  assert.equal(g.status, 200, JSON.stringify(g.body));
  assert.equal(g.body.account, 'player_01');
  assert.equal(g.body.region, 'Asia');
  assert.equal(g.body.display, 'player_01 @ Asia');

  for (const bad of ['1381234567', '23812345678', '138123456789', '+1 4155550100', '138abc45678']) {
    assertError(await shop.post('/v1/targets/check', { product_id: phone.id, target_account: bad }), 400,
      { param: 'target_account' });
  }
  assertError(await shop.post('/v1/targets/check', { product_id: game.id, target_account: 'player_01' }), 400,
    { param: 'target_region' });
  assertError(await shop.post('/v1/targets/check', { product_id: game.id, target_account: 'player_01', target_region: 'Mars' }), 400,
    { param: 'target_region' });
  assertError(await shop.post('/v1/targets/check', { product_id: game.id, target_account: 'a b!', target_region: 'Asia' }), 400,
    { param: 'target_account' });
});

test('an order with a bad account is refused before it exists', async () => {
  assertError(await shop.post('/v1/orders', { product_id: phone.id, target_account: '12345' }), 400, { param: 'target_account' });
  assertError(await shop.post('/v1/orders', { product_id: phone.id }), 400, { param: 'target_account' });
  assertError(await shop.post('/v1/orders', { product_id: game.id, target_account: 'player_01', target_region: 'Mars' }), 400,
    { param: 'target_region' });
  // A card key takes no target account.
  const card = await shop.product('card_key');
  assertError(await shop.post('/v1/orders', { product_id: card.id, target_account: '13812345678' }), 400, { param: 'target_account' });
});

test('paying needs the account confirmed exactly as normalised', async () => {
  const c = await shop.post('/v1/orders', { product_id: phone.id, target_account: '138 1234 5678' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.deepEqual(c.body.target, { account: '13812345678', region: null, display: '138 1234 5678' });
  const token = c.body.buyer_token;
  const path = `/v1/orders/${c.body.id}/payments`;
  assertError(await shop.post(path, { method: 'alipay' }, { token }), 400, { param: 'target_confirmed', code: 'target_not_confirmed' });
  assertError(await shop.post(path, { method: 'alipay', target_confirmed: '13812345679' }, { token }), 400,
    { param: 'target_confirmed', code: 'target_mismatch' });
  const view = await orderView(shop, c.body.id, token);
  assert.equal(view.payments.length, 0, 'a refused payment attempt leaves nothing behind');
  const ok = await shop.post(path, { method: 'alipay', target_confirmed: '13812345678' }, { token });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.amount_fen, phone.price_fen);
});

test('success by callback: delivered, credited, revenue booked', async () => {
  const before = await shop.ledger();
  const { order, token } = await buy(shop, phone.id, { target_account: '13912345678' });
  assert.equal(order.status, 'delivering');
  assert.equal(order.amount_captured_fen, phone.price_fen);
  assert.equal(order.topup.status, 'submitted');
  assert.match(order.topup.upstream_ref, /^up_/);
  assert.equal(order.topup.result_via, null);
  await shop.advance(UPSTREAM_DELAY_S);
  const done = await orderView(shop, order.id, token);
  assert.equal(done.status, 'delivered');
  assert.equal(done.topup.status, 'succeeded');
  assert.equal(done.topup.result_via, 'callback');
  assert.ok(done.delivered_at);
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen - before.revenue_fen, phone.price_fen);
});

test('game top-up to the chosen region', async () => {
  const { order, token } = await buy(shop, game.id, { target_account: 'traveller_42', target_region: '天空岛' });
  assert.deepEqual(order.target, { account: 'traveller_42', region: '天空岛', display: 'traveller_42 @ 天空岛' });
  await shop.advance(UPSTREAM_DELAY_S);
  const done = await orderView(shop, order.id, token);
  assert.equal(done.status, 'delivered');
  assert.equal(done.topup.status, 'succeeded');
  assert.equal(done.topup.credited_region, '天空岛');
  await assertBalanced(shop);
});

// The refund engine (policy E1/E3) may pay a failed top-up back at once: the order is then
// "refunded" rather than "failed". Either way it was never delivered and earned nothing.
test('failure: the order fails, the money stays captured for it and is not revenue', async () => {
  const before = await shop.ledger();
  const { order, token } = await buy(shop, phone.id, { target_account: '13812340000' });
  assert.equal(order.status, 'delivering');
  await shop.advance(UPSTREAM_DELAY_S);
  const done = await orderView(shop, order.id, token);
  assert.ok(['failed', 'refunded'].includes(done.status), `failed top-up order is ${done.status}`);
  assert.equal(done.topup.status, 'failed');
  assert.equal(done.topup.result_via, 'callback');
  assert.equal(done.topup.credited_region, null);
  assert.equal(done.delivered_at, null);
  assert.equal(done.amount_captured_fen, phone.price_fen);
  assert.equal(done.payments[0].disposition, 'applied');
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen, before.revenue_fen, 'a failed top-up earns nothing');
  if (done.status === 'failed') {
    assert.equal(l.debits_posted_fen - before.debits_posted_fen, phone.price_fen, 'only the capture was booked');
  }
});

test('stall: the upstream never answers; the order stays delivering with the top-up submitted', async () => {
  const before = await shop.ledger();
  const { order, token } = await buy(shop, phone.id, { target_account: '13812349999' });
  await shop.advance(UPSTREAM_DELAY_S);
  await shop.advance(3 * POLL_INTERVAL_S); // polled, still processing
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivering');
  assert.equal(view.topup.status, 'submitted');
  assert.equal(view.topup.result_at, null);
  assert.equal(view.delivered_at, null);
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen, before.revenue_fen);
});

test('wrong region: delivered, but the record shows where the credit landed', async () => {
  const { order, token } = await buy(shop, game.id, { target_account: 'wrong_region_guy', target_region: 'Europe' });
  await shop.advance(UPSTREAM_DELAY_S);
  const view = await orderView(shop, order.id, token);
  assert.equal(view.topup.status, 'wrong_region');
  assert.equal(view.topup.credited_region, 'S99');
  assert.equal(view.target.region, 'Europe');
  assert.ok(view.delivered_at, 'credited, so delivered (to the wrong place)');
  // Delivered, or already paid back by the refund engine (policy E2, proven by the upstream).
  assert.ok(['delivered', 'refunded'].includes(view.status), `wrong-region order is ${view.status}`);
  await assertBalanced(shop);
});

test('lost callback: polling finds the result after a minute', async () => {
  const { order, token } = await buy(shop, phone.id, { target_account: '13812348888' });
  await shop.advance(UPSTREAM_DELAY_S);
  const waiting = await orderView(shop, order.id, token);
  assert.equal(waiting.status, 'delivering', 'no callback arrives');
  assert.equal(waiting.topup.status, 'submitted');
  await shop.advance(POLL_INTERVAL_S);
  const done = await orderView(shop, order.id, token);
  assert.equal(done.status, 'delivered');
  assert.equal(done.topup.status, 'succeeded');
  assert.equal(done.topup.result_via, 'poll');
  assert.ok(done.topup.result_at);
  await assertBalanced(shop);
});
