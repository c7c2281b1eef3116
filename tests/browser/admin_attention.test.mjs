// The admin dashboard lists what a person must act on, as the shop reads it from its books
// (GET /v1/attention): a refund the provider paid after the buyer had moved it to the shop
// balance (paid twice), a refund past its promised date, and one the route refused that nobody
// has moved. A shop of its own, so the refund figures of the dashboard test stay as they are.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, assertClean, cardProduct, launch, openPage, paidOrder, shot, startShop } from './lib.mjs';

const DAY = 86400;

describe('admin dashboard: refunds that need a person', () => {
  let shop, browser;
  const ids = {};
  before(async () => {
    [shop, browser] = await Promise.all([startShop(), launch()]);
    // At the sandbox refund provider, by WeChat Pay: ..16 is reported failed and paid two days
    // after the shop took that report; ..17 is a slow bank, paid after thirty days; ..66 meets an
    // abnormal receiving account. Each is a no-reason refund of the whole order.
    const refunded = async (price) => {
      const { product } = await cardProduct(shop, { name: `关注 ${price}`, price, noReasonDays: 7 });
      const { order, token } = await paidOrder(shop, product.id, { method: 'wechat' });
      const c = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'changed_mind' }, { token });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      return { order: order.id, refund: c.body.refunds[0].id, token };
    };
    ids.twice = await refunded(2016);
    ids.late = await refunded(1017);
    ids.held = await refunded(1066);
    ids.fine = await refunded(1012);
    await shop.advance(0);
    await shop.advance(300); // WeChat's payout delay
    const moved = await shop.post(`/v1/refunds/${ids.twice.refund}/reroute`, { method: 'balance' }, { token: ids.twice.token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    await shop.advance(2 * DAY);
  });
  after(async () => {
    await browser?.close();
    await shop?.cleanup();
  });

  it('lists each with what happened, the money first', async () => {
    const page = await openPage(browser, shop.base, DESKTOP);
    await page.goto(`${shop.base}/web/admin.html`);
    await page.fill('#signin-form input[name=key]', shop.keys.admin);
    await page.click('#signin-form button[type=submit]');
    const rows = page.locator('#attention tbody tr');
    await rows.first().waitFor();
    assert.match(await page.locator('#attention h2').innerText(), /需要人工处理（3）/);
    const text = await rows.allInnerTexts();
    assert.equal(text.length, 3, text.join('\n'));
    assert.match(text[0], /^重复到账\s/);
    assert.ok(text[0].includes(ids.twice.order) && text[0].includes(ids.twice.refund), text[0]);
    assert.match(text[0], /¥20\.16 · 微信支付/);
    assert.match(text[1], /^逾期未到账\s/);
    assert.ok(text[1].includes(ids.late.refund), text[1]);
    assert.match(text[2], /^原路未退回，待改退\s/);
    assert.ok(text[2].includes(ids.held.refund), text[2]);
    assert.match(text[2], /abnormal/, 'the provider\'s words');
    assert.ok(!text.join('\n').includes(ids.fine.order), 'a refund that arrived is not listed');
    await shot(page, 'admin-desktop-attention', { at: '#attention' });

    // The paid-twice money is recovered off-line; the admin records how, and it leaves the list.
    const first = rows.first();
    await first.locator('input[name=note]').fill('The buyer returned 20.16 to the shop balance.');
    const sent = page.waitForRequest((q) => q.url().endsWith('/settle'));
    await first.getByRole('button', { name: '标记已结清' }).click();
    assert.match((await sent).headers()['idempotency-key'] || '', /^[0-9a-f]{32}$/, 'a retry of the form replays the answer');
    await page.waitForFunction(() => /需要人工处理（2）/.test(document.querySelector('#attention h2')?.textContent || ''));
    const left = await page.locator('#attention tbody tr').allInnerTexts();
    assert.equal(left.length, 2, left.join('\n'));
    assert.ok(!left.join('\n').includes(ids.twice.refund), 'settled, so no longer listed');
    const timeline = (await shop.get(`/v1/orders/${ids.twice.order}`, { token: ids.twice.token })).body.timeline;
    assert.equal(timeline.filter((e) => e.type === 'attention.settled').length, 1);
    assertClean(page);
    await page.context().close();
  });
});
