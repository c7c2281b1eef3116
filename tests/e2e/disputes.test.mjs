// Disputes at the payment provider: a buyer complains to the provider instead of the shop, the
// provider freezes the money and notifies the shop (signed), staff answer with the evidence bundle
// or accept, and the provider's decision closes it. The money in dispute is never refunded twice,
// the books balance after every step, and the evidence submitted is the evidence kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startRecordedShop } from './lib/flows.mjs';
import { assertError } from './lib/checks.mjs';
import {
  DAY, HOUR, accountProduct, assertBalanced, cardProduct, orderOf, paidOrder, phoneTopupProduct,
} from './lib/refunds.mjs';

let shop, agent;
before(async () => {
  shop = await startRecordedShop();
  agent = shop.keys.agent;
});
after(async () => { await shop.cleanup(); });

// The buyer opens a dispute at the sandbox provider; returns once the shop has recorded it.
async function dispute(payment, order, token, body = { reason: 'not_received' }) {
  const r = await shop.post(`/v1/sandbox/payments/${payment.id}/dispute`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return waitDispute(order.id, token, (d) => d.length > 0 && d.at(-1).status);
}

// Polls the order until pick(disputes) is truthy: the provider's notifications are sent by the
// shop's timers, right after the request that made them due.
async function waitDispute(orderId, token, pick) {
  for (let i = 0; ; i++) {
    const o = await orderOf(shop, orderId, token);
    if (pick(o.disputes)) return o.disputes.at(-1);
    assert.ok(i < 500, `dispute not as awaited: ${JSON.stringify(o.disputes)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const closed = (d) => d.length > 0 && (d.at(-1).status === 'won' || d.at(-1).status === 'lost');

function respond(id, response) {
  return shop.post(`/v1/disputes/${id}/respond`, { response }, { token: agent });
}

async function revealFirst(order, token) {
  const r = await shop.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`, {}, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

test('a revealed key: the money is frozen, no refund pays it twice, the evidence wins it back', async () => {
  const { product, keys } = await cardProduct(shop, { price: 1500, digits: ['3'] });
  const { order, token, payment } = await paidOrder(shop, product.id);
  await revealFirst(order, token);
  const start = await assertBalanced(shop);

  const d = await dispute(payment, order, token);
  assert.equal(d.status, 'needs_response');
  assert.equal(d.amount_fen, 1500);
  assert.equal(d.frozen_fen, 1500);
  assert.equal(d.reason, 'not_received');
  assert.equal(Date.parse(d.respond_by) - Date.parse(d.opened_at), 7 * DAY * 1000);
  assert.equal(d.provider_dispute_id, undefined, 'the buyer sees no staff fields');
  const frozen = await assertBalanced(shop);
  assert.equal(frozen.debits_pending_fen - start.debits_pending_fen, 1500, 'held for the provider');
  assert.equal(start.revenue_fen - frozen.revenue_fen, 1500, 'taken out of revenue while frozen');

  // The buyer cannot also get it back from the shop meanwhile.
  const p = await shop.post(`/v1/orders/${order.id}/refund_preview`, { reason: 'key_not_working' }, { token });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  assert.equal(p.body.outcome, 'none');
  assert.match(p.body.explanation_zh, /冻结/);
  assertError(await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'key_not_working', message: '不能用' }, { token }),
    { status: 409, code: 'payment_disputed' });

  // The agents' queue, earliest due first, with what only staff see.
  const q = await shop.get('/v1/disputes', { token: agent });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  const listed = q.body.data.find((x) => x.id === d.id);
  assert.ok(listed, 'the open dispute is listed');
  assert.match(listed.provider_dispute_id, /^sdp_/);
  assertError(await shop.get('/v1/disputes', { token }), { status: 403 });
  assertError(await shop.get(`/v1/disputes/${d.id}`, { token }), { status: 403 });
  assertError(await shop.get('/v1/disputes'), { status: 401 });

  // The bundle: the delivery and the reveal, proven by the evidence log.
  const b = await shop.get(`/v1/disputes/${d.id}/bundle`, { token: agent });
  assert.equal(b.status, 200, JSON.stringify(b.body));
  assert.equal(b.body.object, 'dispute_evidence_bundle');
  assert.equal(b.body.order.id, order.id);
  assert.equal(b.body.order.reveals.length, 1);
  const receipt = JSON.stringify(b.body.receipt);
  assert.match(receipt, /\\"kind\\":\\"delivery\\"|"kind":"delivery"/, 'the delivery in the receipt');
  assert.match(receipt, /\\"kind\\":\\"reveal\\"|"kind":"reveal"/, 'the reveal in the receipt');
  const all = JSON.stringify(b.body);
  assert.ok(!all.includes(keys[0].password) && !all.includes(keys[0].number), 'no card secret in the bundle');

  const r = await respond(d.id, 'evidence');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'under_review');
  assert.equal(r.body.response, 'evidence');
  assert.match(r.body.bundle_sha256, /^[0-9a-f]{64}$/);
  // What was sent is kept byte for byte, and its hash is the one recorded.
  const sent = await shop.get(`/v1/disputes/${d.id}/bundle`, { token: agent });
  assert.equal(sent.status, 200);
  const sentText = JSON.stringify(sent.body);
  assert.equal(createHash('sha256').update(sentText).digest('hex'), r.body.bundle_sha256);
  assertError(await respond(d.id, 'accepted'), { status: 409, code: 'dispute_not_open' });

  const won = await waitDispute(order.id, token, closed);
  assert.equal(won.status, 'won');
  assert.equal(won.outcome_detail, 'delivery_proven');
  const end = await assertBalanced(shop);
  assert.equal(end.debits_pending_fen, start.debits_pending_fen, 'the freeze is released');
  assert.equal(end.revenue_fen, start.revenue_fen, 'the revenue is whole again');
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'delivered');
  assert.equal(o.amount_refunded_fen, 0);
  // The shop's log has the opening, the answer (with the bundle's hash) and the decision.
  const log = await shop.get(`/v1/orders/${order.id}/receipt`, { token });
  assert.equal(log.status, 200, JSON.stringify(log.body));
  const text = JSON.stringify(log.body);
  for (const kind of ['dispute_opened', 'dispute_response', 'dispute_closed']) {
    assert.ok(text.includes(kind), `${kind} in the evidence log`);
  }
  assert.ok(text.includes(r.body.bundle_sha256), 'the bundle hash in the evidence log');
});

