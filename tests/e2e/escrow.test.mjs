// Account goods held in escrow: the buyer's money is a pending transfer to the seller until the
// buyer confirms or the escrow window ends; only the order's own seller delivers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop, buy } from './lib/server.mjs';
import { assertError, assertBalanced, orderView } from './lib/flows.mjs';

let shop, product, otherSellerKey;
before(async () => {
  shop = await startShop();
  product = await shop.product('account');
  assert.ok(product && product.seller_id, 'demo has account goods with a seller');
  assert.ok(product.refund_terms.escrow_days >= 1);
  // A second seller with a key of its own.
  const s = await shop.post('/v1/sellers', { name: 'another seller' }, { token: shop.keys.admin });
  assert.equal(s.status, 201, JSON.stringify(s.body));
  const k = await shop.post('/v1/api_keys', { role: 'seller', seller_id: s.body.id, label: 'e2e' }, { token: shop.keys.admin });
  assert.equal(k.status, 201, JSON.stringify(k.body));
  otherSellerKey = k.body.key;
});
after(async () => { await shop.cleanup(); });

const CONTENT = 'account: player_9527\npassword: hunter2-秘密\nsecurity mail: x@example.com';

async function paidOrder() {
  const before = await shop.ledger();
  const { order, token } = await buy(shop, product.id);
  assert.equal(order.status, 'delivering', JSON.stringify(order));
  assert.equal(order.amount_captured_fen, product.price_fen);
  // The money is held for the seller: pending, not yet posted to the seller, not revenue.
  const held = await assertBalanced(shop);
  assert.equal(held.debits_pending_fen - before.debits_pending_fen, product.price_fen);
  assert.equal(held.revenue_fen, before.revenue_fen);
  return { order, token };
}

test('pay, seller delivers, buyer reads (recorded), buyer confirms: completed and the hold is posted', async () => {
  const start = await shop.ledger();
  const { order, token } = await paidOrder();
  // Nothing to read before the seller delivers.
  assertError(await shop.post(`/v1/orders/${order.id}/account_goods/reveal`, {}, { token }), 409);

  const d = await shop.post(`/v1/orders/${order.id}/deliver`, { content: CONTENT }, { token: shop.keys.seller });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.equal(d.body.status, 'delivered');
  assert.ok(d.body.delivered_at);
  const days = product.refund_terms.escrow_days;
  assert.equal(Date.parse(d.body.escrow_release_at) - Date.parse(d.body.delivered_at), days * 86400 * 1000);
  assert.ok(!JSON.stringify(d.body).includes('hunter2'), 'the seller\'s answer does not echo the goods');
  // Delivering twice is refused.
  assertError(await shop.post(`/v1/orders/${order.id}/deliver`, { content: 'again' }, { token: shop.keys.seller }), 409);

  const r = await shop.post(`/v1/orders/${order.id}/account_goods/reveal`, {}, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.content, CONTENT);
  const viewed = await orderView(shop, order.id, token);
  assert.equal(viewed.reveals.length, 1);
  assert.equal(viewed.reveals[0].actor, 'buyer');
  assert.equal(viewed.reveals[0].ip, '127.0.0.1');
  assert.equal(viewed.reveals[0].card_key_id, null);
  assert.ok(viewed.reveals[0].revealed_at);
  assert.ok(!JSON.stringify(viewed).includes('hunter2'), 'the order view never shows the goods');
  const stillHeld = await assertBalanced(shop);
  assert.equal(stillHeld.debits_pending_fen - start.debits_pending_fen, product.price_fen);

  const c = await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.status, 'completed');
  assert.ok(c.body.completed_at);
  const end = await assertBalanced(shop);
  assert.equal(end.debits_pending_fen, start.debits_pending_fen, 'the hold is resolved');
  assert.equal(end.debits_posted_fen - start.debits_posted_fen, 2 * product.price_fen, 'capture + posting to the seller');
  // Confirming twice changes nothing.
  assertError(await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token }), 409);
  assert.deepEqual(await shop.ledger(), end);
});

test('the escrow window passing completes the order automatically', async () => {
  const start = await shop.ledger();
  const { order, token } = await paidOrder();
  const d = await shop.post(`/v1/orders/${order.id}/deliver`, { content: CONTENT }, { token: shop.keys.seller });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  const days = product.refund_terms.escrow_days;
  await shop.advance(days * 86400 - 60);
  assert.equal((await orderView(shop, order.id, token)).status, 'delivered', 'not before the window ends');
  await shop.advance(60);
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'completed');
  assert.equal(view.completed_at, view.escrow_release_at);
  const end = await assertBalanced(shop);
  assert.equal(end.debits_pending_fen, start.debits_pending_fen);
  assert.equal(end.debits_posted_fen - start.debits_posted_fen, 2 * product.price_fen);
});

test('a paid order the seller never delivers stays held; the window starts only at delivery', async () => {
  const start = await shop.ledger();
  const { order, token } = await paidOrder();
  await shop.advance((product.refund_terms.escrow_days + 1) * 86400);
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivering');
  assert.equal(view.escrow_release_at, null);
  const l = await assertBalanced(shop);
  assert.equal(l.debits_pending_fen - start.debits_pending_fen, product.price_fen);
});

