// Cases people decide: the agents' queue ordered by deadline, asking for evidence and the buyer's
// reply clock, evidence uploads (type- and size-checked, bound to their order), decisions citing
// the right kind of rule, partial refunds never beyond what was captured, appeals decided by a
// different agent, and escrowed account goods (E5 / N1). Each test ends with the books balanced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { assertError } from './lib/flows.mjs';
import {
  HOUR, DAY, MIN, assertBalanced, cardProduct, paidOrder, completeAtProvider, orderOf, caseOf, preview, requestRefund,
  openCase, decide, assertDecision, assertRefund, assertNotOverRefunded, queue, newAgent, phoneTopupProduct,
  accountProduct,
  uploadEvidence, PNG_1X1, PDF_MIN,
} from './lib/refunds.mjs';

let shop, secondAgent, account;
before(async () => {
  shop = await startShop();
  secondAgent = await newAgent(shop, 'appeals desk');
  account = await shop.product('account');
  assert.ok(account && account.seller_id, 'demo has escrowed account goods');
});
after(async () => { await shop.cleanup(); });

const now = async () => Date.parse((await shop.get('/v1/test/clock')).body.now);

// A card-key order that goes to an agent: no no-reason days, the key unrevealed, "not working".
async function reviewCase({ price = 3000 } = {}) {
  const { product } = await cardProduct(shop, { price, noReasonDays: 0, windowHours: 72, digits: ['1'] });
  const { order, token } = await paidOrder(shop, product.id);
  const c = await openCase(shop, order.id, token, 'key_not_working', { message: 'the key is refused' });
  assert.equal(c.status, 'open');
  return { order, token, c, product };
}

