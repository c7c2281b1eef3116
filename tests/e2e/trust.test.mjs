// Trust signals (GET /v1/trust): the shop's refund figures over the last 90 days, read from its
// own data and public. A scenario with known answers: five paid orders, two of them refunded,
// one request decided by the machine and one by an agent in time, one left past its deadline;
// one order of a seller's account goods, listed under that seller.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { DAY, HOUR, MIN, cardProduct, decide, openCase, paidOrder, refundOf } from './lib/refunds.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop?.cleanup(); });

// A paid card key, revealed, that the issuer cannot void (an odd last digit): the buyer's request
// waits for an agent.
async function reviewedCase(s) {
  const { product } = await cardProduct(s, { digits: ['7'] });
  const o = await paidOrder(s, product.id, { method: 'alipay' });
  const rv = await s.post(`/v1/orders/${o.order.id}/card_keys/${o.order.card_keys[0].id}/reveal`, undefined, { token: o.token });
  assert.equal(rv.status, 200, JSON.stringify(rv.body));
  const c = await openCase(s, o.order.id, o.token, 'key_not_working', { message: '提示卡密已被使用。' });
  assert.equal(c.status, 'open');
  return { ...o, c };
}

const trust = async () => {
  const r = await shop.get('/v1/trust');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.object, 'trust_signals');
  return r.body;
};