test('an unrevealed key: the evidence does not prove delivery, the buyer gets the money back through the provider', async () => {
  const { product } = await cardProduct(shop, { price: 800, digits: ['5'] });
  const { order, token, payment } = await paidOrder(shop, product.id);
  const start = await assertBalanced(shop);
  const d = await dispute(payment, order, token);
  assert.equal((await respond(d.id, 'evidence')).status, 200);
  const lost = await waitDispute(order.id, token, closed);
  assert.equal(lost.status, 'lost');
  assert.equal(lost.outcome_detail, 'delivery_not_proven');
  const end = await assertBalanced(shop);
  assert.equal(end.debits_pending_fen, start.debits_pending_fen);
  assert.equal(start.revenue_fen - end.revenue_fen, 800, 'the money left the shop once');
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.deepEqual(o.refunds, [], 'no refund on top of the chargeback');
  // Nothing is left to refund, by the shop or by a second dispute.
  assertError(await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'not_received', message: '没收到' }, { token }),
    { status: 409, code: 'nothing_to_refund' });
  assertError(await shop.post(`/v1/sandbox/payments/${payment.id}/dispute`, { reason: 'other' }),
    { status: 409, code: 'already_disputed' });
});

test('accepting a dispute, and letting its due date pass, both give the buyer the money back', async () => {
  const { product } = await cardProduct(shop, { price: 600, digits: ['7', '9'] });
  const a = await paidOrder(shop, product.id);
  await revealFirst(a.order, a.token);
  const b = await paidOrder(shop, product.id);
  await revealFirst(b.order, b.token);
  const start = await assertBalanced(shop);
  const da = await dispute(a.payment, a.order, a.token, { reason: 'unauthorized' });
  const db = await dispute(b.payment, b.order, b.token, { reason: 'other' });

  assert.equal((await respond(da.id, 'accepted')).status, 200);
  const lostA = await waitDispute(a.order.id, a.token, closed);
  assert.equal(lostA.status, 'lost');
  assert.equal(lostA.outcome_detail, 'accepted_by_shop');

  // Unanswered: one second before the due date it is still open; at the due date it is lost.
  await shop.advance(7 * DAY - 1);
  assert.equal((await orderOf(shop, b.order.id, b.token)).disputes[0].status, 'needs_response');
  await shop.advance(1);
  const lostB = await waitDispute(b.order.id, b.token, closed);
  assert.equal(lostB.status, 'lost');
  assert.equal(lostB.outcome_detail, 'no_response');
  await shop.advance(1);
  assertError(await respond(db.id, 'evidence'), { status: 409, code: 'dispute_not_open' });
  const end = await assertBalanced(shop);
  assert.equal(end.debits_pending_fen, start.debits_pending_fen);
  assert.equal(start.revenue_fen - end.revenue_fen, 1200);
  for (const { order, token } of [a, b]) {
    assert.equal((await orderOf(shop, order.id, token)).status, 'refunded');
  }
});

