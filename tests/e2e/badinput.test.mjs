// The bad-input suite: malformed, truncated and ambiguous JSON, wrong numbers where money and
// quantities go, oversized bodies, wrong content types, invalid UTF-8, unknown fields and ids,
// another buyer's token, missing or wrong credentials, and forged or replayed payment callbacks.
// Every answer must be a 4xx error object naming the field where there is one, with a Request-Id
// header equal to error.request_id, and the database must show exactly what it showed before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startShop, buy } from './lib/server.mjs';
import { assertError, assertNoSanitizerReports, rawRequest, snapshot } from './lib/checks.mjs';

let shop;
let card, phone, game, account; // demo products
let orderA, tokenA, orderB, tokenB, paymentA;
let baseline;

const JSON_CT = { 'content-type': 'application/json' };

before(async () => {
  shop = await startShop();
  const products = await shop.products();
  card = products.find((p) => p.kind === 'card_key');
  phone = products.find((p) => p.kind === 'direct_topup' && p.target_format === 'phone_cn');
  game = products.find((p) => p.kind === 'direct_topup' && p.target_format === 'game_account');
  account = products.find((p) => p.kind === 'account');
  assert.ok(card && phone && game && account, 'demo products of every kind');
  const a = await shop.post('/v1/orders', { product_id: card.id, lookup_password: 'correct horse' });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  orderA = a.body.id;
  tokenA = a.body.buyer_token;
  const b = await shop.post('/v1/orders', { product_id: card.id });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  orderB = b.body.id;
  tokenB = b.body.buyer_token;
  const p = await shop.post(`/v1/orders/${orderA}/payments`, { method: 'alipay' }, { token: tokenA });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  paymentA = p.body.id;
  baseline = await snapshot(shop, [orderA, orderB]);
});

after(async () => {
  if (shop) assertNoSanitizerReports(shop);
  await shop?.cleanup();
});

async function assertUnchanged(label) {
  const now = await snapshot(shop, [orderA, orderB]);
  assert.deepEqual(now, baseline, `the database changed after: ${label}`);
}

// Send one bad request; it must be refused as `want` says and change nothing.
async function refuse(label, send, want) {
  const res = await send();
  const err = assertError(res, want, label);
  await assertUnchanged(label);
  return err;
}

function post(path, body, { token, ct = 'application/json', headers = {}, chunked } = {}) {
  const h = { ...headers };
  if (ct !== null) h['content-type'] = ct;
  if (token) h.authorization = `Bearer ${token}`;
  return rawRequest(shop, 'POST', path, { headers: h, body, chunked });
}

// The write endpoints, each with a valid body (never sent as is), the token it needs, a string
// field to corrupt, and its required fields.
function endpoints() {
  return [
    { name: 'orders.create', path: '/v1/orders',
      valid: { product_id: card.id, quantity: 1, contact: 'buyer@example.com' },
      str: 'contact', required: ['product_id'] },
    { name: 'products.create', path: '/v1/products', token: shop.keys.admin,
      valid: { kind: 'card_key', name: 'Bad input card', price_fen: 100, face_value_fen: 100 },
      str: 'name', required: ['kind', 'name', 'price_fen', 'face_value_fen'] },
    { name: 'card_keys.import', path: `/v1/products/${card.id}/card_keys`, token: shop.keys.admin,
      valid: { card_keys: [{ number: 'BAD-0001', password: 'PW-0001-XYZ' }] },
      str: 'card_keys', required: ['card_keys'] },
    { name: 'payments.create', path: `/v1/orders/${orderA}/payments`, token: tokenA,
      valid: { method: 'alipay' }, str: 'method', required: ['method'] },
    { name: 'orders.lookup', path: '/v1/orders/lookup',
      valid: { order_id: orderA, lookup_password: 'correct horse' },
      str: 'lookup_password', required: ['order_id', 'lookup_password'] },
    { name: 'targets.check', path: '/v1/targets/check',
      valid: { product_id: phone.id, target_account: '13800138000' },
      str: 'target_account', required: ['product_id', 'target_account'] },
    { name: 'test.clock.advance', path: '/v1/test/clock/advance', valid: { seconds: 60 },
      str: 'seconds', required: ['seconds'] },
    { name: 'sellers.create', path: '/v1/sellers', token: shop.keys.admin,
      valid: { name: 'Bad input seller' }, str: 'name', required: ['name'] },
    { name: 'api_keys.create', path: '/v1/api_keys', token: shop.keys.admin,
      valid: { role: 'agent', label: 'bad input' }, str: 'label', required: ['role'] },
    { name: 'sandbox.pay', path: `/v1/sandbox/payments/${paymentA}/pay`,
      valid: { outcome: 'succeeded' }, str: 'outcome', required: [], emptyBodyIsValid: true },
    { name: 'orders.deliver', path: `/v1/orders/${orderA}/deliver`, token: shop.keys.seller,
      valid: { content: 'login: a / password: b' }, str: 'content', required: ['content'] },
  ];
}

// A JSON text for `obj` with the value of `field` replaced by raw JSON text `rawValue`.
function withRaw(obj, field, rawValue) {
  const marker = '__RAW_VALUE__';
  return JSON.stringify({ ...obj, [field]: marker }).replace(`"${marker}"`, rawValue);
}

