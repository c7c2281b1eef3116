// Signed outbound webhooks: every order, payment, case and refund change is posted to the
// receiver with Kameng-Signature: t=<ms>,v1=hex(HMAC-SHA256(secret, t + "." + body)), under an
// event id that never changes — the same id on every retry and in the order's timeline — and is
// retried with backoff until acknowledged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { startShop, BIN } from './lib/server.mjs';
import {
  MIN, assertBalanced, cardProduct, paidOrder, orderOf, openCase, assertDecision,
} from './lib/refunds.mjs';

let shop, receiver, secret;
const deliveries = []; // { id, type, attempt, body, signature, status }
const failFirst = new Set(); // event types whose first delivery is answered 500

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed = null;
      try { parsed = JSON.parse(body); } catch { /* recorded as is */ }
      const seenBefore = parsed && deliveries.some((d) => d.id === parsed.id);
      const status = parsed && failFirst.has(parsed.type) && !seenBefore ? 500 : 200;
      deliveries.push({
        id: parsed?.id, type: parsed?.type, attempt: parsed?.attempt, event: parsed, body,
        signature: req.headers['kameng-signature'], contentType: req.headers['content-type'],
        method: req.method, status,
      });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"ok":true}' : '{"error":"try again"}');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${receiver.address().port}/hooks/kameng`;
  shop = await startShop({ extraArgs: ['--webhook-url', url] });
  const hex = execFileSync(BIN, ['webhook-secret', '--data', shop.dataDir], { encoding: 'utf8' }).trim();
  assert.match(hex, /^[0-9a-f]{64}$/);
  secret = Buffer.from(hex, 'hex');
});

after(async () => {
  await shop.cleanup();
  receiver.closeAllConnections?.();
  await new Promise((resolve) => receiver.close(resolve));
});

// Kameng-Signature checked the way a receiver would.
function assertSigned(d, nowMs) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(d.signature ?? '');
  assert.ok(m, `signature header: ${d.signature}`);
  const want = createHmac('sha256', secret).update(`${m[1]}.${d.body}`).digest();
  assert.ok(timingSafeEqual(want, Buffer.from(m[2], 'hex')), `signature matches the body of ${d.id}`);
  // A byte changed in the body no longer matches.
  const forged = createHmac('sha256', secret).update(`${m[1]}.${d.body.replace(d.id, `${d.id}x`)}`).digest();
  assert.ok(!timingSafeEqual(forged, Buffer.from(m[2], 'hex')));
  if (nowMs !== undefined) assert.ok(Number(m[1]) <= nowMs, 'signed at the shop\'s clock');
  return Number(m[1]);
}

const now = async () => Date.parse((await shop.get('/v1/test/clock')).body.now);
const forOrder = (orderId) => deliveries.filter((d) => d.event?.data?.order_id === orderId);

test('order, payment, case and refund changes arrive signed, under the ids the order\'s timeline shows', async () => {
  const { product } = await cardProduct(shop, { price: 1500, noReasonDays: 7, digits: ['2'] });
  const { order, token } = await paidOrder(shop, product.id, { method: 'wechat' });
  const c = await openCase(shop, order.id, token, 'changed_mind');
  assertDecision(c, { outcome: 'approve', rule: 'E4', automatic: true });
  await shop.advance(0);
  await shop.advance(5 * MIN); // WeChat books the refund
  const o = await orderOf(shop, order.id, token);
  assert.equal(o.status, 'refunded');
  assert.equal(o.refunds[0].status, 'succeeded');
  await shop.advance(0);

  const got = forOrder(order.id);
  const types = new Set(got.map((d) => d.type));
  for (const t of ['order.created', 'payment.created', 'payment.succeeded', 'order.paid', 'case.created',
    'case.decided', 'refund.created', 'refund.succeeded', 'order.refunded']) {
    assert.ok(types.has(t), `${t} delivered; got ${[...types].join(', ')}`);
  }
  const t = await now();
  for (const d of got) {
    assert.equal(d.method, 'POST');
    assert.match(d.contentType ?? '', /^application\/json/);
    assertSigned(d, t);
    assert.match(d.id, /^evt_/);
    assert.equal(typeof d.event.object_id, 'string');
    assert.ok(d.event.created);
  }
  // Every state change in the timeline went out once, under the same id, and nothing else did.
  const timeline = new Map(o.timeline.map((e) => [e.id, e]));
  for (const e of o.timeline) {
    const sent = got.filter((d) => d.id === e.id);
    assert.equal(sent.length, 1, `${e.type} ${e.id} delivered once: ${sent.length}`);
    assert.equal(sent[0].type, e.type);
    assert.equal(sent[0].event.object_id, e.object_id);
    assert.equal(Date.parse(sent[0].event.created), Date.parse(e.at));
    assert.equal(sent[0].attempt, 1);
  }
  for (const d of got) assert.ok(timeline.has(d.id), `${d.type} ${d.id} is in the order's timeline`);
  const paid = got.find((d) => d.type === 'payment.succeeded');
  assert.equal(paid.event.object_id, o.payments[0].id);
  const refunded = got.find((d) => d.type === 'refund.succeeded');
  assert.equal(refunded.event.object_id, o.refunds[0].id);
  await assertBalanced(shop);
});

