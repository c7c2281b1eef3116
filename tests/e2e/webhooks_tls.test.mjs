// Webhooks to an https:// receiver, as most receivers are: kameng checks the receiver's
// certificate, trusts a private CA named by outbound_ca_file (--outbound-ca-file) besides the
// system's, and its log says why an attempt was not acknowledged. An event refused for want of
// trust stays due, and goes out once the operator names the CA.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { startShop, scratchDir, BIN } from './lib/server.mjs';

let dir, receiver, url;
const deliveries = []; // { id, type, attempt, signature, body }
let handshakesRefused = 0;

before(async () => {
  dir = scratchDir('kameng-e2e-tls-');
  // A receiver's own certificate for 127.0.0.1, signed by no CA the system knows.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '2', '-subj', '/CN=kameng test receiver',
    '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'receiver.key'), '-out', join(dir, 'receiver.pem')], { stdio: 'ignore' });
  receiver = https.createServer({
    key: readFileSync(join(dir, 'receiver.key')), cert: readFileSync(join(dir, 'receiver.pem')),
  }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(body);
      deliveries.push({
        id: event.id, type: event.type, attempt: event.attempt, body,
        signature: req.headers['kameng-signature'],
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  receiver.on('tlsClientError', () => { handshakesRefused++; });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${receiver.address().port}/hooks/kameng?token=receiver-secret`;
});

after(async () => {
  receiver.closeAllConnections?.();
  await new Promise((resolve) => receiver.close(resolve));
});

async function newOrder(shop) {
  const product = await shop.product('card_key');
  const r = await shop.post('/v1/orders', { product_id: product.id });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

function logLines(shop, event) {
  return shop.logs.join('').split('\n').filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l));
}

function assertSigned(shop, d) {
  const hex = execFileSync(BIN, ['webhook-secret', '--data', shop.dataDir], { encoding: 'utf8' }).trim();
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(d.signature ?? '');
  assert.ok(m, `signature header: ${d.signature}`);
  const want = createHmac('sha256', Buffer.from(hex, 'hex')).update(`${m[1]}.${d.body}`).digest('hex');
  assert.equal(m[2], want);
}

test('an untrusted receiver certificate gets no event; the log says why; once the CA is named the event goes out', async () => {
  const first = await startShop({ extraArgs: ['--webhook-url', url] });
  let order, failed = [];
  try {
    order = await newOrder(first);
    await first.advance(0);
    assert.equal(deliveries.filter((d) => d.type === 'order.created').length, 0,
      'nothing reached a receiver kameng could not verify');
    for (let i = 0; i < 50 && (failed.length === 0 || handshakesRefused === 0); i++) {
      failed = logLines(first, 'webhook_attempt_failed');
      if (failed.length === 0 || handshakesRefused === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(handshakesRefused > 0, 'kameng broke off the TLS handshake');
    assert.ok(failed.length > 0, 'the failed attempt is logged');
    assert.match(failed[0].event_id, /^evt_/);
    assert.equal(failed[0].attempt, '1');
    assert.match(failed[0].error, /certificate/i, `the reason names the certificate: ${failed[0].error}`);
    assert.ok(!first.logs.join('').includes('receiver-secret'), 'the URL, with its secret, is not logged');
  } finally {
    await first.stop();
  }

  // The operator names the receiver's CA and restarts: the same event goes out, on its next try.
  const shop = await startShop({
    dataDir: first.dataDir, extraArgs: ['--webhook-url', url, '--outbound-ca-file', join(dir, 'receiver.pem')],
  });
  try {
    await shop.advance(60); // past the first backoff
    const got = deliveries.filter((d) => d.type === 'order.created' && d.body.includes(order.id));
    assert.equal(got.length, 1, 'delivered once');
    assert.equal(got[0].id, failed[0].event_id, 'under the id of the attempt that failed');
    assert.equal(got[0].attempt, 2);
    assertSigned(shop, got[0]);
    assert.equal(logLines(shop, 'webhook_attempt_failed').length, 0);
  } finally {
    await shop.cleanup();
  }
});

test('outbound_ca_file in the config file; a file that holds no certificate stops the start', async () => {
  const conf = join(dir, 'kameng.conf');
  writeFileSync(conf, `webhook_url = ${url}\noutbound_ca_file = ${join(dir, 'receiver.pem')}\n`);
  const shop = await startShop({ extraArgs: ['--config', conf] });
  try {
    const order = await newOrder(shop);
    await shop.advance(0);
    const got = deliveries.filter((d) => d.type === 'order.created' && d.body.includes(order.id));
    assert.equal(got.length, 1);
    assert.equal(got[0].attempt, 1);
    assertSigned(shop, got[0]);
  } finally {
    await shop.cleanup();
  }

  writeFileSync(join(dir, 'empty.pem'), 'not a certificate\n');
  for (const [file, reason] of [['empty.pem', /holds no PEM certificate/], ['missing.pem', /cannot read/]]) {
    const r = spawnSync(BIN, ['serve', '--data', join(dir, 'never'), '--port', '1',
      '--outbound-ca-file', join(dir, file)], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, reason);
  }
});