test('malformed, truncated and ambiguous JSON is refused on every write endpoint', async () => {
  for (const ep of endpoints()) {
    const text = JSON.stringify(ep.valid);
    const first = Object.keys(ep.valid)[0];
    const cases = [
      ['malformed', '{"x":'],
      ['truncated half', text.slice(0, Math.floor(text.length / 2))],
      ['truncated last brace', text.slice(0, -1)],
      ['unterminated string', `{"${first}":"abc`],
      ['top-level array', `[${text}]`],
      ['top-level empty array', '[]'],
      ['top-level string', '"hello"'],
      ['top-level number', '42'],
      ['top-level null', 'null'],
      ['top-level true', 'true'],
      ['whitespace only', '   \n '],
      ['trailing garbage', `${text} x`],
      ['two objects', `${text}${text}`],
      ['comment', `{/* c */${text.slice(1)}`],
      ['single quotes', `{'${first}': 1}`],
      ['unquoted key', `{${first}: 1}`],
      ['trailing comma', `${text.slice(0, -1)},}`],
      ['NaN', withRaw(ep.valid, first, 'NaN')],
      ['Infinity', withRaw(ep.valid, first, 'Infinity')],
      ['hex number', withRaw(ep.valid, first, '0x10')],
      ['leading zero', withRaw(ep.valid, first, '010')],
      ['BOM', `\ufeff${text}`],
    ];
    for (const [what, body] of cases) {
      await refuse(`${ep.name}: ${what}`, () => post(ep.path, body, { token: ep.token }),
        { status: 400, type: 'invalid_request_error' });
    }
    if (!ep.emptyBodyIsValid) {
      await refuse(`${ep.name}: empty body`, () => post(ep.path, '', { token: ep.token }),
        { status: 400, code: 'body_missing' });
      await refuse(`${ep.name}: no body`, () => post(ep.path, undefined, { token: ep.token }),
        { status: 400, code: 'body_missing' });
    }
    // Duplicate keys are ambiguous: which one did the caller mean?
    const dupText = `{"${first}":${JSON.stringify(ep.valid[first])},${text.slice(1)}`;
    await refuse(`${ep.name}: duplicate key`, () => post(ep.path, dupText, { token: ep.token }),
      { status: 400, code: 'duplicate_key', param: first });
    await refuse(`${ep.name}: duplicate {"a":1,"a":2}`,
      () => post(ep.path, '{"a":1,"a":2}', { token: ep.token }),
      { status: 400, code: 'duplicate_key', param: 'a' });
    // A raw NUL byte.
    await refuse(`${ep.name}: NUL byte`,
      () => post(ep.path, Buffer.from(withRaw(ep.valid, ep.str, '"a\u0000b"')), { token: ep.token }),
      { status: 400 });
  }
});

test('invalid UTF-8 and bad escapes in strings are refused, naming the field', async () => {
  const bad = {
    'byte 0xff': [0xff],
    'byte 0xfe 0xff': [0xfe, 0xff],
    'lone continuation byte': [0x80],
    'overlong slash': [0xc0, 0xaf],
    'truncated 3-byte sequence': [0xe4, 0xb8],
    'UTF-16 surrogate encoded': [0xed, 0xa0, 0x80],
    'beyond U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
    'latin-1 é': [0xe9],
  };
  for (const ep of endpoints()) {
    for (const [what, bytes] of Object.entries(bad)) {
      // For the card import the bad string sits in a row's password: the field is card_keys.
      const [before, afterText] = ep.str === 'card_keys'
        ? ['{"card_keys":[{"number":"N-1","password":"ab', '"}]}']
        : [`${JSON.stringify({ ...ep.valid, [ep.str]: undefined }).slice(0, -1)}${Object.keys(ep.valid).length > 1 ? ',' : ''}"${ep.str}":"ab`, '"}'];
      const body = Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(afterText)]);
      await refuse(`${ep.name}: ${what}`, () => post(ep.path, body, { token: ep.token }),
        { status: 400, param: ep.str });
    }
    await refuse(`${ep.name}: lone surrogate escape`,
      () => post(ep.path, withRaw(ep.valid, ep.str, '"a\\ud800b"'), { token: ep.token }),
      { status: 400, param: ep.str });
    await refuse(`${ep.name}: \\u0000 escape`,
      () => post(ep.path, withRaw(ep.valid, ep.str, '"a\\u0000b"'), { token: ep.token }),
      { status: 400, param: ep.str });
    // A bad byte in a key names no field, and is still a clean 400.
    await refuse(`${ep.name}: bad byte in a key`,
      () => post(ep.path, Buffer.concat([Buffer.from('{"k'), Buffer.from([0xff]), Buffer.from('":1}')]),
        { token: ep.token }),
      { status: 400, param: null });
  }
});

test('wrong content types are refused with 415', async () => {
  const types = [null, 'text/plain', 'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x', 'application/xml', 'text/json', 'application/jsonx',
    'application/json-patch+json', 'json', ''];
  for (const ep of endpoints()) {
    for (const ct of types) {
      await refuse(`${ep.name}: Content-Type ${JSON.stringify(ct)}`,
        () => post(ep.path, JSON.stringify(ep.valid), { token: ep.token, ct }),
        { status: 415, code: 'unsupported_media_type', param: 'Content-Type' });
    }
  }
});

