// docs/openapi.yaml against the code and the running server: every route of src/http/routes.c is
// in the document and every documented route exists on the server; and the answers of a real
// walk through the shop (successes and errors) validate against the document's schemas, with
// every status the server gives documented for its operation. The document itself is linted by
// `redocly lint` in `make check`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startShop } from './lib/server.mjs';
import { assertNoSanitizerReports, rawRequest } from './lib/checks.mjs';

const ROOT = new URL('../../', import.meta.url);
const doc = yaml.load(readFileSync(new URL('docs/openapi.yaml', ROOT), 'utf8'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

// The route table, read from its source: {"METHOD", "/pattern", handler, "name"[, …]}.
function codeRoutes() {
  const text = readFileSync(new URL('src/http/routes.c', ROOT), 'utf8');
  const out = [];
  for (const m of text.matchAll(/\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*"([^"]+)"\s*[,}]/g)) {
    out.push({ method: m[1].toLowerCase(), pattern: m[2], handler: m[3], name: m[4] });
  }
  return out;
}

function docRoutes() {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      if (item[method]) out.push({ method, path, op: item[method] });
    }
  }
  return out;
}

// '/v1/orders/{order_id}/payments' → '/v1/orders/*/payments'
const toPattern = (docPath) => docPath.replace(/\{[^}/]+\}/g, '*');

let shop;
before(async () => { shop = await startShop(); });
after(async () => {
  if (shop) assertNoSanitizerReports(shop);
  await shop?.cleanup();
});

