// The refund engine, path by path, on the test clock: the refunds nobody has to ask for (E1, E2,
// E3), card keys (A2: revealed-not-activated, activated → N1, late → N2, no-reason E4 and its
// waiver), the buyer's own typo (N3), and the preview a buyer sees before submitting. Each test
// ends with the books balanced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { assertError } from './lib/flows.mjs';
import {
  MIN, HOUR, DAY, assertBalanced, cardProduct, createProduct, phoneTopupProduct, paidOrder, completeAtProvider, orderOf, caseOf,
  preview, requestRefund, openCase, decide, assertDecision, assertRefund, assertNotOverRefunded,
} from './lib/refunds.mjs';

let shop, phone, game;
before(async () => {
  shop = await startShop();
  phone = await shop.product('direct_topup', (p) => p.target_format === 'phone_cn');
  game = await shop.product('direct_topup', (p) => p.target_format === 'game_account');
  assert.ok(phone && game, 'demo has a phone and a game top-up');
  assert.equal(phone.refund_terms.topup_timeout_minutes, 30);
});
after(async () => { await shop.cleanup(); });

const now = async () => Date.parse((await shop.get('/v1/test/clock')).body.now);
const UPSTREAM_DELAY_S = 5;

// The one system case of an order, decided by the machine.
async function systemCase(order, token) {
  assert.equal(order.cases.length, 1, JSON.stringify(order.cases));
  const c = await caseOf(shop, order.cases[0].id, token);
  assert.equal(c.origin, 'system');
  assert.equal(c.status, 'decided');
  return c;
}

test('E1: a top-up that never arrives is refunded with no request exactly at the timeout', async () => {
  const { order, token } = await paidOrder(shop, phone.id, { extra: { target_account: '13812349999' } });
  assert.equal(order.topup.status, 'submitted');
  const deadline = Date.parse(order.paid_at) + phone.refund_terms.topup_timeout_minutes * MIN * 1000;

  // Asked early, the buyer is told to wait: the machine will refund by itself at the deadline.
  const p = await preview(shop, order.id, token, 'not_received');
  assert.equal(p.outcome, 'wait');
  assert.equal(p.rule, 'E1');
  assert.equal(Date.parse(p.wait_until), deadline);

  // One second before the timeout: nothing.
  await shop.advance((deadline - await now()) / 1000 - 1);
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'delivering');
  assert.deepEqual(o.cases, []);
  assert.deepEqual(o.refunds, []);

  // At the timeout: a system case decided E1, and a refund by the route that paid.
  await shop.advance(1);
  assert.equal(await now(), deadline);
  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  const c = await systemCase(o, token);
  assert.deepEqual(c.preview, { outcome: 'approve', rule: 'E1' });
  const d = assertDecision(c, { outcome: 'approve', rule: 'E1', automatic: true, amount_fen: phone.price_fen });
  assert.equal(d.decided_by, 'system');
  assert.ok(d.facts.consulted.includes('topup_record'));
  assert.equal(d.facts.topup, 'pending');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: phone.price_fen, method: 'alipay', rule: 'E1', status: 'pending' });
  assert.equal(o.refunds[0].case_id, c.id);
  assert.equal(Date.parse(o.refunds[0].created_at), deadline);
  assert.equal(o.amount_refunded_fen, phone.price_fen);
  await assertBalanced(shop);

  // Alipay books it within the half hour; the refund succeeds and nothing is paid twice.
  await shop.advance(30 * MIN);
  o = await orderOf(shop, order.id, token);
  assert.equal(o.refunds.length, 1);
  assert.equal(o.refunds[0].status, 'succeeded');
  assert.ok(o.refunds[0].completed_at);
  assertNotOverRefunded(o);
  await assertBalanced(shop);
});