test('a partial dispute freezes only its amount; the rest can still be refunded, never more', async () => {
  const { product } = await cardProduct(shop, { price: 1000, noReasonDays: 7, digits: ['1'] });
  const { order, token, payment } = await paidOrder(shop, product.id);
  const start = await assertBalanced(shop);
  const d = await dispute(payment, order, token, { reason: 'not_as_described', amount_fen: 400 });
  assert.equal(d.frozen_fen, 400);
  // The no-reason refund (E4) pays what is not frozen, and no more.
  const c = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'changed_mind', message: '不想要了' }, { token });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.refunds.length, 1, JSON.stringify(o.refunds));
  assert.equal(o.refunds[0].amount_fen, 600);
  assert.equal(o.status, 'delivered', 'not refunded in full yet');
  // The agent's case view says what a decision may still approve, as the shop checks it.
  const staffView = await shop.get(`/v1/cases/${c.body.id}`, { token: agent });
  assert.deepEqual(staffView.body.refundable, { fen: 0, unapplied_fen: 0, disputed_fen: 400 });
  assert.equal((await shop.get(`/v1/cases/${c.body.id}`, { token })).body.refundable, undefined, 'staff only');
  // The shop loses the dispute: the other 400 goes back through the provider; 1,000 in all.
  assert.equal((await respond(d.id, 'evidence')).status, 200);
  assert.equal((await waitDispute(order.id, token, closed)).status, 'lost');
  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  const end = await assertBalanced(shop);
  assert.equal(end.debits_pending_fen - start.debits_pending_fen, o.refunds[0].status === 'pending' ? 600 : 0);
});

test('a top-up disputed before it is credited: the credit keeps the freeze, and winning makes the revenue whole', async () => {
  const product = await phoneTopupProduct(shop, 3000);
  const { order, token, payment } = await paidOrder(shop, product.id, { extra: { target_account: '13800138000' } });
  assert.notEqual(order.status, 'delivered', 'the upstream answers five seconds after submission');
  const start = await assertBalanced(shop);
  const d = await dispute(payment, order, token);
  assert.equal(d.frozen_fen, 3000);
  await shop.advance(10);
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'delivered', JSON.stringify(o.topup));
  const credited = await assertBalanced(shop);
  assert.equal(credited.revenue_fen, start.revenue_fen, 'credited, but the disputed money is withheld from revenue');
  assert.equal((await respond(d.id, 'evidence')).status, 200);
  const won = await waitDispute(order.id, token, closed);
  assert.equal(won.status, 'won');
  assert.equal(won.outcome_detail, 'delivery_proven');
  const end = await assertBalanced(shop);
  assert.equal(end.revenue_fen - start.revenue_fen, 3000);
  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'delivered');
});

test('a refund counted when the dispute opened fails later: its money joins the freeze and is paid once', async () => {
  // 14 fen: the provider refuses the refund every time; it fails for good after hours of retries.
  const { product } = await cardProduct(shop, { price: 1014, noReasonDays: 7, digits: ['3'] });
  const { order, token, payment } = await paidOrder(shop, product.id);
  const c = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'changed_mind', message: '不要了' }, { token });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const d = await dispute(payment, order, token);
  assert.equal(d.frozen_fen, 0, 'the refund on its way covers it');
  for (let i = 0; i < 10; i++) await shop.advance(HOUR);
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.refunds[0].status, 'failed', JSON.stringify(o.refunds));
  assert.equal(o.disputes[0].frozen_fen, 1014, 'the money that came back is frozen for the dispute');
  await assertBalanced(shop);
  // Not paid a second way while the provider decides: not offered, and refused if asked.
  assert.equal(o.refunds[0].movable, false, JSON.stringify(o.refunds[0]));
  assertError(await shop.post(`/v1/refunds/${o.refunds[0].id}/reroute`, { method: 'balance' }, { token }),
    { status: 409, code: 'payment_disputed' });
  assert.equal((await respond(d.id, 'evidence')).status, 200);
  const lost = await waitDispute(order.id, token, closed);
  assert.equal(lost.status, 'lost');
  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.deepEqual(o.refunds.map((r) => r.status), ['failed'], 'paid once, by the provider');
  await assertBalanced(shop);
});