test('bodies over 1 MiB are refused with 413, with or without Content-Length', async () => {
  const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
  for (const ep of endpoints()) {
    await refuse(`${ep.name}: 1 MiB + 10 bytes`, () => post(ep.path, big, { token: ep.token }),
      { status: 413, code: 'body_too_large' });
    await refuse(`${ep.name}: chunked 1 MiB + 10 bytes`,
      () => post(ep.path, big, { token: ep.token, chunked: true }),
      { status: 413, code: 'body_too_large' });
  }
  // Just under the limit is read, and refused for what it says, not for its size.
  const under = JSON.stringify({ name: 'x'.repeat(1024 * 1024 - 100) });
  await refuse('sellers.create: just under 1 MiB',
    () => post('/v1/sellers', under, { token: shop.keys.admin }),
    { status: 400, code: 'parameter_too_long', param: 'name' });
});

// Send the head of a request over a raw socket, then stream `chunks` (Buffers) until the server
// answers or closes. Resolves with what came back and how many body bytes went out.
function rawStream(head, chunks) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(shop.port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let closed = false;
    const guard = setTimeout(() => { sock.destroy(); reject(new Error('no answer in 10 s')); }, 10000);
    sock.on('data', (d) => { answer += d.toString('utf8'); });
    sock.on('error', () => {}); // a reset while writing is one way of being cut off
    sock.on('close', () => { closed = true; clearTimeout(guard); resolve({ answer, sent }); });
    sock.write(head, async () => {
      for (const c of chunks) {
        if (closed || answer !== '') break;
        const ok = sock.write(c);
        sent += c.length;
        if (!ok) await new Promise((r) => { sock.once('drain', r); sock.once('close', r); });
      }
    });
  });
}

