// Money going back: original-route payouts through the sandbox provider (refused once then
// retried with the same request number; an abnormal account moved to the shop balance), the
// date promised across the Spring Festival holiday, and requests racing on one order — never more
// than captured, never paid twice. The sandbox decides by the amount's last two digits (see
// src/adapters/refund_sandbox.c): ..13 refused once, ..14 refused every time, ..15 taken but
// its answer lost, ..16 failed and then paid after all, ..17 a slow bank, ..66 requires_action,
// ..99 failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { assertError, startRecordedShop } from './lib/flows.mjs';
import {
  MIN, HOUR, DAY, assertBalanced, cardProduct, accountProduct, paidOrder, completeAtProvider, orderOf, refundOf, preview,
  requestRefund, openCase, decide, assertDecision, assertRefund, assertNotOverRefunded,
} from './lib/refunds.mjs';

const WECHAT_DELAY_S = 5 * MIN;
const RETRY_BACKOFF_S = 60;

let shop;
before(async () => { shop = await startRecordedShop(); });
after(async () => { await shop.cleanup(); });

// The provider's refund callbacks the shop received, for one request number.
const refundCallbacks = (requestNo) => shop.recorded
  .filter((r) => r.path === '/v1/callbacks/refunds/sandbox')
  .map((r) => JSON.parse(r.body))
  .filter((b) => b.request_no === requestNo);

// An order refunded automatically (E4: an unrevealed key within the no-reason days).
async function refundedOrder(s, price, method) {
  const { product } = await cardProduct(s, { price, noReasonDays: 7, digits: ['2'] });
  const { order, token } = await paidOrder(s, product.id, { method });
  const p = await preview(s, order.id, token, 'changed_mind');
  const c = await openCase(s, order.id, token, 'changed_mind');
  assertDecision(c, { outcome: 'approve', rule: 'E4', automatic: true, amount_fen: price });
  assert.equal(c.refunds.length, 1);
  const refund = assertRefund(c.refunds[0], { amount_fen: price, method, rule: 'E4', status: method === 'balance' ? 'succeeded' : 'pending' });
  return { order, token, c, refund, preview: p };
}

test('payout refused once (..13): retried with the same request number, then succeeds after the route delay', async () => {
  const { order, token, refund } = await refundedOrder(shop, 1013, 'wechat');
  const requestNo = refund.provider_request_no;

  // The first submission is refused: the refund stays pending, counting the attempt.
  await shop.advance(0);
  let r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'pending');
  assert.equal(r.attempts, 1);
  assert.ok(r.failure_reason, 'the refusal is shown');
  assert.equal(r.provider_request_no, requestNo);
  assert.ok((await orderOf(shop, order.id, token)).timeline.some((e) => e.type === 'refund.retrying' && e.object_id === refund.id));
  await assertBalanced(shop);

  // After the backoff the same request goes again, and the provider accepts it.
  await shop.advance(RETRY_BACKOFF_S);
  r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'pending');
  assert.equal(r.attempts, 2);
  assert.equal(r.failure_reason, null);
  assert.equal(r.provider_request_no, requestNo, 'one immutable request number per refund');
  assert.deepEqual(refundCallbacks(requestNo), [], 'WeChat takes minutes');

  // WeChat books it after its delay; the provider reports it under the same request number.
  await shop.advance(WECHAT_DELAY_S);
  r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'succeeded');
  assert.ok(r.completed_at);
  assert.ok(Date.parse(r.completed_at) <= Date.parse(r.expected_by));
  const cbs = refundCallbacks(requestNo);
  assert.ok(cbs.length >= 1);
  assert.ok(cbs.every((b) => b.status === 'succeeded' && b.amount_fen === 1013));
  assert.equal(new Set(cbs.map((b) => b.provider_refund_id)).size, 1, 'one refund at the provider');
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.refunds.length, 1, 'never paid twice');
  assert.equal(o.status, 'refunded');
  assertNotOverRefunded(o);
  await assertBalanced(shop);
});

test('payout refused every time (..14): eight tries with doubling waits, then it fails and the money waits for the buyer', async () => {
  const { order, token, refund } = await refundedOrder(shop, 1014, 'wechat');
  const requestNo = refund.provider_request_no;
  await shop.advance(0);
  let r = await refundOf(shop, refund.id, token);
  assert.equal(r.attempts, 1);
  // Attempt n + 1 goes 2^(n-1) minutes after attempt n, always with the same request number.
  for (let n = 1; n < 7; n++) {
    await shop.advance(RETRY_BACKOFF_S * 2 ** (n - 1) - 1);
    r = await refundOf(shop, refund.id, token);
    assert.equal(r.attempts, n, `attempt ${n + 1} waits its full backoff`);
    await shop.advance(1);
    r = await refundOf(shop, refund.id, token);
    assert.equal(r.status, 'pending');
    assert.equal(r.attempts, n + 1);
    assert.equal(r.provider_request_no, requestNo);
    assert.ok(r.failure_reason, 'the latest refusal is shown');
  }
  await assertBalanced(shop);

  // The eighth refusal ends it: no ninth submission, and the held money is released.
  await shop.advance(RETRY_BACKOFF_S * 2 ** 6);
  r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'failed');
  assert.equal(r.attempts, 8);
  assert.ok(r.failure_reason);
  assert.ok(r.completed_at);
  await shop.advance(RETRY_BACKOFF_S * 2 ** 8);
  assert.equal((await refundOf(shop, refund.id, token)).attempts, 8, 'nothing is tried after it failed');
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.amount_refunded_fen, 0, 'nothing left the shop');
  assert.equal(o.status, 'refunded', 'the decision stands: the keys are back in stock, the money is owed');
  const types = o.timeline.filter((e) => e.object_id === refund.id).map((e) => e.type);
  assert.equal(types.filter((t) => t === 'refund.retrying').length, 7, JSON.stringify(types));
  assert.ok(types.includes('refund.failed'), JSON.stringify(types));
  assert.deepEqual(refundCallbacks(requestNo), [], 'the provider never took it');
  await assertBalanced(shop);

  // The buyer takes the money to the shop balance instead: paid once, at once.
  const moved = await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token });
  assert.equal(moved.status, 201, JSON.stringify(moved.body));
  assertRefund(moved.body, { amount_fen: 1014, method: 'balance', rule: 'E4', status: 'succeeded' });
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token }), 409);
  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(assertNotOverRefunded(o), 1014);
  await assertBalanced(shop);
});