test('a dispute on a payment already refunded freezes nothing and is won on that ground', async () => {
  const { product } = await cardProduct(shop, { price: 500, noReasonDays: 7, digits: ['3'] });
  const { order, token, payment } = await paidOrder(shop, product.id, { method: 'wechat' });
  const c = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'changed_mind', message: '退' }, { token });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal((await orderOf(shop, order.id, token)).status, 'refunded');
  const start = await assertBalanced(shop);
  const d = await dispute(payment, order, token);
  assert.equal(d.frozen_fen, 0);
  assert.deepEqual(await assertBalanced(shop), start, 'nothing moved');
  assert.equal((await respond(d.id, 'evidence')).status, 200);
  const won = await waitDispute(order.id, token, closed);
  assert.equal(won.status, 'won');
  assert.equal(won.outcome_detail, 'already_refunded');
  assert.deepEqual(await assertBalanced(shop), start);
});

test('account goods: the freeze comes out of the escrow, which waits for the decision, then pays the seller whole', async () => {
  const product = await accountProduct(shop, { price: 2000, escrowDays: 3 });
  const { order, token, payment } = await paidOrder(shop, product.id);
  const dv = await shop.post(`/v1/orders/${order.id}/deliver`, { content: 'account: a\npassword: b' }, { token: shop.keys.seller });
  assert.equal(dv.status, 200, JSON.stringify(dv.body));
  const start = await assertBalanced(shop);
  const d = await dispute(payment, order, token, { reason: 'not_as_described' });
  assert.equal(d.frozen_fen, 2000);
  const held = await assertBalanced(shop);
  assert.equal(held.debits_pending_fen, start.debits_pending_fen, 'moved from the escrow hold to the dispute hold');
  // The escrow window ends while the provider decides: the seller is not paid yet.
  await shop.advance(4 * DAY);
  assert.equal((await orderOf(shop, order.id, token)).status, 'delivered');
  assertError(await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token }), { status: 409, code: 'dispute_pending' });
  assert.equal((await respond(d.id, 'evidence')).status, 200);
  assert.equal((await waitDispute(order.id, token, closed)).status, 'won');
  // Won: the escrow holds the whole price again, and the timers release it to the seller.
  await shop.advance(60);
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'completed');
  assert.ok(o.completed_at, JSON.stringify(o));
  await assertBalanced(shop);
});

test('a dispute lost on account goods the seller was already paid for is listed to recover from the seller', async () => {
  const product = await accountProduct(shop, { price: 2600, escrowDays: 3 });
  const { order, token, payment } = await paidOrder(shop, product.id);
  const dv = await shop.post(`/v1/orders/${order.id}/deliver`, { content: 'account: c\npassword: d' }, { token: shop.keys.seller });
  assert.equal(dv.status, 200, JSON.stringify(dv.body));
  const cf = await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token });
  assert.equal(cf.status, 200, JSON.stringify(cf.body));
  const start = await assertBalanced(shop);
  const d = await dispute(payment, order, token, { reason: 'not_as_described' });
  assert.equal(start.revenue_fen - (await assertBalanced(shop)).revenue_fen, 2600, 'the shop fronts it');
  assert.equal((await respond(d.id, 'accepted')).status, 200);
  assert.equal((await waitDispute(order.id, token, closed)).status, 'lost');
  const listed = (await shop.get('/v1/attention', { token: shop.keys.agent })).body.data
    .filter((x) => x.order_id === order.id);
  assert.deepEqual(listed.map((x) => [x.kind, x.amount_fen, x.refund]), [['seller_recovery_due', 2600, null]]);
  const done = await shop.post(`/v1/attention/${listed[0].id}/settle`, { note: 'taken from the seller\'s next payout' },
    { token: shop.keys.agent });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.ok(!(await shop.get('/v1/attention', { token: shop.keys.agent })).body.data.some((x) => x.order_id === order.id));
  await assertBalanced(shop);
});