async function rejected() {
  const r = await reviewCase();
  const d = await decide(shop, r.c.id, shop.keys.agent, { outcome: 'reject', rule: 'N1', explanation: 'the issuer shows the key as used' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.equal(d.body.status, 'decided');
  assertDecision(d.body, { outcome: 'reject', rule: 'N1', automatic: false, amount_fen: 0 });
  const seen = await caseOf(shop, r.c.id, r.token);
  assert.deepEqual(seen.next_steps.map((s) => s.action), ['appeal']);
  assert.ok(seen.next_steps[0].until);
  return r;
}

test('the agents\' queue is ordered by deadline and flags cases past it', async () => {
  const first = await reviewCase();
  await shop.advance(HOUR);
  const second = await reviewCase();
  await shop.advance(HOUR);
  const third = await reviewCase();
  const ours = [first, second, third].map((x) => x.c.id);

  const inOrder = (list) => {
    for (let i = 1; i < list.length; i++) {
      assert.ok(Date.parse(list[i - 1].sla_due_at) <= Date.parse(list[i].sla_due_at), 'ordered by sla_due_at');
    }
  };
  let q = await queue(shop, shop.keys.agent);
  inOrder(q);
  assert.deepEqual(q.map((c) => c.id).filter((id) => ours.includes(id)), ours);
  for (const c of q.filter((x) => ours.includes(x.id))) {
    assert.equal(c.overdue, false);
    assert.equal(Date.parse(c.sla_due_at) - Date.parse(c.created_at), 24 * HOUR * 1000, 'an agent decides within a day');
  }
  // Only staff see the queue.
  assertError(await shop.get('/v1/cases', { token: first.token }), 403);
  assertError(await shop.get('/v1/cases'), 401);

  // Past the first case's deadline: it is flagged, the others are not yet.
  await shop.advance((Date.parse(first.c.sla_due_at) - await now()) / 1000 + 1);
  q = await queue(shop, shop.keys.agent);
  inOrder(q);
  const flag = Object.fromEntries(q.map((c) => [c.id, c.overdue]));
  assert.deepEqual(ours.map((id) => flag[id]), [true, false, false]);

  // Asking the buyer for evidence moves the case behind the buyer's reply clock.
  const ask = await shop.post(`/v1/cases/${first.c.id}/request_evidence`, { message: 'a screenshot of the error, please' }, { token: shop.keys.agent });
  assert.equal(ask.status, 200, JSON.stringify(ask.body));
  q = await queue(shop, shop.keys.agent);
  inOrder(q);
  assert.deepEqual(q.map((c) => c.id).filter((id) => ours.includes(id)), [second.c.id, third.c.id, first.c.id]);
  assert.equal(q.find((c) => c.id === first.c.id).overdue, false);

  for (const x of [first, second, third]) {
    const d = await decide(shop, x.c.id, shop.keys.agent, { outcome: 'approve', rule: 'E2' });
    assert.equal(d.status, 200, JSON.stringify(d.body));
  }
  q = await queue(shop, shop.keys.agent);
  assert.ok(!q.some((c) => ours.includes(c.id)), 'decided cases leave the queue');
  await assertBalanced(shop);
});

test('agent flow: evidence asked for, uploaded (checked) and replied; decisions cite the right rules; partial refunds', async () => {
  const { order, token, c } = await reviewCase({ price: 3000 });
  const other = await paidOrder(shop, (await cardProduct(shop, { price: 900, digits: ['3'] })).product.id);

  // The agent asks; the buyer sees the reply deadline.
  assertError(await shop.post(`/v1/cases/${c.id}/request_evidence`, { message: 'x' }, { token }), 403);
  const ask = await shop.post(`/v1/cases/${c.id}/request_evidence`, { message: 'please send a screenshot and the receipt' }, { token: shop.keys.agent });
  assert.equal(ask.status, 200, JSON.stringify(ask.body));
  assert.equal(ask.body.status, 'awaiting_buyer');
  const t = await now();
  assert.equal(Date.parse(ask.body.buyer_reply_due_at), t + 72 * HOUR * 1000);
  const seen = await caseOf(shop, c.id, token);
  assert.equal(seen.status, 'awaiting_buyer');
  assert.equal(seen.buyer_reply_due_at, ask.body.buyer_reply_due_at);
  assert.equal(seen.messages.at(-1).author, 'agent', 'the buyer sees an agent, not which one');
  assert.equal(seen.messages.at(-1).body, 'please send a screenshot and the receipt');
  // Asking again while waiting for the buyer is refused.
  assertError(await shop.post(`/v1/cases/${c.id}/request_evidence`, { message: 'again' }, { token: shop.keys.agent }), 409);

  // Uploads: a real PNG and a PDF are accepted, content-addressed; wrong bytes and too much are not.
  const png = await uploadEvidence(shop, order.id, token, PNG_1X1, 'image/png', 'error.png');
  assert.equal(png.status, 201, JSON.stringify(png.body));
  assert.equal(png.body.content_type, 'image/png');
  assert.equal(png.body.size, PNG_1X1.length);
  assert.equal(png.body.filename, 'error.png');
  assert.match(png.body.id, /^ev_[0-9a-f]{32}$/);
  assert.equal(png.body.id, `ev_${png.body.sha256.slice(0, 32)}`);
  const again = await uploadEvidence(shop, order.id, token, PNG_1X1, 'image/png');
  assert.equal(again.status, 201);
  assert.equal(again.body.id, png.body.id, 'the same bytes are the same evidence');
  const pdf = await uploadEvidence(shop, order.id, token, PDF_MIN, 'application/pdf', 'receipt.pdf');
  assert.equal(pdf.status, 201, JSON.stringify(pdf.body));
  assert.equal(pdf.body.content_type, 'application/pdf');
  const fake = Buffer.concat([Buffer.from('GIF89a'), PNG_1X1.subarray(6)]);
  assertError(await uploadEvidence(shop, order.id, token, fake, 'image/png'), 415);
  assertError(await uploadEvidence(shop, order.id, token, PNG_1X1, 'application/pdf'), 415);
  const huge = Buffer.alloc(4 * 1024 * 1024 + 1);
  PNG_1X1.copy(huge);
  assertError(await uploadEvidence(shop, order.id, token, huge, 'image/png'), 413);
  // Not on someone else's order.
  assertError(await uploadEvidence(shop, other.order.id, token, PNG_1X1, 'image/png'), 404);
  const down = await shop.get(`/v1/orders/${order.id}/evidence/${png.body.id}`, { token });
  assert.equal(down.status, 200);
  assert.match(down.headers.get('content-disposition') ?? '', /^attachment/);
  assert.equal(down.headers.get('content-type'), 'image/png');

  // Evidence of another order cannot be cited on this case.
  const foreign = await uploadEvidence(shop, other.order.id, other.token,
    Buffer.concat([PDF_MIN, Buffer.from('% another order\n')]), 'application/pdf');
  assert.equal(foreign.status, 201);
  assertError(await shop.post(`/v1/cases/${c.id}/messages`, { body: 'see attached', evidence_ids: [foreign.body.id] }, { token }), 400,
    { param: 'evidence_ids' });
  assert.equal((await caseOf(shop, c.id, token)).status, 'awaiting_buyer', 'a refused reply changes nothing');

  // The buyer replies with the evidence: back in the queue with a fresh clock.
  await shop.advance(HOUR);
  const reply = await shop.post(`/v1/cases/${c.id}/messages`, { body: 'here they are', evidence_ids: [png.body.id, pdf.body.id] }, { token });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  assert.equal(reply.body.status, 'open');
  assert.equal(reply.body.buyer_reply_due_at, null);
  assert.equal(Date.parse(reply.body.sla_due_at), await now() + 24 * HOUR * 1000);
  assert.deepEqual(reply.body.messages.at(-1).evidence_ids, [png.body.id, pdf.body.id]);

  // Decisions: an approval cites an E rule, a rejection an N rule, never more than captured.
  const agent = shop.keys.agent;
  assertError(await decide(shop, c.id, token, { outcome: 'approve', rule: 'E2' }), 403);
  assertError(await decide(shop, c.id, agent, { outcome: 'approve', rule: 'N1' }), 400, { code: 'rule_mismatch' });
  assertError(await decide(shop, c.id, agent, { outcome: 'reject', rule: 'E2' }), 400, { code: 'rule_mismatch' });
  assertError(await decide(shop, c.id, agent, { outcome: 'reject', rule: 'A2' }), 400);
  assertError(await decide(shop, c.id, agent, { outcome: 'maybe', rule: 'E2' }), 400);
  assertError(await decide(shop, c.id, agent, { outcome: 'approve', rule: 'E2', amount_fen: 3001 }), 400, { param: 'amount_fen' });
  assert.equal((await caseOf(shop, c.id, token)).status, 'open', 'refused decisions change nothing');
  assert.deepEqual((await orderOf(shop, order.id, token)).refunds, []);

  // A partial refund: the agent approves part of it.
  const part = await decide(shop, c.id, agent, { outcome: 'approve', rule: 'E2', amount_fen: 1200, explanation: 'one of two codes failed' });
  assert.equal(part.status, 200, JSON.stringify(part.body));
  assert.equal(part.body.status, 'decided');
  assertDecision(part.body, { outcome: 'approve', rule: 'E2', automatic: false, amount_fen: 1200 });
  assert.equal(part.body.refunds.length, 1);
  assertRefund(part.body.refunds[0], { amount_fen: 1200, method: 'alipay', rule: 'E2' });
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'delivered', 'a partial refund leaves the order standing');
  assert.equal(o.amount_refunded_fen, 1200);
  assertError(await decide(shop, c.id, agent, { outcome: 'approve', rule: 'E2' }), 409, { code: 'case_state' });

  // The rest, on a second request: at most what is left.
  const p = await preview(shop, order.id, token, 'key_not_working');
  assert.equal(p.amount_fen, 1800);
  const c2 = await openCase(shop, order.id, token, 'key_not_working', { message: 'the second code too' });
  assert.equal(c2.status, 'open');
  assertError(await decide(shop, c2.id, agent, { outcome: 'approve', rule: 'E2', amount_fen: 1801 }), 400, { param: 'amount_fen' });
  const rest = await decide(shop, c2.id, agent, { outcome: 'approve', rule: 'E2' });
  assert.equal(rest.status, 200, JSON.stringify(rest.body));
  assertDecision(rest.body, { outcome: 'approve', rule: 'E2', amount_fen: 1800 });
  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(assertNotOverRefunded(o), 3000);
  assertError(await requestRefund(shop, order.id, token, 'key_not_working'), 409, { code: 'nothing_to_refund' });
  await assertBalanced(shop);
});

// An agent may still approve under E1 a top-up that was credited normally (on appeal, say). If
// that refund fails, it is owed as approved: the credit came before it, so it is no late credit
// that leaves the buyer with both.
test('a refund approved under E1 after a normal credit stays owed when it fails (..99)', async () => {
  const product = await phoneTopupProduct(shop, 1099);
  const { order, token } = await paidOrder(shop, product.id, { method: 'wechat', extra: { target_account: '13800138000' } });
  await shop.advance(0);
  await shop.advance(60); // submitted, then credited
  assert.equal((await orderOf(shop, order.id, token)).topup.status, 'succeeded');
  const c = await openCase(shop, order.id, token, 'not_received', { message: 'my phone shows nothing' });
  assertDecision(c, { outcome: 'reject', rule: 'N1', automatic: true });
  const ap = await shop.post(`/v1/cases/${c.id}/appeal`, { message: 'the operator says it never came' }, { token });
  assert.equal(ap.status, 200, JSON.stringify(ap.body));
  const d = await decide(shop, c.id, secondAgent, { outcome: 'approve', rule: 'E1', amount_fen: 1099, explanation: 'the operator confirms nothing arrived' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  const refund = assertRefund(d.body.refunds[0], { amount_fen: 1099, method: 'wechat', rule: 'E1' });
  await shop.advance(0);
  await shop.advance(5 * 60); // WeChat refuses it for good
  const ord = await orderOf(shop, order.id, token);
  const r = ord.refunds.find((x) => x.id === refund.id);
  assert.deepEqual([r.status, r.movable, r.movable_fen], ['failed', true, 1099], 'still owed: the buyer may move it');
  const moved = await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token });
  assert.equal(moved.status, 201, JSON.stringify(moved.body));
  assert.equal(assertNotOverRefunded(await orderOf(shop, order.id, token)), 1099);
  await assertBalanced(shop);
});

// Account goods delivered by the seller and confirmed by the buyer (the escrow goes to the
// seller), then reported not as described, rejected by the machine (N1) and appealed: a case for
// a second agent.
async function confirmedThenAppealed(order, token, { content, message, appeal }) {
  const d = await shop.post(`/v1/orders/${order.id}/deliver`, { content }, { token: shop.keys.seller });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  const confirmed = await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  const c = await openCase(shop, order.id, token, 'not_as_described', { message });
  assertDecision(c, { outcome: 'reject', rule: 'N1', automatic: true });
  const ap = await shop.post(`/v1/cases/${c.id}/appeal`, { message: appeal }, { token });
  assert.equal(ap.status, 200, JSON.stringify(ap.body));
  return c;
}

// Account goods whose escrow went to the seller when the buyer confirmed: a refund an agent
// approves on appeal is paid by the shop, which must recover it from the seller outside the
// shop. The shop says so, lists it for a person, and a person records how it was settled.
test('a refund after the buyer confirmed account goods is listed as money to recover from the seller', async () => {
  const product = await accountProduct(shop, { price: 3000 });
  const { order, token } = await paidOrder(shop, product.id);
  const c = await confirmedThenAppealed(order, token, {
    content: 'account: p_1\npassword: x', message: 'the account was taken back', appeal: 'the seller took the account back a day later',
  });
  const before = await assertBalanced(shop);
  const dec = await decide(shop, c.id, secondAgent, { outcome: 'approve', rule: 'E2', explanation: 'the seller recovered the account' });
  assert.equal(dec.status, 200, JSON.stringify(dec.body));
  const refund = assertRefund(dec.body.refunds[0], { amount_fen: 3000, rule: 'E2' });
  assert.equal((await assertBalanced(shop)).revenue_fen - before.revenue_fen, -3000, 'the shop pays it');
  const o = await orderOf(shop, order.id, token);
  assert.deepEqual(o.timeline.filter((e) => e.type === 'refund.seller_recovery_due').map((e) => e.object_id), [refund.id]);

  const listed = (await shop.get('/v1/attention', { token: shop.keys.agent })).body.data
    .filter((x) => x.order_id === order.id);
  assert.deepEqual(listed.map((x) => [x.kind, x.refund.id, x.amount_fen]), [['seller_recovery_due', refund.id, 3000]]);
  // The settle form sends one idempotency key for all its tries: a try after a lost answer gets
  // the first answer again, not "already settled", and records nothing more.
  const settle = (key) => shop.post(`/v1/attention/${listed[0].id}/settle`,
    { note: 'deducted from the seller\'s next payout' }, { token: shop.keys.agent, headers: { 'Idempotency-Key': key } });
  const done = await settle('settle-recovery-1');
  assert.equal(done.status, 200, JSON.stringify(done.body));
  const again = await settle('settle-recovery-1');
  assert.deepEqual([again.status, again.body], [200, done.body], 'the same answer, replayed');
  assertError(await settle('settle-recovery-2'), 409, { code: 'already_settled' });
  assert.ok(!(await shop.get('/v1/attention', { token: shop.keys.agent })).body.data.some((x) => x.order_id === order.id));
  const settled = (await orderOf(shop, order.id, token)).timeline.filter((e) => e.type === 'attention.settled');
  assert.equal(settled.length, 1, 'settled once');
});

// The same, when the order still holds money owed to the buyer for something else: a second
// payment by WeChat whose automatic refund WeChat refused for good (..99). That money is the
// buyer's duplicate, not the goods' refund: no refund is approved while it waits to be moved, and
// once the buyer moved it the goods' refund is fronted by the shop in full and listed in full for
// recovery from the seller.
test('a seller recovery is not cut by money in the order that is owed to the buyer for something else', async () => {
  const product = await accountProduct(shop, { price: 1099 });
  const created = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const order = created.body;
  const token = order.buyer_token;
  const first = await shop.post(`/v1/orders/${order.id}/payments`, { method: 'alipay' }, { token });
  const second = await shop.post(`/v1/orders/${order.id}/payments`, { method: 'wechat' }, { token });
  for (const p of [first, second]) await completeAtProvider(shop, order.id, token, [p.body.id]);
  await shop.advance(5 * MIN); // WeChat refuses the duplicate's refund for good
  const o = await orderOf(shop, order.id, token);
  const dup = o.refunds.find((r) => r.payment_id === second.body.id);
  assert.deepEqual([dup.rule, dup.status, dup.movable_fen], ['E3', 'failed', 1099], JSON.stringify(o.refunds));
  const c = await confirmedThenAppealed(order, token, {
    content: 'account: p_3\npassword: z', message: 'the account was taken back', appeal: 'taken back a day later',
  });
  const approve = () => decide(shop, c.id, secondAgent, { outcome: 'approve', rule: 'E2', explanation: 'the seller recovered the account' });
  assertError(await approve(), 409, { code: 'refund_unsettled', param: 'outcome' });
  const moved = await shop.post(`/v1/refunds/${dup.id}/reroute`, { method: 'balance' }, { token });
  assert.equal(moved.status, 201, JSON.stringify(moved.body));
  assert.equal(moved.body.amount_fen, 1099);

  const before = await assertBalanced(shop);
  const dec = await approve();
  assert.equal(dec.status, 200, JSON.stringify(dec.body));
  const refund = assertRefund(dec.body.refunds[0], { amount_fen: 1099, rule: 'E2' });
  assert.equal((await assertBalanced(shop)).revenue_fen - before.revenue_fen, -1099, 'the shop fronts the goods\' refund');
  const listed = (await shop.get('/v1/attention', { token: shop.keys.agent })).body.data
    .filter((x) => x.order_id === order.id && x.kind === 'seller_recovery_due');
  assert.deepEqual(listed.map((x) => [x.refund.id, x.amount_fen]), [[refund.id, 1099]]);
  assert.equal(assertNotOverRefunded(await orderOf(shop, order.id, token)), 2 * 1099);
  await assertBalanced(shop);
});

test('a refund of confirmed account goods for the platform\'s own fault (E3) is the shop\'s to bear: nothing to recover', async () => {
  const product = await accountProduct(shop, { price: 2500 });
  const { order, token } = await paidOrder(shop, product.id);
  const c = await confirmedThenAppealed(order, token, {
    content: 'account: p_2\npassword: y', message: 'the shop page showed another server', appeal: 'the listing itself was wrong',
  });
  const before = await assertBalanced(shop);
  const dec = await decide(shop, c.id, secondAgent, { outcome: 'approve', rule: 'E3', explanation: 'our listing named the wrong server' });
  assert.equal(dec.status, 200, JSON.stringify(dec.body));
  assertRefund(dec.body.refunds[0], { amount_fen: 2500, rule: 'E3' });
  assert.equal((await assertBalanced(shop)).revenue_fen - before.revenue_fen, -2500, 'the shop pays it');
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.timeline.filter((e) => e.type === 'refund.seller_recovery_due').length, 0);
  assert.ok(!(await shop.get('/v1/attention', { token: shop.keys.agent })).body.data.some((x) => x.order_id === order.id));
});

