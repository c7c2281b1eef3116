// The books balance after every transaction: a seeded random walk of real operations — orders of
// every kind, payments by every route, duplicate and late payments, reveals, top-ups that succeed
// or fail or stall, escrow deliveries and confirmations, refund requests and agents' decisions,
// clock jumps that fire the timers — with the ledger checked after each step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShop } from './lib/server.mjs';

let shop;
before(async () => { shop = await startShop(); });
after(async () => { await shop.cleanup(); });

// A small deterministic PRNG (mulberry32) so a failure can be replayed.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('a seeded random walk of 80 operations keeps the books balanced at every step', async () => {
  const rand = rng(20261125);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const { admin, agent, seller } = shop.keys;
  const products = (await shop.get('/v1/products?limit=100', { token: admin })).body.data;
  const card = products.filter((p) => p.kind === 'card_key');
  const phone = products.find((p) => p.target_format === 'phone_cn');
  const account = products.find((p) => p.kind === 'account');
  const phones = ['13800138000', '13900000000', '13700009999', '13600008888'];
  const methods = ['alipay', 'wechat', 'bank_card', 'balance'];
  const orders = []; // { id, token, kind }
  const steps = [];

  const ops = {
    async buy() {
      const kind = pick(['card', 'card', 'phone', 'account']);
      const body = kind === 'card' ? { product_id: pick(card).id, quantity: 1 + Math.floor(rand() * 2) }
        : kind === 'phone' ? { product_id: phone.id, target_account: pick(phones) }
        : { product_id: account.id };
      const r = await shop.post('/v1/orders', body);
      if (r.status === 201) orders.push({ id: r.body.id, token: r.body.buyer_token, kind, target: r.body.target });
      return r.status;
    },
    async pay() {
      // Mostly a recent order (still payable), sometimes an old one (a late or duplicate payment).
      const o = rand() < 0.8 ? pick(orders.slice(-3)) : pick(orders); if (!o) return 'none';
      const body = { method: pick(methods) };
      if (o.target) body.target_confirmed = o.target.account;
      const p = await shop.post(`/v1/orders/${o.id}/payments`, body, { token: o.token });
      if (p.status === 201) {
        await shop.post(`/v1/sandbox/payments/${p.body.id}/pay`, { outcome: rand() < 0.9 ? 'succeeded' : 'failed' });
        await shop.advance(0); // the provider's notification arrives
        if (rand() < 0.15) { // the buyer pays a second time at the provider: a duplicate charge
          const again = await shop.post(`/v1/orders/${o.id}/payments`, body, { token: o.token });
          if (again.status === 201) await shop.post(`/v1/sandbox/payments/${again.body.id}/pay`, { outcome: 'succeeded' });
        }
      }
      return p.status;
    },
    async advance() { await shop.advance(pick([0, 60, 600, 600, 1800, 4 * 86400])); return 'advanced'; },
    async reveal() {
      const o = pick(orders.filter((x) => x.kind === 'card')); if (!o) return 'none';
      const v = (await shop.get(`/v1/orders/${o.id}`, { token: o.token })).body;
      const k = v.card_keys?.find((x) => x.status === 'delivered'); if (!k) return 'no key';
      return (await shop.post(`/v1/orders/${o.id}/card_keys/${k.id}/reveal`, { confirm_waiver: true }, { token: o.token })).status;
    },
    async deliver() {
      const o = pick(orders.filter((x) => x.kind === 'account').slice(-2)); if (!o) return 'none';
      return (await shop.post(`/v1/orders/${o.id}/deliver`, { content: 'login: a\npassword: b' }, { token: seller })).status;
    },
    async confirm() {
      const o = pick(orders.filter((x) => x.kind === 'account')); if (!o) return 'none';
      return (await shop.post(`/v1/orders/${o.id}/confirm`, undefined, { token: o.token })).status;
    },
    async refund() {
      const o = pick(orders); if (!o) return 'none';
      const reason = pick(['not_received', 'changed_mind', 'key_not_working', 'duplicate_charge', 'not_as_described', 'wrong_item']);
      return (await shop.post(`/v1/orders/${o.id}/cases`, { reason, message: 'random walk' }, { token: o.token })).status;
    },
    async decide() {
      const queue = (await shop.get('/v1/cases?limit=5', { token: agent })).body.data;
      const c = pick(queue); if (!c) return 'empty';
      const approve = rand() < 0.6;
      return (await shop.post(`/v1/cases/${c.id}/decide`, approve
        ? { outcome: 'approve', rule: 'E2', explanation: 'checked' }
        : { outcome: 'reject', rule: 'N1', explanation: 'checked' }, { token: agent })).status;
    },
  };
  const weights = [['buy', 4], ['pay', 6], ['advance', 2], ['reveal', 2], ['deliver', 2], ['confirm', 1], ['refund', 3], ['decide', 2]];
  const bag = weights.flatMap(([n, w]) => Array(w).fill(n));
  for (let i = 0; i < 80; i++) {
    const name = i < 3 ? 'buy' : pick(bag); // something to pay for first
    const outcome = await ops[name]();
    steps.push(`${i}:${name}=${outcome}`);
    assert.ok(typeof outcome !== 'number' || outcome < 500, `step ${steps.at(-1)} answered 5xx`);
    const books = await shop.ledger();
    assert.equal(books.balanced, true, `unbalanced after ${steps.join(' ')}: ${JSON.stringify(books)}`);
    assert.equal(books.mismatched_accounts, 0, `an account drifted from its transfers after ${steps.at(-1)}`);
  }
  const kinds = new Set(steps.map((s) => s.split(":")[1].split("=")[0]));
  assert.ok(kinds.size >= 6, `the walk tried most operations: ${[...kinds]}`);
  assert.ok(steps.some((s) => /refund=201$/.test(s)), `a refund was asked for: ${steps.join(' ')}`);
  // Let every timer and payout finish, then check once more, and that money went both ways.
  await shop.advance(10 * 86400);
  const books = await shop.ledger();
  assert.equal(books.balanced, true);
  assert.equal(books.mismatched_accounts, 0);
  assert.ok(books.transfers > 10, `the walk moved money: ${books.transfers} transfers`);
});
