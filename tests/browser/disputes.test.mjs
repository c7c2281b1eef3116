// Disputes at the payment provider in a real browser: the agent sees the buyer's complaint under
// the queue by its due date, downloads the evidence bundle, sends it, and reads the provider's
// decision; the buyer's order page says what the provider froze and what it decided.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  DESKTOP, PHONE, assertClean, cardProduct, launch, openPage, paidOrder, reviewableCase, shot, startShop,
} from './lib.mjs';

describe('disputes at the payment provider', () => {
  let shop, browser;
  before(async () => {
    [shop, browser] = await Promise.all([startShop(), launch()]);
  });
  after(async () => {
    await browser?.close();
    await shop?.cleanup();
  });

  async function disputed({ reveal }) {
    const { product } = await cardProduct(shop, { price: 2500, digits: ['3'] });
    const { order, token } = await paidOrder(shop, product.id);
    if (reveal) {
      const r = await shop.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`, {}, { token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const d = await shop.post(`/v1/sandbox/payments/${order.payments[0].id}/dispute`, { reason: 'not_received' });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    await shop.advance(0);
    const view = (await shop.get(`/v1/orders/${order.id}`, { token })).body;
    assert.equal(view.disputes.length, 1, JSON.stringify(view.disputes));
    return { order, token, dispute: view.disputes[0] };
  }

  async function buyerPage(orderId, token) {
    const page = await openPage(browser, shop.base, PHONE);
    await page.goto(`${shop.base}/`);
    await page.evaluate(([id, tk]) => sessionStorage.setItem('km.tokens', JSON.stringify({ [id]: tk })), [orderId, token]);
    await page.goto(`${shop.base}/#/order/${orderId}`);
    return page;
  }

  it('the agent sends the evidence bundle, and the buyer reads the freeze and the decision', async () => {
    const { order, token, dispute } = await disputed({ reveal: true });
    const buyer = await buyerPage(order.id, token);
    const item = buyer.locator(`[data-dispute="${dispute.id}"]`);
    await item.waitFor();
    assert.match(await item.innerText(), /未收到货 · ¥25\.00/);
    assert.match(await item.innerText(), /支付平台已冻结 ¥25\.00，店铺须在 .* 前答复/);
    await shot(buyer, 'dispute-buyer-open');

    const page = await openPage(browser, shop.base, DESKTOP);
    await page.goto(`${shop.base}/web/agent.html`);
    await page.fill('#signin-form input[name=key]', shop.keys.agent);
    await page.click('#signin-form button[type=submit]');
    const row = page.locator(`#disputes-list [data-dispute="${dispute.id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /答复截止 .* · 还剩 7 天/, 'counted on the shop\'s clock');
    await row.click();
    await page.waitForSelector('#dispute-status');
    assert.equal(await page.locator('#dispute-status').innerText(), '待答复');
    assert.match(await page.locator('#case').innerText(), /支付平台已冻结 ¥25\.00/);
    // Beside the bundle, what the shop's records say about delivery.
    assert.match(await page.locator('#dispute-facts').innerText(), /卡密 1 把，已提取 1 把/);
    await shot(page, 'dispute-agent-open');

    await page.click('#dispute-submit');
    // Answered; the provider decides at once, and its notification may already be in.
    await page.waitForFunction(() => ['支付平台审理中', '店铺胜诉'].includes(document.querySelector('#dispute-status')?.textContent));
    assert.equal(await page.locator('#dispute-submit').count(), 0, 'answered once: no buttons left');
    await shop.advance(0);
    await page.reload();
    await page.waitForSelector('#dispute-status:text("店铺胜诉")');
    assert.match(await page.locator('#case').innerText(), /证据证明已交付/);
    // The bundle as sent, byte for byte: its hash is the one shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dispute-bundle')]);
    const bytes = await readFile(await download.path());
    const shown = (await page.locator('#case code.id').last().innerText()).trim();
    assert.equal(createHash('sha256').update(bytes).digest('hex'), shown);
    await shot(page, 'dispute-agent-won');

    await buyer.reload();
    await item.waitFor();
    assert.match(await item.innerText(), /支付平台裁定店铺已交付商品，投诉未获支持/);
    assertClean(page);
    assertClean(buyer);
    await page.context().close();
    await buyer.context().close();
  });

  it('a case on a disputed order points the agent to the dispute; accepting returns the money', async () => {
    // The buyer asked the shop, then complained at the provider as well.
    const { order, token, caseId } = await reviewableCase(shop);
    const d = await shop.post(`/v1/sandbox/payments/${order.payments[0].id}/dispute`, { reason: 'unauthorized' });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    await shop.advance(0);
    const dispute = (await shop.get(`/v1/orders/${order.id}`, { token })).body.disputes[0];
    assert.ok(dispute, 'the shop has the dispute');

    const page = await openPage(browser, shop.base, DESKTOP);
    await page.goto(`${shop.base}/web/agent.html#/case/${caseId}`);
    await page.fill('#signin-form input[name=key]', shop.keys.agent);
    await page.click('#signin-form button[type=submit]');
    const note = page.locator('#case-disputes');
    await note.waitFor();
    assert.match(await note.innerText(), /待答复：冻结 ¥10\.00，答复截止/);
    await shot(page, 'dispute-agent-case');
    await page.click('#case-disputes a');
    await page.waitForSelector('#dispute-accept');
    assert.ok(page.url().endsWith(`#/dispute/${dispute.id}`));
    await page.click('#dispute-accept');
    await page.waitForFunction(() => ['支付平台审理中', '已退给买家'].includes(document.querySelector('#dispute-status')?.textContent));
    await shop.advance(0);
    await page.reload();
    await page.waitForSelector('#dispute-status:text("已退给买家")');
    assert.match(await page.locator('#case').innerText(), /店铺认可投诉/);

    const buyer = await buyerPage(order.id, token);
    const item = buyer.locator(`[data-dispute="${dispute.id}"]`);
    await item.waitFor();
    assert.match(await item.innerText(), /非本人支付 · ¥10\.00/);
    assert.match(await item.innerText(), /支付平台裁定退款：¥10\.00 已经支付平台退回给您/);
    assert.match(await buyer.locator('.badge').first().innerText(), /已退款/);
    await shot(buyer, 'dispute-buyer-lost');
    assertClean(page);
    assertClean(buyer);
    await page.context().close();
    await buyer.context().close();
  });
});