test('E1: a failed top-up is refunded as soon as the upstream reports it', async () => {
  const { order, token } = await paidOrder(shop, phone.id, { method: 'wechat', extra: { target_account: '13812340000' } });
  await shop.advance(UPSTREAM_DELAY_S);
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.topup.status, 'failed');
  assert.equal(o.status, 'refunded');
  const c = await systemCase(o, token);
  assertDecision(c, { outcome: 'approve', rule: 'E1', automatic: true, amount_fen: phone.price_fen });
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: phone.price_fen, method: 'wechat', rule: 'E1' });
  // A buyer asking now learns it is already done.
  assertError(await requestRefund(shop, order.id, token, 'not_received'), 409);
  await assertBalanced(shop);
});

test('E2: a top-up credited to the wrong region is refunded at once, proven by the upstream record', async () => {
  const { order, token } = await paidOrder(shop, game.id, { extra: { target_account: 'wrong_player', target_region: 'Asia' } });
  await shop.advance(UPSTREAM_DELAY_S);
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.topup.status, 'wrong_region');
  assert.equal(o.topup.credited_region, 'S99');
  assert.equal(o.status, 'refunded');
  const c = await systemCase(o, token);
  const d = assertDecision(c, { outcome: 'approve', rule: 'E2', automatic: true, amount_fen: game.price_fen });
  assert.equal(d.facts.topup, 'wrong_region');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: game.price_fen, method: 'alipay', rule: 'E2' });
  await assertBalanced(shop);
});

test('E3: the second of two completed payments is refunded automatically by its own route', async () => {
  const { product } = await cardProduct(shop, { price: 1200 });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(created.status, 201);
  const order = created.body;
  const token = order.buyer_token;
  const first = await shop.post(`/v1/orders/${order.id}/payments`, { method: 'alipay' }, { token });
  const second = await shop.post(`/v1/orders/${order.id}/payments`, { method: 'wechat' }, { token });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(second.status, 201, JSON.stringify(second.body));
  for (const p of [first, second]) await completeAtProvider(shop, order.id, token, [p.body.id]);
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'delivered', 'the order itself stands');
  assert.equal(o.amount_captured_fen, 2 * 1200);
  const dup = o.payments.find((p) => p.id === second.body.id);
  assert.equal(dup.disposition, 'duplicate');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: 1200, method: 'wechat', rule: 'E3' });
  assert.equal(o.refunds[0].payment_id, second.body.id, 'the duplicate goes back where it came from');
  const c = await systemCase(o, token);
  assertDecision(c, { outcome: 'approve', rule: 'E3', automatic: true, amount_fen: 1200 });
  assert.equal(c.reason, 'duplicate_charge');
  assertNotOverRefunded(o);
  await assertBalanced(shop);
});

test('E3: a payment that completes after the order expired is refunded in full', async () => {
  const { product } = await cardProduct(shop, { price: 1300 });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  const order = created.body;
  const token = order.buyer_token;
  const p = await shop.post(`/v1/orders/${order.id}/payments`, { method: 'alipay' }, { token });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  await shop.advance(16 * MIN);
  assert.equal((await orderOf(shop, order.id, token)).status, 'expired');
  await completeAtProvider(shop, order.id, token, [p.body.id]);
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'expired');
  assert.equal(o.payments[0].disposition, 'late');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: 1300, method: 'alipay', rule: 'E3' });
  const sc = await systemCase(o, token);
  assertDecision(sc, { outcome: 'approve', rule: 'E3', automatic: true, amount_fen: 1300 });
  assertNotOverRefunded(o);
  await assertBalanced(shop);
});