test('a lost answer is no refusal (..15): the refund stays pending and is paid once, when the provider says', async () => {
  const { order, token, refund } = await refundedOrder(shop, 1015, 'bank_card');
  // The provider takes the refund at the first submission, but the shop hears nothing back, nine
  // times over: more than the eight refusals after which a refund fails.
  await shop.advance(0);
  let r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'pending');
  assert.match(r.failure_reason, /no answer/);
  for (let i = 0; i < 10; i++) await shop.advance(64 * MIN);
  r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'pending', 'silence never ends a refund the provider may have taken');
  assert.equal(r.provider_request_no, refund.provider_request_no, 'the same request every time');
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token }), 409, { code: 'refund_state' });
  assert.equal((await orderOf(shop, order.id, token)).amount_refunded_fen, 1015, 'still on its way');

  // The bank books it in two days, and the provider says so: paid once, by the original route.
  await shop.advance(2 * DAY);
  r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'succeeded');
  const o = await orderOf(shop, order.id, token);
  assert.equal(assertNotOverRefunded(o), 1015);
  assert.deepEqual(o.refunds.map((x) => [x.method, x.status]), [['bank_card', 'succeeded']]);
  await assertBalanced(shop);
});

// 100 CNY by WeChat; a revealed key the issuer cannot void, so an agent decides: 30.99 back,
// which the route refuses for good (..99).
async function failedPartialRefund(s) {
  const { product } = await cardProduct(s, { price: 10000, digits: ['7'] });
  const { order, token } = await paidOrder(s, product.id, { method: 'wechat' });
  const rv = await s.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`, undefined, { token });
  assert.equal(rv.status, 200, JSON.stringify(rv.body));
  const c = await openCase(s, order.id, token, 'key_not_working', { message: 'one code of the card failed' });
  assert.equal(c.status, 'open');
  const part = await decide(s, c.id, s.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 3099 });
  assert.equal(part.status, 200, JSON.stringify(part.body));
  const refund = assertRefund(part.body.refunds[0], { amount_fen: 3099, method: 'wechat', rule: 'E2' });
  await s.advance(0);
  await s.advance(WECHAT_DELAY_S);
  const failed = await refundOf(s, refund.id, token);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.movable, true);
  assert.equal((await orderOf(s, order.id, token)).amount_refunded_fen, 0);
  return { order, token, c, refund };
}

test('a partial refund refused for good (..99) moves to the shop balance once, not again and again', async () => {
  const { order, token, refund } = await failedPartialRefund(shop);

  // Moved once. A second move would still fit under the 100 CNY captured; it is refused, and so
  // are concurrent ones: exactly one balance refund exists.
  const moves = await Promise.all(Array.from({ length: 4 }, () =>
    shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token })));
  const ok = moves.filter((m) => m.status === 201);
  assert.equal(ok.length, 1, JSON.stringify(moves.map((m) => m.status)));
  for (const m of moves.filter((x) => x.status !== 201)) assertError(m, 409, { code: 'refund_moved', param: 'refund_id' });
  assertRefund(ok[0].body, { amount_fen: 3099, method: 'balance', rule: 'E2', status: 'succeeded' });
  assert.equal(ok[0].body.rerouted_from, refund.id);
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token }), 409, { code: 'refund_moved' });
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.amount_refunded_fen, 3099, 'paid once');
  assert.deepEqual(o.refunds.map((r) => [r.method, r.status, r.rerouted_from, r.movable]),
    [['wechat', 'failed', null, false], ['balance', 'succeeded', refund.id, false]]);
  await assertBalanced(shop);
});

test('a claim approved but not paid out is paid by moving it, not by a second approval', async () => {
  // The route refused the 30.99 an agent approved; the buyer asks again, in a new case.
  const { order, token, c: first, refund } = await failedPartialRefund(shop);
  const again = await openCase(shop, order.id, token, 'key_not_working', { message: 'I still have not got my money' });

  // Approving the same 30.99 again would fit under what was captured, and the buyer could still
  // move the first one: paid twice for one claim. The agent is told which refund to move.
  const twice = await decide(shop, again.id, shop.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 3099 });
  assertError(twice, 409, { code: 'refund_unsettled', param: 'outcome' });
  assert.match(twice.body.error.message, new RegExp(refund.id));
  assert.equal((await orderOf(shop, order.id, token)).refunds.length, 1, 'nothing paid');
  // A rejection is still a decision the agent can make.
  assert.equal((await shop.get(`/v1/cases/${again.id}`, { token: shop.keys.agent })).body.status, 'open');

  // The agent moves it; a seller may not.
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token: shop.keys.seller }), 404);
  const moved = await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token: shop.keys.agent });
  assert.equal(moved.status, 201, JSON.stringify(moved.body));
  assertRefund(moved.body, { amount_fen: 3099, method: 'balance', rule: 'E2', status: 'succeeded' });
  assert.equal(moved.body.rerouted_from, refund.id);
  // The first case says so: to the buyer, that an agent did; to staff, which one.
  const note = (await shop.get(`/v1/cases/${first.id}`, { token })).body.messages.at(-1);
  assert.equal(note.author, 'agent');
  assert.match(note.body, new RegExp(`${refund.id}.*30\\.99.*${moved.body.id}`));
  const staffNote = (await shop.get(`/v1/cases/${first.id}`, { token: shop.keys.agent })).body.messages.at(-1);
  assert.match(staffNote.author, /^agent:key_/);
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token }), 409, { code: 'refund_moved' });

  // With nothing left unpaid, the second claim is decided on its own merits.
  const second = await decide(shop, again.id, shop.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 1000 });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  await shop.advance(0);
  await shop.advance(WECHAT_DELAY_S);
  const o = await orderOf(shop, order.id, token);
  assert.deepEqual(o.refunds.map((r) => [r.method, r.amount_fen, r.status]),
    [['wechat', 3099, 'failed'], ['balance', 3099, 'succeeded'], ['wechat', 1000, 'succeeded']]);
  assert.equal(assertNotOverRefunded(o), 4099, 'each claim paid once');
  await assertBalanced(shop);
});

test('abnormal account (..66): requires_action, then the buyer moves it to the shop balance', async () => {
  const { order, token, refund } = await refundedOrder(shop, 1066, 'wechat');
  await shop.advance(0);
  await shop.advance(WECHAT_DELAY_S);
  let r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'requires_action');
  assert.ok(r.failure_reason);
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.amount_refunded_fen, 1066, 'still owed to the buyer');
  await assertBalanced(shop);

  // Only the balance is offered, only to the order's buyer (and staff, above).
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'alipay' }, { token }), 400, { param: 'method' });
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token: shop.keys.seller }), 404);
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }), 401);

  const moved = await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token });
  assert.equal(moved.status, 201, JSON.stringify(moved.body));
  assertRefund(moved.body, { amount_fen: 1066, method: 'balance', rule: 'E4', status: 'succeeded' });
  assert.notEqual(moved.body.id, refund.id);
  assert.notEqual(moved.body.provider_request_no, refund.provider_request_no);
  assert.equal(moved.body.payment_id, refund.payment_id);
  assert.ok(moved.body.completed_at);
  assert.equal(moved.body.expected_by, moved.body.created_at, 'the balance is instant');
  r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'failed');
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token }), 409);

  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(o.refunds.length, 2);
  assert.equal(assertNotOverRefunded(o), 1066);
  await shop.advance(WECHAT_DELAY_S);
  assert.equal((await refundOf(shop, moved.body.id, token)).status, 'succeeded');
  await assertBalanced(shop);
});

const PAID_LATE_S = 2 * DAY;
const paidTwice = (o) => o.timeline.filter((e) => e.type === 'refund.paid_twice');

test('reported failed, then paid after all (..16): the late payment settles a refund still owed', async () => {
  const { order, token, refund } = await refundedOrder(shop, 1016, 'wechat');
  await shop.advance(0);
  await shop.advance(WECHAT_DELAY_S);
  assert.equal((await refundOf(shop, refund.id, token)).status, 'failed');
  assert.equal((await orderOf(shop, order.id, token)).amount_refunded_fen, 0);
  await assertBalanced(shop);

  // The buyer has not moved it: the provider's payment is the refund.
  await shop.advance(PAID_LATE_S);
  const r = await refundOf(shop, refund.id, token);
  assert.equal(r.status, 'succeeded');
  assert.equal(r.failure_reason, null);
  const o = await orderOf(shop, order.id, token);
  assert.equal(assertNotOverRefunded(o), 1016);
  assert.deepEqual(paidTwice(o), []);
  assertError(await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token }), 409, { code: 'refund_state' });
  await assertBalanced(shop);
});

test('reported failed, moved to the balance, then paid by the provider too (..16): paid twice, and said so', async () => {
  // A shop of its own, so that nothing else moves its revenue meanwhile.
  const s = await startRecordedShop();
  try {
    const { order, token, refund } = await refundedOrder(s, 2016, 'wechat');
    await s.advance(0);
    await s.advance(WECHAT_DELAY_S);
    const moved = await s.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    const before = await assertBalanced(s);

    // The bank's money left after all: that refund succeeded too, and the order says what it is.
    await s.advance(PAID_LATE_S);
    const r = await refundOf(s, refund.id, token);
    assert.equal(r.status, 'succeeded');
    let o = await orderOf(s, order.id, token);
    assert.equal(o.amount_refunded_fen, 4032, 'the buyer has it twice');
    assert.deepEqual(paidTwice(o).map((e) => e.object_id), [refund.id]);
    // It came out of the shop's revenue, and the shop's log says so for a person to act on.
    const after = await assertBalanced(s);
    assert.equal(after.revenue_fen - before.revenue_fen, -2016);
    const logged = s.logs.join('').split('\n').filter((l) => l.includes('"refund_paid_twice"')).map((l) => JSON.parse(l));
    assert.deepEqual(logged.map((l) => [l.level, l.refund_id, l.payment_id, l.over_fen]),
      [['error', refund.id, refund.payment_id, '2016']]);

    // The provider's report again changes nothing.
    const rec = s.recorded.filter((x) => x.path === '/v1/callbacks/refunds/sandbox' &&
      JSON.parse(x.body).request_no === refund.provider_request_no).at(-1);
    assert.equal(JSON.parse(rec.body).status, 'succeeded');
    assert.equal((await s.replay(rec)).status, 200);
    o = await orderOf(s, order.id, token);
    assert.equal(paidTwice(o).length, 1);
    assert.equal((await assertBalanced(s)).revenue_fen, after.revenue_fen);
  } finally {
    await s.cleanup();
  }
});

// Account goods: the seller's money is held in escrow until the buyer confirms. A partial refund
// takes its share from that hold; when the bank then pays a refund the buyer already had from the
// shop balance, the loss is the shop's, not the seller's.
test('paid twice on escrowed account goods (..16): out of the shop\'s revenue, the seller\'s hold untouched', async () => {
  const s = await startRecordedShop();
  try {
    // 40.40: 20.16 refunded, then paid twice, adds up to nearly the whole order without being so.
    const product = await accountProduct(s, { price: 4040, windowHours: 72 });
    const { order, token } = await paidOrder(s, product.id, { method: 'wechat' });
    const d = await s.post(`/v1/orders/${order.id}/deliver`, { content: 'account: a\npassword: b' }, { token: s.keys.seller });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal((await assertBalanced(s)).debits_pending_fen, 4040, 'all of it held for the seller');
    const c = await openCase(s, order.id, token, 'not_as_described', { message: '等级与描述不符。' });
    assert.equal(c.status, 'open');
    const decided = await decide(s, c.id, s.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 2016 });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const refund = decided.body.refunds[0];
    await s.advance(0);
    await s.advance(WECHAT_DELAY_S);
    assert.equal((await refundOf(s, refund.id, token)).status, 'failed');
    const moved = await s.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    const before = await assertBalanced(s);
    assert.equal(before.debits_pending_fen, 2024, 'the seller keeps what was not refunded');

    await s.advance(PAID_LATE_S);
    assert.equal((await refundOf(s, refund.id, token)).status, 'succeeded');
    const o = await orderOf(s, order.id, token);
    assert.deepEqual(paidTwice(o).map((e) => e.object_id), [refund.id]);
    assert.equal(o.status, 'delivered', 'one claim of half the order, not a refund of all of it');
    assert.equal(o.amount_refunded_fen, 4032, 'the buyer has it twice');
    const after = await assertBalanced(s);
    assert.equal(after.debits_pending_fen, 2024, 'the seller\'s hold is not charged for the shop\'s double payment');
    assert.equal(after.revenue_fen - before.revenue_fen, -2016, 'the shop bears it');
    // The claim was paid twice but is one claim: the rest of the order can still be claimed, and
    // refunding it takes what the seller's hold kept, leaving nothing held.
    const again = await openCase(s, order.id, token, 'not_as_described', { message: '其余部分也不符。' });
    assert.equal(again.status, 'open', JSON.stringify(again));
    const over = await decide(s, again.id, s.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 2025 });
    assert.equal(over.status, 400, 'no more than what is left');
    assert.equal(over.body.error.code, 'refund_exceeds_captured');
    const rest = await decide(s, again.id, s.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 2024 });
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal((await assertBalanced(s)).debits_pending_fen, 2024, 'the rest on its way, by WeChat Pay');
    await s.advance(0);
    await s.advance(WECHAT_DELAY_S);
    const end = await orderOf(s, order.id, token);
    assert.equal(end.status, 'refunded');
    assert.equal((await assertBalanced(s)).debits_pending_fen, 0, 'nothing left held for the seller');
  } finally {
    await s.cleanup();
  }
});

// A second payment (by WeChat Pay) on escrowed account goods whose refund the route refuses for
// good (..14), then the goods refunded to the shop balance they were paid from: the goods' refund
// comes out of the seller's hold, and the second payment's money is still there for its own
// refund to be moved.
test('a refund for the goods comes out of the seller\'s escrow, not out of a second payment left in the order', async () => {
  const s = await startRecordedShop();
  try {
    const product = await accountProduct(s, { price: 1014 });
    const start = await assertBalanced(s);
    const created = await s.post('/v1/orders', { product_id: product.id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const order = created.body, token = order.buyer_token;
    const pays = [];
    for (const method of ['balance', 'wechat']) {
      const p = await s.post(`/v1/orders/${order.id}/payments`, { method }, { token });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      pays.push(p.body.id);
    }
    for (const id of pays) await completeAtProvider(s, order.id, token, [id]);
    let o = await orderOf(s, order.id, token);
    const second = o.refunds.find((r) => r.payment_id === pays[1]);
    assert.equal(second.rule, 'E3');
    // Eight refusals, each after its doubling wait (the timers run once per step of the clock).
    await s.advance(0);
    for (let n = 1; n < 8; n++) await s.advance(RETRY_BACKOFF_S * 2 ** (n - 1));
    assert.equal((await refundOf(s, second.id, token)).status, 'failed');

    // The seller never delivers; the buyer asks, and the policy refunds the goods (E5).
    const c = await openCase(s, order.id, token, 'not_received');
    assertDecision(c, { outcome: 'approve', rule: 'E5', automatic: true, amount_fen: 1014 });
    o = await orderOf(s, order.id, token); // paid by the shop balance: back at once
    assert.equal(o.status, 'refunded');
    const goods = o.refunds.find((r) => r.payment_id === pays[0]);
    assert.equal(goods.status, 'succeeded');
    assert.equal((await assertBalanced(s)).debits_pending_fen, start.debits_pending_fen,
      'nothing left held for a seller whose goods were refunded');
    // The second payment's refund is still owed, and its money is there to move it.
    assert.equal((await refundOf(s, second.id, token)).movable, true);
    const moved = await s.post(`/v1/refunds/${second.id}/reroute`, { method: 'balance' }, { token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    o = await orderOf(s, order.id, token);
    assert.equal(o.amount_refunded_fen, 2028, 'both payments back, once each');
    const end = await assertBalanced(s);
    assert.equal(end.revenue_fen, start.revenue_fen, 'the shop neither gains nor pays');
    assert.equal(end.debits_pending_fen, start.debits_pending_fen);
  } finally {
    await s.cleanup();
  }
});

test('a refund paid late while the next one is in flight (..16): the next one is owed nothing, and its own late payment is flagged', async () => {
  const BANK_DELAY_S = 2 * DAY;
  const s = await startRecordedShop();
  try {
    // A: all of 100.16 back by bank card under E4; the bank reports it failed two days later.
    const { order, token, refund: a } = await refundedOrder(s, 10016, 'bank_card');
    await s.advance(0);
    await s.advance(BANK_DELAY_S);
    assert.equal((await refundOf(s, a.id, token)).status, 'failed');
    // Half an hour on, the buyer asks again and the policy approves B, all that is left.
    await s.advance(30 * MIN);
    const again = await openCase(s, order.id, token, 'changed_mind');
    assert.equal(again.refunds.length, 1);
    const b = again.refunds[0];
    assert.equal(b.amount_fen, 10016);
    await s.advance(0);

    // A is paid after all while B is still with the bank: A succeeded, B is not yet anything.
    await s.advance(BANK_DELAY_S - 30 * MIN + MIN);
    assert.equal((await refundOf(s, a.id, token)).status, 'succeeded');
    assert.equal((await refundOf(s, b.id, token)).status, 'pending');
    assert.deepEqual(paidTwice(await orderOf(s, order.id, token)), [], 'nothing has left twice yet');
    await assertBalanced(s);

    // B fails: nothing is owed any more, so it cannot be moved.
    await s.advance(60 * MIN);
    assert.equal((await refundOf(s, b.id, token)).status, 'failed');
    assert.equal((await refundOf(s, b.id, token)).movable, false, 'A paid it');
    assertError(await s.post(`/v1/refunds/${b.id}/reroute`, { method: 'balance' }, { token }), 409, { code: 'refund_exceeds_captured' });
    let o = await orderOf(s, order.id, token);
    assert.equal(o.amount_refunded_fen, 10016);
    await assertBalanced(s);

    // Then the bank pays B as well: now the buyer has it twice.
    await s.advance(BANK_DELAY_S);
    assert.equal((await refundOf(s, b.id, token)).status, 'succeeded');
    o = await orderOf(s, order.id, token);
    assert.equal(o.amount_refunded_fen, 20032);
    assert.deepEqual(paidTwice(o).map((e) => e.object_id), [b.id]);
    await assertBalanced(s);
  } finally {
    await s.cleanup();
  }
});

// The same race, but the next refund fails for good (..99) or is held on an abnormal account
// (..66): the money it brings back is more than the payment still owes, because the shop's
// revenue paid for the first one's late payment. That part goes back to revenue (when it fails,
// or when the held one is moved); moving it pays the buyer the rest, not all of it again.
for (const [cents, status] of [[99, 'failed'], [66, 'requires_action']]) test(`a refund that ends ${status} after the one before it was paid late (..16, ..${cents}): the move pays only what is owed, and revenue gets back the rest`, async () => {
  const price = 10000 + cents, rest = price - 5016;
  const BANK_DELAY_S = 2 * DAY;
  const s = await startRecordedShop();
  try {
    const start = await assertBalanced(s);
    // 100.99 by bank card; the key's number ends in an even digit, so the issuer can void it.
    const { product } = await cardProduct(s, { price, windowHours: 72 });
    const { order, token } = await paidOrder(s, product.id, { method: 'bank_card' });

    // A: an agent approves 50.16 of a claim; the bank reports it failed two days later.
    const first = await openCase(s, order.id, token, 'key_not_working', { message: 'the card does not load' });
    assert.equal(first.status, 'open');
    const part = await decide(s, first.id, s.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 5016 });
    assert.equal(part.status, 200, JSON.stringify(part.body));
    const a = assertRefund(part.body.refunds[0], { amount_fen: 5016, method: 'bank_card', rule: 'E2' });
    await s.advance(0);
    await s.advance(BANK_DELAY_S);
    assert.equal((await refundOf(s, a.id, token)).status, 'failed');

    // B: the buyer reveals the key and asks again; the issuer voids it and the machine approves
    // all that is left, the whole price, which the bank fails or holds.
    await s.advance(30 * MIN);
    const rv = await s.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`, undefined, { token });
    assert.equal(rv.status, 200, JSON.stringify(rv.body));
    const second = await openCase(s, order.id, token, 'key_not_working', { message: 'it still does not load' });
    assert.equal(second.refunds.length, 1, JSON.stringify(second));
    const b = assertRefund(second.refunds[0], { amount_fen: price, method: 'bank_card', rule: 'E2' });
    await s.advance(0);

    // A is paid after all while B is with the bank; then B fails or is held.
    await s.advance(BANK_DELAY_S - 30 * MIN + MIN);
    assert.equal((await refundOf(s, a.id, token)).status, 'succeeded');
    assert.equal((await refundOf(s, b.id, token)).status, 'pending');
    await s.advance(60 * MIN);
    const failed = await refundOf(s, b.id, token);
    assert.equal(failed.status, status);
    assert.equal(failed.movable, true);
    assert.equal(failed.movable_fen, rest, 'A paid 50.16 of it');
    // (A held refund still counts as under way.)
    assert.equal((await orderOf(s, order.id, token)).amount_refunded_fen, status === 'failed' ? 5016 : 5016 + price);
    // The order paid the price in; revenue gave back the price toward A and B and 50.16 for A's
    // late payment. A failed B brought its money back, and the 50.16 of it that nobody is owed is
    // back in revenue: the order's net to revenue is nothing, with the rest waiting in the order
    // for the buyer. A held B still holds all of it.
    assert.equal((await assertBalanced(s)).revenue_fen - start.revenue_fen, status === 'failed' ? 0 : -5016);

    // The buyer moves B: the rest to the shop balance, at once, from what waited in the order.
    const moved = await s.post(`/v1/refunds/${b.id}/reroute`, { method: 'balance' }, { token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    assertRefund(moved.body, { amount_fen: rest, method: 'balance', rule: 'E2', status: 'succeeded' });
    assert.equal(moved.body.rerouted_from, b.id);
    assertError(await s.post(`/v1/refunds/${b.id}/reroute`, { method: 'balance' }, { token }), 409, { code: 'refund_moved' });
    const o = await orderOf(s, order.id, token);
    assert.equal(assertNotOverRefunded(o), price, 'each fen paid once');
    assert.deepEqual(o.refunds.map((r) => [r.amount_fen, r.status, r.movable_fen]),
      [[5016, 'succeeded', 0], [price, 'failed', 0], [rest, 'succeeded', 0]]);
    assert.deepEqual(paidTwice(o), []);
    assert.equal((await assertBalanced(s)).revenue_fen - start.revenue_fen, 0);
  } finally {
    await s.cleanup();
  }
});

