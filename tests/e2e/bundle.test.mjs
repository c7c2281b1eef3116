// A case's evidence bundle: what a dispute desk needs to check a decision without trusting the
// shop, and the receipt inside it verifies offline with the shop's public key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startShop, buy, BIN, scratchDir } from './lib/server.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

test('a rejected case exports a bundle whose receipt verifies, and only to its parties', async () => {
  const product = await shop.product('card_key', (p) => p.refund_terms.no_reason_days === 7);
  const { order, token } = await buy(shop, product.id, { quantity: 1 });
  assert.equal(order.status, 'delivered');
  const key = order.card_keys[0].id;
  const revealed = await shop.post(`/v1/orders/${order.id}/card_keys/${key}/reveal`, { confirm_waiver: true }, { token });
  assert.equal(revealed.status, 200);
  const created = await shop.post(`/v1/orders/${order.id}/cases`, { reason: 'changed_mind', message: 'no longer needed' }, { token });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.decisions[0].rule, 'N1', 'revealing ended the no-reason right');

  const bundle = await shop.get(`/v1/cases/${created.body.id}/bundle`, { token });
  assert.equal(bundle.status, 200, JSON.stringify(bundle.body));
  const b = bundle.body;
  assert.equal(b.object, 'evidence_bundle');
  assert.equal(b.case.id, created.body.id);
  assert.equal(b.order.id, order.id);
  assert.equal(b.policy.version, 'v1');
  const kinds = b.receipt.entries.map((e) => JSON.parse(e.entry).kind);
  for (const k of ['payment', 'delivery', 'reveal', 'refund_decision']) {
    assert.ok(kinds.includes(k), `the receipt proves the ${k}: ${kinds}`);
  }
  const cited = b.case.evidence_log.entries.map((e) => e.index).sort((x, y) => x - y);
  assert.deepEqual(b.receipt.entries.map((e) => e.index), cited, 'the case cites exactly the proven entries');
  assert.ok(!JSON.stringify(b).includes(revealed.body.password), 'no card key in the bundle');

  const dir = scratchDir('kameng-bundle-');
  try {
    const file = join(dir, 'receipt.json');
    writeFileSync(file, JSON.stringify(b.receipt));
    const verifier = execFileSync(BIN, ['log', 'key', '--data', shop.dataDir]).toString().trim();
    assert.equal(verifier, b.receipt.verifier_key);
    const ok = spawnSync(BIN, ['log', 'verify', '--receipt', file, '--key', verifier]);
    assert.equal(ok.status, 0, ok.stdout.toString());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The agent sees the same bundle; another buyer and nobody at all do not.
  assert.equal((await shop.get(`/v1/cases/${created.body.id}/bundle`, { token: shop.keys.agent })).status, 200);
  const other = await buy(shop, product.id, { quantity: 1 });
  assert.equal((await shop.get(`/v1/cases/${created.body.id}/bundle`, { token: other.token })).status, 404);
  assert.equal((await shop.get(`/v1/cases/${created.body.id}/bundle`)).status, 401);
});
