// The agent console in a real browser: sign in with a staff key (a buyer token is refused), work
// the queue by keyboard, read a case's facts beside the buyer's words and evidence, ask for
// evidence, and decide under a rule that fits; then see the refund that follows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, PHONE, PNG, assertClean, cardProduct, launch, openPage, paidOrder, reviewableCase, shot, startShop,
} from './lib.mjs';

const XSS_MESSAGE = '<img src=x onerror=alert("agent")>我没用过这张卡';
const XSS_FILE = '"><svg onload=alert(1)>.png';

describe('agent console', () => {
  let shop, browser;
  before(async () => {
    [shop, browser] = await Promise.all([startShop(), launch()]);
  });
  after(async () => {
    await browser?.close();
    await shop?.cleanup();
  });

  async function signIn(page, key) {
    await page.goto(`${shop.base}/web/agent.html`);
    await page.fill('#signin-form input[name=key]', key);
    await page.click('#signin-form button[type=submit]');
  }

  // A buyer's phone with the order's token in its session, as after buying.
  async function buyerPage(orderId, token, hash) {
    const buyer = await openPage(browser, shop.base, PHONE);
    await buyer.goto(`${shop.base}/`);
    await buyer.evaluate(([id, tk]) => sessionStorage.setItem('km.tokens', JSON.stringify({ [id]: tk })), [orderId, token]);
    await buyer.goto(`${shop.base}/${hash}`);
    return buyer;
  }

  it('refuses a buyer token and never reads the buyer\'s session', async () => {
    const { token, caseId } = await reviewableCase(shop);
    const page = await openPage(browser, shop.base, PHONE);
    // The same tab holds a buyer session: the console must not use it.
    await page.goto(`${shop.base}/`);
    await page.evaluate((tk) => sessionStorage.setItem('km.tokens', JSON.stringify({ x: tk })), token);
    await page.goto(`${shop.base}/web/agent.html#/case/${caseId}`);
    await page.waitForSelector('#signin:not([hidden])');
    assert.equal(await page.locator('#console').isHidden(), true);
    await shot(page, 'agent-phone-signin', { fullPage: false });
    await page.fill('#signin-form input[name=key]', token);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#signin-form .err:not(:empty)');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('km.staff.agent')), null);
    assertClean(page);
    await page.context().close();
  });

  it('opens a case by keyboard, asks for evidence, decides N1, and the buyer can appeal', async () => {
    const { caseId, order, token } = await reviewableCase(shop, { message: XSS_MESSAGE });
    const { caseId: second } = await reviewableCase(shop);
    const page = await openPage(browser, shop.base, DESKTOP);
    await signIn(page, shop.keys.agent);
    await page.waitForSelector(`#q-${caseId}`);
    // j/k move in the queue, Enter opens.
    await page.locator('body').press('k');
    const ids = await page.locator('.q-item').evaluateAll((els) => els.map((e) => e.dataset.case));
    const target = ids.indexOf(caseId);
    for (let i = 0; i < target; i++) await page.keyboard.press('j');
    assert.equal(await page.locator('.q-item.sel').getAttribute('data-case'), caseId);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#case-status');
    assert.ok(page.url().endsWith(`#/case/${caseId}`));
    // The buyer's words as text, beside the facts.
    assert.equal(await page.locator('.words .ev.buyer .body').innerText(), XSS_MESSAGE);
    const facts = await page.locator('.facts').innerText();
    assert.match(facts, /未激活/);
    assert.match(facts, /127\.0\.0\.1/);
    // ? shows the help.
    await page.keyboard.press('?');
    await page.waitForSelector('#help:not([hidden])');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#help', { state: 'hidden' });

    // Ask for evidence; the buyer answers with a file; back in the queue.
    await page.keyboard.press('e');
    await page.keyboard.type('请上传充值失败页面的截图。');
    await page.click('#ask-submit');
    await page.waitForSelector('#case-status.c-awaiting_buyer');
    // The buyer sees the reply clock, and answers on their page with a file.
    const buyer = await buyerPage(order.id, token, `#/case/${order.id}/${caseId}`);
    const clock = buyer.locator('.clock');
    await clock.waitFor();
    assert.match(await clock.innerText(), /2026\/3\/5.*还剩 3 天 0 小时/);
    const reply = buyer.locator('form', { has: buyer.locator('textarea[name=body]') });
    await reply.locator('textarea').fill('截图在这里 <i>see</i>');
    await reply.locator('input[type=file]').setInputFiles({ name: XSS_FILE, mimeType: 'image/png', buffer: PNG });
    await reply.locator('.chip').waitFor();
    await shot(buyer, 'buyer-phone-case-awaiting');
    await reply.locator('button[type=submit]').click();
    await buyer.waitForSelector('#case-status.c-open');
    assert.equal(await buyer.locator('.ev.mine .body').last().innerText(), '截图在这里 <i>see</i>');
    await page.click('#queue-refresh');
    await page.reload();
    await page.waitForSelector('#case-status.c-open');
    await page.waitForSelector('.evidence-item img.thumb');
    const link = page.locator('.evidence-item a[download]');
    assert.match(await link.getAttribute('href'), /^blob:/);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /^ev_.*\.png$/);
    await shot(page, 'agent-desktop-case');

    // r: reject; only N rules are offered; decide N1.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('r');
    const rules = await page.locator('#rule option').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(rules, ['N1', 'N2', 'N3']);
    await page.keyboard.press('Escape'); // out of the select, keys work again
    await page.keyboard.press('a');
    assert.deepEqual(await page.locator('#rule option').evaluateAll((els) => els.map((e) => e.value)), ['E1', 'E2', 'E3', 'E4', 'E5']);
    await page.keyboard.press('Escape');
    await page.keyboard.press('r');
    await page.selectOption('#rule', 'N1');
    await page.fill('#explanation', '发卡方记录显示此卡已被使用。');
    await page.click('#decide-submit');
    await page.waitForSelector('#case-status.c-decided');
    assert.match(await page.locator('#next').innerText(), /申诉/);
    await page.waitForSelector(`#q-${caseId}`, { state: 'detached' });
    await shot(page, 'agent-desktop-decided-reject');

    // The buyer reads the decision and appeals once; the case is back in the queue.
    await buyer.click('text=刷新');
    const appeal = buyer.locator('form', { has: buyer.locator('textarea[name=message]') });
    await appeal.waitFor();
    assert.match(await buyer.locator('#case-decision').innerText(), /N1/);
    await appeal.locator('textarea').fill('我有新的证据：充值记录里没有这张卡。');
    await appeal.locator('button[type=submit]').click();
    await buyer.waitForSelector('#case-status.c-appealed');
    await shot(buyer, 'buyer-phone-case-appealed');
    assertClean(buyer);
    await buyer.context().close();
    await page.click('#queue-refresh');
    await page.waitForSelector(`#q-${caseId}`);
    // Past its deadline the appeal is flagged in the queue.
    await shop.advance(49 * 3600);
    await page.click('#queue-refresh');
    await page.waitForSelector(`#q-${caseId}.overdue .flag`);
    assert.match(await page.locator('#queue-count').innerText(), /超时/);

    // The other case: approve under E2; the refund appears with its date.
    await page.goto(`${shop.base}/web/agent.html#/case/${second}`);
    await page.waitForSelector('#decide-form');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('a');
    await page.selectOption('#rule', 'E2');
    await page.click('#decide-submit');
    await page.waitForSelector('#case-status.c-decided');
    await page.waitForSelector('#next .refund-line');
    assert.match(await page.locator('#next .refund-line').innerText(), /¥10\.00/);
    await shot(page, 'agent-desktop-decided-approve');
    assertClean(page);
    await page.context().close();
  });

  // 10 CNY by WeChat; 2.99 approved for a revealed key that failed, refused for good by the route
  // (..99); the buyer asks again.
  async function refusedThenAskedAgain() {
    const { product } = await cardProduct(shop, { digits: ['7'] });
    const { order, token } = await paidOrder(shop, product.id, { method: 'wechat' });
    const rv = await shop.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`, undefined, { token });
    assert.equal(rv.status, 200, JSON.stringify(rv.body));
    const ask = (message) => shop.post(`/v1/orders/${order.id}/cases`, { reason: 'key_not_working', message }, { token });
    const first = (await ask('卡密提示已被使用。')).body;
    const decided = await shop.post(`/v1/cases/${first.id}/decide`, { outcome: 'approve', rule: 'E2', amount_fen: 299, explanation: '退一部分。' }, { token: shop.keys.agent });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    await shop.advance(0);
    await shop.advance(300);
    const again = (await ask('钱还没有退回来。')).body;
    assert.equal(again.status, 'open');
    return { order, token, refund: decided.body.refunds[0], again };
  }

  // The agent opens the buyer's second request; the refund to move is listed above the decision.
  async function openUnpaid(again) {
    const page = await openPage(browser, shop.base, DESKTOP);
    await signIn(page, shop.keys.agent);
    await page.goto(`${shop.base}/web/agent.html#/case/${again.id}`);
    const unpaid = page.locator('#unpaid');
    await unpaid.waitFor();
    return { page, unpaid };
  }

  it('pays a refund the route refused by moving it, not by approving the claim again', async () => {
    const { order, token, refund, again } = await refusedThenAskedAgain();

    const { page, unpaid } = await openUnpaid(again);
    assert.match(await unpaid.innerText(), /¥2\.99 · 微信支付 · 退款失败/);
    await shot(page, 'agent-desktop-unpaid-refund', { at: '#unpaid' });
    // Approving again is refused, and says which refund to move.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('a');
    await page.selectOption('#rule', 'E2');
    await page.fill('#amount', '2.99');
    await page.click('#decide-submit');
    await page.waitForSelector('#decide-form .err:not(:empty)');
    assert.match(await page.locator('#decide-form .err').innerText(), new RegExp(refund.id));
    await page.fill('#amount', '');
    // Moved: the pane goes, the balance refund is in the facts, and the claim can be decided.
    await unpaid.locator('button.move').click();
    await unpaid.waitFor({ state: 'detached' });
    assert.match(await page.locator('.facts').innerText(), /¥2\.99\s+余额\s+E2\s+已退回/);
    // States in words, the API's code kept as the tooltip.
    const paid = page.locator('.facts [data-code=succeeded]').first();
    assert.equal(await paid.innerText(), '支付成功');
    assert.equal(await paid.getAttribute('title'), 'succeeded');
    assert.equal(await page.locator('.facts [data-code=applied]').first().innerText(), '用于本单');
    // The order has had a refund: the agent states what this claim is worth, nothing is assumed.
    assert.equal(await page.locator('#amount').inputValue(), '');
    assert.equal(await page.locator('#amount').getAttribute('placeholder'), '7.01');
    await page.click('#decide-submit');
    await page.waitForSelector('#decide-form .err:not(:empty)');
    // More than is left is refused in the console's words and in yuan.
    await page.fill('#amount', '8.00');
    await page.click('#decide-submit');
    await page.waitForFunction(() => /最多/.test(document.querySelector('#decide-form .err').textContent));
    assert.equal(await page.locator('#decide-form .err').innerText(), '退款金额超过了这笔订单还能退的金额（最多 ¥7.01）。');
    await page.fill('#amount', '1.00');
    await page.click('#decide-submit');
    await page.waitForSelector('#case-status.c-decided');
    const o = (await shop.get(`/v1/orders/${order.id}`, { token })).body;
    assert.deepEqual(o.refunds.map((r) => [r.method, r.amount_fen, r.status]),
      [['wechat', 299, 'failed'], ['balance', 299, 'succeeded'], ['wechat', 100, 'pending']]);
    assertClean(page);
    await page.context().close();
  });

  // A refund of 5.17 by WeChat Pay: the sandbox's slow bank (..17) takes it and pays thirty days
  // later. The buyer, still waiting two days on, asks again within the refund window.
  it('marks a refund still with the provider past its promised date as overdue', async () => {
    const { product } = await cardProduct(shop, { price: 1017, digits: ['7'], windowHours: 72 });
    const { order, token } = await paidOrder(shop, product.id, { method: 'wechat' });
    const ask = (message) => shop.post(`/v1/orders/${order.id}/cases`, { reason: 'key_not_working', message }, { token });
    const first = (await ask('卡密无法使用。')).body;
    const decided = await shop.post(`/v1/cases/${first.id}/decide`, { outcome: 'approve', rule: 'E2', amount_fen: 517, explanation: '退一部分。' }, { token: shop.keys.agent });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    await shop.advance(0);
    await shop.advance(300);
    let r = (await shop.get(`/v1/refunds/${decided.body.refunds[0].id}`, { token })).body;
    assert.equal(r.status, 'pending');
    assert.equal(r.overdue, false);
    // One working day is promised for WeChat Pay; two days on, the refund is still with the bank.
    await shop.advance(2 * 86400);
    r = (await shop.get(`/v1/refunds/${r.id}`, { token })).body;
    assert.equal(r.overdue, true);
    const again = (await ask('两天了，钱还没有退回来。')).body;
    assert.equal(again.status, 'open', JSON.stringify(again));

    const page = await openPage(browser, shop.base, DESKTOP);
    await signIn(page, shop.keys.agent);
    await page.goto(`${shop.base}/web/agent.html#/case/${again.id}`);
    const late = page.locator('.facts td .late', { hasText: '已逾期' });
    await late.waitFor();
    const row = page.locator('.facts tr', { has: page.locator('.late', { hasText: '已逾期' }) });
    assert.match(await row.innerText(), /¥5\.17\s+微信支付\s+E2\s+退款中/, 'the refund still with the bank');
    assert.match(await late.innerText(), /^2026\/\d+\/\d+.*（已逾期）$/, 'its promised date, marked overdue');
    assert.equal(await page.locator('#unpaid').count(), 0, 'still with the bank: nothing to move');
    await shot(page, 'agent-desktop-refund-overdue', { at: '.facts' });
    assertClean(page);
    await page.context().close();
  });

  it('says so when a refund was moved by someone else before the agent could', async () => {
    const { order, token, refund, again } = await refusedThenAskedAgain();

    const { page, unpaid } = await openUnpaid(again);
    // The console has finished loading the case (a later load would show the refund gone); then
    // the buyer moves it from the order page.
    await page.waitForLoadState('networkidle');
    const moved = await shop.post(`/v1/refunds/${refund.id}/reroute`, { method: 'balance' }, { token });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    await unpaid.locator('button.move').click();
    await page.waitForSelector('#unpaid .err:not(:empty)');
    assert.match(await unpaid.locator('.err').innerText(), /moved|改退/, 'the shop\'s refusal is shown');
    assert.equal(await unpaid.locator('button.move').isDisabled(), false, 'the button can be used again');
    const o = (await shop.get(`/v1/orders/${order.id}`, { token })).body;
    assert.deepEqual(o.refunds.map((x) => [x.method, x.amount_fen, x.status]),
      [['wechat', 299, 'failed'], ['balance', 299, 'succeeded']], 'paid once');
    assertClean(page);
    await page.context().close();
  });
});