function headOf(path, headers) {
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${shop.keys.admin}`,
    'Content-Type: application/json', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

test('a body announced far over 1 MiB, or with Expect: 100-continue, is refused before it is sent', async () => {
  // Nothing of the body is sent: the 413 must come from the headers alone.
  for (const headers of [{ 'Content-Length': 100 * 1024 * 1024 },
    { 'Content-Length': 1024 * 1024 + 10, Expect: '100-continue' }]) {
    const label = JSON.stringify(headers);
    const { answer, sent } = await rawStream(headOf('/v1/sellers', headers), []);
    assert.equal(sent, 0);
    const [head, body] = answer.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 413 /, label);
    assert.doesNotMatch(head, /100 Continue/i, label);
    assert.match(head, /\r\nConnection: close\r\n/i, label);
    assert.equal(JSON.parse(body).error.code, 'body_too_large', label);
    await assertUnchanged(label);
  }
});

test('a chunked body that goes on past twice the limit is cut off, and the server goes on', async () => {
  const piece = Buffer.from('x'.repeat(64 * 1024));
  const chunk = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
  const chunks = Array.from({ length: 64 * 16 }, () => chunk); // 64 MiB if nobody stops it
  const { answer, sent } = await rawStream(
    `${headOf('/v1/sellers', { 'Transfer-Encoding': 'chunked' })}9\r\n{"name":"\r\n`, chunks);
  assert.equal(answer, '', 'no answer can be sent in the middle of a body');
  assert.ok(sent > 2 * 1024 * 1024, `up to twice the limit is read; cut off after ${sent} bytes`);
  assert.ok(sent < 8 * 1024 * 1024, `the connection was closed after ${sent} bytes`);
  for (let i = 0; i < 50 && !shop.logs.join('').includes('"event":"body_dropped"'); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(shop.logs.join('').includes('"event":"body_dropped"'), 'the drop is logged');
  assert.equal((await shop.get('/healthz')).status, 200);
  await assertUnchanged('an endless chunked body');
});

test('unknown fields, wrong types and missing fields name the field', async () => {
  const wrongFor = (v) => {
    if (typeof v === 'string') return ['5', 'true', '[]', '{}', '["a"]', '{"a":"b"}'];
    if (typeof v === 'number') return [`"${v}"`, 'true', '[]', '{}', '1.5'];
    return ['"x"', '5', '{}', 'true']; // arrays
  };
  for (const ep of endpoints()) {
    for (const unknown of ['zzz_unknown', 'Product_Id', 'amount', 'id', 'status']) {
      const body = JSON.stringify({ ...ep.valid, [unknown]: 1 });
      await refuse(`${ep.name}: unknown field ${unknown}`, () => post(ep.path, body, { token: ep.token }),
        { status: 400, code: 'parameter_unknown', param: unknown });
    }
    for (const [field, value] of Object.entries(ep.valid)) {
      for (const w of wrongFor(value)) {
        await refuse(`${ep.name}: ${field}=${w}`,
          () => post(ep.path, withRaw(ep.valid, field, w), { token: ep.token }),
          { status: 400, param: field });
      }
    }
    for (const field of ep.required) {
      const body = { ...ep.valid };
      delete body[field];
      await refuse(`${ep.name}: without ${field}`, () => post(ep.path, JSON.stringify(body), { token: ep.token }),
        { status: 400, param: field });
      if (field !== 'card_keys') {
        await refuse(`${ep.name}: ${field}=null`,
          () => post(ep.path, withRaw(ep.valid, field, 'null'), { token: ep.token }),
          { status: 400, code: 'parameter_missing', param: field });
      }
    }
  }
});

test('field names the server quotes back stay valid UTF-8 however long', async () => {
  // An unknown or repeated key is quoted in the error; cut to fit a buffer it must not split a
  // character (the answer must still be JSON, and the server must still be up).
  for (const prefix of ['', 'a', 'ab']) {
    const key = `${prefix}${'键'.repeat(30)}`;
    const err = await refuse(`unknown key ${prefix}键×30`, () => post('/v1/orders', `{"${key}":1}`),
      { status: 400, code: 'parameter_unknown' });
    assert.ok(key.startsWith(err.param) && err.param.length > 0, err.param);
    await refuse(`duplicate key ${prefix}键×30`, () => post('/v1/orders', `{"${key}":1,"${key}":2}`),
      { status: 400, code: 'duplicate_key' });
  }
  await refuse('duplicate long field name', () => post('/v1/products',
    '{"kind":"card_key","name":"x","price_fen":1,"face_value_fen":1,"refund_window_hours":1,"refund_window_hours":2}',
    { token: shop.keys.admin }), { status: 400, code: 'duplicate_key', param: 'refund_window_hours' });
  assert.equal((await shop.get('/healthz')).status, 200);
});

test('strings: control characters, overlong values and bad enumerations name the field', async () => {
  const admin = shop.keys.admin;
  const cases = [
    ['contact with a control character', '/v1/orders', { product_id: card.id, contact: 'a\u0001b' }, undefined, 'contact'],
    ['contact over 128 bytes', '/v1/orders', { product_id: card.id, contact: 'c'.repeat(129) }, undefined, 'contact'],
    ['lookup password too short', '/v1/orders', { product_id: card.id, lookup_password: 'abc' }, undefined, 'lookup_password'],
    ['product_id empty', '/v1/orders', { product_id: '' }, undefined, 'product_id'],
    ['product_id over the id length', '/v1/orders', { product_id: `prod_${'x'.repeat(300)}` }, undefined, 'product_id'],
    ['product name over 200 bytes', '/v1/products', { kind: 'card_key', name: '名'.repeat(70), price_fen: 100, face_value_fen: 100 }, admin, 'name'],
    ['product kind unknown', '/v1/products', { kind: 'gift', name: 'x', price_fen: 100, face_value_fen: 100 }, admin, 'kind'],
    ['product target_format unknown', '/v1/products', { kind: 'direct_topup', name: 'x', price_fen: 100, face_value_fen: 100, target_format: 'email' }, admin, 'target_format'],
    ['payment method unknown', `/v1/orders/${orderA}/payments`, { method: 'bitcoin' }, tokenA, 'method'],
    ['payment method with a control character', `/v1/orders/${orderA}/payments`, { method: 'ali\npay' }, tokenA, 'method'],
    ['phone number too short', '/v1/targets/check', { product_id: phone.id, target_account: '12345' }, undefined, 'target_account'],
    ['phone number with letters', '/v1/targets/check', { product_id: phone.id, target_account: '1380013800a' }, undefined, 'target_account'],
    ['game region not offered', '/v1/targets/check', { product_id: game.id, target_account: '123456789', target_region: 'Mars' }, undefined, 'target_region'],
    ['api key role unknown', '/v1/api_keys', { role: 'root' }, admin, 'role'],
    ['seller key without seller', '/v1/api_keys', { role: 'seller' }, admin, 'seller_id'],
    ['agent key with a seller', '/v1/api_keys', { role: 'agent', seller_id: 'sel_x' }, admin, 'seller_id'],
    ['sandbox outcome unknown', `/v1/sandbox/payments/${paymentA}/pay`, { outcome: 'maybe' }, undefined, 'outcome'],
    ['card_keys row without password', `/v1/products/${card.id}/card_keys`, { card_keys: [{ number: 'N-1' }] }, admin, undefined],
    ['card_keys row with an extra field', `/v1/products/${card.id}/card_keys`, { card_keys: [{ password: 'P-1', pin: 1 }] }, admin, undefined],
    ['card_keys duplicated in the file', `/v1/products/${card.id}/card_keys`, { card_keys: [{ password: 'SAME-1' }, { password: 'SAME-1' }] }, admin, undefined],
    ['card_keys row not an object', `/v1/products/${card.id}/card_keys`, { card_keys: ['P-1'] }, admin, undefined],
  ];
  for (const [label, path, body, token, param] of cases) {
    const err = await refuse(label, () => post(path, JSON.stringify(body), { token }), { status: 400, ...(param ? { param } : {}) });
    if (param === undefined) {
      // A rejected import reports its problems by line and imports nothing.
      assert.equal(err.code, 'import_rejected', label);
      assert.ok(Array.isArray(err.problems) && err.problems.length > 0, label);
      assert.equal(typeof err.problems[0].line, 'number', label);
    }
  }
  // A CSV import with a malformed row: nothing is imported.
  const csv = 'number,password\nN-1,P-ok-1\n"N-2,P-2\n';
  const err = await refuse('card_keys CSV with an unterminated quote',
    () => post(`/v1/products/${card.id}/card_keys`, csv, { token: admin, ct: 'text/csv' }), { status: 400 });
  assert.equal(err.code, 'import_rejected');
});

// Numbers where money goes: only positive JSON integers up to the configured maximum.
const BAD_MONEY = ['1e3', '1E2', '10.5', '1.0', '"1000"', '"ten"', '-5', '0', '-0', '-1',
  '99999999999999999999999', '-99999999999999999999999', '18446744073709551616',
  '9223372036854775807', '-9223372036854775808', '10000001', 'true', 'false', '[]', '{}', '[100]',
  '{"fen":100}'];

test('money fields refuse reals, strings, negatives, zero and huge numbers', async () => {
  const valid = { kind: 'card_key', name: 'Money test', price_fen: 100, face_value_fen: 100 };
  for (const field of ['price_fen', 'face_value_fen']) {
    for (const v of BAD_MONEY) {
      const err = await refuse(`products.create ${field}=${v}`,
        () => post('/v1/products', withRaw(valid, field, v), { token: shop.keys.admin }),
        { status: 400, type: 'invalid_request_error', param: field });
      assert.ok(err.message.includes(field) || err.message.length > 0);
    }
  }
});

test('quantities and other integers refuse reals, strings, negatives, zero and huge numbers', async () => {
  const BAD_INT = ['1e3', '1E0', '10.5', '1.0', '"2"', '"one"', '-5', '-1',
    '99999999999999999999999', '-99999999999999999999999', '9223372036854775807',
    '-9223372036854775808', 'true', '[]', '{}', '[1]'];
  const admin = shop.keys.admin;
  const productValid = { kind: 'card_key', name: 'Int test', price_fen: 100, face_value_fen: 100 };
  const targets = [
    ['orders.create', '/v1/orders', { product_id: card.id, quantity: 1 }, 'quantity', undefined, ['0', '-0', '101']],
    ['test.clock.advance', '/v1/test/clock/advance', { seconds: 60 }, 'seconds', undefined, ['31622401']],
    ['products.create', '/v1/products', productValid, 'refund_window_hours', admin, ['1001']],
    ['products.create', '/v1/products', productValid, 'no_reason_days', admin, ['1001']],
    ['products.create', '/v1/products', productValid, 'topup_timeout_minutes', admin, ['100001']],
    ['products.create', '/v1/products', productValid, 'escrow_days', admin, ['1001']],
  ];
  for (const [name, path, valid, field, token, extra] of targets) {
    for (const v of [...BAD_INT, ...extra]) {
      await refuse(`${name} ${field}=${v}`, () => post(path, withRaw(valid, field, v), { token }),
        { status: 400, param: field });
    }
  }
  // More than the stock: a 409 naming the quantity, and nothing reserved.
  await refuse('orders.create quantity over the stock',
    () => post('/v1/orders', JSON.stringify({ product_id: card.id, quantity: card.stock.available + 1 })),
    { status: 409, param: 'quantity' });
});

test('unknown ids answer 404 (paths) or name the field (bodies)', async () => {
  const admin = shop.keys.admin;
  const cases = [
    ['GET order', 'GET', '/v1/orders/ord_0000000000000000nope', undefined, admin, 404, 'order_id'],
    ['GET product', 'GET', '/v1/products/prod_000000000000000nope', undefined, undefined, 404, 'product_id'],
    ['GET product (admin)', 'GET', '/v1/products/prod_000000000000000nope', undefined, admin, 404, 'product_id'],
    ['import into unknown product', 'POST', '/v1/products/prod_000000000000000nope/card_keys', { card_keys: [{ password: 'P-NOPE-1' }] }, admin, 404, 'product_id'],
    ['pay unknown order', 'POST', '/v1/orders/ord_0000000000000000nope/payments', { method: 'alipay' }, admin, 404, 'order_id'],
    ['reveal on unknown order', 'POST', '/v1/orders/ord_0000000000000000nope/card_keys/ck_nope/reveal', undefined, admin, 404, undefined],
    ['reveal unknown card key', 'POST', `/v1/orders/${orderA}/card_keys/ck_000000000000000nope/reveal`, undefined, tokenA, 404, 'card_key_id'],
    ['account reveal on unknown order', 'POST', '/v1/orders/ord_0000000000000000nope/account_goods/reveal', undefined, admin, 404, undefined],
    ['deliver unknown order', 'POST', '/v1/orders/ord_0000000000000000nope/deliver', { content: 'x' }, shop.keys.seller, 404, undefined],
    ['sandbox pay unknown payment', 'POST', '/v1/sandbox/payments/pay_00000000000000nope/pay', { outcome: 'succeeded' }, undefined, 404, 'payment_id'],
    ['order for unknown product', 'POST', '/v1/orders', { product_id: 'prod_000000000000000nope' }, undefined, [400, 404], 'product_id'],
    ['target check for unknown product', 'POST', '/v1/targets/check', { product_id: 'prod_000000000000000nope', target_account: '13800138000' }, undefined, [400, 404], 'product_id'],
    ['seller key for unknown seller', 'POST', '/v1/api_keys', { role: 'seller', seller_id: 'sel_000000000000000nope' }, admin, [400, 404], 'seller_id'],
    ['account product for unknown seller', 'POST', '/v1/products', { kind: 'account', name: 'x', price_fen: 100, face_value_fen: 100, seller_id: 'sel_000000000000000nope' }, admin, [400, 404], 'seller_id'],
    ['unknown path', 'GET', '/v1/nope', undefined, undefined, 404, null],
    ['unknown path under an order', 'POST', `/v1/orders/${orderA}/refund`, {}, admin, 404, null],
    ['path with an invalid UTF-8 escape', 'GET', '/v1/nope%ff', undefined, undefined, 404, null],
    ['order id with an invalid UTF-8 escape', 'GET', '/v1/orders/ord_%ff%fe', undefined, admin, 404, 'order_id'],
    ['product id with an invalid UTF-8 escape', 'GET', '/v1/products/%c0%af', undefined, undefined, 404, 'product_id'],
    ['order id with a NUL escape', 'GET', '/v1/orders/ord_%00x', undefined, admin, 404, undefined],
    ['very long order id', 'GET', `/v1/orders/ord_${'x'.repeat(400)}`, undefined, admin, 404, undefined],
    ['path too long', 'GET', `/v1/${'x'.repeat(2000)}`, undefined, undefined, 404, undefined],
    ['path too deep', 'GET', '/v1/a/b/c/d/e/f/g/h/i/j', undefined, undefined, 404, undefined],
  ];
  for (const [label, method, path, body, token, status, param] of cases) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    await refuse(label, () => rawRequest(shop, method, path, { headers, body: body === undefined ? undefined : JSON.stringify(body) }),
      { status, code: Array.isArray(status) ? ['resource_missing', 'parameter_invalid'] : 'resource_missing',
        ...(param !== undefined ? { param } : {}) });
  }
  // Look-up by an unknown id says exactly what a wrong password says.
  const unknown = await refuse('lookup of an unknown order',
    () => post('/v1/orders/lookup', JSON.stringify({ order_id: 'ord_0000000000000000nope', lookup_password: 'correct horse' })),
    { status: 401, param: 'lookup_password' });
  const wrong = await refuse('lookup with a wrong password',
    () => post('/v1/orders/lookup', JSON.stringify({ order_id: orderA, lookup_password: 'wrong horse' })),
    { status: 401, param: 'lookup_password' });
  assert.equal(unknown.code, wrong.code);
  assert.equal(unknown.message, wrong.message);
  const noPassword = await refuse('lookup of an order without a password',
    () => post('/v1/orders/lookup', JSON.stringify({ order_id: orderB, lookup_password: 'correct horse' })),
    { status: 401, param: 'lookup_password' });
  assert.equal(noPassword.message, wrong.message);
  // Methods a route does not take: 405, in the same error shape.
  for (const [method, path] of [['DELETE', '/v1/orders'], ['PUT', '/v1/products'], ['GET', '/v1/sellers'], ['POST', '/v1/ledger/check'],
    ['PATCH', `/v1/orders/${orderA}`], ['GET', '/v1/test/clock/advance'], ['GET', '/v1/callbacks/payments/sandbox']]) {
    await refuse(`${method} ${path}`, () => rawRequest(shop, method, path, { headers: { authorization: `Bearer ${shop.keys.admin}` } }),
      { status: 405, code: 'method_not_allowed' });
  }
});