test('a delivery answered 500 is retried with the same event id after the backoff, then stops', async () => {
  failFirst.add('refund.created');
  try {
    const { product } = await cardProduct(shop, { price: 1600, noReasonDays: 7, digits: ['4'] });
    const { order, token } = await paidOrder(shop, product.id, { method: 'alipay' });
    await openCase(shop, order.id, token, 'changed_mind');
    await shop.advance(0);
    let tries = forOrder(order.id).filter((d) => d.type === 'refund.created');
    assert.equal(tries.length, 1, 'delivered once, refused; the clock has not moved');
    assert.equal(tries[0].status, 500);
    assert.equal(tries[0].attempt, 1);
    const id = tries[0].id;

    await shop.advance(2); // the first backoff
    tries = forOrder(order.id).filter((d) => d.type === 'refund.created');
    assert.equal(tries.length, 2, 'retried after the backoff');
    assert.equal(tries[1].id, id, 'the same event id');
    assert.equal(tries[1].attempt, 2);
    assert.equal(tries[1].status, 200);
    assert.deepEqual({ ...tries[1].event, attempt: 1 }, tries[0].event, 'the same event, only the attempt differs');
    assertSigned(tries[1]);

    // Acknowledged: never sent again.
    await shop.advance(10 * MIN);
    assert.equal(forOrder(order.id).filter((d) => d.id === id).length, 2);
    const o = await orderOf(shop, order.id, token);
    const inTimeline = o.timeline.find((e) => e.type === 'refund.created');
    assert.equal(inTimeline.id, id, 'the timeline shows the id the receiver got');
    // Every other event of the order went out exactly once.
    for (const e of o.timeline.filter((x) => x.id !== id)) {
      assert.equal(forOrder(order.id).filter((d) => d.id === e.id).length, 1, e.type);
    }
  } finally {
    failFirst.delete('refund.created');
  }
  await assertBalanced(shop);
});

test('an unreachable receiver holds nothing up: the shop works and delivers once it answers', async () => {
  // Every event of this order is refused at first; the order and refund proceed regardless.
  for (const t of ['order.created', 'payment.created', 'payment.succeeded', 'order.paid', 'order.delivered']) failFirst.add(t);
  try {
    const { product } = await cardProduct(shop, { price: 1700, noReasonDays: 7, digits: ['6'] });
    const { order, token } = await paidOrder(shop, product.id);
    assert.equal(order.status, 'delivered');
    const refused = forOrder(order.id).filter((d) => d.status === 500);
    assert.ok(refused.length >= 3, `refused deliveries: ${refused.map((d) => d.type)}`);
    for (let i = 0; i < 6; i++) await shop.advance(2 ** i * 2);
    for (const d of refused) {
      const all = forOrder(order.id).filter((x) => x.id === d.id);
      assert.equal(all.length, 2, `${d.type} retried once, then acknowledged`);
      assert.deepEqual(all.map((x) => x.status), [500, 200]);
    }
    const o = await orderOf(shop, order.id, token);
    assert.deepEqual(new Set(forOrder(order.id).map((d) => d.id)), new Set(o.timeline.map((e) => e.id)));
  } finally {
    failFirst.clear();
  }
  await assertBalanced(shop);
});

test('a webhook URL set later receives what happens from then on, not the shop\'s history', async () => {
  const url = `http://127.0.0.1:${receiver.address().port}/hooks/kameng`;
  let quiet = await startShop(); // no --webhook-url
  let later;
  try {
    const { product } = await cardProduct(quiet, { price: 1800, digits: ['8', '6'] });
    const before = await paidOrder(quiet, product.id);
    await quiet.advance(60);
    const clock = (await quiet.get('/v1/test/clock')).body.now;
    assert.equal(await quiet.stop('SIGTERM'), 0);

    later = await startShop({ dataDir: quiet.dataDir, testClock: false, extraArgs: [`--test-clock=${clock}`, '--webhook-url', url] });
    const after = await paidOrder(later, product.id);
    await later.advance(0);
    await later.advance(60);
    assert.equal(forOrder(before.order.id).length, 0, 'nothing from before the URL was set');
    const o = await orderOf(later, after.order.id, after.token);
    assert.deepEqual(new Set(forOrder(after.order.id).map((d) => d.id)), new Set(o.timeline.map((e) => e.id)),
      'every event since went out');
    // The order from before still shows its whole timeline.
    const old = await orderOf(later, before.order.id, before.token);
    assert.ok(old.timeline.some((e) => e.type === 'order.paid'));
  } finally {
    await (later ?? quiet).cleanup();
  }
});

test('no webhook tells of a change before it is on disk', async () => {
  // The timers read what the writer committed, and a commit is visible before its WAL sync. A
  // webhook sent in between would tell the receiver of an order a crash could still undo; the
  // timers' reads wait for the sync first. Syncs are held here with the test-only switch.
  const { product } = await cardProduct(shop, { price: 900, digits: ['3'] });
  await shop.advance(0); // every timer settles, so the passes that follow change nothing
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let released = false;
  try {
    assert.equal((await shop.post('/v1/test/syncs', { hold: true })).status, 200);
    const created = shop.post('/v1/orders', { product_id: product.id });
    await pause(1500); // three timer ticks, each of which would deliver a due event
    const whileHeld = deliveries.length;
    assert.equal((await shop.post('/v1/test/syncs', { hold: false })).status, 200);
    released = true;
    const order = (await created).body;
    assert.ok(order.id, JSON.stringify(order));
    assert.deepEqual(deliveries.slice(0, whileHeld).filter((d) => d.event?.data?.order_id === order.id), [],
      'nothing of the order went out while it could still be lost');
    for (let i = 0; i < 100 && !forOrder(order.id).some((d) => d.type === 'order.created'); i++) await pause(50);
    assert.ok(forOrder(order.id).some((d) => d.type === 'order.created'), 'it went out after the sync');
  } finally {
    if (!released) await shop.post('/v1/test/syncs', { hold: false });
  }
});
