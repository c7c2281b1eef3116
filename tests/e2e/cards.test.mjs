// Card keys: buying one or many (all or none), masked until revealed, every reveal recorded,
// and the admin's bulk import in CSV and JSON that reports bad rows by line and never imports
// half a file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop, buy } from './lib/server.mjs';
import {
  assertError, assertBalanced, stockOf, createCardProduct, freshKeys, importJson, importCsv,
  orderView,
} from './lib/flows.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

async function productWithKeys(n, price = 1000) {
  const product = await createCardProduct(shop, { price });
  const keys = freshKeys(n);
  const r = await importJson(shop, product.id, keys);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { product, keys };
}

test('one card key: delivered masked, stock moves from available to delivered, revenue booked', async () => {
  const { product, keys } = await productWithKeys(3, 1234);
  const before = await shop.ledger();
  const { order, created } = await buy(shop, product.id, { quantity: 1 });
  assert.equal(created.status, 201);
  assert.match(created.body.id, /^ord_/);
  assert.match(created.body.buyer_token, /^bt_/);
  assert.equal(created.body.amount_fen, 1234);
  assert.equal(order.status, 'delivered');
  assert.equal(order.amount_captured_fen, 1234);
  assert.equal(order.amount_unapplied_fen, 0);
  assert.equal(order.card_keys.length, 1);
  const k = order.card_keys[0];
  assert.match(k.id, /^ck_/);
  assert.equal(k.revealed, false);
  assert.equal(k.first_revealed_at, null);
  // Masked: the last four characters of the number, never the password.
  assert.match(k.masked, /^\*\*\*\*/);
  const secrets = keys.flatMap((x) => [x.password]);
  for (const s of secrets) assert.ok(!JSON.stringify(order).includes(s), 'no password in the order view');
  assert.deepEqual(await stockOf(shop, product.id), { available: 2, reserved: 0, delivered: 1 });
  const l = await assertBalanced(shop);
  assert.equal(l.revenue_fen - before.revenue_fen, 1234);
});

test('quantity above one delivers exactly that many distinct keys', async () => {
  const { product } = await productWithKeys(6, 500);
  const { order } = await buy(shop, product.id, { quantity: 4 });
  assert.equal(order.status, 'delivered');
  assert.equal(order.quantity, 4);
  assert.equal(order.amount_fen, 2000);
  assert.equal(order.amount_captured_fen, 2000);
  assert.equal(order.card_keys.length, 4);
  assert.equal(new Set(order.card_keys.map((k) => k.id)).size, 4);
  assert.ok(order.card_keys.every((k) => k.status === 'delivered'));
  assert.deepEqual(await stockOf(shop, product.id), { available: 2, reserved: 0, delivered: 4 });
  await assertBalanced(shop);
});

test('ordering more than stock: 409 out_of_stock, nothing reserved, no order', async () => {
  const { product } = await productWithKeys(3);
  const r = await shop.post('/v1/orders', { product_id: product.id, quantity: 4 });
  assertError(r, 409, { param: 'quantity', code: 'out_of_stock' });
  assert.deepEqual(await stockOf(shop, product.id), { available: 3, reserved: 0, delivered: 0 });
  // Exactly the stock still sells, all of it.
  const { order } = await buy(shop, product.id, { quantity: 3 });
  assert.equal(order.status, 'delivered');
  assert.equal(order.card_keys.length, 3);
  assert.deepEqual(await stockOf(shop, product.id), { available: 0, reserved: 0, delivered: 3 });
  const again = await shop.post('/v1/orders', { product_id: product.id, quantity: 1 });
  assertError(again, 409, { code: 'out_of_stock' });
  await assertBalanced(shop);
});

test('an unpaid order holds its keys as reserved', async () => {
  const { product } = await productWithKeys(5);
  const r = await shop.post('/v1/orders', { product_id: product.id, quantity: 2 });
  assert.equal(r.status, 201);
  assert.equal(r.body.status, 'pending_payment');
  assert.deepEqual(await stockOf(shop, product.id), { available: 3, reserved: 2, delivered: 0 });
  // The public catalog shows what can be bought, and nothing of the back office.
  const pub = await shop.get(`/v1/products/${product.id}`);
  assert.equal(pub.status, 200);
  assert.deepEqual(pub.body.stock, { available: 3 });
});

