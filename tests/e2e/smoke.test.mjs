// The shortest path a buyer takes: a card key bought, paid and delivered, and the books balanced.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startShop, buy } from './lib/server.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

test('a card key is bought, paid through the sandbox and delivered masked', async () => {
  const product = await shop.product('card_key');
  const { order } = await buy(shop, product.id, { quantity: 1 });
  assert.equal(order.status, 'delivered');
  assert.equal(order.card_keys.length, 1);
  assert.match(order.card_keys[0].masked, /^\*\*\*\*/);
  const ledger = await shop.ledger();
  assert.equal(ledger.balanced, true);
});
