// The buyer's whole path in a real browser, on a phone and on a desktop: buy a card key, pay in
// the sandbox, reveal it after confirming the waiver, ask for a refund through the wizard (the
// preview shown before submitting is the decision taken after), download the receipt. Every
// free-text field the buyer fills carries an XSS attempt that must stay inert text.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  DESKTOP, PHONE, PNG, assertClean, cardProduct, launch, openPage, paidOrder, shot, startShop,
} from './lib.mjs';
import { openCase } from '../e2e/lib/refunds.mjs';

const XSS_CONTACT = '<img src=x onerror=alert("contact")>';
const XSS_MESSAGE = '<script>alert("message")</script><b onmouseover=alert(1)>粗体?</b>';
const XSS_FILE = '<img src=x onerror=alert(1)>.png';

describe('buyer pages', () => {
  let shop, browser;
  before(async () => {
    [shop, browser] = await Promise.all([startShop(), launch()]);
  });
  after(async () => {
    await browser?.close();
    await shop?.cleanup();
  });

  for (const [label, device, lang] of [['phone', PHONE, 'zh'], ['desktop', DESKTOP, 'en']]) {
    it(`buys, pays, reveals, asks for a refund and downloads the receipt (${label})`, async () => {
      // Keys ending in an even digit: the sandbox issuer can void a revealed one, so the policy
      // approves at once (A2) and the preview says so.
      const { product } = await cardProduct(shop, { name: `Q币卡 10元 · ${label}`, noReasonDays: 7, digits: ['4'] });
      const page = await openPage(browser, shop.base, device);
      const L = (zh, en) => (lang === 'en' ? en : zh);
      await page.goto(`${shop.base}/`);
      if (lang === 'en') {
        await page.click('#lang');
        await page.waitForSelector('text=All products');
        await page.reload();
        await page.waitForSelector('text=All products'); // remembered in localStorage
      }
      const card = page.locator('.product', { hasText: product.name });
      await card.waitFor();
      if (label === 'phone') await shot(page, 'buyer-phone-products', { fullPage: false });
      await card.getByRole('link').click();

      const form = page.locator('#buy-form');
      await form.locator('input[name=contact]').fill(XSS_CONTACT);
      await form.locator('input[name=lookup_password]').fill('secret-123');
      await page.click('#buy-submit');
      await page.click('#token-saved'); // the buyer token is shown once: "I saved it"
      await page.getByRole('button', { name: L('去支付', 'Pay'), exact: true }).click();
      await page.getByRole('button', { name: L('确认支付', 'Confirm payment') }).click();
      await shop.advance(0); // the provider's callback arrives
      await page.waitForSelector(`.badge.s-delivered`);

      // Reveal: the shop asks first, since revealing ends the no-reason right.
      await page.getByRole('button', { name: L('提取', 'Reveal'), exact: true }).click();
      const confirm = page.locator('.key .confirm');
      await confirm.waitFor();
      assert.match(await confirm.innerText(), lang === 'en' ? /7-day no-reason/ : /7 天无理由退款/);
      await shot(page, `buyer-${label}-reveal-waiver`);
      await confirm.getByRole('button', { name: L('确定提取', 'Reveal') }).click();
      await page.waitForSelector('.secret-box');
      assert.match(await page.locator('.secret-box').innerText(), /T.*K0/);
      await shot(page, `buyer-${label}-order`);
      await shot(page, `buyer-${label}-order-screen`, { at: '#v-order h1' });

      // The refund wizard: reasons that fit a delivered card key, then the preview.
      await page.click('#ask-refund');
      await page.waitForSelector('.reasons input');
      const reasons = await page.locator('.reasons input').evaluateAll((els) => els.map((e) => e.value));
      assert.deepEqual(reasons, ['key_not_working', 'wrong_item', 'changed_mind', 'duplicate_charge']);
      assert.doesNotMatch(await page.locator('#v-refund').innerText(), /null|undefined/, 'no step not reached yet shows as text');
      await page.locator('.reasons input[value=key_not_working]').check();
      const preview = page.locator('#refund-preview');
      await preview.waitFor();
      const previewRule = await preview.getAttribute('data-rule');
      const previewOutcome = await preview.getAttribute('data-outcome');
      assert.equal(previewOutcome, 'approve');
      assert.equal(previewRule, 'E2');
      assert.match(await preview.innerText(), lang === 'en' ? /voided at the issuer|void/i : /作废|退款/);
      await page.locator('#refund-form textarea[name=message]').fill(XSS_MESSAGE);
      await page.locator('#refund-form input[type=file]').setInputFiles({ name: XSS_FILE, mimeType: 'image/png', buffer: PNG });
      const chip = page.locator('#refund-form .chip .fname');
      await chip.waitFor();
      assert.equal(await chip.innerText(), '<imgsrc=xonerror=alert(1)>.png'); // the server keeps printable ASCII, no spaces
      await shot(page, `buyer-${label}-refund-preview`);
      await shot(page, `buyer-${label}-refund-preview-screen`, { at: '#v-refund h1' });

      await page.click('#refund-submit');
      const decision = page.locator('#case-decision');
      await decision.waitFor();
      assert.equal(await decision.getAttribute('data-rule'), previewRule, 'the decision is the preview');
      assert.equal(await decision.getAttribute('data-outcome'), previewOutcome, 'the decision is the preview');
      const body = page.locator('.ev.msg .body').first();
      assert.equal(await body.innerText(), XSS_MESSAGE, 'the message is shown as typed, as text');
      assert.equal(await page.locator('.ev.msg b').count(), 0, 'no markup from the message');
      assert.equal(await page.locator('.ev.msg .chip').innerText(), `${L('附件', 'File')} <imgsrc=xonerror=alert(1)>.png`);
      await page.locator('.refunds li').first().waitFor();
      assert.match(await page.locator('.refunds').innerText(), lang === 'en' ? /expected by/ : /预计.*前到账/);
      await shot(page, `buyer-${label}-case`);

      // The payout completes at the sandbox provider (Alipay: 30 minutes); the case shows it.
      for (let i = 0; i < 4; i++) await shop.advance(600); // submitted, then settled by callback or polling
      await page.getByRole('button', { name: L('刷新', 'Refresh'), exact: true }).click();
      await page.waitForSelector('.refunds .pay-succeeded');

      // Back on the order: the case is listed; the receipt downloads as a JSON file.
      await page.getByRole('link', { name: L('← 返回订单', '← Back to the order') }).click();
      await page.waitForSelector('#receipt');
      assert.match(await page.locator('#v-order').innerText(), /kameng log verify/);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#receipt')]);
      assert.match(download.suggestedFilename(), /^kameng-receipt-ord_.*\.json$/);
      const receipt = JSON.parse(readFileSync(await download.path(), 'utf8'));
      assert.equal(receipt.object, 'receipt');
      assert.ok(receipt.entries.some((e) => e.kind === 'refund_decision'), JSON.stringify(receipt.entries.map((e) => e.kind)));
      assertClean(page);
      await page.context().close();
    });
  }

  // At the sandbox provider a refund of an amount ending in 66 meets an abnormal receiving
  // account (requires_action); one ending in 99 is refused for good (failed).
  for (const [price, status] of [[1066, 'requires_action'], [1099, 'failed']]) {
    it(`moves a refund the route refused (${status}) to the shop balance, once`, async () => {
      const { product } = await cardProduct(shop, { name: `Q币卡 · 退款 ${status}`, price, noReasonDays: 7 });
      const { order, token } = await paidOrder(shop, product.id, { method: 'wechat' });
      await openCase(shop, order.id, token, 'changed_mind');
      await shop.advance(0);
      await shop.advance(5 * 60); // WeChat's payout delay
      const page = await openPage(browser, shop.base, PHONE);
      await page.context().addInitScript(([id, tok]) =>
        sessionStorage.setItem('km.tokens', JSON.stringify({ [id]: tok })), [order.id, token]);
      await page.goto(`${shop.base}/#/order/${order.id}`);
      const stuck = page.locator('.refunds li', { has: page.locator(`.pay-${status}`) });
      await stuck.waitFor();
      assert.match(await stuck.innerText(), status === 'failed' ? /未能原路退回：支付渠道拒绝了这笔退款/
        : /未能原路退回：收款账户异常/, 'why, in the buyer\'s language');
      assert.match(await stuck.locator('.provider-words').innerText(), /^渠道原话：\S/, 'and the provider\'s own words');
      assert.match(await stuck.innerText(), status === 'failed' ? /退款失败于/ : /等待您选择退款方式/);
      assert.equal(await page.locator('.badge').first().innerText(), '退款未能到账，需您处理', 'not "refunded"');
      if (status === 'requires_action') {
        await shot(page, 'buyer-phone-refund-stuck', { at: '.refunds' });
        await shot(page, 'buyer-phone-refund-stuck-top', { fullPage: false });
      }

      await stuck.getByRole('button', { name: '改退至店铺余额' }).click();
      await page.waitForSelector('.refunds .pay-succeeded');
      const items = page.locator('.refunds li');
      assert.equal(await items.count(), 2);
      assert.match(await items.nth(0).innerText(), /已改退至店铺余额[\s\S]*结束于/, 'it ended; it never arrived');
      assert.match(await items.nth(1).innerText(), /退至店铺余额[\s\S]*已退回/);
      assert.equal(await page.getByRole('button', { name: '改退至店铺余额' }).count(), 0, 'offered no more');
      assert.equal(await page.locator('.badge').first().innerText(), '已退款');
      assert.equal(await page.locator('#keys-recalled').innerText(), '本订单已退款，卡密已收回，不能再提取。',
        'the keys section says where the keys went');
      if (status === 'requires_action') await shot(page, 'buyer-phone-refund-moved', { at: '.refunds' });
      const o = (await shop.get(`/v1/orders/${order.id}`, { token })).body;
      assert.equal(o.amount_refunded_fen, price, 'paid once');
      assertClean(page);
      await page.context().close();
    });
  }

  // A refund (50.16) the bank reported failed is paid late while the next one, all 100.99, is
  // still with the bank; that one then fails for good (..99). Only 50.83 of it is still owed: the
  // page says so, and the move pays that.
  it('moves only what is still owed when another refund of the payment was paid late', async () => {
    const DAY = 24 * 3600;
    const { product } = await cardProduct(shop, { name: 'Q币卡 · 迟到的退款', price: 10099, windowHours: 72 });
    const { order, token } = await paidOrder(shop, product.id, { method: 'bank_card' });
    const first = await openCase(shop, order.id, token, 'key_not_working', { message: 'the card does not load' });
    const part = await shop.post(`/v1/cases/${first.id}/decide`,
      { outcome: 'approve', rule: 'E2', amount_fen: 5016, explanation: 'half of the card failed' }, { token: shop.keys.agent });
    assert.equal(part.status, 200, JSON.stringify(part.body));
    await shop.advance(0);
    await shop.advance(2 * DAY); // the bank reports the 50.16 failed
    await shop.advance(30 * 60);
    const rv = await shop.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`, undefined, { token });
    assert.equal(rv.status, 200, JSON.stringify(rv.body));
    const second = await openCase(shop, order.id, token, 'key_not_working', { message: 'it still does not load' });
    assert.equal(second.refunds[0].amount_fen, 10099);
    await shop.advance(0);
    await shop.advance(2 * DAY - 30 * 60 + 60); // the 50.16 is paid after all
    await shop.advance(60 * 60); // the 100.99 fails for good

    const page = await openPage(browser, shop.base, PHONE);
    await page.context().addInitScript(([id, tok]) =>
      sessionStorage.setItem('km.tokens', JSON.stringify({ [id]: tok })), [order.id, token]);
    await page.goto(`${shop.base}/#/order/${order.id}`);
    const stuck = page.locator('.refunds li', { has: page.locator('.pay-failed') })
      .filter({ hasText: '100.99' });
    await stuck.waitFor();
    assert.match(await stuck.innerText(), /其中 ¥50\.16 已由同一笔付款的另一笔退款退回，改退只退其余的 ¥50\.83。/);
    await shot(page, 'buyer-phone-refund-partial-move', { at: '.refunds' });
    await stuck.getByRole('button', { name: '改退 ¥50.83 至店铺余额' }).click();
    await page.waitForSelector('.refunds li:has-text("退至店铺余额 · ¥50.83")');
    assert.equal(await page.getByRole('button', { name: /^改退/ }).count(), 0, 'offered no more');
    const o = (await shop.get(`/v1/orders/${order.id}`, { token })).body;
    assert.equal(o.amount_refunded_fen, 10099, 'each fen once');
    // The first case's decision is labelled partial, with what was left to refund then.
    await page.goto(`${shop.base}/#/case/${order.id}/${first.id}`);
    const partial = page.locator('.ev.decision .partial');
    await partial.waitFor();
    assert.equal(await partial.innerText(), '部分退款：¥50.16（当时可退 ¥100.99）');
    assertClean(page);
    await page.context().close();
  });

  // The buyer leaves the cashier open past the order's payment window, then pays: the money is
  // taken, but the order is gone. The page must not say "paid", and must follow the money back.
  it('does not call a payment that came after the order expired paid, and follows its return', async () => {
    const { product } = await cardProduct(shop, { name: 'Q币卡 · 逾期付款' });
    const page = await openPage(browser, shop.base, PHONE);
    await page.goto(`${shop.base}/#/buy/${product.id}`);
    const form = page.locator('#buy-form');
    await form.locator('input[name=lookup_password]').fill('secret-123');
    await page.click('#buy-submit');
    await page.click('#token-saved');
    await page.getByRole('button', { name: '去支付', exact: true }).click();
    const confirmPay = page.getByRole('button', { name: '确认支付' });
    await confirmPay.waitFor(); // the payment is open at the provider
    await shop.advance(16 * 60); // the order expires with the cashier still open
    await confirmPay.click();
    await shop.advance(0); // the provider's notification: captured, recorded as late
    const note = page.locator('#v-order .note[role=status]');
    await page.waitForFunction(() => /超过付款时限/.test(document.querySelector('#v-order .note[role=status]')?.textContent ?? ''));
    assert.doesNotMatch(await note.innerText(), /支付成功/);
    assert.equal(await page.locator('.badge[class*=s-]').innerText(), '已过期（逾期付款，原路退回）');
    const tag = page.locator('.tag', { hasText: '订单过期后到账' });
    assert.match(await tag.innerText(), /退回中/, 'the automatic refund is on its way');
    assert.match(await page.locator('.note', { hasText: '未用于本订单' }).innerText(), /正在原路退回，预计 .+ 前到账/);
    await shot(page, 'buyer-phone-late-payment', { at: '#v-order' });

    await shop.advance(3600); // Alipay books the refund
    await page.getByRole('button', { name: '刷新订单' }).click();
    await page.waitForSelector('.tag.okish');
    assert.match(await tag.innerText(), /已退回/);
    assert.match(await page.locator('.note', { hasText: '未用于本订单' }).innerText(), /已原路退回/);
    assertClean(page);
    await page.context().close();
  });

  // Two payments for one order: the first pays for it ('applied'), the second is a duplicate.
  // Only the duplicate is followed back, and the note ends once it is returned.
  it('follows a duplicate payment back, and not the payment that paid for the order', async () => {
    const { product } = await cardProduct(shop, { name: 'Q币卡 · 重复支付' });
    const created = await shop.post('/v1/orders', { product_id: product.id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, buyer_token: token } = created.body;
    const pays = [];
    for (let i = 0; i < 2; i++) {
      const p = await shop.post(`/v1/orders/${id}/payments`, { method: 'alipay' }, { token });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      pays.push(p.body.id);
    }
    for (const pay of pays) {
      const c = await shop.post(`/v1/sandbox/payments/${pay}/pay`, { outcome: 'succeeded' });
      assert.equal(c.status, 202, JSON.stringify(c.body));
    }
    await shop.advance(0);
    const page = await openPage(browser, shop.base, PHONE);
    await page.context().addInitScript(([o, tok]) =>
      sessionStorage.setItem('km.tokens', JSON.stringify({ [o]: tok })), [id, token]);
    await page.goto(`${shop.base}/#/order/${id}`);
    const tags = page.locator('#v-order .tag.warnish, #v-order .tag.okish');
    await page.waitForSelector('.tag.warnish');
    assert.deepEqual(await tags.allInnerTexts(), ['重复支付，退回中'], 'one tag, on the duplicate');
    const note = page.locator('.note', { hasText: '未用于本订单' });
    assert.match(await note.innerText(), /正在原路退回，预计 .+ 前到账/);
    assert.match(await page.locator('.badge[class*=s-]').innerText(), /卡密已发放/);

    await shop.advance(3600); // Alipay books the refund
    await page.getByRole('button', { name: '刷新订单' }).click();
    await page.waitForSelector('.tag.okish');
    assert.deepEqual(await tags.allInnerTexts(), ['重复支付，已退回']);
    assert.match(await note.innerText(), /已原路退回。$/);
    assertClean(page);
    await page.context().close();
  });

  it('refuses a quantity it would have to change, in the page\'s words', async () => {
    const { product } = await cardProduct(shop, { name: 'Q币卡 · 数量', digits: ['2', '4', '6'] });
    const page = await openPage(browser, shop.base, DESKTOP);
    await page.goto(`${shop.base}/#/buy/${product.id}`);
    const form = page.locator('#buy-form');
    await form.locator('input[name=lookup_password]').fill('secret-123');
    for (const q of ['0', '2.5', '4']) { // three keys in stock
      await form.locator('input[name=quantity]').fill(q);
      assert.equal(await page.locator('#buy-total').innerText(), '—', `no total for ${q}`);
      await page.click('#buy-submit');
      assert.equal(await form.locator('.err').innerText(), '购买数量须为 1–3 的整数');
      assert.equal(await form.locator('input[name=quantity]').getAttribute('aria-invalid'), 'true');
    }
    assert.match(page.url(), /#\/buy\//, 'no order was placed');
    const orders = (await shop.get('/v1/orders?limit=100', { token: shop.keys.admin })).body.data;
    assert.equal(orders.filter((o) => o.product_id === product.id).length, 0);
    assertClean(page);
    await page.context().close();
  });

  // A refund of an amount ending in 17 sits with a slow bank for ten days, past the date promised.
  it('shows a refund past its promised date as overdue', async () => {
    const { product } = await cardProduct(shop, { name: 'Q币卡 · 慢银行', price: 1017, noReasonDays: 7 });
    const { order, token } = await paidOrder(shop, product.id, { method: 'wechat' });
    await openCase(shop, order.id, token, 'changed_mind');
    await shop.advance(0);
    await shop.advance(4 * 24 * 3600); // one working day was promised
    const page = await openPage(browser, shop.base, PHONE);
    await page.context().addInitScript(([id, tok]) =>
      sessionStorage.setItem('km.tokens', JSON.stringify({ [id]: tok })), [order.id, token]);
    await page.goto(`${shop.base}/#/order/${order.id}`);
    const late = page.locator('.refunds li .overdue');
    await late.waitFor();
    assert.match(await late.innerText(), /已超过承诺的到账时间 .+，店铺已收到逾期提醒。/);
    assert.match(await page.locator('.refunds li').innerText(), /退款中/);
    await shot(page, 'buyer-phone-refund-overdue', { at: '.refunds' });
    assertClean(page);
    await page.context().close();
  });

  // The figures are the shop's own, as GET /v1/trust gives them; the seller of account goods has
  // theirs on the product.
  it('shows the shop\'s refund record, and a seller\'s on their account goods', async () => {
    const account = (await shop.products()).find((p) => p.kind === 'account');
    await paidOrder(shop, account.id, { method: 'alipay' });
    const { product } = await cardProduct(shop, { name: 'Q币卡 · 退款记录', noReasonDays: 7 });
    const refunded = await paidOrder(shop, product.id, { method: 'balance' });
    await openCase(shop, refunded.order.id, refunded.token, 'changed_mind'); // back at once
    await shop.advance(61); // the figures are at most a minute old
    const trust = (await shop.get('/v1/trust')).body;
    assert.ok(trust.shop.paid_orders > trust.shop.refunded_orders && trust.shop.refunded_orders > 0, JSON.stringify(trust.shop));
    const pct = (bp) => `${Math.round(bp / 10) / 10}%`; // the figures here are well inside 0.1–99.9%
    const page = await openPage(browser, shop.base, PHONE);
    await page.goto(`${shop.base}/`);
    const box = page.locator('#trust .trust-figures');
    await box.waitFor();
    const text = await box.innerText();
    assert.ok(text.includes(pct(trust.shop.refund_rate_bp)), text);
    assert.ok(text.includes(`${trust.shop.refunded_orders} / ${trust.shop.paid_orders} 单`), text);
    assert.match(text, /退款率[\s\S]*申请到退款到账（中位数）[\s\S]*按公开规则自动处理[\s\S]*客服按时处理/);
    await shot(page, 'buyer-phone-trust', { at: '#trust' });
    // The account's seller: their orders only.
    const seller = trust.sellers.find((x) => x.seller_id === account.seller_id);
    await page.goto(`${shop.base}/#/buy/${account.id}`);
    const theirs = page.locator('#buy-product .trust');
    await theirs.waitFor();
    assert.ok((await theirs.innerText()).startsWith(`卖家 ${seller.name} 近 90 天的记录`));
    assert.ok((await theirs.innerText()).includes(`${seller.refunded_orders} / ${seller.paid_orders} 单`));
    assertClean(page);
    await page.context().close();
  });

  it('reads the published policy and keeps staff keys out of the buyer page', async () => {
    const page = await openPage(browser, shop.base, PHONE);
    await page.goto(`${shop.base}/#/policy`);
    await page.waitForSelector('#rule-E4');
    assert.match(await page.locator('#rule-N1').innerText(), /已使用/);
    assert.match(await page.locator('#policy-disputes').innerText(), /争议金额被冻结，店铺不会重复退款/);
    await shot(page, 'buyer-phone-policy');
    // A staff key pasted where a buyer token goes opens nothing.
    await page.goto(`${shop.base}/#/lookup`);
    await page.fill('#lookup-form input[name=order_id]', 'ord_x');
    await page.fill('#lookup-form input[name=lookup_password]', shop.keys.admin);
    await page.click('#lookup-form button');
    await page.waitForSelector('#lookup-form .err:not(:empty)');
    const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
    assert.ok(!stored.includes('sk_'), stored);
    assertClean(page);
    await page.context().close();
  });
});