test('the route table is not empty and its patterns are well formed', () => {
  const routes = codeRoutes();
  assert.ok(routes.length >= 20, `parsed ${routes.length} routes from routes.c`);
  for (const r of routes) assert.match(r.pattern, /^\/[a-z0-9_/*]*$/, r.pattern);
});

test('every route of src/http/routes.c is in the document, and nothing else is', () => {
  const code = codeRoutes().map((r) => `${r.method.toUpperCase()} ${r.pattern}`);
  const documented = docRoutes().map((r) => `${r.method.toUpperCase()} ${toPattern(r.path)}`);
  const missing = code.filter((r) => !documented.includes(r));
  assert.deepEqual(missing, [], `routes missing from docs/openapi.yaml: ${missing.join(', ')}`);
  const extra = documented.filter((r) => !code.includes(r));
  assert.deepEqual(extra, [], `documented routes the code does not have: ${extra.join(', ')}`);
  assert.equal(new Set(documented).size, documented.length, 'no route documented twice');
});

test('every documented path parameter is declared, and every operation is complete', () => {
  const resolve = (p) => (p.$ref ? p.$ref.split('/').slice(1).reduce((o, k) => o[k], doc) : p);
  for (const { method, path, op } of docRoutes()) {
    const label = `${method.toUpperCase()} ${path}`;
    const params = (op.parameters ?? []).map(resolve);
    for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
      assert.ok(params.some((p) => p.in === 'path' && p.name === name && p.required), `${label}: path parameter ${name}`);
    }
    assert.ok(op.operationId, `${label}: operationId`);
    assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${label}: a 2xx response`);
    if (method === 'post' && !path.startsWith('/v1/callbacks/') && !['advanceTestClock', 'holdTestSyncs', 'checkTarget', 'previewRefund', 'sandboxIssuerRedeem'].includes(op.operationId)) {
      assert.ok(params.some((p) => p.name === 'Idempotency-Key' && p.in === 'header'), `${label}: Idempotency-Key`);
    }
  }
  const error = doc.components.schemas.Error.properties.error;
  assert.deepEqual([...error.required].sort(), ['code', 'message', 'param', 'request_id', 'type']);
});

test('every documented route exists on the server', async () => {
  for (const { method, path } of docRoutes()) {
    const concrete = path.replace(/\{[^}]+\}/g, 'zz_openapi_probe');
    const headers = { authorization: `Bearer ${shop.keys.admin}` };
    let body;
    if (method === 'post') {
      headers['content-type'] = 'application/json';
      body = '{"zz_openapi_probe":1}'; // an unknown field: refused before anything is written
    }
    const res = await rawRequest(shop, method.toUpperCase(), concrete, { headers, body });
    const label = `${method.toUpperCase()} ${concrete} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
    assert.notEqual(res.status, 405, label);
    if (res.status === 404) {
      assert.notEqual(res.body?.error?.message?.startsWith('no such path'), true, label);
    }
    assert.ok(res.status < 500, label);
  }
  // And a path that is not documented is not served.
  const res = await shop.get('/v1/not_a_route');
  assert.equal(res.status, 404);
  assert.match(res.body.error.message, /^no such path/);
});

// Validation of real answers against the document.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'kameng-openapi');
const compiled = new Map();
const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function findOperation(method, concretePath) {
  const candidates = docRoutes().filter((d) => d.method === method);
  const exact = candidates.find((d) => d.path === concretePath);
  if (exact) return exact; // a literal path wins over a template that also matches it
  return candidates.find((d) => new RegExp(`^${d.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(concretePath)) ?? null;
}

const checked = new Set(); // "METHOD /doc/path STATUS" seen

function conform(method, concretePath, res) {
  const found = findOperation(method, concretePath.split('?')[0]);
  const label = `${method.toUpperCase()} ${concretePath} → ${res.status}`;
  assert.ok(found, `${label}: no documented operation`);
  const { path, op } = found;
  const status = String(res.status);
  assert.ok(op.responses[status], `${label}: status ${status} is not documented for ${path} (${JSON.stringify(res.body).slice(0, 200)})`);
  checked.add(`${method.toUpperCase()} ${path} ${status}`);
  let pointer = `/paths/${esc(path)}/${method}/responses/${status}`;
  let response = op.responses[status];
  if (response.$ref) {
    pointer = response.$ref.slice(1);
    response = pointer.split('/').slice(1).reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  const ct = (res.headers.get('content-type') ?? '').split(';')[0].trim();
  assert.ok(response.content?.[ct], `${label}: content type ${ct} not documented`);
  assert.match(res.headers.get('request-id') ?? '', /^req_/, `${label}: Request-Id header`);
  if (ct !== 'application/json') return;
  const ref = `kameng-openapi#${pointer}/content/${esc(ct)}/schema`;
  if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: ref }));
  const validate = compiled.get(ref);
  assert.ok(validate(res.body), `${label}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 600)}`);
}

async function call(method, path, { body, token, headers = {}, raw, ct } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = raw;
  if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) h['content-type'] = ct ?? 'application/json';
  const res = await rawRequest(shop, method.toUpperCase(), path, { headers: h, body: payload });
  conform(method, path, res);
  return res;
}

test('answers of a walk through the shop validate against the document', async () => {
  const { admin, agent, seller } = shop.keys;
  await call('get', '/healthz');
  await call('get', '/');
  await call('get', '/web/app.js');
  await call('get', '/web/no-such-asset.js');
  await call('get', '/metrics');
  await call('get', '/v1/test/clock');
  await call('post', '/v1/test/clock/advance', { body: { seconds: 1 } });
  await call('post', '/v1/test/syncs', { body: { hold: false } });
  await call('get', '/v1/ledger/check', { token: admin });
  const list = await call('get', '/v1/products?limit=100');
  await call('get', '/v1/products?limit=2', { token: admin });
  const products = (await shop.get('/v1/products?limit=100', { token: admin })).body.data;
  const card = products.find((p) => p.kind === 'card_key');
  const phone = products.find((p) => p.kind === 'direct_topup' && p.target_format === 'phone_cn');
  const game = products.find((p) => p.kind === 'direct_topup' && p.target_format === 'game_account');
  const account = products.find((p) => p.kind === 'account');
  assert.ok(list.body.data.length > 0);
  await call('get', `/v1/products/${card.id}`);
  await call('get', `/v1/products/${card.id}`, { token: admin });
  await call('post', '/v1/targets/check', { body: { product_id: phone.id, target_account: '138 0013 8000' } });
  await call('post', '/v1/targets/check', { body: { product_id: game.id, target_account: '123456789', target_region: game.regions[0] } });
  const sel = await call('post', '/v1/sellers', { token: admin, body: { name: 'OpenAPI seller' } });
  await call('post', '/v1/api_keys', { token: admin, body: { role: 'seller', seller_id: sel.body.id, label: 'openapi' } });
  const spare = await call('post', '/v1/api_keys', { token: admin, body: { role: 'agent' } });
  await call('get', '/v1/api_keys?limit=5', { token: admin });
  await call('post', `/v1/api_keys/${spare.body.id}/revoke`, { token: admin });
  await call('post', `/v1/api_keys/${spare.body.id}/revoke`, { token: admin });
  const prod = await call('post', '/v1/products', { token: admin, body: { kind: 'card_key', name: 'OpenAPI card', price_fen: 500, face_value_fen: 500 } });
  await call('post', `/v1/products/${prod.body.id}/card_keys`, { token: admin, body: { card_keys: [{ number: 'OA-1', password: 'OA-PW-1' }, { password: 'OA-PW-2' }] } });
  await call('post', `/v1/products/${prod.body.id}/card_keys`, { token: admin, raw: 'number,password\nOA-3,OA-PW-3\n', ct: 'text/csv' });

  // A card key: ordered with a lookup password, paid, delivered, revealed, looked up.
  const order = await call('post', '/v1/orders', { body: { product_id: prod.body.id, quantity: 2, lookup_password: 'openapi-pw', contact: 'oa@example.com' } });
  const token = order.body.buyer_token;
  await call('get', `/v1/orders/${order.body.id}`, { token });
  const pay = await call('post', `/v1/orders/${order.body.id}/payments`, { token, body: { method: 'bank_card' } });
  await call('post', `/v1/sandbox/payments/${pay.body.id}/pay`, { body: { outcome: 'succeeded' } });
  await call('post', '/v1/test/clock/advance', { body: { seconds: 0 } });
  const delivered = await call('get', `/v1/orders/${order.body.id}`, { token });
  assert.equal(delivered.body.status, 'delivered');
  await call('post', `/v1/orders/${order.body.id}/card_keys/${delivered.body.card_keys[0].id}/reveal`, { token });
  await call('post', `/v1/orders/${order.body.id}/card_keys/${delivered.body.card_keys[1].id}/reveal`, { token: admin });
  await call('get', `/v1/orders/${order.body.id}`, { token: agent });
  await call('post', '/v1/orders/lookup', { body: { order_id: order.body.id, lookup_password: 'openapi-pw' } });
  // The evidence log: the order's receipt, the checkpoint it is proven against, entries, proofs.
  const receipt = await call('get', `/v1/orders/${order.body.id}/receipt`, { token });
  assert.ok(receipt.body.entries.length >= 2, 'payment and delivery are in the log');
  const cp = await call('get', '/v1/log/checkpoint');
  await call('get', '/v1/log/entries?start=0&limit=5', { token: admin });
  await call('get', '/v1/log/entries?start=0&limit=5');
  await call('get', `/v1/log/proofs/inclusion?index=0&size=${cp.body.size}`);
  if (cp.body.size > 1) {
    await call('get', `/v1/log/proofs/consistency?size1=1&size2=${cp.body.size}`);
  }
  await call('get', '/v1/log/proofs/inclusion?index=5&size=1');
  await call('get', '/v1/orders?limit=3', { token: admin });
  await call('get', '/v1/orders?status=delivered', { token: agent });

  // The buyer disputes the payment at the provider; staff read the bundle and answer.
  await call('post', `/v1/sandbox/payments/${pay.body.id}/dispute`, { body: { reason: 'not_received', amount_fen: 100 } });
  await call('post', `/v1/sandbox/payments/${pay.body.id}/dispute`, { body: { reason: 'because' } });
  await call('post', '/v1/test/clock/advance', { body: { seconds: 0 } });
  const disputes = await call('get', '/v1/disputes?limit=5', { token: agent });
  await call('get', '/v1/disputes?status=all', { token: admin });
  await call('get', '/v1/disputes', { token });
  const dp = disputes.body.data.find((d) => d.payment_id === pay.body.id);
  assert.ok(dp, 'the dispute reached the shop');
  await call('get', `/v1/disputes/${dp.id}`, { token: agent });
  await call('get', `/v1/disputes/${dp.id}/bundle`, { token: agent });
  await call('post', `/v1/disputes/${dp.id}/respond`, { token: agent, body: { response: 'evidence' } });
  await call('post', `/v1/disputes/${dp.id}/respond`, { token: agent, body: { response: 'evidence' } });
  await call('post', '/v1/test/clock/advance', { body: { seconds: 0 } });
  await call('get', `/v1/disputes/${dp.id}/bundle`, { token: agent });
  await call('get', '/v1/disputes/dp_nope', { token: agent });
  await call('post', '/v1/callbacks/disputes/sandbox', { body: { type: 'dispute.opened' } });

  // A failed charge, then a direct top-up and account goods.
  const o2 = await call('post', '/v1/orders', { body: { product_id: card.id } });
  const p2 = await call('post', `/v1/orders/${o2.body.id}/payments`, { token: o2.body.buyer_token, body: { method: 'wechat' } });
  await call('post', `/v1/sandbox/payments/${p2.body.id}/pay`, { body: { outcome: 'failed' } });
  await call('post', '/v1/test/clock/advance', { body: { seconds: 0 } });
  await call('get', `/v1/orders/${o2.body.id}`, { token: o2.body.buyer_token });
  const top = await call('post', '/v1/orders', { body: { product_id: phone.id, target_account: '13800138000' } });
  const tp = await call('post', `/v1/orders/${top.body.id}/payments`, { token: top.body.buyer_token, body: { method: 'alipay', target_confirmed: top.body.target.account } });
  await call('post', `/v1/sandbox/payments/${tp.body.id}/pay`);
  await call('post', '/v1/test/clock/advance', { body: { seconds: 0 } });
  await call('post', '/v1/test/clock/advance', { body: { seconds: 120 } });
  await call('get', `/v1/orders/${top.body.id}`, { token: top.body.buyer_token });
  const acc = await call('post', '/v1/orders', { body: { product_id: account.id } });
  const ap = await call('post', `/v1/orders/${acc.body.id}/payments`, { token: acc.body.buyer_token, body: { method: 'balance' } });
  await call('post', `/v1/sandbox/payments/${ap.body.id}/pay`, { body: {} });
  await call('post', '/v1/test/clock/advance', { body: { seconds: 0 } });
  const dl = await call('post', `/v1/orders/${acc.body.id}/deliver`, { token: seller, body: { content: 'login: openapi / password: hunter2' } });
  if (dl.status === 200) {
    await call('post', `/v1/orders/${acc.body.id}/account_goods/reveal`, { token: acc.body.buyer_token });
    await call('post', `/v1/orders/${acc.body.id}/confirm`, { token: acc.body.buyer_token });
  }
  await call('get', `/v1/orders/${acc.body.id}`, { token: admin });
  await call('get', '/v1/trust');
  await call('get', '/v1/trust', { token: 'not-a-token' });

  // Errors, each documented for its operation and in the error shape.
  await call('post', '/v1/orders', { raw: '{"product_id":' });
  await call('post', '/v1/orders', { raw: '{}', ct: 'text/plain' });
  await call('post', '/v1/orders', { raw: JSON.stringify({ product_id: 'x'.repeat(1024 * 1024 + 1) }) });
  await call('post', '/v1/orders', { body: { product_id: card.id, quantity: 1000 } });
  await call('post', '/v1/products', { token: admin, body: { kind: 'card_key', name: 'x', price_fen: 10.5, face_value_fen: 1 } });
  await call('post', '/v1/products', { body: { kind: 'card_key' } });
  await call('post', '/v1/products', { token: agent, body: { kind: 'card_key' } });
  await call('get', '/v1/products/prod_nope');
  await call('get', '/v1/orders/ord_nope', { token: admin });
  await call('get', `/v1/orders/${order.body.id}`, { token: o2.body.buyer_token });
  await call('get', `/v1/orders/${order.body.id}`);
  await call('get', '/v1/orders', { token });
  await call('get', '/v1/orders?limit=0', { token: admin });
  await call('get', '/v1/ledger/check', { token: agent });
  await call('post', `/v1/orders/${order.body.id}/payments`, { token, body: { method: 'alipay' } });
  await call('post', `/v1/sandbox/payments/${pay.body.id}/pay`, { body: { outcome: 'succeeded' } });
  await call('post', '/v1/callbacks/payments/sandbox', { body: { type: 'payment.succeeded' } });
  await call('post', '/v1/callbacks/upstream/sandbox', { body: { status: 'succeeded' } });
  await call('post', '/v1/callbacks/refunds/sandbox', { body: { request_no: 'x', status: 'succeeded' } });
  await call('post', '/v1/callbacks/issuer/sandbox', { body: { password: 'x', activated_at: 1 } });
  await call('post', '/v1/orders/lookup', { body: { order_id: order.body.id, lookup_password: 'wrong-pw' } });
  const k = `oa-${Date.now()}`;
  await call('post', '/v1/sellers', { token: admin, body: { name: 'A' }, headers: { 'idempotency-key': k } });
  await call('post', '/v1/sellers', { token: admin, body: { name: 'B' }, headers: { 'idempotency-key': k } });
  await call('post', `/v1/orders/${order.body.id}/confirm`, { token: admin });
  await call('post', `/v1/orders/${order.body.id}/deliver`, { token: seller, body: { content: 'x' } });
  await call('post', `/v1/orders/${order.body.id}/card_keys/ck_nope/reveal`, { token });
  await call('post', `/v1/orders/${order.body.id}/card_keys/${delivered.body.card_keys[0].id}/reveal`, { token: agent });
  await call('get', '/v1/attention', { token: agent });
  await call('get', '/v1/attention', { token });
  await call('post', '/v1/attention/evt_nope/settle', { token: agent, body: { note: 'settled' } });
  await call('post', '/v1/attention/evt_nope/settle', { token: agent, body: {} });
  await call('get', '/v1/stats/refunds?days=7', { token: admin });
  await call('get', '/v1/stats/refunds?days=0', { token: admin });

  // Every documented operation of the shop's foundation was exercised at least once. (Refunds and
  // cases have their own suites; their answers are checked here only where the walk meets them.)
  const exercised = new Set([...checked].map((s) => s.split(' ').slice(0, 2).join(' ')));
  const notExercised = docRoutes()
    .filter((r) => !(r.op.tags ?? []).some((t) => t === 'Refunds' || t === 'Cases'))
    .map((r) => `${r.method.toUpperCase()} ${r.path}`).filter((r) => !exercised.has(r));
  assert.deepEqual(notExercised, [], 'operations never called in the walk');
});
