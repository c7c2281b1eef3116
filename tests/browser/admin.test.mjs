// The admin pages in a real browser: products and their terms, a card-key import with a bad line
// (the per-line report) and a good file, the policy, an API key shown once, and the refund
// dashboard whose plots render from real refunds spread over two days. A product name carrying
// markup stays text on the admin page and on the buyer's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, PHONE, assertClean, cardProduct, createProduct, launch, openPage, paidOrder, reviewableCase, shot, startShop,
} from './lib.mjs';

const XSS_NAME = '<img src=x onerror=alert("name")>点卡';

describe('admin pages', () => {
  let shop, browser;
  before(async () => {
    [shop, browser] = await Promise.all([startShop(), launch()]);
    await seedRefunds(shop);
  });
  after(async () => {
    await browser?.close();
    await shop?.cleanup();
  });

  async function signIn(page) {
    await page.goto(`${shop.base}/web/admin.html`);
    await page.fill('#signin-form input[name=key]', shop.keys.admin);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#admin:not([hidden])');
  }

  it('refuses an agent key', async () => {
    const page = await openPage(browser, shop.base, PHONE);
    await page.goto(`${shop.base}/web/admin.html`);
    await page.fill('#signin-form input[name=key]', shop.keys.agent);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#signin-form .err:not(:empty)');
    assert.equal(await page.locator('#admin').isHidden(), true);
    assertClean(page);
    await page.context().close();
  });

  it('reads the dashboard: every plot is drawn from the refunds', async () => {
    const page = await openPage(browser, shop.base, DESKTOP);
    await signIn(page);
    await page.waitForSelector('#plot-money canvas');
    assert.equal(await page.locator('.plot canvas').count(), 4);
    assert.equal(await page.locator('.plot .u-series').count() >= 4, true);
    const kpis = await page.locator('.kpis').innerText();
    assert.match(kpis, /\b5\b/, kpis); // five refunds
    assert.match(kpis, /60%/, kpis); // three of five decided by the machine
    // Two days of data behind the volume plot.
    await page.locator('#plot-volume + details summary').click();
    assert.equal(await page.locator('#plot-volume + details tbody tr').count(), 2);
    // The canvas has ink on it (the bars), not just axes.
    const inked = await page.locator('#plot-volume canvas').evaluate((c) => {
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] > 150 && px[i + 1] < 120 && px[i + 2] < 80 && px[i + 3] > 0) n++;
      return n;
    });
    assert.ok(inked > 100, `bars drawn (${inked} brand-coloured pixels)`);
    await shot(page, 'admin-desktop-dashboard');
    assertClean(page);
    await page.context().close();
  });

  it('imports card keys: a bad line is reported by number, a clean file goes in', async () => {
    const product = await createProduct(shop, { kind: 'card_key', name: XSS_NAME, price_fen: 3000 });
    const page = await openPage(browser, shop.base, DESKTOP);
    await signIn(page);
    await page.click('[data-tab=products]');
    const row = page.locator('.products-table tr', { hasText: 'onerror' });
    await row.waitFor();
    assert.equal(await row.locator('.pname').innerText(), XSS_NAME, 'the name is text');
    assert.equal(await page.locator('.products-table img').count(), 0);
    await shot(page, 'admin-desktop-products');

    await page.click('[data-tab=import]');
    await page.selectOption('#import-product', product.id);
    await page.fill('#import-data', 'number,password\nXSSA0001,pw-1\nXSSA0002,\nXSSA0001,pw-1\n');
    await page.click('#import-submit');
    const problems = page.locator('.problems tbody tr');
    await problems.first().waitFor();
    const lines = await problems.evaluateAll((rows) => rows.map((r) => r.cells[0].textContent));
    assert.ok(lines.includes('3'), `line 3 (empty password) reported: ${lines}`);
    assert.ok(lines.includes('4'), `line 4 (the same key again) reported: ${lines}`);
    assert.match(await page.locator('#import-report .err').innerText(), /^文件中有 \d+ 处问题，没有导入任何卡密。$/);
    await shot(page, 'admin-desktop-import-report');

    await page.setInputFiles('#import-file', {
      name: 'keys.json', mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify([{ number: 'XSSB0001', password: 'p1' }, { number: 'XSSB0002', password: 'p2' }])),
    });
    await page.waitForFunction(() => document.querySelector('#import-data').value.includes('XSSB0002'));
    await page.click('#import-submit');
    await page.waitForSelector('#import-ok');
    assert.match(await page.locator('#import-ok').innerText(), /2/);
    assert.match(await page.locator('#import-product option:checked').innerText(), /库存 2$/, 'the list says the new stock');
    assertClean(page);
    await page.context().close();

    // The buyer sees the same name as text.
    const buyer = await openPage(browser, shop.base, PHONE);
    await buyer.goto(`${shop.base}/`);
    const card = buyer.locator('.product', { hasText: 'onerror' });
    await card.waitFor();
    assert.equal(await card.locator('h3').innerText(), XSS_NAME);
    assertClean(buyer);
    await buyer.context().close();
  });

  it('creates a product, shows the policy, and creates an API key shown once', async () => {
    const page = await openPage(browser, shop.base, PHONE);
    await signIn(page);
    await page.click('[data-tab=products]');
    await page.selectOption('#product-form select[name=kind]', 'card_key');
    await page.fill('#product-form input[name=name]', '网易一卡通 30元');
    await page.fill('#product-form input[name=price]', '29.50');
    await page.fill('#product-form input[name=face]', '30');
    await page.selectOption('#product-form select[name=no_reason_days]', '7');
    await page.click('#product-submit');
    await page.locator('.products-table tr', { hasText: '网易一卡通 30元' }).waitFor();
    assert.match(await page.locator('.products-table tr', { hasText: '网易一卡通 30元' }).innerText(), /¥29\.50/);

    await page.click('[data-tab=policy]');
    await page.waitForSelector('#rule-E1');
    assert.match(await page.locator('.policy').innerText(), /N3/);
    await shot(page, 'admin-phone-policy');

    await page.click('[data-tab=keys]');
    await page.selectOption('#key-form select[name=role]', 'agent');
    await page.fill('#key-form input[name=label]', '<b>客服</b>');
    await page.click('#key-submit');
    const key = await page.locator('#key-out .newkey').innerText();
    assert.match(key, /^sk_/);
    const check = await shop.get('/v1/cases?limit=1', { token: key });
    assert.equal(check.status, 200, 'the new key works');
    // The new key is listed, and revoked from here (a second click confirms) it stops at once.
    const id = (await shop.get('/v1/api_keys?limit=100', { token: shop.keys.admin })).body.data
      .find((k) => k.label === '<b>客服</b>').id;
    const row = page.locator(`.keys li[data-key="${id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /客服[\s\S]*<b>客服<\/b>[\s\S]*有效/);
    await row.locator('[data-revoke]').click();
    assert.equal(await row.locator('[data-revoke]').innerText(), '确认吊销');
    assert.equal((await shop.get('/v1/cases?limit=1', { token: key })).status, 200, 'one click revokes nothing');
    await row.locator('[data-revoke]').click();
    await row.filter({ hasText: '已吊销' }).waitFor();
    assert.equal((await shop.get('/v1/cases?limit=1', { token: key })).status, 401, 'the revoked key stops');
    await shot(page, 'admin-phone-keys');
    assertClean(page);
    await page.context().close();
  });
});

// Five refunds over two days: three decided by the machine (E4 on request, E1 unasked for a
// failed top-up, and another E4), two by an agent after some hours; the payouts then complete.
async function seedRefunds(shop) {
  const agent = shop.keys.agent;
  // Time moves in ten-minute steps so each payout completes when it would, not at a jump's end.
  const pass = async (seconds) => { for (let s = 0; s < seconds; s += 600) await shop.advance(Math.min(600, seconds - s)); };
  const noReason = await cardProduct(shop, { name: '无理由卡', noReasonDays: 7, digits: ['2', '4'] });
  const changedMind = async (method) => {
    const { order, token } = await paidOrder(shop, noReason.product.id, { method });
    const c = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'changed_mind' }, { token });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.status, 'decided', JSON.stringify(c.body));
  };
  const decideLater = async (hours) => {
    const { caseId } = await reviewableCase(shop);
    await pass(hours * 3600);
    const d = await shop.post(`/v1/cases/${caseId}/decide`, { outcome: 'approve', rule: 'E2', explanation: '发卡方确认未使用' }, { token: agent });
    assert.equal(d.status, 200, JSON.stringify(d.body));
  };
  await changedMind('wechat');
  // A phone top-up to a number the sandbox upstream refuses: refunded with no request (E1).
  const topup = (await shop.products()).find((p) => p.kind === 'direct_topup' && p.target_format === 'phone_cn');
  await paidOrder(shop, topup.id, { method: 'wechat', extra: { target_account: '13800000000' } });
  await pass(600);
  await decideLater(3);
  await pass(3600); // payouts: WeChat 5 min, Alipay 30 min
  await shop.advance(18 * 3600); // the next day
  await changedMind('alipay');
  await decideLater(6);
  await pass(3600);
}
