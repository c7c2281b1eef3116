// Shared checks for the bad-input, idempotency and OpenAPI suites: the error object's shape, raw
// requests (bytes the fetch helper would not send), and snapshots of what the database shows.
import assert from 'node:assert/strict';
import http from 'node:http';

export const ERROR_TYPES = new Set([
  'invalid_request_error', 'authentication_error', 'idempotency_error', 'rate_limit_error',
  'signature_error', 'api_error',
]);

// A 4xx answer carrying {error:{type,code,message,param,request_id}} and a Request-Id header equal
// to error.request_id. `want` may name status, code, type and param (a string, or null for none).
export function assertError(res, want = {}, label = '') {
  const ctx = `${label} → ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`;
  if (want.status !== undefined) {
    const ok = Array.isArray(want.status) ? want.status.includes(res.status) : res.status === want.status;
    assert.ok(ok, `status ${JSON.stringify(want.status)} expected: ${ctx}`);
  }
  assert.ok(res.status >= 400 && res.status < 500, `a 4xx expected: ${ctx}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `JSON expected: ${ctx}`);
  const err = res.body?.error;
  assert.equal(typeof err, 'object', `an error object expected: ${ctx}`);
  for (const k of ['type', 'code', 'message', 'param', 'request_id']) {
    assert.ok(Object.hasOwn(err, k), `error.${k} missing: ${ctx}`);
  }
  assert.ok(ERROR_TYPES.has(err.type), `unknown error type ${err.type}: ${ctx}`);
  assert.equal(typeof err.code, 'string', ctx);
  assert.ok(err.code.length > 0, ctx);
  assert.equal(typeof err.message, 'string', ctx);
  assert.ok(err.message.length > 0, ctx);
  assert.ok(err.param === null || typeof err.param === 'string', `param string or null: ${ctx}`);
  assert.match(err.request_id, /^req_[0-9a-z]+$/, ctx);
  assert.equal(res.headers.get('request-id'), err.request_id, `Request-Id header: ${ctx}`);
  if (want.code !== undefined) {
    const ok = Array.isArray(want.code) ? want.code.includes(err.code) : err.code === want.code;
    assert.ok(ok, `code ${JSON.stringify(want.code)} expected: ${ctx}`);
  }
  if (want.type !== undefined) assert.equal(err.type, want.type, `type: ${ctx}`);
  if (want.param !== undefined) assert.equal(err.param, want.param, `param: ${ctx}`);
  return err;
}

// Send exact bytes with exact headers (chunked when `chunked`), bypassing fetch's rules.
export function rawRequest(shop, method, path, { headers = {}, body, chunked = false } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    const buf = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    if (buf && !chunked) h['content-length'] = String(buf.length);
    if (chunked) h['transfer-encoding'] = 'chunked';
    const req = http.request({ host: '127.0.0.1', port: shop.port, method, path, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        if ((res.headers['content-type'] ?? '').startsWith('application/json')) parsed = JSON.parse(text);
        const headersObj = new Headers();
        for (const [k, v] of Object.entries(res.headers)) headersObj.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode, body: parsed, headers: headersObj });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (buf && chunked) {
      for (let i = 0; i < buf.length; i += 64 * 1024) req.write(buf.subarray(i, i + 64 * 1024));
    } else if (buf) {
      req.write(buf);
    }
    req.end();
  });
}

// What the database shows: products with stock, every order (admin), chosen orders in full, the
// ledger's totals and the test clock. Two equal snapshots mean a request changed nothing visible.
export async function snapshot(shop, orderIds = []) {
  const admin = { token: shop.keys.admin };
  const products = await shop.get('/v1/products?limit=100', admin);
  assert.equal(products.status, 200);
  const orders = [];
  let after = '';
  for (;;) {
    const page = await shop.get(`/v1/orders?limit=100${after ? `&starting_after=${after}` : ''}`, admin);
    assert.equal(page.status, 200);
    orders.push(...page.body.data);
    if (!page.body.has_more) break;
    after = page.body.data.at(-1).id;
  }
  const details = [];
  for (const id of orderIds) details.push((await shop.get(`/v1/orders/${id}`, admin)).body);
  const ledger = await shop.get('/v1/ledger/check', admin);
  assert.equal(ledger.status, 200);
  const clock = await shop.get('/v1/test/clock');
  return { products: products.body.data, orders, details, ledger: ledger.body, clock: clock.body };
}

// Under ASan/UBSan a report goes to the server's stderr, which the harness keeps in shop.logs.
export function assertNoSanitizerReports(shop) {
  const text = shop.logs.join('');
  for (const marker of ['runtime error:', 'AddressSanitizer', 'LeakSanitizer', 'assertion failed']) {
    assert.ok(!text.includes(marker), `the server reported "${marker}":\n${text.slice(-3000)}`);
  }
}