test('notifications: replays change nothing, forged ones are refused', async () => {
  const { product } = await cardProduct(shop, { price: 900, digits: ['1'] });
  const { order, token, payment } = await paidOrder(shop, product.id);
  const d = await dispute(payment, order, token);
  assert.equal((await respond(d.id, 'accepted')).status, 200);
  await waitDispute(order.id, token, closed);
  // The recorder keeps a callback once the shop's answer to it is back, a moment after the
  // shop has applied it.
  const ours = () => shop.recorded.filter((x) => x.path === '/v1/callbacks/disputes/sandbox'
    && JSON.parse(x.body).payment_id === payment.id);
  for (let i = 0; ours().length < 2 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
  const recs = ours();
  assert.deepEqual(recs.map((x) => JSON.parse(x.body).type), ['dispute.opened', 'dispute.closed']);
  const books = await assertBalanced(shop);
  for (const rec of recs) {
    const again = await shop.replay(rec);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.replayed, true);
  }
  assert.deepEqual(await assertBalanced(shop), books);
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.disputes.length, 1);

  // A forged notification (no valid signature) is refused before anything is read.
  const forged = JSON.parse(recs[1].body);
  forged.outcome = 'won';
  const f = await shop.req('POST', '/v1/callbacks/disputes/sandbox', {
    raw: JSON.stringify(forged), headers: { 'content-type': 'application/json', 'kameng-signature': recs[1].signature },
  });
  assertError(f, { status: 400, type: 'signature_error' });
  assert.deepEqual(await assertBalanced(shop), books);
});

test('a decision whose notification is lost is found by asking the provider', async () => {
  const { product } = await cardProduct(shop, { price: 1200, digits: ['5'] });
  const { order, token, payment } = await paidOrder(shop, product.id);
  await revealFirst(order, token);
  const start = await assertBalanced(shop);
  const d = await dispute(payment, order, token);
  shop.drop = (path, body) => path === '/v1/callbacks/disputes/sandbox' && JSON.parse(body).type === 'dispute.closed';
  try {
    assert.equal((await respond(d.id, 'evidence')).status, 200);
    // The provider retries for some minutes, then gives up; the shop asks after 15.
    for (let i = 0; i < 20; i++) await shop.advance(30);
    assert.equal((await orderOf(shop, order.id, token)).disputes[0].status, 'under_review');
    await shop.advance(5 * 60);
    const won = await waitDispute(order.id, token, closed);
    assert.equal(won.status, 'won');
    assert.equal(won.outcome_detail, 'delivery_proven');
  } finally {
    shop.drop = null;
  }
  const lostOnTheWay = shop.recorded.filter((x) => x.dropped && JSON.parse(x.body).payment_id === payment.id);
  assert.ok(lostOnTheWay.length >= 2, `the closing notice was retried and lost: ${lostOnTheWay.length}`);
  assert.equal((await assertBalanced(shop)).revenue_fen, start.revenue_fen);
});

test('the provider desk refuses what it would not take', async () => {
  const { product } = await cardProduct(shop, { price: 700, digits: ['1'] });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  const unpaid = await shop.post(`/v1/orders/${created.body.id}/payments`, { method: 'wechat' }, { token: created.body.buyer_token });
  assert.equal(unpaid.status, 201);
  assertError(await shop.post(`/v1/sandbox/payments/${unpaid.body.id}/dispute`, { reason: 'other' }),
    { status: 409, code: 'payment_not_captured' });
  assertError(await shop.post('/v1/sandbox/payments/pay_missing/dispute', { reason: 'other' }), { status: 404 });
  const fromBalance = await paidOrder(shop, (await cardProduct(shop, { price: 700, digits: ['5'] })).product.id, { method: 'balance' });
  assertError(await shop.post(`/v1/sandbox/payments/${fromBalance.payment.id}/dispute`, { reason: 'other' }),
    { status: 409, code: 'not_disputable' });
  const { payment } = await paidOrder(shop, (await cardProduct(shop, { price: 700, digits: ['3'] })).product.id);
  for (const body of [{}, { reason: 'because' }, { reason: 'other', amount_fen: 701 }, { reason: 'other', amount_fen: -1 },
    { reason: 'other', amount_fen: 1.5 }, { reason: 'other', extra: 1 }]) {
    const r = await shop.post(`/v1/sandbox/payments/${payment.id}/dispute`, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
  }
  assertError(await shop.post('/v1/disputes/dp_missing/respond', { response: 'evidence' }, { token: agent }), { status: 404 });
  const l = await shop.get('/v1/disputes?status=maybe', { token: agent });
  assertError(l, { status: 400, param: 'status' });
});
