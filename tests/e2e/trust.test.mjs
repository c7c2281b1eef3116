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
  // A key revealed that the issuer cannot void (an odd last digit): an agent decides.
  const reviewed = async () => {
    const { product } = await cardProduct(shop, { digits: ['7'] });
    const o = await paidOrder(shop, product.id, { method: 'alipay' });
    const rv = await shop.post(`/v1/orders/${o.order.id}/card_keys/${o.order.card_keys[0].id}/reveal`, undefined, { token: o.token });
    assert.equal(rv.status, 200, JSON.stringify(rv.body));
    const c = await openCase(shop, o.order.id, o.token, 'key_not_working', { message: '提示卡密已被使用。' });
    assert.equal(c.status, 'open');
    return { ...o, c };
  };
  const b = await reviewed();
  const late = await reviewed();
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
    refunds_paid: 2, median_time_to_money_s: Math.round((waits[0] + waits[1]) / 2 / 1000),
    decisions: 2, decided_automatically: 1, auto_decided_bp: 5000,
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

test('anyone may read them, and nothing else is accepted', async () => {
  assert.equal((await shop.get('/v1/trust')).status, 200, 'no key needed');
  const r = await shop.get('/v1/trust', { token: 'not-a-token' });
  assert.equal(r.status, 401, 'a token that is none is refused, as everywhere');
  assert.equal(r.body.error.param, 'Authorization');
  const post = await shop.post('/v1/trust', {});
  assert.equal(post.status, 405, JSON.stringify(post.body));
});