test('checkout holds the oldest keys and lists them, masked, in its answer', async () => {
  const { product, keys: older } = await productWithKeys(2);
  await shop.advance(1); // the shop's clock is a test clock: the next import is a second later
  // Numbers ending otherwise than the first import's, so the masks tell the two imports apart.
  const newer = freshKeys(3).map((k, i) => ({ ...k, number: `${k.number}9${i}` }));
  assert.equal((await importJson(shop, product.id, newer)).status, 201);
  const r = await shop.post('/v1/orders', { product_id: product.id, quantity: 2 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const held = r.body.card_keys;
  assert.equal(held.length, 2);
  assert.ok(held.every((k) => k.status === 'reserved' && /^\*\*\*\*/.test(k.masked)));
  // The two keys of the first import, whichever order they sort in.
  assert.deepEqual(held.map((k) => k.masked).sort(),
    older.map((k) => `****${k.number.slice(-4)}`).sort());
  for (const k of [...older, ...newer]) {
    assert.ok(!JSON.stringify(r.body).includes(k.password), 'no password in the answer');
  }
  // What the buyer is shown later is what checkout said it held.
  const view = await orderView(shop, r.body.id, r.body.buyer_token);
  assert.deepEqual(view.card_keys.map((k) => k.id).sort(), held.map((k) => k.id).sort());
});

test('the keys of one import go out in the order of its rows', async () => {
  const { product, keys } = await productWithKeys(6); // one request, one instant on the test clock
  const sold = [];
  for (let i = 0; i < keys.length; i++) {
    const r = await shop.post('/v1/orders', { product_id: product.id, quantity: 1 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    sold.push(r.body.card_keys[0].masked);
  }
  assert.deepEqual(sold, keys.map((k) => `****${k.number.slice(-4)}`));
});

test('reveal returns the secret and is recorded with time and IP; the view stays masked', async () => {
  const { product, keys } = await productWithKeys(2);
  const { order, token } = await buy(shop, product.id, { quantity: 2 });
  const byNumber = new Map(keys.map((k) => [k.number, k.password]));
  const revealed = [];
  for (const k of order.card_keys) {
    const r = await shop.post(`/v1/orders/${order.id}/card_keys/${k.id}/reveal`, {}, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.card_key_id, k.id);
    assert.equal(r.body.order_id, order.id);
    assert.ok(byNumber.has(r.body.number), 'the number is one that was imported');
    assert.equal(r.body.password, byNumber.get(r.body.number));
    assert.ok(k.masked.endsWith(r.body.number.slice(-4)), 'mask shows the last four of the number');
    assert.match(r.body.revealed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    revealed.push(r.body.number);
  }
  assert.equal(new Set(revealed).size, 2);
  // A second reveal of the same key is recorded too.
  const again = await shop.post(`/v1/orders/${order.id}/card_keys/${order.card_keys[0].id}/reveal`, {}, { token });
  assert.equal(again.status, 200);

  const view = await orderView(shop, order.id, token);
  assert.equal(view.reveals.length, 3);
  for (const rv of view.reveals) {
    assert.equal(rv.actor, 'buyer');
    assert.equal(rv.ip, '127.0.0.1');
    assert.match(rv.revealed_at, /^2026-03-02T/); // the test clock's day
  }
  assert.deepEqual(new Set(view.reveals.map((x) => x.card_key_id)), new Set(order.card_keys.map((k) => k.id)));
  assert.ok(view.card_keys.every((k) => k.revealed && k.first_revealed_at));
  for (const k of keys) assert.ok(!JSON.stringify(view).includes(k.password), 'view never shows a password');
});

test('a key of another order cannot be revealed, nor an order read with another buyer token', async () => {
  const { product } = await productWithKeys(2);
  const a = await buy(shop, product.id, { quantity: 1 });
  const b = await buy(shop, product.id, { quantity: 1 });
  const keyA = a.order.card_keys[0].id;
  // B's token on A's order: as if it did not exist.
  assertError(await shop.post(`/v1/orders/${a.order.id}/card_keys/${keyA}/reveal`, {}, { token: b.token }), 404);
  // B's token, B's order, A's key.
  assertError(await shop.post(`/v1/orders/${b.order.id}/card_keys/${keyA}/reveal`, {}, { token: b.token }),
    404, { param: 'card_key_id' });
  // No token at all.
  assertError(await shop.post(`/v1/orders/${a.order.id}/card_keys/${keyA}/reveal`, {}), 401);
  assertError(await shop.get(`/v1/orders/${a.order.id}`, { token: b.token }), 404);
  // Agents see that a key exists, never the key.
  assertError(await shop.post(`/v1/orders/${a.order.id}/card_keys/${keyA}/reveal`, {}, { token: shop.keys.agent }), 403);
  const viewA = await orderView(shop, a.order.id, a.token);
  assert.equal(viewA.reveals.length, 0, 'failed attempts reveal nothing and record nothing');
  assert.equal(viewA.card_keys[0].revealed, false);
});

test('an unpaid order\'s reserved key cannot be revealed', async () => {
  const { product } = await productWithKeys(1);
  const c = await shop.post('/v1/orders', { product_id: product.id, quantity: 1 });
  assert.equal(c.status, 201);
  const view = await orderView(shop, c.body.id, c.body.buyer_token);
  assert.equal(view.card_keys.length, 1);
  assert.equal(view.card_keys[0].status, 'reserved');
  for (const k of view.card_keys) {
    const r = await shop.post(`/v1/orders/${c.body.id}/card_keys/${k.id}/reveal`, {}, { token: c.body.buyer_token });
    assertError(r, 409, { param: 'card_key_id' });
  }
});

test('CSV import: header, quoted fields, password-only rows; stock counts follow', async () => {
  const product = await createCardProduct(shop);
  const [a, b, c] = freshKeys(3, 'CSV');
  const csv = `number,password\r\n${a.number},${a.password}\r\n"${b.number}","${b.password}"\r\n\r\n${c.password}\r\n`;
  const r = await importCsv(shop, product.id, csv);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.object, 'card_key_import');
  assert.equal(r.body.imported, 3);
  assert.match(r.body.batch_id, /^batch_/);
  assert.deepEqual(r.body.stock, { available: 3, reserved: 0, delivered: 0 });
  assert.deepEqual(await stockOf(shop, product.id), { available: 3, reserved: 0, delivered: 0 });
  // Each imported key comes out as imported: buy all three and reveal.
  const { order, token } = await buy(shop, product.id, { quantity: 3 });
  const got = [];
  for (const k of order.card_keys) {
    const rv = await shop.post(`/v1/orders/${order.id}/card_keys/${k.id}/reveal`, {}, { token });
    got.push(`${rv.body.number ?? ''}|${rv.body.password}`);
  }
  assert.deepEqual(got.sort(), [`${a.number}|${a.password}`, `${b.number}|${b.password}`, `|${c.password}`].sort());
});

test('CSV import with malformed rows and in-file duplicates: reported by line, nothing imported', async () => {
  const product = await createCardProduct(shop);
  const [a, b, c] = freshKeys(3, 'BAD');
  const lines = [
    'number,password',                       // 1 header
    `${a.number},${a.password}`,            // 2 good
    `${b.number},${b.password},extra`,      // 3 three fields
    `"${c.number},${c.password}`,           // 4 unclosed quote
    `${a.number},${a.password}`,            // 5 duplicate of line 2
    `${c.number},`,                         // 6 empty password
  ];
  const r = await importCsv(shop, product.id, lines.join('\n') + '\n');
  const err = assertError(r, 400, { param: 'file', code: 'import_rejected' });
  assert.equal(err.problem_count, 4);
  const byLine = Object.fromEntries(err.problems.map((p) => [p.line, p.reason]));
  assert.deepEqual(byLine, { 3: 'malformed', 4: 'malformed', 5: 'duplicate_in_file', 6: 'empty_secret' });
  assert.match(err.problems.find((p) => p.line === 5).message, /line 2/);
  assert.deepEqual(await stockOf(shop, product.id), { available: 0, reserved: 0, delivered: 0 });
});

test('JSON import; duplicates against stock are reported by line and nothing is half-imported', async () => {
  const product = await createCardProduct(shop);
  const first = freshKeys(3, 'JS');
  const ok = await importJson(shop, product.id, first);
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.imported, 3);
  assert.deepEqual(ok.body.stock, { available: 3, reserved: 0, delivered: 0 });

  // Two new keys around one already in stock: the whole file is refused.
  const more = freshKeys(2, 'JS2');
  const r = await importJson(shop, product.id, [more[0], first[1], more[1]]);
  const err = assertError(r, 400, { param: 'file', code: 'import_rejected' });
  assert.equal(err.problem_count, 1);
  assert.deepEqual(err.problems.map((p) => [p.line, p.reason]), [[2, 'duplicate_in_stock']]);
  assert.deepEqual(await stockOf(shop, product.id), { available: 3, reserved: 0, delivered: 0 });
  // The keys of the refused file were not stored: the same two import fine on their own.
  const retry = await importJson(shop, product.id, more);
  assert.equal(retry.status, 201, JSON.stringify(retry.body));
  assert.equal(retry.body.imported, 2);
  assert.deepEqual(retry.body.stock, { available: 5, reserved: 0, delivered: 0 });

  // A key already in stock under another product is a duplicate too (a card is one card).
  const other = await createCardProduct(shop);
  const cross = await importJson(shop, other.id, [first[0]]);
  assertError(cross, 400, { code: 'import_rejected' });
  assert.deepEqual(await stockOf(shop, other.id), { available: 0, reserved: 0, delivered: 0 });
});

test('JSON import with malformed items and in-file duplicates: reported by line, nothing imported', async () => {
  const product = await createCardProduct(shop);
  const [a, b] = freshKeys(2, 'JM');
  const r = await importJson(shop, product.id, [
    a,                                  // 1 good
    { number: b.number },               // 2 no password
    { number: 7, password: 'x' },       // 3 number not a string
    { ...b, note: 'x' },                // 4 unknown field
    a,                                  // 5 duplicate of 1
    { password: '' },                   // 6 empty password
  ]);
  const err = assertError(r, 400, { param: 'file', code: 'import_rejected' });
  const byLine = Object.fromEntries(err.problems.map((p) => [p.line, p.reason]));
  assert.deepEqual(byLine, { 2: 'malformed', 3: 'malformed', 4: 'malformed', 5: 'duplicate_in_file', 6: 'empty_secret' });
  assert.equal(err.problem_count, 5);
  assert.deepEqual(await stockOf(shop, product.id), { available: 0, reserved: 0, delivered: 0 });
});

test('only an admin imports, only into card-key products, only CSV or JSON', async () => {
  const product = await createCardProduct(shop);
  const keys = freshKeys(1, 'AUTH');
  assertError(await shop.post(`/v1/products/${product.id}/card_keys`, { card_keys: keys }), 401);
  assertError(await shop.post(`/v1/products/${product.id}/card_keys`, { card_keys: keys }, { token: shop.keys.agent }), 403);
  assertError(await shop.post(`/v1/products/${product.id}/card_keys`, { card_keys: keys }, { token: shop.keys.seller }), 403);
  const topup = await shop.product('direct_topup');
  assertError(await importJson(shop, topup.id, keys), 400, { param: 'product_id' });
  const r = await shop.req('POST', `/v1/products/${product.id}/card_keys`, {
    raw: 'a,b\n', token: shop.keys.admin, headers: { 'content-type': 'text/plain' },
  });
  assertError(r, 415, { param: 'Content-Type' });
  assert.deepEqual(await stockOf(shop, product.id), { available: 0, reserved: 0, delivered: 0 });
  // And the books are untouched by all of it.
  await assertBalanced(shop);
});