test('only the order\'s own seller delivers; buyers, admins and other sellers cannot', async () => {
  const { order, token } = await paidOrder();
  const path = `/v1/orders/${order.id}/deliver`;
  assertError(await shop.post(path, { content: 'x' }, { token: otherSellerKey }), 404, { param: 'order_id' });
  assertError(await shop.post(path, { content: 'x' }, { token }), 403);
  assertError(await shop.post(path, { content: 'x' }, { token: shop.keys.admin }), 403);
  assertError(await shop.post(path, { content: 'x' }), 401);
  // Nothing happened: still waiting for the seller, nothing to read.
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivering');
  assertError(await shop.post(`/v1/orders/${order.id}/account_goods/reveal`, {}, { token }), 409);
  // A seller does not confirm receipt for the buyer, and the buyer cannot confirm before delivery.
  const c = await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token: shop.keys.seller });
  assert.ok(c.status === 403 || c.status === 404, `seller confirm refused: ${c.status}`);
  assertError(await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token }), 409);
  // The right seller still can.
  const ok = await shop.post(path, { content: CONTENT }, { token: shop.keys.seller });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  await assertBalanced(shop);
});

test('a seller cannot deliver an unpaid order, nor a card-key order', async () => {
  const c = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(c.status, 201);
  assertError(await shop.post(`/v1/orders/${c.body.id}/deliver`, { content: CONTENT }, { token: shop.keys.seller }), 409);
  const view = await orderView(shop, c.body.id, c.body.buyer_token);
  assert.equal(view.status, 'pending_payment');
  const card = await shop.product('card_key');
  const bought = await buy(shop, card.id);
  assert.equal(bought.order.status, 'delivered');
  assertError(await shop.post(`/v1/orders/${bought.order.id}/deliver`, { content: CONTENT }, { token: shop.keys.seller }), 404);
});

test('delivered goods are text: line breaks and tabs are kept, other control characters refused', async () => {
  const { order, token } = await paidOrder();
  const path = `/v1/orders/${order.id}/deliver`;
  assertError(await shop.post(path, { content: 'account\u0007bell' }, { token: shop.keys.seller }), 400, { param: 'content' });
  assertError(await shop.post(path, { content: '' }, { token: shop.keys.seller }), 400, { param: 'content' });
  assert.equal((await orderView(shop, order.id, token)).status, 'delivering');
  const text = 'line 1\r\nline 2\ttabbed';
  const ok = await shop.post(path, { content: text }, { token: shop.keys.seller });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const r = await shop.post(`/v1/orders/${order.id}/account_goods/reveal`, {}, { token });
  assert.equal(r.body.content, text);
  await assertBalanced(shop);
});

// The seller is paid when the window ends, unless the buyer's refund request is still waiting for a
// decision then, or was rejected and may still be appealed: the money stays held until then, so an
// approval is paid from the escrow, not by the shop after the seller has the money.
test('a refund request undecided, or rejected and still appealable, when the window ends keeps the money held', async () => {
  // A shop of its own: the week of waiting would release other tests' holds too.
  const own = await startShop();
  try {
    await heldUntilDecided(own, (await own.product('account')).seller_id);
  } finally {
    await own.cleanup();
  }
});

// Account goods of sellerId with a one-day escrow, bought, delivered, and 23 hours on the buyer's
// request about them, waiting for an agent.
async function requestAnHourBeforeRelease(shop, sellerId, price) {
  const made = await shop.post('/v1/products', {
    kind: 'account', name: `escrow and a request ${price}`, price_fen: price, face_value_fen: price,
    seller_id: sellerId, escrow_days: 1, refund_window_hours: 72,
  }, { token: shop.keys.admin });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const { order, token } = await buy(shop, made.body.id);
  const d = await shop.post(`/v1/orders/${order.id}/deliver`, { content: CONTENT }, { token: shop.keys.seller });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  await shop.advance(23 * 3600);
  const c = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'not_as_described', message: '账号等级与描述不符。' }, { token });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal(c.body.status, 'open', JSON.stringify(c.body));
  return { order, token, c };
}

async function heldUntilDecided(shop, sellerId) {
  const start = await shop.ledger();
  const { order, token, c } = await requestAnHourBeforeRelease(shop, sellerId, 5000);

  await shop.advance(2 * 3600); // the window ended an hour ago
  let view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivered', 'not released while the request waits');
  assert.equal((await assertBalanced(shop)).debits_pending_fen - start.debits_pending_fen, 5000);

  // Rejected: the buyer may still appeal for seven days, and the money waits for that too.
  const r = await shop.post(`/v1/cases/${c.body.id}/decide`, { outcome: 'reject', rule: 'N1', explanation: '账号与描述一致。' }, { token: shop.keys.agent });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await shop.advance(60);
  view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivered', 'held while the rejection can be appealed');
  const decidedAt = Date.parse(r.body.decisions[0].decided_at);
  assert.equal(Date.parse(view.escrow_release_at), decidedAt + 7 * 86400 * 1000);
  await shop.advance(7 * 86400);
  view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'completed', 'released once nothing can be claimed');
  const end = await assertBalanced(shop);
  assert.equal(end.debits_pending_fen, start.debits_pending_fen);
}

// The same while the agent waits on the buyer: a request awaiting the buyer's evidence is still
// undecided, and the hold stays until it is decided.
test('a request awaiting the buyer\'s evidence keeps the money held past the window', async () => {
  const { order, token, c } = await requestAnHourBeforeRelease(shop, product.seller_id, 6000);
  const ask = await shop.post(`/v1/cases/${c.body.id}/request_evidence`, { message: '请提供截图。' }, { token: shop.keys.agent });
  assert.equal(ask.status, 200, JSON.stringify(ask.body));
  assert.equal(ask.body.status, 'awaiting_buyer');
  await shop.advance(2 * 3600); // the window ended an hour ago
  const view = await orderView(shop, order.id, token);
  assert.equal(view.status, 'delivered', 'not released while the request waits on the buyer');
  assert.equal(view.completed_at, null);
});