test('a refund still with the bank past its promised date (..17) is overdue: shown, and said once', async () => {
  const s = await startRecordedShop();
  try {
    const { order, token, refund } = await refundedOrder(s, 1017, 'wechat');
    await s.advance(0);
    let r = await refundOf(s, refund.id, token);
    assert.equal(r.status, 'pending');
    assert.equal(r.overdue, false);
    const promised = Date.parse(r.expected_by);

    // Past the promised date (one working day for WeChat Pay) the shop notes it, once.
    await s.advance(Math.ceil((promised - Date.parse((await s.get('/v1/test/clock')).body.now)) / 1000) + 3600);
    r = await refundOf(s, refund.id, token);
    assert.equal(r.status, 'pending');
    assert.equal(r.overdue, true);
    await s.advance(DAY);
    let o = await orderOf(s, order.id, token);
    assert.deepEqual(o.timeline.filter((e) => e.type === 'refund.overdue').map((e) => e.object_id), [refund.id]);
    assert.equal(o.refunds[0].overdue, true);
    const logged = s.logs.join('').split('\n').filter((l) => l.includes('"refund_overdue"')).map((l) => JSON.parse(l));
    assert.deepEqual(logged.map((l) => [l.level, l.refund_id, l.status, l.method]), [['warn', refund.id, 'pending', 'wechat']]);

    // Thirty days after it was taken the bank pays: no longer overdue.
    await s.advance(30 * DAY);
    r = await refundOf(s, refund.id, token);
    assert.equal(r.status, 'succeeded');
    assert.equal(r.overdue, false);
    o = await orderOf(s, order.id, token);
    assert.equal(o.timeline.filter((e) => e.type === 'refund.overdue').length, 1);
    await assertBalanced(s);
  } finally {
    await s.cleanup();
  }
});

