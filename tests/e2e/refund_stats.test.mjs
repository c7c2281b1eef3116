// The refund dashboard's figures, computed by the shop from its books (GET /v1/stats/refunds):
// refunds made and their amount, decisions and the machine's share, time to a decision and time
// to the money, per day of the viewer's clock and for the window. A shop of its own, so that
// nothing else is counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { assertError } from './lib/flows.mjs';
import { MIN, HOUR, cardProduct, paidOrder, openCase, decide, assertDecision } from './lib/refunds.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

const stats = (query = '') => shop.get(`/v1/stats/refunds${query}`, { token: shop.keys.admin });

test('the figures of two refunds: one the machine decided at once, one an agent decided two hours on', async () => {
  const empty = await stats();
  assert.equal(empty.status, 200, JSON.stringify(empty.body));
  assert.deepEqual([empty.body.object, empty.body.window_days, empty.body.tz_offset_minutes, empty.body.days],
    ['refund_stats', 90, 480, []]);
  assert.deepEqual(empty.body.total, {
    refunds: 0, refunded_fen: 0, decided: 0, automatic: 0,
    decision_ms_median: null, decision_ms_max: null, money_ms_median: null, money_ms_max: null,
  });

  // 10.00 unrevealed within the no-reason days: approved at once (E4), by Alipay in 30 minutes.
  const a = await cardProduct(shop, { price: 1000, noReasonDays: 7 });
  const first = await paidOrder(shop, a.product.id);
  assertDecision(await openCase(shop, first.order.id, first.token, 'changed_mind'), { outcome: 'approve', rule: 'E4', automatic: true });
  await shop.advance(0);
  await shop.advance(30 * MIN); // Alipay pays it
  // 20.00 revealed, a key that does not work: an agent looks two hours later and approves (E2).
  const b = await cardProduct(shop, { price: 2000, digits: ['3'] });
  const second = await paidOrder(shop, b.product.id);
  const rv = await shop.post(`/v1/orders/${second.order.id}/card_keys/${second.order.card_keys[0].id}/reveal`, undefined, { token: second.token });
  assert.equal(rv.status, 200, JSON.stringify(rv.body));
  const c = await openCase(shop, second.order.id, second.token, 'key_not_working', { message: 'it does not load' });
  await shop.advance(2 * HOUR);
  const d = await decide(shop, c.id, shop.keys.agent, { outcome: 'approve', rule: 'E2' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  await shop.advance(0);
  await shop.advance(30 * MIN); // Alipay pays the second

  const s = (await stats()).body;
  const total = {
    refunds: 2, refunded_fen: 3000, decided: 2, automatic: 1,
    decision_ms_median: HOUR * 1000, decision_ms_max: 2 * HOUR * 1000, // 0 and two hours
    money_ms_median: 90 * MIN * 1000, money_ms_max: 150 * MIN * 1000, // 30 minutes and two and a half hours
  };
  assert.deepEqual(s.total, total);
  // All on one day in China (10:00 to 13:00 local), beginning at local midnight.
  assert.equal(s.days.length, 1, JSON.stringify(s.days));
  const { day_start: start, ...figures } = s.days[0];
  assert.deepEqual(figures, total);
  assert.equal(Date.parse(start) % (24 * HOUR * 1000), 16 * HOUR * 1000, 'midnight at UTC+8 is 16:00 UTC');

  // At UTC-10 the same refunds fall on the day before, from its own midnight.
  const west = (await stats('?tz_offset_minutes=-600&days=7')).body;
  assert.deepEqual([west.window_days, west.tz_offset_minutes, west.days.length], [7, -600, 1]);
  // Midnight of the day before at UTC-10 is 10:00 UTC, six hours before midnight at UTC+8.
  assert.equal(Date.parse(west.days[0].day_start), Date.parse(start) - 6 * HOUR * 1000);
  assert.deepEqual(west.total, total);
});

test('a bad window or offset is refused, and only an admin reads the figures', async () => {
  for (const [q, param] of [['?days=0', 'days'], ['?days=367', 'days'], ['?days=abc', 'days'], ['?days=1.5', 'days'],
    ['?tz_offset_minutes=900', 'tz_offset_minutes'], ['?tz_offset_minutes=', 'tz_offset_minutes']]) {
    assertError(await stats(q), 400, { code: 'parameter_out_of_range', param });
  }
  assertError(await shop.get('/v1/stats/refunds', { token: shop.keys.agent }), 403);
  assertError(await shop.get('/v1/stats/refunds', { token: shop.keys.seller }), 403);
  assertError(await shop.get('/v1/stats/refunds'), 401);
});
