// An operator lists the shop's API keys and revokes one that leaked: it stops working at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

test('keys are listed without their secrets, and a revoked key stops working at once', async () => {
  const { admin } = shop.keys;
  const created = await shop.post('/v1/api_keys', { role: 'agent', label: 'night shift' }, { token: admin });
  assert.equal(created.status, 201);
  const agentKey = created.body.key;
  assert.equal((await shop.get('/v1/cases', { token: agentKey })).status, 200, 'the new key works');

  const list = await shop.get('/v1/api_keys?limit=100', { token: admin });
  assert.equal(list.status, 200);
  const row = list.body.data.find((k) => k.id === created.body.id);
  assert.equal(row.label, 'night shift');
  assert.equal(row.revoked_at, null);
  assert.ok(!JSON.stringify(list.body).includes(agentKey), 'no key is ever listed');
  assert.ok(!JSON.stringify(list.body).includes(admin));

  assert.equal((await shop.get('/v1/api_keys', { token: agentKey })).status, 403, 'agents cannot list keys');
  assert.equal((await shop.post(`/v1/api_keys/${created.body.id}/revoke`, undefined, { token: agentKey })).status, 403);

  const revoked = await shop.post(`/v1/api_keys/${created.body.id}/revoke`, undefined, { token: admin });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  const after = await shop.get('/v1/cases', { token: agentKey });
  assert.equal(after.status, 401, 'a revoked key opens nothing');
  assert.equal(after.body.error.code, 'invalid_api_key');
  const again = await shop.post(`/v1/api_keys/${created.body.id}/revoke`, undefined, { token: admin });
  assert.equal(again.status, 409);
  assert.equal((await shop.post('/v1/api_keys/key_00000000000000000000/revoke', undefined, { token: admin })).status, 404);
  const listed = (await shop.get('/v1/api_keys?limit=100', { token: admin })).body.data.find((k) => k.id === created.body.id);
  assert.ok(listed.revoked_at, 'the list says when it was revoked');

  // The admin cannot saw off the branch it sits on.
  const mine = (await shop.get('/v1/api_keys?limit=100', { token: admin })).body.data.filter((k) => k.role === 'admin');
  let ownRefused = 0;
  for (const k of mine) {
    const r = await shop.post(`/v1/api_keys/${k.id}/revoke`, undefined, { token: admin });
    if (r.status === 409 && r.body.error.code === 'revoking_own_key') ownRefused++;
  }
  assert.equal(ownRefused, 1);
  assert.equal((await shop.get('/v1/api_keys', { token: admin })).status, 200, 'the admin key still works');
});