// What a person must act on, read by the shop from its books (GET /v1/attention), for staff only:
// the buyer paid twice (..16, moved to the balance, then paid by the bank too) first, then a
// refund past its promised date (..17), then refunds not paid out that are still owed: one held
// on an abnormal account (..66), and the automatic refund of a payment that arrived after its
// order expired, which the route refused (..99). A refund that arrived (..12) is not listed.
test('the refunds that need a person are listed for staff, money to recover first', async () => {
  const s = await startRecordedShop();
  try {
    const twice = await refundedOrder(s, 2016, 'wechat');
    const late = await refundedOrder(s, 1017, 'wechat');
    const held = await refundedOrder(s, 1066, 'wechat');
    const fine = await refundedOrder(s, 1012, 'wechat');
    const { product } = await cardProduct(s, { price: 1399 });
    const created = await s.post('/v1/orders', { product_id: product.id });
    const expiredToken = created.body.buyer_token;
    const p = await s.post(`/v1/orders/${created.body.id}/payments`, { method: 'wechat' }, { token: expiredToken });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    await s.advance(16 * MIN); // the order expires unpaid
    await completeAtProvider(s, created.body.id, expiredToken, [p.body.id]); // then the payment lands
    await s.advance(0);
    await s.advance(WECHAT_DELAY_S);
    const moved = await s.post(`/v1/refunds/${twice.refund.id}/reroute`, { method: 'balance' }, { token: twice.token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    await s.advance(PAID_LATE_S);

    const list = await s.get('/v1/attention', { token: s.keys.agent });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.object, 'list');
    const rows = list.body.data.map((x) => [x.kind, x.order_id, x.refund && x.refund.amount_fen]);
    const late3 = (await orderOf(s, created.body.id, expiredToken)).refunds[0];
    assert.deepEqual(rows, [
      ['paid_twice', twice.order.id, 2016],
      ['overdue', late.order.id, 1017],
      ['unpaid_refund', held.order.id, 1066],
      ['unpaid_refund', created.body.id, 1399],
    ]);
    assert.equal(list.body.data[3].refund.id, late3.id);
    assert.deepEqual([list.body.total, list.body.has_more], [4, false]);
    assert.ok(!JSON.stringify(list.body).includes(fine.order.id), 'a refund that arrived is not listed');
    assert.ok(list.body.data.every((x) => x.object === 'attention' && !Number.isNaN(Date.parse(x.since))));
    assert.deepEqual((await s.get('/v1/attention', { token: s.keys.admin })).body.data, list.body.data);

    // Staff only: a buyer's token and a seller's key are refused, and no key at all.
    assertError(await s.get('/v1/attention', { token: twice.token }), 403);
    assertError(await s.get('/v1/attention', { token: s.keys.seller }), 403);
    assertError(await s.get('/v1/attention'), 401);

    // Moving the held one takes it off the list.
    const m = await s.post(`/v1/refunds/${held.refund.id}/reroute`, { method: 'balance' }, { token: held.token });
    assert.equal(m.status, 201, JSON.stringify(m.body));
    let after = await s.get('/v1/attention', { token: s.keys.agent });
    assert.deepEqual(after.body.data.map((x) => x.kind), ['paid_twice', 'overdue', 'unpaid_refund']);

    // Money to recover stays until a person records that it was settled, and says how; the
    // others end by themselves and have no id to settle.
    const item = after.body.data[0];
    assert.match(item.id, /^evt_/);
    assert.deepEqual(after.body.data.slice(1).map((x) => x.id), [null, null]);
    const settle = (id, body, token = s.keys.agent) => s.post(`/v1/attention/${id}/settle`, body, { token });
    assertError(await settle(item.id, {}), 400, { param: 'note' });
    assertError(await settle(item.id, { note: '' }), 400, { param: 'note' });
    assertError(await settle(item.id, { note: ' \t ' }), 400, { param: 'note' });
    assertError(await settle(item.id, { note: 'x'.repeat(1501) }), 400, { param: 'note' });
    assertError(await settle(item.id, { note: 'ok' }, twice.token), 403);
    assertError(await settle('evt_nope', { note: 'ok' }), 404, { param: 'event_id' });
    const late3Event = (await orderOf(s, late.order.id, late.token)).timeline.find((e) => e.type === 'refund.overdue');
    assert.match(late3Event.id, /^evt_/);
    assertError(await settle(late3Event.id, { note: 'ok' }), 404, { param: 'event_id' });
    const note = 'The buyer returned 20.16 to the shop balance on 2026-03-06.';
    const done = await settle(item.id, { note });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.object, 'attention_settlement');
    assert.deepEqual([done.body.event_id, done.body.order_id, done.body.note], [item.id, twice.order.id, note]);
    assert.match(done.body.settled_by, /^agent:key_/);
    assertError(await settle(item.id, { note: 'again' }), 409, { code: 'already_settled' });
    after = await s.get('/v1/attention', { token: s.keys.agent });
    assert.deepEqual([after.body.data.map((x) => x.kind), after.body.total], [['overdue', 'unpaid_refund'], 2]);
    const timeline = (await orderOf(s, twice.order.id, twice.token)).timeline;
    assert.equal(timeline.filter((e) => e.type === 'attention.settled').length, 1);
  } finally {
    await s.cleanup();
  }
});