// Reveal a delivered key as the buyer, confirming the waiver unless told otherwise ('none': no
// body at all).
async function reveal(order, token, body = { confirm_waiver: true }) {
  return shop.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`,
    body === 'none' ? undefined : body, { token });
}

test('A2: a revealed key the issuer can void (even last digit) is approved automatically', async () => {
  const { product, keys } = await cardProduct(shop, { price: 1500, noReasonDays: 7, digits: ['4'] });
  const { order, token } = await paidOrder(shop, product.id);
  assert.equal(order.status, 'delivered');
  assert.equal(order.card_keys[0].masked.slice(-1), '4');
  const r = await reveal(order, token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.number, keys[0].number);
  assert.equal(r.body.password, keys[0].password);

  const p = await preview(shop, order.id, token, 'key_not_working');
  assert.equal(p.outcome, 'approve');
  const c = await openCase(shop, order.id, token, 'key_not_working');
  assert.equal(c.status, 'decided');
  const d = assertDecision(c, { outcome: 'approve', rule: 'E2', automatic: true, amount_fen: 1500 });
  assert.equal(d.rule, p.rule);
  assert.equal(d.facts.keys_revealed, 1);
  assert.equal(d.facts.keys_activated, 0);
  assert.equal(d.facts.issuer_can_void, true);
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: 1500, method: 'alipay', rule: 'E2' });
  assert.notEqual(o.card_keys[0].status, 'delivered', 'the revealed key no longer counts as delivered');
  await assertBalanced(shop);
});

test('A2: a revealed key the issuer cannot void (odd last digit) goes to an agent, who approves', async () => {
  const { product } = await cardProduct(shop, { price: 1600, noReasonDays: 7, digits: ['7'] });
  const { order, token } = await paidOrder(shop, product.id);
  assert.equal((await reveal(order, token)).status, 200);
  const p = await preview(shop, order.id, token, 'key_not_working');
  assert.equal(p.outcome, 'review');
  assert.equal(p.rule, 'E2');
  assert.equal(p.automatic, false);
  const c = await openCase(shop, order.id, token, 'key_not_working', { message: 'the key says invalid' });
  assert.equal(c.status, 'open');
  assert.deepEqual(c.decisions, []);
  assert.deepEqual(c.preview, { outcome: 'review', rule: 'E2' });
  assert.ok(c.sla_due_at);
  assert.deepEqual((await orderOf(shop, order.id, token)).refunds, []);

  const dr = await decide(shop, c.id, shop.keys.agent, { outcome: 'approve', rule: 'E2', explanation: 'screenshot shows the key unused' });
  assert.equal(dr.status, 200, JSON.stringify(dr.body));
  assert.equal(dr.body.status, 'decided');
  const d = assertDecision(dr.body, { outcome: 'approve', rule: 'E2', automatic: false, amount_fen: 1600 });
  assert.equal(d.explanation, 'screenshot shows the key unused');
  // The buyer sees that an agent decided, not which one.
  const seen = await caseOf(shop, c.id, token);
  assert.equal(seen.decisions[0].decided_by, 'agent');
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: 1600, method: 'alipay', rule: 'E2' });
  assert.equal(o.refunds[0].case_id, c.id);
  await assertBalanced(shop);
});

test('N1: a key the issuer reports activated is rejected', async () => {
  const { product, keys } = await cardProduct(shop, { price: 1700, noReasonDays: 7, digits: ['6'] });
  const { order, token } = await paidOrder(shop, product.id);
  assert.equal((await reveal(order, token)).status, 200);
  const red = await shop.post('/v1/sandbox/issuer/redeem', { number: keys[0].number, password: keys[0].password });
  assert.equal(red.status, 200, JSON.stringify(red.body));
  assert.equal(red.body.shop_acknowledged, true, JSON.stringify(red.body));
  for (const reason of ['key_not_working', 'changed_mind']) {
    const p = await preview(shop, order.id, token, reason);
    assert.equal(p.outcome, 'reject');
    assert.equal(p.rule, 'N1');
  }
  const c = await openCase(shop, order.id, token, 'key_not_working');
  assert.equal(c.status, 'decided');
  const d = assertDecision(c, { outcome: 'reject', rule: 'N1', automatic: true, amount_fen: 0 });
  assert.equal(d.facts.keys_activated, 1);
  assert.ok(d.facts.consulted.includes('activations'));
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'delivered');
  assert.deepEqual(o.refunds, []);
  assert.equal(c.next_steps[0].action, 'appeal', 'a rejected buyer is told they may appeal');
  await assertBalanced(shop);
});

test('N2: a request one second after the refund window is late; one second inside goes to review', async () => {
  const { product } = await cardProduct(shop, { price: 1800, noReasonDays: 0, windowHours: 24, digits: ['1', '3'] });
  const inside = await paidOrder(shop, product.id);
  const outside = await paidOrder(shop, product.id);
  const delivered = Date.parse(inside.order.delivered_at);
  assert.equal(Date.parse(outside.order.delivered_at), delivered);

  await shop.advance((delivered + 24 * HOUR * 1000 - await now()) / 1000 - 1);
  const c1 = await openCase(shop, inside.order.id, inside.token, 'key_not_working');
  assert.equal(c1.status, 'open');
  assert.deepEqual(c1.preview, { outcome: 'review', rule: 'E2' });

  await shop.advance(2);
  assert.equal(await now(), delivered + (24 * HOUR + 1) * 1000);
  const p = await preview(shop, outside.order.id, outside.token, 'key_not_working');
  assert.equal(p.outcome, 'reject');
  assert.equal(p.rule, 'N2');
  const c2 = await openCase(shop, outside.order.id, outside.token, 'key_not_working');
  assert.equal(c2.status, 'decided');
  assertDecision(c2, { outcome: 'reject', rule: 'N2', automatic: true, amount_fen: 0 });
  assert.deepEqual((await orderOf(shop, outside.order.id, outside.token)).refunds, []);
  // The review case is decided by an agent within the window it was filed in.
  const dr = await decide(shop, c1.id, shop.keys.agent, { outcome: 'approve', rule: 'E2' });
  assert.equal(dr.status, 200, JSON.stringify(dr.body));
  await assertBalanced(shop);
});

test('N3: a top-up credited to the account the buyer typed is the buyer\'s error; not_received is N1', async () => {
  const a = await paidOrder(shop, phone.id, { extra: { target_account: '13812345678' } });
  const b = await paidOrder(shop, phone.id, { extra: { target_account: '13912345678' } });
  await shop.advance(UPSTREAM_DELAY_S);
  for (const { order, token } of [a, b]) {
    const o = await orderOf(shop, order.id, token);
    assert.equal(o.topup.status, 'succeeded');
    assert.equal(o.status, 'delivered');
  }
  const c3 = await openCase(shop, a.order.id, a.token, 'wrong_account', { message: 'I typed a wrong digit' });
  assert.equal(c3.status, 'decided');
  const d3 = assertDecision(c3, { outcome: 'reject', rule: 'N3', automatic: true, amount_fen: 0 });
  assert.equal(d3.facts.topup, 'credited');
  const c1 = await openCase(shop, b.order.id, b.token, 'not_received');
  assertDecision(c1, { outcome: 'reject', rule: 'N1', automatic: true, amount_fen: 0 });
  for (const { order, token } of [a, b]) {
    const o = await orderOf(shop, order.id, token);
    assert.equal(o.status, 'delivered');
    assert.deepEqual(o.refunds, []);
  }
  await assertBalanced(shop);
});

test('E4: an unrevealed key within 7 days is refunded on request; 7 days + 1 s is late (N2)', async () => {
  const { product } = await cardProduct(shop, { price: 1900, noReasonDays: 7, windowHours: 48, digits: ['2', '5'] });
  const a = await paidOrder(shop, product.id, { method: 'wechat' });
  const b = await paidOrder(shop, product.id, { method: 'wechat' });
  const stockAfterSale = (await shop.get(`/v1/products/${product.id}`, { token: shop.keys.admin })).body.stock;
  const delivered = Date.parse(a.order.delivered_at);

  // The last second of the 7 days (past the 48 h window: no-reason days are their own window).
  await shop.advance((delivered + 7 * DAY * 1000 - await now()) / 1000);
  const p = await preview(shop, a.order.id, a.token, 'changed_mind');
  assert.equal(p.outcome, 'approve');
  assert.equal(p.rule, 'E4');
  const c = await openCase(shop, a.order.id, a.token, 'changed_mind');
  assert.equal(c.status, 'decided');
  assertDecision(c, { outcome: 'approve', rule: 'E4', automatic: true, amount_fen: 1900 });
  const o = await orderOf(shop, a.order.id, a.token);
  assert.equal(o.status, 'refunded');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: 1900, method: 'wechat', rule: 'E4' });
  assert.equal(o.refunds[0].expected_by, p.expected_by, 'the date previewed is the date promised');
  const stock = (await shop.get(`/v1/products/${product.id}`, { token: shop.keys.admin })).body.stock;
  assert.equal(stock.available, stockAfterSale.available + 1, 'the unrevealed key is back in stock');

  await shop.advance(1);
  const late = await openCase(shop, b.order.id, b.token, 'changed_mind');
  assertDecision(late, { outcome: 'reject', rule: 'N2', automatic: true });
  assert.deepEqual((await orderOf(shop, b.order.id, b.token)).refunds, []);
  await assertBalanced(shop);
});

test('E4 waiver: revealing within the no-reason days needs confirm_waiver, and the reveal records it', async () => {
  const { product } = await cardProduct(shop, { price: 2000, noReasonDays: 7, digits: ['8'] });
  const { order, token } = await paidOrder(shop, product.id);
  for (const body of ['none', {}, { confirm_waiver: false }]) {
    assertError(await reveal(order, token, body), 409, { code: 'waiver_confirmation_required', param: 'confirm_waiver' });
  }
  let o = await orderOf(shop, order.id, token);
  assert.deepEqual(o.reveals, [], 'a refused reveal leaves no record');
  assert.equal(o.card_keys[0].revealed, false);
  const p = await preview(shop, order.id, token, 'changed_mind');
  assert.equal(p.outcome, 'approve', 'the right is still open before the reveal');
  assert.equal(p.rule, 'E4');

  const r = await reveal(order, token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  o = await orderOf(shop, order.id, token);
  assert.equal(o.card_keys[0].revealed, true);
  assert.equal(o.reveals.length, 1);
  const rec = o.reveals[0];
  assert.equal(rec.card_key_id, order.card_keys[0].id);
  assert.equal(rec.actor, 'buyer');
  assert.equal(rec.revealed_at, r.body.revealed_at);
  assert.equal(rec.waiver_confirmed_at, r.body.revealed_at, `the confirmation is recorded: ${JSON.stringify(rec)}`);
  assert.equal(rec.policy_version, 'v1');
  // Revealing the same key again asks nothing more and records a plain reveal.
  const again = await reveal(order, token, 'none');
  assert.equal(again.status, 200, JSON.stringify(again.body));
  // The confirmation meant it: a change of mind is no longer a reason (the key was used, N1),
  // while a defect claim still goes the A2 way.
  const after = await preview(shop, order.id, token, 'changed_mind');
  assert.equal(after.outcome, 'reject');
  assert.equal(after.rule, 'N1');
  const defect = await preview(shop, order.id, token, 'key_not_working');
  assert.equal(defect.rule, 'E2');
  await assertBalanced(shop);
});

test('the preview shown before submitting is the decision made after submitting', async () => {
  const noReason = await cardProduct(shop, { price: 2100, noReasonDays: 7, digits: ['2'] });
  const plain = await cardProduct(shop, { price: 2200, noReasonDays: 0, digits: ['3', '5'] });
  const account = await shop.product('account');
  const credited = await paidOrder(shop, phone.id, { extra: { target_account: '13712345678' } });
  const credited2 = await paidOrder(shop, phone.id, { extra: { target_account: '13712345679' } });
  await shop.advance(UPSTREAM_DELAY_S);
  const stalled = await paidOrder(shop, phone.id, { extra: { target_account: '13712349999' } });
  const scenarios = [
    { ...(await paidOrder(shop, noReason.product.id)), reason: 'changed_mind', want: ['approve', 'E4'] },
    { ...(await paidOrder(shop, plain.product.id)), reason: 'key_not_working', want: ['review', 'E2'] },
    { ...(await paidOrder(shop, plain.product.id)), reason: 'duplicate_charge', want: ['review', 'E3'] },
    { ...credited, reason: 'wrong_account', want: ['reject', 'N3'] },
    { ...credited2, reason: 'not_received', want: ['reject', 'N1'] },
    { ...stalled, reason: 'not_received', want: ['wait', 'E1'] },
    { ...(await paidOrder(shop, account.id)), reason: 'not_received', want: ['approve', 'E5'] },
  ];
  const statusOf = { approve: 'decided', reject: 'decided', review: 'open', wait: 'waiting' };
  for (const s of scenarios) {
    const p = await preview(shop, s.order.id, s.token, s.reason);
    assert.deepEqual([p.outcome, p.rule], s.want, `${s.reason}: ${JSON.stringify(p)}`);
    const c = await openCase(shop, s.order.id, s.token, s.reason);
    assert.deepEqual(c.preview, { outcome: p.outcome, rule: p.rule }, s.reason);
    assert.equal(c.status, statusOf[p.outcome], `${s.reason}: ${JSON.stringify(c)}`);
    if (p.outcome === 'approve' || p.outcome === 'reject') {
      const d = assertDecision(c, { outcome: p.outcome, rule: p.rule, automatic: p.automatic, amount_fen: p.amount_fen });
      const o = await orderOf(shop, s.order.id, s.token);
      if (p.outcome === 'approve') {
        assert.equal(o.refunds.length, 1);
        assert.equal(o.refunds[0].amount_fen, p.amount_fen);
        assert.equal(o.refunds[0].expected_by, p.expected_by, s.reason);
      } else {
        assert.deepEqual(o.refunds, []);
        assert.equal(d.amount_fen, 0);
      }
    } else {
      assert.deepEqual(c.decisions, [], s.reason);
    }
  }
  // The waiting case is the one the machine decides when the top-up's time runs out.
  const waiting = scenarios.find((s) => s.want[0] === 'wait');
  const until = Date.parse((await preview(shop, waiting.order.id, waiting.token, 'not_received')).wait_until);
  await shop.advance((until - await now()) / 1000);
  const o = await orderOf(shop, waiting.order.id, waiting.token);
  assert.equal(o.cases.length, 1, 'the buyer\'s waiting case is decided, no second case');
  const c = await caseOf(shop, o.cases[0].id, waiting.token);
  assert.equal(c.origin, 'buyer');
  assert.equal(c.status, 'decided');
  assertDecision(c, { outcome: 'approve', rule: 'E1', automatic: true });
  assert.equal(o.status, 'refunded');
  await assertBalanced(shop);
});

// The sandbox upstream credits a number ending in 7777 two hours late, after the shop refunded at
// the timeout (E1); the refund of 10.99 by WeChat Pay was refused for good (..99). The buyer now
// has the top-up: the money that came back to the order is nobody's claim, and goes back to the
// shop's revenue; moving the refund would pay them twice, so only staff, who settle it with the
// buyer, may move it, and then the shop's revenue pays.
test('E1 then the top-up arrives after all: a refused refund is not the buyer\'s to move, and its money goes back to revenue', async () => {
  const s = await startShop();
  try {
    const start = await assertBalanced(s);
    const { order, token } = await lateCreditedTopup(s, 1099); // WeChat refuses it for good
    let o = await orderOf(s, order.id, token);
    assert.equal(o.refunds.length, 1);
    const refund = o.refunds[0];
    assert.deepEqual([refund.rule, refund.status, refund.movable, refund.movable_fen], ['E1', 'failed', true, 1099]);
    assert.equal((await assertBalanced(s)).revenue_fen, start.revenue_fen, 'the 10.99 waits in the order for the buyer');

    for (let i = 0; i < 3; i++) await s.advance(HOUR); // the upstream credits the number
    o = await orderOf(s, order.id, token);
    assert.equal(o.topup.status, 'succeeded');
    assert.ok(o.timeline.some((e) => e.type === 'topup.credited_after_refund'));
    assert.deepEqual([o.refunds[0].movable, o.refunds[0].movable_fen], [false, 0], 'the buyer has the top-up');
    assert.equal((await assertBalanced(s)).revenue_fen - start.revenue_fen, 1099, 'delivered after all: the shop keeps it');
    assertError(await s.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token }), 409,
      { code: 'topup_credited', param: 'refund_id' });
    assert.equal((await orderOf(s, order.id, token)).refunds.length, 1, 'nothing moved');
    // Staff settle it with the buyer, and may still move it when that is the settlement: out of
    // the revenue it went back to.
    const staff = await s.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token: s.keys.agent });
    assert.equal(staff.status, 201, JSON.stringify(staff.body));
    assert.equal(staff.body.amount_fen, 1099);
    assert.equal((await assertBalanced(s)).revenue_fen, start.revenue_fen);
    // Another report of the credit changes nothing.
    await s.advance(HOUR);
    assert.equal((await assertBalanced(s)).revenue_fen, start.revenue_fen);
  } finally {
    await s.cleanup();
  }
});

// A game top-up the upstream credits two hours late and to another region (an account starting
// with "wrong" and ending in 7777), refunded at its 30-minute timeout (E1); WeChat refuses the
// refund for good (..99). The late credit is no delivery: the buyer still has nothing, so the
// money in the order stays theirs to move, nothing goes back to revenue, and the timeline does
// not say the top-up arrived.
test('E1 then a late credit to another region: no delivery, the refund stays the buyer\'s to move', async () => {
  const s = await startShop();
  try {
    const start = await assertBalanced(s);
    const product = await createProduct(s, {
      kind: 'direct_topup', price_fen: 1099, target_format: 'game_account', regions: 'Asia,Europe',
      topup_timeout_minutes: 30, refund_window_hours: 48,
    });
    const { order, token } = await paidOrder(s, product.id, {
      method: 'wechat', extra: { target_account: 'wrong_7777', target_region: 'Asia' },
    });
    await s.advance(30 * MIN);
    await s.advance(0);
    await s.advance(5 * MIN); // WeChat's answer
    let o = await orderOf(s, order.id, token);
    assert.equal(o.refunds.length, 1);
    const refund = o.refunds[0];
    assert.deepEqual([refund.rule, refund.status, refund.movable_fen], ['E1', 'failed', 1099]);

    for (let i = 0; i < 3; i++) await s.advance(HOUR); // the upstream credits region S99
    o = await orderOf(s, order.id, token);
    assert.equal(o.topup.status, 'wrong_region');
    assert.equal(o.topup.credited_region, 'S99');
    assert.ok(!o.timeline.some((e) => e.type === 'topup.credited_after_refund'), JSON.stringify(o.timeline));
    assert.deepEqual([o.refunds[0].movable, o.refunds[0].movable_fen], [true, 1099], 'still owed');
    assert.equal((await assertBalanced(s)).revenue_fen, start.revenue_fen, 'nothing went back to revenue');
    // The buyer moves it to their shop balance, and is paid.
    const moved = await s.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    assert.equal(moved.body.amount_fen, 1099);
    await assertBalanced(s);
  } finally {
    await s.cleanup();
  }
});

// A top-up of 10.66 by WeChat Pay, refunded at its timeout (E1); WeChat cannot pay into the
// buyer's account (..66: requires_action), and the refund waits for the buyer to choose another
// route. Then the upstream credits the number after all: there is nothing left to choose. And a
// top-up of 10.16 whose refund WeChat reports failed, then pays two days later (..16), after the
// credit: the buyer has the top-up and the money, and the shop says so.
// A top-up to a number the upstream credits two hours late (..7777), paid by `method`, past its
// 30-minute timeout: refunded unasked (E1), the refund submitted to the provider.
async function refundedAtTimeout(s, price, method = 'wechat') {
  const product = await phoneTopupProduct(s, price);
  const { order, token } = await paidOrder(s, product.id, { method, extra: { target_account: '13812347777' } });
  await s.advance(30 * MIN);
  await s.advance(0);
  return { order, token };
}

async function lateCreditedTopup(s, price) {
  const r = await refundedAtTimeout(s, price);
  await s.advance(5 * MIN); // WeChat's answer
  return r;
}

test('E1 held on an abnormal account, then the top-up arrives: the refund ends and its money goes back to revenue', async () => {
  const s = await startShop();
  try {
    const start = await assertBalanced(s);
    const { order, token } = await lateCreditedTopup(s, 1066);
    let o = await orderOf(s, order.id, token);
    assert.deepEqual([o.refunds[0].status, o.refunds[0].movable], ['requires_action', true]);
    for (let i = 0; i < 3; i++) await s.advance(HOUR); // the upstream credits the number
    o = await orderOf(s, order.id, token);
    assert.equal(o.topup.status, 'succeeded');
    assert.deepEqual([o.refunds[0].status, o.refunds[0].movable, o.amount_refunded_fen], ['failed', false, 0]);
    assert.match(o.refunds[0].failure_reason, /top-up reached the account/);
    assert.equal((await assertBalanced(s)).revenue_fen - start.revenue_fen, 1066, 'delivered after all: the shop keeps it');
    assert.equal(o.timeline.filter((e) => e.type === 'refund.failed').length, 1);
  } finally {
    await s.cleanup();
  }
});

test('E1 refused, the top-up arrives, then the bank pays the refund after all (..16): paid twice, and said so', async () => {
  const s = await startShop();
  try {
    const start = await assertBalanced(s);
    const { order, token } = await lateCreditedTopup(s, 1016);
    assert.equal((await orderOf(s, order.id, token)).refunds[0].status, 'failed');
    for (let i = 0; i < 3; i++) await s.advance(HOUR); // the upstream credits the number
    assert.equal((await assertBalanced(s)).revenue_fen - start.revenue_fen, 1016);
    await s.advance(2 * DAY); // WeChat pays the refund after all
    const o = await orderOf(s, order.id, token);
    assert.deepEqual([o.topup.status, o.refunds[0].status, o.amount_refunded_fen], ['succeeded', 'succeeded', 1016]);
    assert.deepEqual(o.timeline.filter((e) => e.type === 'refund.paid_twice').map((e) => e.object_id), [o.refunds[0].id],
      'the buyer has the top-up and the money');
    assert.equal((await assertBalanced(s)).revenue_fen, start.revenue_fen, 'out of the revenue it went back to');
  } finally {
    await s.cleanup();
  }
});

// The same late credit while the refund, by bank card, is still with the bank; the bank then
// refuses it (..99). The refund's money comes back to an order that was delivered after all.
test('E1, the top-up arrives, then the refund by bank card fails: its money goes back to revenue', async () => {
  const s = await startShop();
  try {
    const start = await assertBalanced(s);
    const { order, token } = await refundedAtTimeout(s, 2099, 'bank_card');
    for (let i = 0; i < 3; i++) await s.advance(HOUR); // the upstream credits the number
    let o = await orderOf(s, order.id, token);
    assert.equal(o.topup.status, 'succeeded');
    assert.equal(o.refunds[0].status, 'pending');
    await s.advance(2 * DAY); // the bank refuses the refund for good
    o = await orderOf(s, order.id, token);
    assert.deepEqual([o.refunds[0].status, o.refunds[0].movable, o.amount_refunded_fen], ['failed', false, 0]);
    assert.equal((await assertBalanced(s)).revenue_fen - start.revenue_fen, 2099, 'delivered after all: the shop keeps it');
  } finally {
    await s.cleanup();
  }
});