test("another buyer's token sees nothing: the same 404 as an order that does not exist", async () => {
  const missing = 'ord_0000000000000000nope';
  const routes = [
    ['GET', (id) => `/v1/orders/${id}`, undefined],
    ['POST', (id) => `/v1/orders/${id}/payments`, { method: 'alipay' }],
    ['POST', (id) => `/v1/orders/${id}/card_keys/ck_anything/reveal`, undefined],
    ['POST', (id) => `/v1/orders/${id}/account_goods/reveal`, undefined],
    ['POST', (id) => `/v1/orders/${id}/confirm`, undefined],
  ];
  for (const [method, pathOf, body] of routes) {
    for (const [who, token] of [['buyer B', tokenB], ['a seller', shop.keys.seller]]) {
      if (who === 'a seller' && pathOf('x').endsWith('/confirm')) continue; // sellers never confirm: 403
      const send = (id) => rawRequest(shop, method, pathOf(id), {
        headers: { authorization: `Bearer ${token}`, ...(body ? JSON_CT : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const other = await refuse(`${who}: ${method} ${pathOf(orderA)}`, () => send(orderA), { status: 404, code: 'resource_missing', param: 'order_id' });
      const none = await refuse(`${who}: ${method} ${pathOf(missing)}`, () => send(missing), { status: 404, code: 'resource_missing', param: 'order_id' });
      assert.equal(other.type, none.type);
      assert.equal(other.message.replace(orderA, 'ID'), none.message.replace(missing, 'ID'));
      const text = JSON.stringify(other);
      for (const secret of ['pending_payment', 'amount', 'buyer', card.id, paymentA, 'payments']) {
        assert.ok(!text.includes(secret), `the 404 reveals ${secret}: ${text}`);
      }
    }
  }
});

test('missing or invalid credentials: 401; the wrong role: 403', async () => {
  const { admin, agent, seller } = shop.keys;
  const productBody = { kind: 'card_key', name: 'Auth test', price_fen: 100, face_value_fen: 100 };
  const cases = [
    // [label, method, path, body, authorization header, status]
    ['create product without a key', 'POST', '/v1/products', productBody, undefined, 401],
    ['create product as agent', 'POST', '/v1/products', productBody, `Bearer ${agent}`, 403],
    ['create product as seller', 'POST', '/v1/products', productBody, `Bearer ${seller}`, 403],
    ['create product with a buyer token', 'POST', '/v1/products', productBody, `Bearer ${tokenA}`, 403],
    ['create product with an unknown key', 'POST', '/v1/products', productBody, 'Bearer sk_0000000000000000000000000000', 401],
    ['create product with an unknown buyer token', 'POST', '/v1/products', productBody, 'Bearer bt_0000000000000000000000000000', 401],
    ['create product with Basic auth', 'POST', '/v1/products', productBody, `Basic ${Buffer.from(`${admin}:`).toString('base64')}`, 401],
    ['create product with an empty bearer', 'POST', '/v1/products', productBody, 'Bearer ', 401],
    ['create product with lowercase bearer', 'POST', '/v1/products', productBody, `bearer ${admin}`, 401],
    ['create product with a token of another kind', 'POST', '/v1/products', productBody, 'Bearer pk_live_whatever', 401],
    ['create product with the key plus junk', 'POST', '/v1/products', productBody, `Bearer ${admin}x`, 401],
    ['import card keys without a key', 'POST', `/v1/products/${card.id}/card_keys`, { card_keys: [{ password: 'AUTH-1' }] }, undefined, 401],
    ['import card keys as agent', 'POST', `/v1/products/${card.id}/card_keys`, { card_keys: [{ password: 'AUTH-1' }] }, `Bearer ${agent}`, 403],
    ['import card keys as seller', 'POST', `/v1/products/${card.id}/card_keys`, { card_keys: [{ password: 'AUTH-1' }] }, `Bearer ${seller}`, 403],
    ['create seller without a key', 'POST', '/v1/sellers', { name: 'S' }, undefined, 401],
    ['create seller as agent', 'POST', '/v1/sellers', { name: 'S' }, `Bearer ${agent}`, 403],
    ['create API key without a key', 'POST', '/v1/api_keys', { role: 'admin' }, undefined, 401],
    ['create API key as seller', 'POST', '/v1/api_keys', { role: 'admin' }, `Bearer ${seller}`, 403],
    ['create API key with a buyer token', 'POST', '/v1/api_keys', { role: 'admin' }, `Bearer ${tokenA}`, 403],
    ['list orders without a key', 'GET', '/v1/orders', undefined, undefined, 401],
    ['list orders with a buyer token', 'GET', '/v1/orders', undefined, `Bearer ${tokenA}`, 403],
    ['list orders as seller', 'GET', '/v1/orders', undefined, `Bearer ${seller}`, 403],
    ['ledger without a key', 'GET', '/v1/ledger/check', undefined, undefined, 401],
    ['ledger as agent', 'GET', '/v1/ledger/check', undefined, `Bearer ${agent}`, 403],
    ['ledger with a buyer token', 'GET', '/v1/ledger/check', undefined, `Bearer ${tokenA}`, 403],
    ['read an order without a token', 'GET', `/v1/orders/${orderA}`, undefined, undefined, 401],
    ['read an order with an unknown token', 'GET', `/v1/orders/${orderA}`, undefined, 'Bearer bt_0000000000000000000000000000', 401],
    ['pay without a token', 'POST', `/v1/orders/${orderA}/payments`, { method: 'alipay' }, undefined, 401],
    ['reveal without a token', 'POST', `/v1/orders/${orderA}/card_keys/ck_x/reveal`, undefined, undefined, 401],
    ['reveal as agent', 'POST', `/v1/orders/${orderA}/card_keys/ck_x/reveal`, undefined, `Bearer ${agent}`, 403],
    ['account reveal without a token', 'POST', `/v1/orders/${orderA}/account_goods/reveal`, undefined, undefined, 401],
    ['deliver without a key', 'POST', `/v1/orders/${orderA}/deliver`, { content: 'x' }, undefined, 401],
    ['deliver with a buyer token', 'POST', `/v1/orders/${orderA}/deliver`, { content: 'x' }, `Bearer ${tokenA}`, 403],
    ['deliver as admin', 'POST', `/v1/orders/${orderA}/deliver`, { content: 'x' }, `Bearer ${admin}`, 403],
    ['confirm without a token', 'POST', `/v1/orders/${orderA}/confirm`, undefined, undefined, 401],
    ['confirm as admin', 'POST', `/v1/orders/${orderA}/confirm`, undefined, `Bearer ${admin}`, 403],
    ['confirm as seller', 'POST', `/v1/orders/${orderA}/confirm`, undefined, `Bearer ${seller}`, 403],
  ];
  for (const [label, method, path, body, authorization, status] of cases) {
    const headers = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    await refuse(label, () => rawRequest(shop, method, path, { headers, body: body === undefined ? undefined : JSON.stringify(body) }),
      { status, type: 'authentication_error', param: 'Authorization' });
  }
});

test('forged payment and upstream callbacks are refused with a signature error', async () => {
  const clock = await shop.get('/v1/test/clock');
  const nowMs = Date.parse(clock.body.now);
  const payBody = (amount) => `{"id":"sbx_forged","type":"payment.succeeded","payment_id":"${paymentA}",`
    + `"provider_txn_id":"sbx_forged","amount_fen":${amount},"method":"alipay","created":${nowMs}}`;
  const upstreamBody = '{"id":"evt_forged","upstream_ref":"up_forged","topup_id":"tu_forged","status":"succeeded"}';
  const hex = (c) => c.repeat(64);
  const signatures = [
    ['no signature', undefined, 'signature_missing'],
    ['empty signature', '', 'signature_missing'],
    ['garbage', 'garbage', 'signature_missing'],
    ['v1 only', `v1=${hex('a')}`, 'signature_missing'],
    ['short mac', `t=${nowMs},v1=abcd`, 'signature_missing'],
    ['uppercase hex', `t=${nowMs},v1=${hex('A')}`, 'signature_missing'],
    ['wrong mac, current time', `t=${nowMs},v1=${hex('0')}`, 'signature_invalid'],
    ['wrong mac, other scheme', `t=${nowMs},v0=${hex('0')}`, 'signature_missing'],
    ['stale timestamp', `t=${nowMs - 24 * 3600 * 1000},v1=${hex('1')}`, 'signature_expired'],
    ['future timestamp', `t=${nowMs + 24 * 3600 * 1000},v1=${hex('1')}`, 'signature_expired'],
    ['timestamp zero', `t=0,v1=${hex('1')}`, 'signature_expired'],
    ['huge timestamp', `t=99999999999999999999,v1=${hex('1')}`, undefined],
  ];
  const disputeBody = `{"id":"sdp_forged.closed","type":"dispute.closed","dispute_id":"sdp_forged",`
    + `"payment_id":"${paymentA}","amount_fen":1000,"reason":"other","respond_by":${nowMs},`
    + '"outcome":"lost","outcome_detail":"no_response"}';
  const bodies = [
    ['payment', '/v1/callbacks/payments/sandbox', payBody(1000)],
    ['upstream', '/v1/callbacks/upstream/sandbox', upstreamBody],
    ['dispute', '/v1/callbacks/disputes/sandbox', disputeBody],
  ];
  for (const [kind, path, body] of bodies) {
    for (const [what, sig, code] of signatures) {
      const headers = { ...JSON_CT };
      if (sig !== undefined) headers['kameng-signature'] = sig;
      await refuse(`${kind} callback: ${what}`, () => rawRequest(shop, 'POST', path, { headers, body }),
        { status: 400, type: 'signature_error', param: 'Kameng-Signature', ...(code ? { code } : {}) });
    }
    // Whatever the body holds, an unsigned callback is refused for its signature first.
    for (const [what, b] of [['malformed JSON', '{"type":'], ['array', '[]'], ['empty', ''],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])]]) {
      await refuse(`${kind} callback: ${what}, forged`,
        () => rawRequest(shop, 'POST', path, { headers: { ...JSON_CT, 'kameng-signature': `t=${nowMs},v1=${hex('0')}` }, body: b }),
        { status: 400, type: 'signature_error', param: 'Kameng-Signature' });
    }
  }
  for (const amount of BAD_MONEY) {
    await refuse(`payment callback: amount_fen=${amount}, forged`,
      () => rawRequest(shop, 'POST', '/v1/callbacks/payments/sandbox', {
        headers: { ...JSON_CT, 'kameng-signature': `t=${nowMs},v1=${hex('0')}` }, body: payBody(amount),
      }),
      { status: 400, type: 'signature_error', param: 'Kameng-Signature' });
  }
  // The payment the forgeries named is still waiting for the buyer.
  const order = await shop.get(`/v1/orders/${orderA}`, { token: tokenA });
  assert.equal(order.body.status, 'pending_payment');
  assert.equal(order.body.payments.find((p) => p.id === paymentA).status, 'requires_payment');
  assert.equal(order.body.amount_captured_fen, 0);
});

test('a genuine payment is captured once, however often the provider and the timers run', async () => {
  // This test changes the database on purpose: it runs last.
  const before = await shop.ledger();
  const { order, pay } = await buy(shop, card.id, { quantity: 2 });
  assert.equal(order.status, 'delivered');
  const after1 = await shop.ledger();
  assert.equal(after1.balanced, true);
  assert.ok(after1.transfers > before.transfers);
  // The provider is told again; timers run again, across the notification retry schedule.
  const again = await shop.post(`/v1/sandbox/payments/${pay.body.id}/pay`, { outcome: 'succeeded' });
  assertError(again, { status: 409 }, 'a second charge of a captured payment');
  for (const s of [0, 0, 2, 4, 8, 16, 60, 600]) await shop.advance(s);
  const after2 = await shop.ledger();
  assert.deepEqual({ ...after2 }, { ...after1 }, 'no money moved on replays');
  const admin = await shop.get(`/v1/orders/${order.id}`, { token: shop.keys.admin });
  assert.equal(admin.body.payments.length, 1);
  assert.equal(admin.body.payments[0].status, 'succeeded');
  assert.equal(admin.body.amount_captured_fen, order.amount_fen);
  assert.equal(admin.body.amount_unapplied_fen, 0);
  assert.equal(admin.body.card_keys.length, 2);
});