test('a balance-paid order is refunded to the balance at once', async () => {
  const { order, token, refund } = await refundedOrder(shop, 700, 'balance');
  assert.ok(refund.completed_at);
  assert.equal(refund.expected_by, refund.created_at);
  assert.equal((await orderOf(shop, order.id, token)).status, 'refunded');
  await assertBalanced(shop);
});

test('the same refund requested twice at once: one case, one refund', async () => {
  for (const [noReasonDays, reason] of [[7, 'changed_mind'], [0, 'key_not_working']]) {
    const { product } = await cardProduct(shop, { price: 1200, noReasonDays, digits: ['1'] });
    const { order, token } = await paidOrder(shop, product.id);
    const answers = await Promise.all([1, 2].map(() => requestRefund(shop, order.id, token, reason)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409], JSON.stringify(answers.map((a) => a.body)));
    const o = await orderOf(shop, order.id, token);
    assert.equal(o.cases.length, 1);
    assert.equal(o.refunds.length, noReasonDays ? 1 : 0);
    assertNotOverRefunded(o);
  }
  await assertBalanced(shop);
});

test('many requests racing on one order never refund more than was captured', async () => {
  // A duplicate charge and the buyer asking for everything at once, while timers run.
  const { product } = await cardProduct(shop, { price: 2500, noReasonDays: 7, digits: ['2'] });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  const order = created.body;
  const token = order.buyer_token;
  const pays = [];
  for (const method of ['alipay', 'wechat']) {
    const p = await shop.post(`/v1/orders/${order.id}/payments`, { method }, { token });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    pays.push(p.body);
  }
  // Both captured by the server's own timer; nothing else has run yet on the test clock.
  await completeAtProvider(shop, order.id, token, pays.map((p) => p.id), { advance: false });
  const reasons = ['changed_mind', 'duplicate_charge', 'not_received', 'changed_mind', 'wrong_item', 'duplicate_charge', 'changed_mind', 'key_not_working'];
  const answers = await Promise.all([
    ...reasons.map((reason) => requestRefund(shop, order.id, token, reason)),
    shop.advance(0).then(() => ({ status: 'advance' })),
  ]);
  for (const a of answers) assert.ok([201, 409, 'advance'].includes(a.status), JSON.stringify(a.body));
  await shop.advance(0);
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.amount_captured_fen, 5000);
  assertNotOverRefunded(o);
  // Whatever the interleaving (a duplicate_charge claim filed after the duplicate was refunded goes
  // to an agent), working it until nothing is left ends at exactly what was captured.
  for (let i = 0; i < 4; i++) {
    o = await orderOf(shop, order.id, token);
    const open = o.cases.find((c) => c.status === 'open');
    if (open) {
      const d = await decide(shop, open.id, shop.keys.agent, { outcome: 'approve', rule: 'E3' });
      assert.equal(d.status, 200, JSON.stringify(d.body));
    } else {
      await Promise.all(['changed_mind', 'changed_mind'].map((reason) => requestRefund(shop, order.id, token, reason)));
    }
  }
  o = await orderOf(shop, order.id, token);
  assert.equal(assertNotOverRefunded(o), 5000, JSON.stringify(o.refunds));
  assert.equal(o.status, 'refunded');
  for (const p of o.payments) {
    assert.equal(o.refunds.filter((r) => r.payment_id === p.id).reduce((s, r) => s + r.amount_fen, 0), 2500, 'each payment back by its own route');
  }
  await assertBalanced(shop);

  // Agents racing on one review case: one decision, one refund.
  const plain = await cardProduct(shop, { price: 2000, noReasonDays: 0, digits: ['1'] });
  const x = await paidOrder(shop, plain.product.id);
  const cases = await Promise.all(Array.from({ length: 6 }, () => requestRefund(shop, x.order.id, x.token, 'key_not_working')));
  assert.equal(cases.filter((a) => a.status === 201).length, 1);
  const c = cases.find((a) => a.status === 201).body;
  const decisions = await Promise.all(Array.from({ length: 6 }, () => decide(shop, c.id, shop.keys.agent, { outcome: 'approve', rule: 'E2', amount_fen: 1500 })));
  assert.deepEqual(decisions.map((d) => d.status).sort(), [200, 409, 409, 409, 409, 409]);
  const xo = await orderOf(shop, x.order.id, x.token);
  assert.equal(xo.refunds.length, 1);
  assert.equal(assertNotOverRefunded(xo), 1500);
  await assertBalanced(shop);
});

