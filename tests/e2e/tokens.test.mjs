// Buyer tokens issued before tokens began with their time (43 random characters after "bt_",
// stored as the plain SHA-256 of the token) still open their order after an upgrade, and only
// their order; a token a character away from one opens nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomInt } from 'node:crypto';
import { POSTGRES, startShop, storeSql, buy } from './lib/server.mjs';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
let shop;

before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

function oldShapeToken() {
  let t = 'bt_';
  for (let i = 0; i < 43; i++) t += ALPHABET[randomInt(ALPHABET.length)];
  return t;
}

test('a buyer token of the shape issued before time-keyed tokens still opens its order, and nothing else', async () => {
  const product = await shop.product('card_key');
  const mine = await buy(shop, product.id, { quantity: 1 });
  const other = await buy(shop, product.id, { quantity: 1 });
  assert.equal(mine.order.status, 'delivered');
  // Today's tokens carry their time: "bt_" + 10 time characters + 43 random.
  assert.match(mine.token, /^bt_[0-9a-z]{53}$/);

  // A token of the old shape, stored as the old code stored it, with the shop stopped.
  const old = oldShapeToken();
  const hash = createHash('sha256').update(old).digest('hex');
  await shop.stop();
  const bytes = POSTGRES ? `decode('${hash}', 'hex')` : `X'${hash}'`;
  storeSql(shop.dataDir, `INSERT INTO order_tokens (token_hash, order_id, created_at, via) VALUES (${bytes}, '${mine.order.id}', 0, 'checkout')`);
  shop = await startShop({ dataDir: shop.dataDir });

  const seen = await shop.get(`/v1/orders/${mine.order.id}`, { token: old });
  assert.equal(seen.status, 200, JSON.stringify(seen.body));
  assert.equal(seen.body.id, mine.order.id);
  assert.equal(seen.body.card_keys.length, 1);
  // The same order through today's token, after the restart.
  const again = await shop.get(`/v1/orders/${mine.order.id}`, { token: mine.token });
  assert.equal(again.status, 200);

  // Another buyer's order is not opened by it.
  const theirs = await shop.get(`/v1/orders/${other.order.id}`, { token: old });
  assert.ok(theirs.status === 401 || theirs.status === 404, `${theirs.status} ${JSON.stringify(theirs.body)}`);
  assert.equal(theirs.body.id, undefined);
  assert.ok(theirs.body.error, 'a JSON error');

  // One character changed, one too many or one too few: nothing.
  const last = old.at(-1) === 'a' ? 'b' : 'a';
  for (const near of [old.slice(0, -1) + last, old + 'a', old.slice(0, -1)]) {
    const r = await shop.get(`/v1/orders/${mine.order.id}`, { token: near });
    assert.ok(r.status === 401 || r.status === 404, `${near}: ${r.status}`);
    assert.equal(r.body.id, undefined);
  }
});
