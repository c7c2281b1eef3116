// The staff list of what needs a person (GET /v1/attention) answers at most 500 items, oldest
// first, and says when there are more and how many: a shop with 501 refunds owed to buyers shows
// the first 500, has_more and a total of 501, and nothing is left out of the total.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';
import { assertBalanced, phoneTopupProduct } from './lib/refunds.mjs';

const ATTENTION_LIST_MAX = 500;
const ORDERS = ATTENTION_LIST_MAX + 1;

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

// A phone top-up to a number the sandbox upstream refuses (..0000), paid by WeChat Pay at a price
// whose refund WeChat refuses for good (..99): the shop refunds it at once (E1), the refund fails,
// and the money waits in the order for the buyer to move it, an unpaid refund staff should see.
async function refusedTopupRefund(productId) {
  const created = await shop.post('/v1/orders', { product_id: productId, target_account: '13812340000' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const token = created.body.buyer_token;
  const pay = await shop.post(`/v1/orders/${created.body.id}/payments`,
    { method: 'wechat', target_confirmed: created.body.target.account }, { token });
  assert.equal(pay.status, 201, JSON.stringify(pay.body));
  const charge = await shop.post(`/v1/sandbox/payments/${pay.body.id}/pay`, { outcome: 'succeeded' });
  assert.equal(charge.status, 202, JSON.stringify(charge.body));
  return created.body.id;
}

test('501 refunds owed: the list shows the oldest 500, says there are more, and counts them all', async () => {
  const product = await phoneTopupProduct(shop, 1099);
  const orders = new Set();
  for (let i = 0; i < ORDERS; i += 25) {
    const batch = Array.from({ length: Math.min(25, ORDERS - i) }, () => refusedTopupRefund(product.id));
    for (const id of await Promise.all(batch)) orders.add(id);
  }
  const list = () => shop.get('/v1/attention', { token: shop.keys.agent });
  let r;
  // The upstream answers within seconds; WeChat Pay refuses the refunds after its 5 minutes.
  for (let step = 0; step < 10; step++) {
    await shop.advance(step === 0 ? 5 : 300);
    r = await list();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (r.body.total >= ORDERS) break;
  }
  assert.equal(r.body.total, ORDERS);
  assert.equal(r.body.has_more, true);
  assert.equal(r.body.data.length, ATTENTION_LIST_MAX);
  assert.ok(r.body.data.every((it) => it.kind === 'unpaid_refund' && orders.has(it.order_id)));
  assert.equal(new Set(r.body.data.map((it) => it.order_id)).size, ATTENTION_LIST_MAX);
  const since = r.body.data.map((it) => Date.parse(it.since));
  assert.ok(since.every((t, i) => i === 0 || since[i - 1] <= t), 'oldest first');
  await assertBalanced(shop);
});