test('the figures come from the data: refund rate, time to money, decided by the machine, decided in time', async () => {
  const empty = await trust();
  assert.equal(empty.window_days, 90);
  assert.deepEqual([empty.shop.paid_orders, empty.shop.refund_rate_bp, empty.shop.median_time_to_money_s,
    empty.shop.auto_decided_bp, empty.shop.in_time_bp], [0, null, null, null, null], 'no data: no shares, not zeros');

  // Seven days without a reason: asked, decided by the machine (E4), paid by WeChat Pay in 5 min.
  const noReason = await cardProduct(shop, { noReasonDays: 7, digits: ['2', '4', '6'] });
  const a = await paidOrder(shop, noReason.product.id, { method: 'wechat' });
  const auto = await openCase(shop, a.order.id, a.token, 'changed_mind');
  assert.equal(auto.decisions[0].automatic, true);
  const b = await reviewedCase(shop);
  const late = await reviewedCase(shop);
  await shop.advance(2 * HOUR);
  const d = await decide(shop, b.c.id, shop.keys.agent, { outcome: 'approve', rule: 'E2' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  // One order nobody asks about, and one of a seller's account goods.
  await paidOrder(shop, noReason.product.id, { method: 'alipay' });
  const account = (await shop.products()).find((p) => p.kind === 'account');
  await paidOrder(shop, account.id, { method: 'alipay' });
  // A day and more on: the agent missed the other case's deadline (24 h); both refunds arrived.
  for (let i = 0; i < 26; i++) await shop.advance(HOUR);
  const paidA = await refundOf(shop, auto.refunds[0].id, a.token);
  const paidB = await refundOf(shop, d.body.refunds[0].id, b.token);
  assert.deepEqual([paidA.status, paidB.status], ['succeeded', 'succeeded']);
  const waits = [Date.parse(paidA.completed_at) - Date.parse(auto.created_at),
    Date.parse(paidB.completed_at) - Date.parse(b.c.created_at)].sort((x, y) => x - y);

  const t = await trust();
  assert.deepEqual({ ...t.shop }, {
    paid_orders: 5, refunded_orders: 2, refund_rate_bp: 4000,
    refunds_paid: 2, median_time_to_money_s: Math.round((waits[0] + waits[1]) / 2 / 1000), refunds_late: 0,
    decisions: 2, decided_automatically: 1, auto_decided_bp: 5000, decisions_approved: 2, approved_bp: 10000,
    decisions_due: 2, decided_in_time: 1, in_time_bp: 5000,
  });
  assert.equal(t.sellers.length, 1);
  const [seller] = t.sellers;
  assert.equal(seller.seller_id, account.seller_id);
  assert.ok(seller.name.length > 0);
  assert.deepEqual([seller.paid_orders, seller.refunded_orders, seller.refund_rate_bp, seller.decisions],
    [1, 0, 0, 0]);
  assert.ok(Date.parse(t.to) - Date.parse(t.from) === 90 * DAY * 1000);

  // The figures are at most a minute old: a new order shows after that minute, not at once.
  await paidOrder(shop, noReason.product.id, { method: 'alipay' });
  assert.equal((await trust()).shop.paid_orders, 5);
  await shop.advance(MIN);
  assert.equal((await trust()).shop.paid_orders, 6);
});

// Asking the buyer for evidence does not reset an agent's clock: a deadline missed before asking
// stays missed. While the buyer has time, nobody waits on the agent; once it ran out, the agent has
// the usual 24 hours from then, and a case left past that counts as late even undecided.
test('decided in time counts the agent\'s own deadline, whatever the buyer was asked', async () => {
  const s = await startShop();
  try {
    const agent = s.keys.agent;
    const reviewed = () => reviewedCase(s);
    const askBuyer = async (c) => {
      const r = await s.post(`/v1/cases/${c.id}/request_evidence`, { message: '请提供截图。' }, { token: agent });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };
    const hours = async (n) => { for (let i = 0; i < n; i++) await s.advance(HOUR); };
    const late = await reviewed(); // asked after its deadline, answered, then decided
    const waited = await reviewed(); // asked in time, the buyer never answers, decided after
    const left = await reviewed(); // asked in time, the buyer never answers, never decided
    await hours(1);
    await askBuyer(waited.c);
    await askBuyer(left.c);
    await hours(29); // 30 h: past the first deadline
    await askBuyer(late.c);
    const reply = await s.post(`/v1/cases/${late.c.id}/messages`, { body: '截图已上传。' }, { token: late.token });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const d1 = await decide(s, late.c.id, agent, { outcome: 'approve', rule: 'E2' });
    assert.equal(d1.status, 200, JSON.stringify(d1.body));
    await hours(50); // 80 h: the buyer's 72 h for the other two ran out at 73 h
    const d2 = await decide(s, waited.c.id, agent, { outcome: 'reject', rule: 'N1' });
    assert.equal(d2.status, 200, JSON.stringify(d2.body));
    await hours(20); // 100 h: past 73 + 24 for the case nobody decided

    const t = (await s.get('/v1/trust')).body.shop;
    assert.deepEqual([t.decisions, t.decided_automatically, t.decisions_approved, t.approved_bp], [2, 0, 1, 5000]);
    assert.deepEqual([t.decisions_due, t.decided_in_time, t.in_time_bp], [3, 1, 3333],
      'late asked is late; decided after the buyer\'s time, within a day, is in time; left undecided is late');
  } finally {
    await s.cleanup();
  }
});

// A refund still with a slow bank (..17) past the date promised is late now; it has not reached
// the buyer, so it is not timed.
test('a refund past its promised date counts as late, not as paid', async () => {
  const s = await startShop();
  try {
    const { product } = await cardProduct(s, { price: 1017, noReasonDays: 7 });
    const o = await paidOrder(s, product.id, { method: 'wechat' });
    const c = await openCase(s, o.order.id, o.token, 'changed_mind');
    assert.equal(c.refunds[0].status, 'pending');
    await s.advance(0);
    await s.advance(3 * DAY); // one working day was promised for WeChat Pay
    const t = (await s.get('/v1/trust')).body.shop;
    assert.deepEqual([t.refunds_late, t.refunds_paid, t.median_time_to_money_s, t.refunded_orders], [1, 0, null, 0]);
  } finally {
    await s.cleanup();
  }
});

test('anyone may read them, and nothing else is accepted', async () => {
  assert.equal((await shop.get('/v1/trust')).status, 200, 'no key needed');
  const r = await shop.get('/v1/trust', { token: 'not-a-token' });
  assert.equal(r.status, 401, 'a token that is none is refused, as everywhere');
  assert.equal(r.body.error.param, 'Authorization');
  const post = await shop.post('/v1/trust', {});
  assert.equal(post.status, 405, JSON.stringify(post.body));
});
