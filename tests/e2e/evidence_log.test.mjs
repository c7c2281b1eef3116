// The evidence log end to end (docs/evidence-log.md): which facts write an entry and that no
// secret does; an order's receipt checked offline by `kameng log verify --receipt` (and refused
// once tampered with); a saved checkpoint checked against the live log; rows changed, removed or
// reordered behind the server's back found by `kameng log verify --data`; and a database rolled
// back to an older copy, which the server refuses to sign on top of.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { BIN, POSTGRES, Shop, startShop, buy, scratchDir, storeArgs } from './lib/server.mjs';
import { assertError, freshKeys, orderView } from './lib/flows.mjs';

const UPSTREAM_DELAY_S = 5; // the sandbox upstream answers a top-up after 5 s
const ALIPAY_PAYOUT_S = 30 * 60; // the sandbox books an Alipay refund after 30 min

const scratch = scratchDir('kameng-evlog-');
after(() => rmSync(scratch, { recursive: true, force: true }));
let scratchSeq = 0;
const scratchPath = (name) => join(scratch, `${++scratchSeq}-${name}`);

// `kameng ARGS…`: { status, out } with stdout and stderr together.
function kameng(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function shopKey(dataDir) {
  const r = kameng('log', 'key', '--data', dataDir);
  assert.equal(r.status, 0, r.out);
  const key = r.out.trim();
  assert.match(key, /^kameng\.local\/evidence\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
  return key;
}

function sqlite(dataDir, sql) {
  const r = spawnSync('sqlite3', [join(dataDir, 'kameng.db'), sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3 ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

// Every entry of the log, paging through GET /v1/log/entries.
async function allEntries(shop) {
  const out = [];
  for (;;) {
    const r = await shop.get(`/v1/log/entries?start=${out.length}&limit=100`, { token: shop.keys.agent });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(...r.body.data);
    if (!r.body.has_more) return out;
  }
}

async function logSize(shop) {
  const r = await shop.get('/v1/log/entries?start=0&limit=1', { token: shop.keys.agent });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.size;
}

// The parsed entries of an order, in log order.
async function entriesOf(shop, orderId) {
  return (await allEntries(shop)).filter((x) => x.order_id === orderId).map((x) => JSON.parse(x.entry));
}

async function cardProduct(shop, { price = 1000, noReasonDays = 0, keys = 1 } = {}) {
  const p = await shop.post('/v1/products', {
    kind: 'card_key', name: `e2e evlog ${process.pid}-${++scratchSeq}`, price_fen: price,
    face_value_fen: price, no_reason_days: noReasonDays,
  }, { token: shop.keys.admin });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  // Odd last digits: the sandbox issuer does not void these keys on a refund.
  const cardKeys = freshKeys(keys, 'EVL').map((k) => ({ number: `${k.number}1`, password: `${k.password}x1` }));
  const imp = await shop.post(`/v1/products/${p.body.id}/card_keys`, { card_keys: cardKeys }, { token: shop.keys.admin });
  assert.equal(imp.status, 201, JSON.stringify(imp.body));
  return { product: p.body, keys: cardKeys };
}

async function buyOk(shop, productId, extra) {
  const b = await buy(shop, productId, extra);
  assert.equal(b.created.status, 201, JSON.stringify(b.created.body));
  assert.equal(b.order.amount_captured_fen, b.order.amount_fen, JSON.stringify(b.order));
  return b;
}

async function reveal(shop, order, token, body = {}) {
  const k = order.card_keys[0];
  const r = await shop.post(`/v1/orders/${order.id}/card_keys/${k.id}/reveal`, body, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

// A few orders that give the log one entry of every kind; returns what a tamper test needs.
async function mixedHistory(shop) {
  const { product, keys } = await cardProduct(shop, { keys: 2 });
  const card = await buyOk(shop, product.id);
  const rv = await reveal(shop, card.order, card.token);
  const redeem = await shop.post('/v1/sandbox/issuer/redeem', { number: rv.number, password: rv.password });
  assert.equal(redeem.status, 200, JSON.stringify(redeem.body));
  const phone = await shop.product('direct_topup', (p) => p.target_format === 'phone_cn');
  const topup = await buyOk(shop, phone.id, { target_account: '13812340000' });
  await shop.advance(UPSTREAM_DELAY_S);
  await shop.advance(ALIPAY_PAYOUT_S);
  return { card, topup, keys };
}

async function checkpoint(shop) {
  const r = await shop.get('/v1/log/checkpoint');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

describe('entries', () => {
  let shop;
  before(async () => { shop = await startShop(); });
  after(async () => { await shop.cleanup(); });

  test('a card-key purchase, a reveal with the waiver and an activation: entries with no secret', async () => {
    const { product, keys } = await cardProduct(shop, { noReasonDays: 7 });
    const start = await logSize(shop);
    const { order, token, pay } = await buyOk(shop, product.id);
    assert.equal(order.status, 'delivered');
    const key = order.card_keys[0];

    let mine = await entriesOf(shop, order.id);
    assert.deepEqual(mine.map((e) => e.kind), ['payment', 'delivery']);
    const [payment, delivery] = mine;
    assert.equal(payment.v, 1);
    assert.equal(payment.payment_id, pay.body.id);
    assert.equal(payment.amount_fen, 1000);
    assert.equal(payment.disposition, 'applied');
    assert.equal(payment.method, 'alipay');
    assert.match(payment.at, /^2026-03-02T02:00:00\.000Z$/);
    assert.equal(delivery.goods, 'card_key');
    assert.equal(delivery.card_keys.length, 1);
    assert.equal(delivery.card_keys[0].card_key_id, key.id);
    assert.match(delivery.card_keys[0].commitment, /^[0-9a-f]{64}$/);
    assert.equal(await logSize(shop), start + 2);

    // Revealing ends the no-reason right: refused (and not logged) until confirmed.
    const size = await logSize(shop);
    const refused = await shop.post(`/v1/orders/${order.id}/card_keys/${key.id}/reveal`, {}, { token });
    assertError(refused, 409, { code: 'waiver_confirmation_required' });
    assert.equal(await logSize(shop), size, 'a refused reveal writes no entry');
    const secret = await reveal(shop, order, token, { confirm_waiver: true });
    assert.equal(secret.password, keys[0].password);

    const redeem = await shop.post('/v1/sandbox/issuer/redeem', { number: secret.number, password: secret.password });
    assert.equal(redeem.status, 200, JSON.stringify(redeem.body));
    assert.equal(redeem.body.shop_acknowledged, true);

    // The issuer telling the shop twice is one activation.
    const again = await shop.post('/v1/sandbox/issuer/redeem', { number: secret.number, password: secret.password });
    assert.equal(again.status, 200, JSON.stringify(again.body));

    mine = await entriesOf(shop, order.id);
    assert.deepEqual(mine.map((e) => e.kind), ['payment', 'delivery', 'reveal', 'activation']);
    const rv = mine[2];
    assert.equal(rv.card_key_id, key.id);
    assert.equal(rv.by, 'buyer');
    assert.equal(rv.no_reason_waiver_confirmed, true);
    assert.equal(rv.policy_version, 'v1');
    assert.match(rv.reveal_id, /^rv_/);
    const view = await orderView(shop, order.id, token);
    assert.ok(view.reveals[0].waiver_confirmed_at, 'the order view shows the same confirmation');
    assert.equal(mine[3].card_key_id, key.id);
    assert.equal(mine[3].source, 'issuer');

    // No secret anywhere in the log: not the password, not the number.
    const everything = JSON.stringify(await allEntries(shop));
    assert.ok(!everything.includes(secret.password), 'the password never appears in the log');
    assert.ok(!everything.includes(secret.number), 'the card number never appears in the log');
  });

  test('a second reveal of a key is logged too, without the waiver', async () => {
    const { product } = await cardProduct(shop);
    const { order, token } = await buyOk(shop, product.id);
    await reveal(shop, order, token);
    await reveal(shop, order, token);
    const reveals = (await entriesOf(shop, order.id)).filter((e) => e.kind === 'reveal');
    assert.equal(reveals.length, 2);
    for (const r of reveals) {
      assert.equal(r.no_reason_waiver_confirmed, false);
      assert.equal(r.policy_version, null);
    }
    assert.notEqual(reveals[0].reveal_id, reveals[1].reveal_id);
  });

  test('a failed top-up: the result, the automatic refund decision and the payout result', async () => {
    const phone = await shop.product('direct_topup', (p) => p.target_format === 'phone_cn');
    const { order } = await buyOk(shop, phone.id, { target_account: '13812340000' });
    assert.deepEqual((await entriesOf(shop, order.id)).map((e) => e.kind), ['payment']);
    await shop.advance(UPSTREAM_DELAY_S);
    let mine = await entriesOf(shop, order.id);
    assert.deepEqual(mine.map((e) => e.kind), ['payment', 'topup_result', 'refund_decision']);
    const [, result, decision] = mine;
    assert.equal(result.status, 'failed');
    // The phone number is personal data: only its hash with the order id, which the buyer can check.
    assert.equal(result.target_account, undefined);
    assert.equal(result.target_account_sha256,
      createHash('sha256').update(`${order.id}|13812340000`).digest('hex'));
    assert.equal(result.via, 'callback');
    assert.match(result.upstream_ref, /^up_/);
    assert.equal(decision.outcome, 'approve');
    assert.equal(decision.rule, 'E1');
    assert.equal(decision.automatic, true);
    assert.equal(decision.amount_fen, phone.price_fen);
    assert.equal(decision.facts.topup, 'failed');
    assert.match(decision.decision_id, /^dec_/);
    // The payout is booked after the route's delay: its result is logged then, not before.
    await shop.advance(ALIPAY_PAYOUT_S + 60);
    mine = await entriesOf(shop, order.id);
    assert.deepEqual(mine.map((e) => e.kind), ['payment', 'topup_result', 'refund_decision', 'payout_result']);
    const payout = mine[3];
    assert.equal(payout.status, 'succeeded');
    assert.equal(payout.rule, 'E1');
    assert.equal(payout.method, 'alipay');
    assert.equal(payout.amount_fen, phone.price_fen);
    assert.match(payout.provider_request_no, /^rfq_/);
    assert.ok(!JSON.stringify(await allEntries(shop)).includes('13812340000'), 'no phone number in the log');
  });

  test('a successful top-up logs its result', async () => {
    const phone = await shop.product('direct_topup', (p) => p.target_format === 'phone_cn');
    const { order } = await buyOk(shop, phone.id, { target_account: '13912345678' });
    await shop.advance(UPSTREAM_DELAY_S);
    const mine = await entriesOf(shop, order.id);
    assert.deepEqual(mine.map((e) => e.kind), ['payment', 'topup_result']);
    assert.equal(mine[1].status, 'succeeded');
  });

  test('account goods: the seller\'s delivery, the buyer\'s reading and the escrow release', async () => {
    const product = await shop.product('account');
    const { order, token } = await buyOk(shop, product.id);
    const content = 'login: evlog_9527\npassword: s3cret-账号';
    const d = await shop.post(`/v1/orders/${order.id}/deliver`, { content }, { token: shop.keys.seller });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    const read = await shop.post(`/v1/orders/${order.id}/account_goods/reveal`, {}, { token });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    const c = await shop.post(`/v1/orders/${order.id}/confirm`, {}, { token });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const mine = await entriesOf(shop, order.id);
    assert.deepEqual(mine.map((e) => e.kind), ['payment', 'delivery', 'reveal', 'escrow_release']);
    assert.equal(mine[1].goods, 'account');
    assert.equal(mine[1].seller_id, product.seller_id);
    assert.equal(mine[1].content_bytes, Buffer.byteLength(content));
    assert.equal(mine[2].goods, 'account');
    assert.equal(mine[3].by, 'buyer');
    assert.ok(!JSON.stringify(await allEntries(shop)).includes('s3cret'), 'the goods never appear in the log');
  });

  test('the escrow window ending releases the money with an entry', async () => {
    const product = await shop.product('account');
    const { order } = await buyOk(shop, product.id);
    const d = await shop.post(`/v1/orders/${order.id}/deliver`, { content: 'x' }, { token: shop.keys.seller });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    await shop.advance(product.refund_terms.escrow_days * 86400 + 60);
    const mine = await entriesOf(shop, order.id);
    assert.deepEqual(mine.map((e) => e.kind), ['payment', 'delivery', 'escrow_release']);
    assert.equal(mine[2].by, 'escrow_timeout');
  });

  test('rejected requests write nothing', async () => {
    const { product } = await cardProduct(shop, { keys: 1 });
    const size = await logSize(shop);
    assertError(await shop.post('/v1/orders', { product_id: product.id, quantity: 2 }), 409, { code: 'out_of_stock' });
    const phone = await shop.product('direct_topup', (p) => p.target_format === 'phone_cn');
    assertError(await shop.post('/v1/orders', { product_id: phone.id, target_account: '12345' }), 400, { param: 'target_account' });
    // An order created but never paid is not a fact the log records either.
    const c = await shop.post('/v1/orders', { product_id: product.id });
    assert.equal(c.status, 201);
    assert.equal(await logSize(shop), size);
  });

  test('entries are for staff; checkpoints and proofs are public', async () => {
    assertError(await shop.get('/v1/log/entries?start=0&limit=1'), 401);
    const { product } = await cardProduct(shop);
    const { token } = await buyOk(shop, product.id);
    assertError(await shop.get('/v1/log/entries?start=0&limit=1', { token }), 403);
    const size = await logSize(shop);
    assertError(await shop.get(`/v1/log/entries?start=${size + 1}&limit=1`, { token: shop.keys.agent }), 400, { param: 'start' });
    assertError(await shop.get('/v1/log/entries?start=0&limit=1', { token: shop.keys.seller }), 403);
    assert.equal((await shop.get('/v1/log/entries?start=0&limit=1', { token: shop.keys.admin })).status, 200);
    await shop.advance(0);
    const cp = await checkpoint(shop);
    assert.equal((await shop.get(`/v1/log/proofs/inclusion?index=0&size=${cp.size}`)).status, 200);
    assert.equal((await shop.get(`/v1/log/proofs/consistency?size1=1&size2=${cp.size}`)).status, 200);
  });

  test('every entry is canonical, names its own index and hashes to its leaf hash', async () => {
    const entries = await allEntries(shop);
    assert.ok(entries.length >= 20, `only ${entries.length} entries`);
    entries.forEach((x, i) => {
      assert.equal(x.index, i);
      const e = JSON.parse(x.entry);
      assert.equal(e.seq, i, `entry ${i} says it is ${e.seq}`);
      assert.equal(e.v, 1);
      assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(x.entry, /^[\x20-\x7e]+$/, 'ASCII only, no white space outside strings');
      const keys = Object.keys(e);
      assert.deepEqual(keys, [...keys].sort(), 'keys sorted');
      const leaf = createHash('sha256').update(Buffer.from([0])).update(x.entry).digest('base64');
      assert.equal(x.leaf_hash, leaf, `entry ${i}: leaf = SHA-256(0x00 || entry)`);
    });
  });
});

describe('receipts and consistency', () => {
  let shop, key, hist;
  before(async () => {
    shop = await startShop();
    key = shopKey(shop.dataDir);
    hist = await mixedHistory(shop);
  });
  after(async () => { await shop.cleanup(); });

  async function receiptFile(orderId, token, mutate) {
    const r = await shop.get(`/v1/orders/${orderId}/receipt`, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const receipt = r.body;
    if (mutate) mutate(receipt);
    const file = scratchPath('receipt.json');
    writeFileSync(file, JSON.stringify(receipt, null, 2));
    return { file, receipt };
  }

  test('the receipt of an order verifies offline with the shop\'s key and lists every entry', async () => {
    const { order, token } = hist.card;
    const { file, receipt } = await receiptFile(order.id, token);
    assert.equal(receipt.object, 'receipt');
    assert.equal(receipt.order_id, order.id);
    assert.equal(receipt.verifier_key, key);
    assert.deepEqual(receipt.entries.map((e) => e.kind), ['payment', 'delivery', 'reveal', 'activation']);
    const cp = await checkpoint(shop);
    assert.ok(receipt.tree_size >= receipt.entries.at(-1).index + 1);
    assert.ok(receipt.tree_size <= cp.size);
    const r = kameng('log', 'verify', '--receipt', file, '--key', key);
    assert.equal(r.status, 0, r.out);
    for (const e of receipt.entries) {
      assert.match(r.out, new RegExp(`ok +entry ${e.index} \\(${e.kind}\\) is in the log`), r.out);
    }
    assert.match(r.out, /receipt verified/);
  });

  test('a receipt for an order whose newest entries are not under a checkpoint yet gets one signed', async () => {
    const { product } = await cardProduct(shop, { keys: 6 });
    // The timers sign a checkpoint on every pass (twice a second, whatever the test clock says),
    // so one may fall between the reveal and the look; then the next order is tried.
    let order, token, pending = false;
    for (let i = 0; i < 5 && !pending; i++) {
      ({ order, token } = await buyOk(shop, product.id));
      await reveal(shop, order, token);
      pending = (await checkpoint(shop)).size < await logSize(shop);
    }
    assert.ok(pending, 'the reveal is past the last checkpoint');
    const { file, receipt } = await receiptFile(order.id, token);
    assert.deepEqual(receipt.entries.map((e) => e.kind), ['payment', 'delivery', 'reveal']);
    assert.ok(receipt.tree_size > receipt.entries.at(-1).index);
    const r = kameng('log', 'verify', '--receipt', file, '--key', key);
    assert.equal(r.status, 0, r.out);
    // Another buyer's token gets nothing.
    const other = await buyOk(shop, product.id);
    assertError(await shop.get(`/v1/orders/${order.id}/receipt`, { token: other.token }), 404);
    assertError(await shop.get(`/v1/orders/${order.id}/receipt`), 401);
  });

  test('a tampered receipt, or another shop\'s key, does not verify', async () => {
    const { order, token } = hist.topup;
    const tampers = {
      'one character of an entry': (rc) => {
        rc.entries[0].entry = rc.entries[0].entry.replace(/"amount_fen":(\d)/, (_, d) => `"amount_fen":${(Number(d) + 1) % 10}`);
      },
      'two proofs swapped': (rc) => {
        [rc.entries[0].proof, rc.entries[1].proof] = [rc.entries[1].proof, rc.entries[0].proof];
      },
      'an index changed': (rc) => { rc.entries[1].index += 1; },
      'a proof hash truncated': (rc) => { rc.entries[0].proof.pop(); },
      'tree_size changed': (rc) => { rc.tree_size += 1; },
      'the checkpoint\'s size changed': (rc) => {
        rc.checkpoint = rc.checkpoint.replace(/\n(\d+)\n/, (_, n) => `\n${Number(n) + 1}\n`);
      },
      'an entry of another order': (rc) => { rc.entries.push({ ...foreign }); },
    };
    const base = await receiptFile(order.id, token);
    assert.equal(kameng('log', 'verify', '--receipt', base.file, '--key', key).status, 0);
    // An entry of another order, with a valid proof: genuine, but not this order's.
    const other = await receiptFile(hist.card.order.id, hist.card.token);
    const foreign = other.receipt.entries[0];
    for (const [what, mutate] of Object.entries(tampers)) {
      const { file, receipt } = await receiptFile(order.id, token, mutate);
      assert.notDeepEqual(receipt, base.receipt, what);
      const r = kameng('log', 'verify', '--receipt', file, '--key', key);
      assert.notEqual(r.status, 0, `${what}: ${r.out}`);
      assert.match(r.out, /FAIL/, what);
    }
    // A genuine receipt with another shop's key.
    const otherDir = scratchPath('other-shop');
    const demo = kameng('demo', '--data', otherDir);
    assert.equal(demo.status, 0, demo.out);
    const otherKey = shopKey(otherDir);
    assert.notEqual(otherKey, key);
    const r = kameng('log', 'verify', '--receipt', base.file, '--key', otherKey);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /signature does not verify/);
    // And not a receipt at all.
    const junk = scratchPath('junk.json');
    writeFileSync(junk, '{"entries": 3}');
    assert.notEqual(kameng('log', 'verify', '--receipt', junk, '--key', key).status, 0);
  });

  test('a saved checkpoint is consistent with the live log after more orders', async () => {
    const saved = await checkpoint(shop);
    const file = scratchPath('saved.note');
    writeFileSync(file, saved.note);
    const url = shop.base;
    // Nothing new yet: the same checkpoint still verifies.
    let r = kameng('log', 'verify', '--checkpoint', file, '--url', url, '--key', key);
    assert.equal(r.status, 0, r.out);
    const { product } = await cardProduct(shop, { keys: 3 });
    for (let i = 0; i < 3; i++) await buyOk(shop, product.id);
    await shop.advance(0);
    const now = await checkpoint(shop);
    assert.ok(now.size > saved.size, `${now.size} > ${saved.size}`);
    r = kameng('log', 'verify', '--checkpoint', file, '--url', url, '--key', key);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`saved checkpoint: ${saved.size} entries; live: ${now.size}`));
    assert.match(r.out, /the live log extends the saved checkpoint/);
    // The proof the command fetched is one anyone can fetch.
    const p = await shop.get(`/v1/log/proofs/consistency?size1=${saved.size}&size2=${now.size}`);
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.ok(p.body.proof.length > 0);
    // A saved note with a forged size, or checked with another key, fails.
    const forged = scratchPath('forged.note');
    writeFileSync(forged, saved.note.replace(`\n${saved.size}\n`, `\n${saved.size - 1}\n`));
    r = kameng('log', 'verify', '--checkpoint', forged, '--url', url, '--key', key);
    assert.notEqual(r.status, 0, r.out);
  });

  test('inclusion proofs from the API and the log verifies from the database while serving', async () => {
    const cp = await checkpoint(shop);
    const p = await shop.get(`/v1/log/proofs/inclusion?index=0&size=${cp.size}`);
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assertError(await shop.get(`/v1/log/proofs/inclusion?index=${cp.size + 1000}&size=${cp.size}`), 400);
    const r = kameng('log', 'verify', '--data', shop.dataDir, ...storeArgs(shop.dataDir));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /the log is intact/);
  });
});

// These change and copy the SQLite file behind the server's back; the verifier reads PostgreSQL's
// rows the same way (the test above).
describe('tampering with the database', { skip: POSTGRES ? 'edits the SQLite file' : false }, () => {
  let shop, dir, entries, key;
  before(async () => {
    shop = await startShop();
    key = shopKey(shop.dataDir);
    await mixedHistory(shop);
    await shop.advance(0);
    entries = (await allEntries(shop)).map((x) => ({ ...x, e: JSON.parse(x.entry) }));
    assert.equal((await checkpoint(shop)).size, entries.length);
    await shop.stop('SIGTERM');
    dir = shop.dataDir;
    const r = kameng('log', 'verify', '--data', dir);
    assert.equal(r.status, 0, r.out);
  });
  after(async () => { await shop.cleanup(); });

  function copy() {
    const to = scratchPath('data');
    cpSync(dir, to, { recursive: true });
    return to;
  }

  const find = (kind) => {
    const x = entries.find((y) => y.e.kind === kind);
    assert.ok(x, `an entry of kind ${kind}`);
    return x;
  };

  function assertNamed(to, seq, pattern) {
    const r = kameng('log', 'verify', '--data', to);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`\\bentry ${seq}\\b`), r.out);
    if (pattern) assert.match(r.out, pattern, r.out);
    assert.match(r.out, /THE LOG DOES NOT VERIFY/);
    return r.out;
  }

  test('an entry\'s content changed', () => {
    const to = copy();
    const x = find('payment');
    const changed = x.entry.replace(`"amount_fen":${x.e.amount_fen}`, `"amount_fen":${x.e.amount_fen + 1}`);
    assert.notEqual(changed, x.entry);
    sqlite(to, `UPDATE log_entries SET entry = CAST('${changed}' AS BLOB) WHERE seq = ${x.index}`);
    assertNamed(to, x.index, /content does not match its stored hash/);
  });

  test('an entry changed together with its leaf hash', () => {
    const to = copy();
    const x = find('refund_decision');
    const changed = x.entry.replace('"outcome":"approve"', '"outcome":"deny"');
    assert.notEqual(changed, x.entry);
    const leaf = createHash('sha256').update(Buffer.from([0])).update(changed).digest('hex');
    sqlite(to, `UPDATE log_entries SET entry = CAST('${changed}' AS BLOB), leaf_hash = X'${leaf}' WHERE seq = ${x.index}`);
    // The hash chain is consistent again, but the signed roots and the business row are not.
    const out = assertNamed(to, x.index, /business row was changed/);
    assert.match(out, /do not hash to the root signed/);
  });

  test('a log row deleted', () => {
    const to = copy();
    const x = find('reveal');
    assert.ok(x.index < entries.length - 1, 'not the last entry');
    sqlite(to, `DELETE FROM log_entries WHERE seq = ${x.index}`);
    assertNamed(to, x.index, /missing/);
  });

  test('the last log row deleted', () => {
    const to = copy();
    const last = entries.length - 1;
    sqlite(to, `DELETE FROM log_entries WHERE seq = ${last}`);
    assertNamed(to, last, /missing|rolled back/);
  });

  test('two log rows reordered', () => {
    const to = copy();
    const a = find('delivery');
    const b = find('activation');
    sqlite(to, `UPDATE log_entries SET seq = -1 WHERE seq = ${a.index};`
      + `UPDATE log_entries SET seq = ${a.index} WHERE seq = ${b.index};`
      + `UPDATE log_entries SET seq = ${b.index} WHERE seq = -1;`);
    // Each row now sits at the other's index, its entry and leaf hash intact.
    assert.equal(sqlite(to, `SELECT kind FROM log_entries WHERE seq = ${a.index}`), 'activation');
    const out = assertNamed(to, a.index, /reordered/);
    assert.match(out, new RegExp(`\\bentry ${b.index}\\b`));
  });

  test('a payment\'s amount changed', () => {
    const to = copy();
    const x = find('payment');
    sqlite(to, `UPDATE payments SET amount_fen = amount_fen + 100 WHERE id = '${x.e.payment_id}'`);
    assertNamed(to, x.index, /business row was changed/);
  });

  test('a reveal deleted', () => {
    const to = copy();
    const x = find('reveal');
    sqlite(to, `DELETE FROM reveals WHERE id = '${x.e.reveal_id}'`);
    assertNamed(to, x.index, /business row is gone/);
  });

  test('a refund decision changed', () => {
    const to = copy();
    const x = find('refund_decision');
    sqlite(to, `UPDATE decisions SET outcome = 'reject' WHERE id = '${x.e.decision_id}'`);
    assertNamed(to, x.index, /business row was changed/);
  });

  test('an activation deleted', () => {
    const to = copy();
    const x = find('activation');
    sqlite(to, `DELETE FROM activations WHERE card_key_id = '${x.e.card_key_id}'`);
    assertNamed(to, x.index, /business row is gone/);
  });

  test('the verifier key of another shop', () => {
    const r = kameng('log', 'verify', '--data', dir, '--key', key.replace(/\+[0-9a-f]{8}\+/, '+00000000+'));
    assert.notEqual(r.status, 0, r.out);
  });
});

describe('rolling the database back', { skip: POSTGRES ? 'restores a SQLite backup' : false }, () => {
  let shop, backup;
  after(async () => {
    await shop?.stop();
    if (shop) rmSync(shop.dataDir, { recursive: true, force: true });
  });

  // Like startShop on an existing data directory, but a 503 from /healthz counts as up.
  async function restart(dataDir, keys) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => { const { port: p } = srv.address(); srv.close(() => resolve(p)); });
      srv.on('error', reject);
    });
    const proc = spawn(BIN, ['serve', '--data', dataDir, '--port', String(port), '--verify-read-cache', '--test-clock=2026-03-02T02:00:00Z'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    const s = new Shop({ dataDir, port, proc, keys });
    proc.stderr.on('data', (d) => s.logs.push(d.toString()));
    for (let until = Date.now() + 10000; ;) {
      if (proc.exitCode !== null) throw new Error(`kameng exited with ${proc.exitCode}`);
      try {
        await fetch(`${s.base}/healthz`);
        return s;
      } catch { /* not listening yet */ }
      if (Date.now() > until) throw new Error('kameng did not start');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  test('the server refuses to sign on a rolled-back database; verify reports the fork', async () => {
    shop = await startShop();
    const dir = shop.dataDir;
    const { product } = await cardProduct(shop, { keys: 8 });
    for (let i = 0; i < 2; i++) await buyOk(shop, product.id);
    await shop.advance(0);
    const old = await checkpoint(shop);
    await shop.stop('SIGTERM');
    backup = scratchPath('backup.db');
    const b = kameng('backup', backup, '--data', dir);
    assert.equal(b.status, 0, b.out);

    shop = await startShop({ dataDir: dir });
    for (let i = 0; i < 3; i++) await buyOk(shop, product.id);
    await shop.advance(0);
    const newer = await checkpoint(shop);
    assert.ok(newer.size > old.size);
    assert.equal(readFileSync(join(dir, 'log-checkpoint'), 'utf8'), newer.note, 'the newest checkpoint is kept outside the database');
    await shop.stop('SIGTERM');

    // The old database back; the checkpoint file from the newer run stays.
    for (const f of ['kameng.db-wal', 'kameng.db-shm']) rmSync(join(dir, f), { force: true });
    cpSync(backup, join(dir, 'kameng.db'));
    shop = await restart(dir, shop.keys);
    await shop.advance(0);
    let h = await shop.get('/healthz');
    assert.equal(h.status, 503, JSON.stringify(h.body));
    assert.equal(h.body.evidence_log, 'forked');
    for (let i = 0; i < 100 && !/checkpoint_refused/.test(shop.logs.join('')); i++) {
      await new Promise((r) => setTimeout(r, 20)); // stderr arrives on its own schedule
    }
    assert.match(shop.logs.join(''), /checkpoint_refused/);
    assert.equal((await checkpoint(shop)).size, old.size);
    // Business goes on, but nothing more is signed: not even past the size signed before.
    for (let i = 0; i < 4; i++) await buyOk(shop, product.id);
    await shop.advance(60);
    assert.ok(await logSize(shop) > newer.size, 'the rolled-back log grew past the newer checkpoint');
    await shop.advance(60);
    const cp = await checkpoint(shop);
    assert.equal(cp.size, old.size, 'no new checkpoint is signed');
    h = await shop.get('/healthz');
    assert.equal(h.status, 503);
    assert.equal(readFileSync(join(dir, 'log-checkpoint'), 'utf8'), newer.note, 'the saved checkpoint is not overwritten');
    await shop.stop('SIGTERM');

    const r = kameng('log', 'verify', '--data', dir);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`first ${newer.size} entries do not hash to the root signed`), r.out);
    assert.match(r.out, /THE LOG DOES NOT VERIFY/);
  });

  test('verify reports a rollback to fewer entries than were signed', async () => {
    // Stopped with the newer log-checkpoint; put the backup back again, as it was.
    const dir = shop.dataDir;
    for (const f of ['kameng.db-wal', 'kameng.db-shm']) rmSync(join(dir, f), { force: true });
    cpSync(backup, join(dir, 'kameng.db'));
    const r = kameng('log', 'verify', '--data', dir);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /fork/, r.out);
  });
});
