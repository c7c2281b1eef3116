// Helpers for the page tests: Debian's Chromium driven by playwright-core, a page that fails the
// test on any dialog (an XSS that fired), script error or CSP violation, screenshots into
// test-results/screenshots, and API shortcuts that set up what a page then shows.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

export { startShop } from '../e2e/lib/server.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
export const SHOTS = join(ROOT, 'test-results', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const DESKTOP = { viewport: { width: 1280, height: 900 } };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}

// A fresh context (its own sessionStorage and localStorage) and a page watched for trouble:
// `problems` collects dialogs, uncaught errors, console errors and CSP violations.
export async function openPage(browser, base, device = DESKTOP, { lang } = {}) {
  const context = await browser.newContext({ ...device, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  if (lang) await context.addInitScript((l) => localStorage.setItem('km.lang', l), lang);
  const page = await context.newPage();
  const problems = [];
  page.on('dialog', async (d) => { problems.push(`dialog fired: ${d.type()} ${d.message()}`); await d.dismiss(); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.base = base;
  page.problems = problems;
  page.setDefaultTimeout(10000);
  return page;
}

// Nothing went wrong on the page: no dialog (no injected script ran), no error, no CSP report.
export function assertClean(page) {
  assert.deepEqual(page.problems, [], page.problems.join('\n'));
}

// A screenshot of the whole page, or with `at` of the screen showing that element at the top.
export async function shot(page, name, { fullPage = true, at } = {}) {
  await page.evaluate((sel) => {
    if (sel) { document.querySelector(sel).scrollIntoView({ block: 'start' }); window.scrollBy(0, -64); } else window.scrollTo(0, 0);
    return document.fonts && document.fonts.ready;
  }, at ?? null);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: fullPage && !at });
}

// ---- API shortcuts ----
let seq = 0;
const tag = () => `${process.pid.toString(36)}${Date.now().toString(36)}${(++seq).toString(36)}`;

export async function createProduct(shop, fields) {
  const r = await shop.post('/v1/products', { face_value_fen: fields.price_fen, ...fields }, { token: shop.keys.admin });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

// A card-key product with keys whose numbers end in the given digits (the sandbox issuer voids a
// revealed key whose number ends in an even digit; an odd one goes to an agent).
export async function cardProduct(shop, { name, price = 1000, noReasonDays = 0, windowHours = 48, digits = ['2'] } = {}) {
  const product = await createProduct(shop, {
    kind: 'card_key', name: name ?? `测试卡 ${tag()}`, price_fen: price, no_reason_days: noReasonDays, refund_window_hours: windowHours,
  });
  const base = `T${tag()}`.toUpperCase();
  const keys = digits.map((d, i) => ({ number: `${base}K${i}${d}`, password: `${base}P${i}x${d}` }));
  const imp = await shop.post(`/v1/products/${product.id}/card_keys`, { card_keys: keys }, { token: shop.keys.admin });
  assert.equal(imp.status, 201, JSON.stringify(imp.body));
  return { product, keys };
}

// An order paid through the sandbox, with the capture recorded.
export async function paidOrder(shop, productId, { method = 'alipay', extra = {} } = {}) {
  const created = await shop.post('/v1/orders', { product_id: productId, ...extra });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const token = created.body.buyer_token;
  const body = { method };
  if (created.body.target) body.target_confirmed = created.body.target.account;
  const p = await shop.post(`/v1/orders/${created.body.id}/payments`, body, { token });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  const c = await shop.post(`/v1/sandbox/payments/${p.body.id}/pay`, { outcome: 'succeeded' });
  assert.equal(c.status, 202, JSON.stringify(c.body));
  await shop.advance(0);
  const order = (await shop.get(`/v1/orders/${created.body.id}`, { token })).body;
  return { order, token };
}

// A case an agent must decide: a revealed key (odd last digit: the issuer cannot void it) that
// the buyer says does not work.
export async function reviewableCase(shop, { message = '卡密提示已被使用，但我没有用过。', name } = {}) {
  const { product } = await cardProduct(shop, { name, digits: ['7'] });
  const { order, token } = await paidOrder(shop, product.id);
  const key = order.card_keys[0];
  const rv = await shop.post(`/v1/orders/${order.id}/card_keys/${key.id}/reveal`, undefined, { token });
  assert.equal(rv.status, 200, JSON.stringify(rv.body));
  const c = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'key_not_working', message }, { token });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal(c.body.status, 'open', JSON.stringify(c.body));
  return { product, order, token, caseId: c.body.id };
}

// A small PNG for evidence uploads: a phone screenshot in miniature (a bar, lines of "text", a
// red stamp), so the agent's thumbnail shows something.
export const PNG = (() => {
  const w = 120, h = 80, raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      let c = [250, 250, 249];
      if (y < 12) c = [194, 65, 12];
      else if (y % 12 > 6 && y < 64 && x > 8 && x < 20 + ((y * 7) % 80)) c = [120, 113, 108];
      if ((x - 92) ** 2 + (y - 58) ** 2 < 160 && (x - 92) ** 2 + (y - 58) ** 2 > 90) c = [185, 28, 28];
      raw.set(c, y * (w * 3 + 1) + 1 + x * 3);
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
})();