test('expected_by across the Spring Festival holiday counts 调休 workdays and skips the holiday', async () => {
  // Friday 2026-02-13, 10:00 in Beijing. Sat 14 Feb is a 调休 working day; 15–23 Feb are holiday;
  // Sat 28 Feb is a 调休 working day.
  const s = await startShop({ clock: '2026-02-13T02:00:00Z' });
  try {
    const clock = await s.get('/v1/test/clock');
    assert.equal(clock.body.now, '2026-02-13T02:00:00.000Z');
    const cases = [
      // bank card under 100 CNY: 3 working days — Sat 14, Tue 24, Wed 25.
      { price: 5000, method: 'bank_card', by: '2026-02-25T15:59:59.999Z' },
      { price: 9998, method: 'bank_card', by: '2026-02-25T15:59:59.999Z' },
      // 100 CNY or more: 7 — 14, 24, 25, 26, 27, Sat 28, Mon 2 March.
      { price: 10000, method: 'bank_card', by: '2026-03-02T15:59:59.999Z' },
      // The wallets: 1 working day — the 调休 Saturday.
      { price: 5000, method: 'wechat', by: '2026-02-14T15:59:59.999Z' },
      { price: 20000, method: 'alipay', by: '2026-02-14T15:59:59.999Z' },
    ];
    const made = [];
    for (const want of cases) {
      const x = await refundedOrder(s, want.price, want.method);
      assert.equal(x.preview.expected_by, want.by, `preview: ${JSON.stringify(want)}`);
      assert.equal(x.refund.expected_by, want.by, `refund: ${JSON.stringify(want)}`);
      made.push(x);
    }
    // The wallets book it within half an hour, the bank in two days (of the clock): each before
    // its promise.
    await s.advance(0);
    await s.advance(30 * MIN);
    for (const x of made) {
      const r = await refundOf(s, x.refund.id, x.token);
      assert.equal(r.status, x.refund.method === 'bank_card' ? 'pending' : 'succeeded', JSON.stringify(r));
    }
    await s.advance(2 * DAY);
    for (const x of made) {
      const r = await refundOf(s, x.refund.id, x.token);
      assert.equal(r.status, 'succeeded', JSON.stringify(r));
      if (x.refund.method === 'bank_card') assert.ok(Date.parse(r.completed_at) <= Date.parse(r.expected_by));
    }
    await assertBalanced(s);
  } finally {
    await s.cleanup();
  }
});