test('the appeal that overturns: a different agent approves, and the refund follows', async () => {
  const { order, token, c } = await rejected();
  assertError(await shop.post(`/v1/cases/${c.id}/appeal`, { message: 'x' }, { token: shop.keys.agent }), 403);
  const png = await uploadEvidence(shop, order.id, token, PNG_1X1, 'image/png', 'balance.png');
  assert.equal(png.status, 201);
  const ap = await shop.post(`/v1/cases/${c.id}/appeal`, { message: 'my wallet shows no top-up', evidence_ids: [png.body.id] }, { token });
  assert.equal(ap.status, 200, JSON.stringify(ap.body));
  assert.equal(ap.body.status, 'appealed');
  assert.ok(ap.body.appealed_at);
  assert.equal(Date.parse(ap.body.sla_due_at), await now() + 48 * HOUR * 1000);
  assert.ok((await queue(shop, shop.keys.agent)).some((x) => x.id === c.id), 'the appeal is back in the queue');

  // The agent who rejected cannot decide the appeal.
  assertError(await decide(shop, c.id, shop.keys.agent, { outcome: 'approve', rule: 'E2' }), 403, { code: 'same_agent' });
  const d = await decide(shop, c.id, secondAgent, { outcome: 'approve', rule: 'E2', explanation: 'the issuer record was for another key' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.equal(d.body.status, 'closed');
  assertDecision(d.body, { stage: 'initial', outcome: 'reject', rule: 'N1' });
  const ad = assertDecision(d.body, { stage: 'appeal', outcome: 'approve', rule: 'E2', automatic: false, amount_fen: 3000 });
  assert.notEqual(ad.decided_by, d.body.decisions[0].decided_by, 'decided by a different agent');
  assert.equal(d.body.refunds.length, 1);
  assertRefund(d.body.refunds[0], { amount_fen: 3000, method: 'alipay', rule: 'E2' });
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assertError(await shop.post(`/v1/cases/${c.id}/appeal`, { message: 'again' }, { token }), 409);
  await assertBalanced(shop);
});

test('the appeal that does not: closed for good, with what the buyer can do next; once only', async () => {
  const { order, token, c } = await rejected();
  const ap = await shop.post(`/v1/cases/${c.id}/appeal`, { message: 'please look again' }, { token });
  assert.equal(ap.status, 200, JSON.stringify(ap.body));
  const d = await decide(shop, c.id, secondAgent, { outcome: 'reject', rule: 'N1', explanation: 'the activation record stands' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.equal(d.body.status, 'closed');
  assertDecision(d.body, { stage: 'appeal', outcome: 'reject', rule: 'N1', automatic: false });
  const seen = await caseOf(shop, c.id, token);
  assert.deepEqual(seen.next_steps.map((s) => s.action), ['provider_dispute', 'consumer_complaint', 'small_claims']);
  for (const s of seen.next_steps) assert.ok(s.text.length > 0);
  assertError(await shop.post(`/v1/cases/${c.id}/appeal`, { message: 'again' }, { token }), 409, { code: 'already_appealed' });
  assertError(await decide(shop, c.id, secondAgent, { outcome: 'approve', rule: 'E2' }), 409);
  const o = await orderOf(shop, order.id, token);
  assert.deepEqual(o.refunds, []);
  assert.equal(o.status, 'delivered');
  await assertBalanced(shop);
});

test('an appeal after 7 days is refused; only rejections can be appealed', async () => {
  const { token, c } = await rejected();
  const rejectedAt = Date.parse((await caseOf(shop, c.id, token)).decisions[0].decided_at);
  await shop.advance((rejectedAt + 7 * DAY * 1000 - await now()) / 1000 + 1);
  assertError(await shop.post(`/v1/cases/${c.id}/appeal`, { message: 'late' }, { token }), 409, { code: 'appeal_window_closed' });
  const seen = await caseOf(shop, c.id, token);
  assert.equal(seen.status, 'decided');
  assert.deepEqual(seen.next_steps.map((s) => s.action), ['provider_dispute', 'consumer_complaint', 'small_claims']);

  // An approved case has nothing to appeal.
  const ok = await reviewCase();
  const d = await decide(shop, ok.c.id, shop.keys.agent, { outcome: 'approve', rule: 'E2' });
  assert.equal(d.status, 200);
  assertError(await shop.post(`/v1/cases/${ok.c.id}/appeal`, { message: 'more?' }, { token: ok.token }), 409, { code: 'not_appealable' });
  await assertBalanced(shop);
});

test('escrow void (E5): refunded before the seller delivers; the hold is voided and nothing reaches the seller', async () => {
  // Let the refunds of earlier scenarios (Alipay: 30 min) settle, so the books start with no hold:
  // submitted first (advance 0 runs what is due now), then booked by the provider.
  await shop.advance(0);
  await shop.advance(HOUR);
  const start = await assertBalanced(shop);
  assert.equal(start.debits_pending_fen, 0, 'nothing is held before this scenario');
  const { order, token } = await paidOrder(shop, account.id);
  assert.equal(order.status, 'delivering');
  const p = await preview(shop, order.id, token, 'not_received');
  assert.equal(p.outcome, 'approve');
  assert.equal(p.rule, 'E5');
  const c = await openCase(shop, order.id, token, 'not_received');
  assert.equal(c.status, 'decided');
  const d = assertDecision(c, { outcome: 'approve', rule: 'E5', automatic: true, amount_fen: account.price_fen });
  assert.equal(d.facts.escrow_held, true);
  assert.equal(d.facts.seller_delivered, false);
  let o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(o.refunds.length, 1);
  assertRefund(o.refunds[0], { amount_fen: account.price_fen, method: 'alipay', rule: 'E5' });
  // The refund is submitted at once and Alipay books it within half an hour.
  await shop.advance(0);
  await shop.advance(30 * MIN);
  o = await orderOf(shop, order.id, token);
  assert.equal(o.refunds[0].status, 'succeeded');
  // The seller can no longer deliver, and the escrow window passing releases nothing.
  assertError(await shop.post(`/v1/orders/${order.id}/deliver`, { content: 'account: late' }, { token: shop.keys.seller }), 409);
  await shop.advance(account.refund_terms.escrow_days * DAY + HOUR);
  o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(o.refunds.length, 1);
  const end = await assertBalanced(shop);
  assert.equal(end.revenue_fen, start.revenue_fen);
  assert.equal(end.debits_pending_fen, start.debits_pending_fen, 'no hold is left behind');
  // Posted: the capture into the order and the refund out of it; nothing to the seller.
  assert.equal(end.debits_posted_fen - start.debits_posted_fen, 2 * account.price_fen);
});

test('escrow dispute after delivery goes to an agent (E5); after the buyer confirms it is N1', async () => {
  const content = 'account: player_1\npassword: pw';
  const disputed = await paidOrder(shop, account.id);
  const confirmed = await paidOrder(shop, account.id);
  for (const x of [disputed, confirmed]) {
    const dl = await shop.post(`/v1/orders/${x.order.id}/deliver`, { content }, { token: shop.keys.seller });
    assert.equal(dl.status, 200, JSON.stringify(dl.body));
  }
  const c = await openCase(shop, disputed.order.id, disputed.token, 'not_as_described', { message: 'the account is level 1, not 60' });
  assert.equal(c.status, 'open');
  assert.deepEqual(c.preview, { outcome: 'review', rule: 'E5' });
  const d = await decide(shop, c.id, shop.keys.agent, { outcome: 'approve', rule: 'E5', explanation: 'the listing promised level 60' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assertRefund(d.body.refunds[0], { amount_fen: account.price_fen, rule: 'E5' });
  assert.equal((await orderOf(shop, disputed.order.id, disputed.token)).status, 'refunded');
  assertError(await shop.post(`/v1/orders/${disputed.order.id}/confirm`, {}, { token: disputed.token }), 409);

  const cf = await shop.post(`/v1/orders/${confirmed.order.id}/confirm`, {}, { token: confirmed.token });
  assert.equal(cf.status, 200, JSON.stringify(cf.body));
  assert.equal(cf.body.status, 'completed');
  const n1 = await openCase(shop, confirmed.order.id, confirmed.token, 'not_as_described');
  assert.equal(n1.status, 'decided');
  const nd = assertDecision(n1, { outcome: 'reject', rule: 'N1', automatic: true, amount_fen: 0 });
  assert.equal(nd.facts.escrow_held, false);
  assert.deepEqual((await orderOf(shop, confirmed.order.id, confirmed.token)).refunds, []);
  await shop.advance(30 * MIN);
  await assertBalanced(shop);
});
