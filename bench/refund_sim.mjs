// A day of refund traffic on the test clock (issue #3, "Measured in bench/"). Started by
// bench/refund_sim.sh, which owns the kameng process; this script only talks HTTP to 127.0.0.1.
//
// It seeds products through the admin API, then plays one day (24 h of test-clock time, advanced
// in fixed steps) of buyers, a seller and two agents, and keeps advancing (larger steps, through
// weekends and holidays) until no case is open and every payout is final. All figures are then
// computed from the API: orders with their refunds, cases with their decisions, /v1/ledger/check
// and /metrics. Real-time latencies are measured around the requests that carried each fact:
// the buyer's request, or the provider/upstream callback (the server posts its sandbox callbacks
// to this script's recording proxy, which forwards them to the server and times them).
//
// Environment (set by refund_sim.sh): SIM_BASE, SIM_PROXY_PORT, SIM_DATA (demo-keys.txt),
// SIM_CLOCK (the test clock's start), SIM_ORDERS, SIM_SEED, SIM_OUT (JSON results), SIM_LABEL.
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const BASE = process.env.SIM_BASE ?? 'http://127.0.0.1:18281';
const PROXY_PORT = Number(process.env.SIM_PROXY_PORT ?? 18282);
const DATA = process.env.SIM_DATA;
const START = Date.parse(process.env.SIM_CLOCK ?? '2026-02-09T00:00:00Z');
const ORDERS = Number(process.env.SIM_ORDERS ?? 4000);
const SEED = Number(process.env.SIM_SEED ?? 20260209);
const OUT = process.env.SIM_OUT;
const LABEL = process.env.SIM_LABEL ?? new Date(START).toISOString();
const ROOT = new URL('..', import.meta.url).pathname;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const BJ = 8 * HOUR; // Beijing is UTC+8 all year
const DAY1_STEP_S = Number(process.env.SIM_STEP_S ?? 120); // the day itself: 2-minute steps
const TAIL_STEP_S = Number(process.env.SIM_TAIL_STEP_S ?? 600); // afterwards: 10-minute steps
const TAIL_DAYS_MAX = 21;
const INFLIGHT_MAX = 12; // requests in flight from the simulated people at once

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (mulberry32), so a run can be repeated with the same mix.
let rngState = SEED >>> 0;
function rand() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const chance = (p) => rand() < p;
const between = (lo, hi) => lo + rand() * (hi - lo);
const pickInt = (n) => Math.floor(rand() * n);
function weighted(table) { // [[value, weight], ...]
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = rand() * total;
  for (const [v, w] of table) { if ((x -= w) < 0) return v; }
  return table[table.length - 1][0];
}

// ---------------------------------------------------------------------------------------------
// HTTP to the server, with a cap on requests in flight; every status is counted, 5xx kept.
const stats = { requests: 0, byStatus: {}, fiveXX: [], unexpected: [] };
const slow = []; // any request or callback that took over a second, with when it happened
let inflight = 0;
const waitingForSlot = [];
async function slot() {
  if (inflight < INFLIGHT_MAX) { inflight++; return; }
  await new Promise((r) => waitingForSlot.push(r));
  inflight++;
}
function release() {
  inflight--;
  const next = waitingForSlot.shift();
  if (next) next();
}

async function api(method, path, { body, token, raw, type } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) { payload = raw; headers['content-type'] = type; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers['content-type'] = 'application/json'; }
  await slot();
  const t0 = performance.now();
  let res, text;
  try {
    res = await fetch(BASE + path, { method, headers, body: payload });
    text = await res.text();
  } finally {
    release();
  }
  const ms = performance.now() - t0;
  stats.requests++;
  if (ms > 1000) slow.push({ what: `${method} ${path.replace(/[a-z]+_[0-9A-Za-z]+/g, '{id}')}`, ms: Math.round(ms), sim: new Date(simNow).toISOString(), wall: new Date().toISOString() });
  stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
  let parsed = text;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) parsed = JSON.parse(text);
  if (res.status >= 500) stats.fiveXX.push({ method, path: path.replace(/[a-z]+_[0-9A-Za-z]+/g, '{id}'), status: res.status, body: text.slice(0, 300) });
  return { status: res.status, body: parsed, ms };
}

// A request that must succeed with `want`; anything else is recorded as unexpected.
async function must(want, method, path, opts) {
  const r = await api(method, path, opts);
  if (r.status !== want) {
    stats.unexpected.push({ method, path: path.replace(/[a-z]+_[0-9A-Za-z]+/g, '{id}'), want, status: r.status,
      error: typeof r.body === 'object' ? r.body?.error?.code ?? JSON.stringify(r.body).slice(0, 200) : String(r.body).slice(0, 200) });
    return null;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// The callback proxy: kameng's public_url points here. Each callback is forwarded to the server on
// a fresh connection and timed: that is the real time from a provider's fact to its effect, and
// for failures, wrong regions and duplicate captures the decision is in the same transaction.
const callbacks = { count: {}, fiveXX: 0, upstream: new Map(), payment: new Map() };
const proxy = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const u = new URL(BASE);
    const t0 = performance.now();
    const fwd = http.request({
      host: u.hostname, port: u.port, path: req.url, method: 'POST', agent: false,
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/json',
        ...(req.headers['kameng-signature'] ? { 'kameng-signature': req.headers['kameng-signature'] } : {}),
        'content-length': body.length, connection: 'close',
      },
    }, (r2) => {
      const out = [];
      r2.on('data', (c) => out.push(c));
      r2.on('end', () => {
        const ms = performance.now() - t0;
        const text = Buffer.concat(out).toString('utf8');
        const kind = req.url.split('/')[3] ?? req.url;
        if (ms > 1000) slow.push({ what: `callback ${kind}`, ms: Math.round(ms), sim: new Date(simNow).toISOString(), wall: new Date().toISOString() });
        callbacks.count[`${kind} ${r2.statusCode}`] = (callbacks.count[`${kind} ${r2.statusCode}`] ?? 0) + 1;
        if (r2.statusCode >= 500) callbacks.fiveXX++;
        try {
          const sent = JSON.parse(body.toString('utf8'));
          if (kind === 'upstream' && r2.statusCode === 200 && sent.status !== 'succeeded') {
            callbacks.upstream.set(sent.topup_id, { ms, status: sent.status });
          } else if (kind === 'payments' && r2.statusCode === 200) {
            const got = JSON.parse(text);
            if (got.payment && got.payment.disposition !== 'applied' && !got.replayed) {
              callbacks.payment.set(got.payment.id, { ms, disposition: got.payment.disposition });
            }
          }
        } catch { /* counted above */ }
        res.writeHead(r2.statusCode, { 'content-type': r2.headers['content-type'] ?? 'text/plain' });
        res.end(text);
      });
    });
    fwd.on('error', (err) => { res.writeHead(502); res.end(String(err)); });
    fwd.end(body);
  });
});

// ---------------------------------------------------------------------------------------------
// Simulated time. Each simulated person is an async script that waits with `until(t)`; the main
// loop resumes every script due at the current test-clock time, waits until all of them are
// waiting again (or done), then advances the server's clock by one step.
let simNow = START;
let active = 0;
let live = 0; // scripts that are not perpetual (agents and the watcher are)
let idleResolve = null;
let seq = 0;
const heap = [];
function heapPush(x) {
  heap.push(x);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (less(heap[p], heap[i])) break;
    [heap[p], heap[i]] = [heap[i], heap[p]];
    i = p;
  }
}
function less(a, b) { return a.t < b.t || (a.t === b.t && a.s < b.s); }
function heapPop() {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i], heap[m]];
      i = m;
    }
  }
  return top;
}
function becameIdle() {
  if (active === 0 && idleResolve) { const r = idleResolve; idleResolve = null; r(); }
}
function until(t) {
  active--;
  becameIdle();
  return new Promise((resolve) => heapPush({ t, s: seq++, resolve }));
}
const after = (ms) => until(simNow + ms);
const scriptErrors = [];
function spawn(fn, { perpetual = false } = {}) {
  active++;
  if (!perpetual) live++;
  fn().catch((err) => scriptErrors.push(String(err.stack ?? err).slice(0, 400))).finally(() => {
    active--;
    if (!perpetual) live--;
    becameIdle();
  });
}
async function drainDue() {
  for (;;) {
    while (heap.length > 0 && heap[0].t <= simNow) {
      const w = heapPop();
      active++;
      w.resolve();
    }
    if (active === 0) return;
    await new Promise((r) => { idleResolve = r; });
  }
}

const advances = []; // {from, to, ms}: the real duration of each advance, for timer-made decisions
async function advance(seconds) {
  const t0 = performance.now();
  const r = await api('POST', '/v1/test/clock/advance', { body: { seconds } });
  if (r.status !== 200) throw new Error(`advance: ${r.status} ${JSON.stringify(r.body)}`);
  const to = Date.parse(r.body.now);
  advances.push({ from: simNow, to, ms: performance.now() - t0 });
  simNow = to;
}

const bjHour = (t) => new Date(t + BJ).getUTCHours() + new Date(t + BJ).getUTCMinutes() / 60;
const bjDayStart = (t) => Math.floor((t + BJ) / DAY) * DAY - BJ; // 00:00 Beijing of t's day

// ---------------------------------------------------------------------------------------------
// The mainland calendar (data/cn-calendar.tsv), counted like src/domain/calendar.c: the working
// days after the start's Beijing date, up to and including the end's date.
const calendar = new Map();
for (const line of readFileSync(join(ROOT, 'data/cn-calendar.tsv'), 'utf8').split('\n')) {
  if (!line || line.startsWith('#') || line.startsWith('date\t')) continue;
  const [date, kind] = line.split('\t');
  calendar.set(date, kind);
}
const bjDate = (t) => new Date(t + BJ).toISOString().slice(0, 10);
function isWorkingDay(dayStartMs) {
  const kind = calendar.get(bjDate(dayStartMs));
  if (kind) return kind === 'workday';
  const wd = new Date(dayStartMs + BJ).getUTCDay();
  return wd !== 0 && wd !== 6;
}
function workingDaysBetween(from, to) {
  let n = 0;
  for (let d = bjDayStart(from) + DAY; d <= bjDayStart(to); d += DAY) if (isWorkingDay(d)) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Test material: a real 1x1 PNG; PDFs made distinct per upload (evidence is content-addressed).
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
let pdfSeq = 0;
const pdf = () => Buffer.from(`%PDF-1.4\n% statement ${++pdfSeq}\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n`
  + '2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

// ---------------------------------------------------------------------------------------------
// Seeding: products through the admin API, card keys through the CSV import.
const keys = {};
for (const line of readFileSync(join(DATA, 'demo-keys.txt'), 'utf8').split('\n')) {
  const [role, key] = line.trim().split(/\s+/);
  if (role && key) keys[role] = key;
}

// The catalogue and each product's share of orders. Prices ending in 13, 66 and 99 fen make the
// sandbox refund provider retry once, ask for action, or refuse for good (docs/sandbox.md); they
// are small products, as such trouble is occasional.
const CATALOGUE = [
  { key: 'q10', kind: 'card_key', name: '腾讯Q币卡 10元 (7天无理由)', price: 1000, nr: 7, win: 48, share: 0.26 },
  { key: 'steam50', kind: 'card_key', name: 'Steam 钱包充值卡 50元', price: 4800, nr: 0, win: 24, share: 0.14 },
  { key: 'netease30', kind: 'card_key', name: '网易一卡通 30元', price: 3000, nr: 0, win: 72, share: 0.05 },
  { key: 'apple200', kind: 'card_key', name: 'App Store 充值卡 200元', price: 19800, nr: 0, win: 48, share: 0.05 },
  { key: 'xbox30', kind: 'card_key', name: 'Xbox 礼品卡 30元 (7天无理由)', price: 2999, nr: 7, win: 48, share: 0.02 },
  { key: 'phone50', kind: 'direct_topup', fmt: 'phone_cn', name: '中国移动话费直充 50元', price: 4950, win: 72, share: 0.18 },
  { key: 'phone200', kind: 'direct_topup', fmt: 'phone_cn', name: '中国联通话费直充 200元', price: 19900, win: 72, share: 0.05 },
  { key: 'phone30', kind: 'direct_topup', fmt: 'phone_cn', name: '中国电信话费直充 30元 (活动价)', price: 2913, win: 72, share: 0.02 },
  { key: 'gs60', kind: 'direct_topup', fmt: 'game_account', regions: '天空岛,世界树,America,Europe,Asia', name: '原神 创世结晶 60 直充', price: 600, win: 48, share: 0.13 },
  { key: 'gs648', kind: 'direct_topup', fmt: 'game_account', regions: '天空岛,世界树,America,Europe,Asia', name: '原神 创世结晶 6480 直充', price: 64800, win: 48, share: 0.03 },
  { key: 'kog30', kind: 'direct_topup', fmt: 'game_account', regions: '微信区,QQ区', name: '王者荣耀 点券 300 直充', price: 3066, win: 48, share: 0.02 },
  { key: 'acct88', kind: 'account', name: '二手游戏账号 88元 (担保交易)', price: 8800, win: 72, escrow: 3, share: 0.03 },
  { key: 'acct288', kind: 'account', name: '二手游戏账号 288元 (担保交易)', price: 28800, win: 72, escrow: 3, share: 0.02 },
];
const ROUTES = [['alipay', 45], ['wechat', 42], ['bank_card', 8], ['balance', 5]];

async function seed() {
  const list = await must(200, 'GET', '/v1/products?limit=100', { token: keys.admin });
  const sellerId = list.body.data.find((p) => p.kind === 'account' && p.seller_id).seller_id;
  const agent2 = await must(201, 'POST', '/v1/api_keys', { body: { role: 'agent', label: 'refund desk 2' }, token: keys.admin });
  keys.agent2 = agent2.body.key;
  let imported = 0;
  for (const p of CATALOGUE) {
    const body = {
      kind: p.kind, name: p.name, price_fen: p.price, face_value_fen: p.price,
      refund_window_hours: p.win, no_reason_days: p.nr ?? 0,
    };
    if (p.fmt) body.target_format = p.fmt;
    if (p.regions) body.regions = p.regions;
    if (p.kind === 'direct_topup') body.topup_timeout_minutes = 30;
    if (p.kind === 'account') { body.seller_id = sellerId; body.escrow_days = p.escrow; }
    const r = await must(201, 'POST', '/v1/products', { body, token: keys.admin });
    p.id = r.body.id;
    p.regionList = p.regions ? p.regions.split(',') : [];
    if (p.kind === 'card_key') {
      // Enough stock for the day with room to spare; the last digit of each number decides
      // whether the sandbox issuer can void the key once revealed (even: yes).
      const n = Math.ceil(ORDERS * p.share * 1.3) + 100;
      const lines = [];
      for (let i = 0; i < n; i++) {
        lines.push(`${p.key.toUpperCase()}${String(i).padStart(6, '0')}${pickInt(10)},P${p.key}${(SEED + i * 7919).toString(36)}X${i}`);
      }
      for (let at = 0; at < lines.length; at += 10000) {
        const chunk = lines.slice(at, at + 10000);
        const imp = await must(201, 'POST', `/v1/products/${p.id}/card_keys`, { raw: chunk.join('\n') + '\n', type: 'text/csv', token: keys.admin });
        imported += imp.body.imported;
      }
    }
  }
  return { sellerId, imported };
}

// ---------------------------------------------------------------------------------------------
// What the simulation knows about each order (its plan), and what it measured.
const orders = [];
const byId = new Map();
const caseReal = new Map(); // case id -> { openedWall } real time of the request that opened it
const agentOf = new Map(); // case id -> the agent who made the initial decision
const requestLatency = []; // {caseId, ms, outcome, rule, status}

function planOrder(i, arrival) {
  const p = weighted(CATALOGUE.map((x) => [x, x.share]));
  let method = weighted(ROUTES);
  const o = { i, p, method, arrival, variant: 'normal', intent: 'normal' };
  const v = rand();
  if (v < 0.03) o.variant = 'abandon';
  else if (v < 0.05) o.variant = 'payfail';
  else if (v < 0.065 && method !== 'balance') o.variant = 'duplicate';
  else if (v < 0.07 && method !== 'balance') o.variant = 'late';
  if (p.kind === 'card_key') {
    const x = rand();
    if (p.nr > 0) {
      o.intent = x < 0.04 ? 'e4' : x < 0.07 ? 'a2' : x < 0.085 ? 'used' : 'normal';
    } else {
      o.intent = x < 0.01 ? 'no_nr' : x < 0.04 ? 'a2' : x < 0.05 ? 'late' : x < 0.065 ? 'used' : 'normal';
    }
    o.honest = chance(0.8);
  } else if (p.kind === 'direct_topup') {
    const phone = p.fmt === 'phone_cn';
    const x = rand();
    o.target = phone
      ? (x < 0.025 ? 'fail' : x < 0.04 ? 'stall' : x < 0.06 ? 'nocb' : 'ok')
      : (x < 0.02 ? 'fail' : x < 0.03 ? 'stall' : x < 0.06 ? 'wrong' : x < 0.08 ? 'nocb' : 'ok');
    const y = rand();
    if (o.target === 'stall') o.intent = chance(0.5) ? 'ask_while_pending' : 'normal';
    else if (o.target === 'ok' || o.target === 'nocb') o.intent = y < 0.01 ? 'typo' : y < 0.017 ? 'not_received' : 'normal';
  } else {
    const x = rand();
    o.seller = x < 0.08 ? 'never' : 'delivers';
    const y = rand();
    o.intent = o.seller === 'never' ? 'not_delivered'
      : y < 0.05 ? 'dispute' : y < 0.07 ? 'confirm_then_ask' : y < 0.75 ? 'confirm' : 'wait_escrow';
    o.dispute = weighted([['full', 50], ['partial', 25], ['reject', 25]]);
  }
  o.appealAfterReject = chance(0.4);
  o.appealWins = chance(0.35);
  o.appealAuto = chance(0.1);
  o.replies = chance(0.8);
  return o;
}

function targetFor(o) {
  const p = o.p;
  if (p.fmt === 'phone_cn') {
    const tail = { fail: '0000', stall: '9999', nocb: '8888' }[o.target];
    const prefix = ['138', '139', '150', '186', '177', '199'][pickInt(6)];
    let mid = String(pickInt(10000)).padStart(4, '0');
    let end = tail ?? String(pickInt(10000)).padStart(4, '0');
    if (!tail && ['0000', '9999', '8888'].includes(end)) end = '1234';
    return { account: `${prefix}${mid}${end}`, region: undefined };
  }
  const base = `p${o.i.toString(36)}${pickInt(1e6).toString(36)}`;
  const prefix = { fail: 'fail_', stall: 'stall_', wrong: 'wrong_', nocb: 'nocb_' }[o.target] ?? 'player_';
  return { account: `${prefix}${base}`, region: p.regionList[pickInt(p.regionList.length)] };
}

// Orders arrive over the day with the shape of Chinese virtual-goods traffic (Beijing hours):
// quiet before dawn, a lunch peak, the highest in the evening.
const HOURLY = [4, 2.5, 1.5, 1, 0.8, 0.8, 1.2, 2, 3, 4, 4.5, 5, 5.5, 5, 4.8, 4.8, 4.8, 5, 5.5, 6, 7, 7.5, 7, 6];
function arrivalTimes(n) {
  const ts = [];
  for (let i = 0; i < n; i++) {
    // a start hour weighted by HOURLY, then uniform within it; the day starts at START.
    for (;;) {
      const t = START + rand() * DAY;
      if (rand() * 7.5 < HOURLY[Math.floor(bjHour(t))]) { ts.push(Math.floor(t)); break; }
    }
  }
  return ts.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Buyers.
async function getOrder(o) {
  const r = await must(200, 'GET', `/v1/orders/${o.id}`, { token: o.token });
  return r?.body;
}

async function waitFor(o, pred, every = 10 * MIN, tries = 200) {
  for (let k = 0; k < tries; k++) {
    const v = await getOrder(o);
    if (v && pred(v)) return v;
    await after(every);
  }
  return null;
}

async function openCase(o, reason, message, evidence) {
  const body = { reason, message };
  if (evidence) body.evidence_ids = evidence;
  const r = await api('POST', `/v1/orders/${o.id}/cases`, { body, token: o.token });
  if (r.status !== 201) {
    stats.unexpected.push({ method: 'POST', path: '/v1/orders/{id}/cases', want: 201, status: r.status, error: r.body?.error?.code, intent: o.intent });
    return null;
  }
  const c = r.body;
  caseReal.set(c.id, { openedWall: performance.now() });
  const d = c.decisions[0];
  requestLatency.push({ caseId: c.id, ms: r.ms, status: c.status, outcome: d?.outcome, rule: d?.rule ?? c.preview.rule, automatic: d?.automatic ?? false });
  o.cases = (o.cases ?? 0) + 1;
  if (d && d.outcome === 'reject' && o.appealAuto) {
    spawn(async () => { await after(between(2 * HOUR, 36 * HOUR)); await appeal(o, c.id); });
  }
  return c;
}

async function upload(o, bytes, type, name) {
  const r = await must(201, 'POST', `/v1/orders/${o.id}/evidence?filename=${name}`, { raw: bytes, type, token: o.token });
  return r?.body.id;
}

async function appeal(o, caseId) {
  const ev = await upload(o, pdf(), 'application/pdf', 'statement.pdf');
  const r = await must(200, 'POST', `/v1/cases/${caseId}/appeal`, {
    body: { message: 'I appeal: my bank statement and the issuer chat are attached.', evidence_ids: ev ? [ev] : [] }, token: o.token,
  });
  if (r) { o.appealed = true; caseReal.get(caseId).appealWall = performance.now(); }
}

async function pay(o, method, outcome = 'succeeded') {
  const body = { method };
  if (o.targetAccount) body.target_confirmed = o.targetAccount;
  const p = await must(201, 'POST', `/v1/orders/${o.id}/payments`, { body, token: o.token });
  if (!p) return null;
  if (outcome) await must(202, 'POST', `/v1/sandbox/payments/${p.body.id}/pay`, { body: { outcome } });
  return p.body;
}

async function buyerScript(o) {
  await until(o.arrival);
  const body = { product_id: o.p.id };
  if (o.p.kind === 'direct_topup') {
    const t = targetFor(o);
    body.target_account = t.account;
    if (t.region) body.target_region = t.region;
  }
  const c = await must(201, 'POST', '/v1/orders', { body });
  if (!c) return;
  o.id = c.body.id;
  o.token = c.body.buyer_token;
  o.targetAccount = c.body.target?.account;
  byId.set(o.id, o);
  switch (o.variant) {
    case 'abandon':
      return; // expires after 15 minutes
    case 'payfail':
      await pay(o, o.method, 'failed');
      await after(between(1 * MIN, 5 * MIN));
      await pay(o, o.method === 'bank_card' ? 'alipay' : o.method);
      break;
    case 'duplicate': {
      // Two checkouts open (a second tab, a retry after a slow page), both completed.
      const p1 = await pay(o, o.method, null);
      const p2 = await pay(o, o.method, null);
      if (p1) await must(202, 'POST', `/v1/sandbox/payments/${p1.id}/pay`, { body: { outcome: 'succeeded' } });
      if (p2) await must(202, 'POST', `/v1/sandbox/payments/${p2.id}/pay`, { body: { outcome: 'succeeded' } });
      break;
    }
    case 'late': {
      const p = await pay(o, o.method, null);
      await after(between(16 * MIN, 40 * MIN)); // the order expired at 15 minutes
      if (p) await must(202, 'POST', `/v1/sandbox/payments/${p.id}/pay`, { body: { outcome: 'succeeded' } });
      return;
    }
    default:
      await pay(o, o.method);
  }
  if (o.p.kind === 'card_key') return cardBuyer(o);
  if (o.p.kind === 'direct_topup') return topupBuyer(o);
  return accountBuyer(o);
}

async function reveal(o, view) {
  const k = view.card_keys[0];
  const body = o.p.nr > 0 ? { confirm_waiver: true } : {};
  const r = await must(200, 'POST', `/v1/orders/${o.id}/card_keys/${k.id}/reveal`, { body, token: o.token });
  return r?.body;
}

async function cardBuyer(o) {
  await after(between(1 * MIN, 20 * MIN));
  const view = await waitFor(o, (v) => v.status === 'delivered', 5 * MIN, 30);
  if (!view) return;
  const delivered = Date.parse(view.delivered_at);
  switch (o.intent) {
    case 'e4': // changed mind, never revealed: E4 at once
      await until(delivered + between(10 * MIN, 3 * DAY));
      await openCase(o, 'changed_mind', '不想要了，还没有查看卡密。');
      return;
    case 'no_nr': // changed mind on a product without no-reason days: rejected at once (N2)
      await until(delivered + between(1 * HOUR, 2 * DAY));
      await openCase(o, 'changed_mind', 'I bought the wrong card, please refund.');
      return;
    case 'a2': { // revealed, the key does not work, not activated: A2
      await reveal(o, view);
      await after(between(5 * MIN, Math.min(12, o.p.win - 1) * HOUR));
      const ev = chance(0.3) ? await upload(o, PNG_1X1, 'image/png', 'error.png') : null;
      await openCase(o, 'key_not_working', '卡密提示无效，无法充值。', ev ? [ev] : undefined);
      return;
    }
    case 'late': // revealed, asks after the window: N2
      await reveal(o, view);
      await until(delivered + o.p.win * HOUR + between(2 * HOUR, 24 * HOUR));
      await openCase(o, 'key_not_working', 'The key stopped working.');
      return;
    case 'used': { // revealed and activated, then asks: N1 from the issuer's record
      const k = await reveal(o, view);
      if (k) await must(200, 'POST', '/v1/sandbox/issuer/redeem', { body: { number: k.number, password: k.password } });
      await after(between(10 * MIN, 24 * HOUR));
      await openCase(o, 'key_not_working', '充值没有到账。');
      return;
    }
    default: // most buyers reveal and use the key; a few keep it for later
      if (chance(0.85)) {
        const k = await reveal(o, view);
        if (k && chance(0.5)) {
          await after(between(1 * MIN, 30 * MIN));
          await must(200, 'POST', '/v1/sandbox/issuer/redeem', { body: { number: k.number, password: k.password } });
        }
      }
  }
}

async function topupBuyer(o) {
  if (o.intent === 'ask_while_pending') {
    // "Where is my top-up?" before the promised 30 minutes: the case waits for the machine.
    await after(between(5 * MIN, 25 * MIN));
    await openCase(o, 'not_received', '话费还没到账。');
    return;
  }
  if (o.intent === 'typo' || o.intent === 'not_received') {
    await after(between(10 * MIN, 2 * DAY));
    const view = await waitFor(o, (v) => v.status === 'delivered', 10 * MIN, 30);
    if (!view) return;
    if (o.intent === 'typo') await openCase(o, 'wrong_account', '号码填错了一位，请退款。');
    else await openCase(o, 'not_received', 'Not credited on my side.');
  }
}

async function accountBuyer(o) {
  if (o.seller === 'delivers') {
    spawn(async () => {
      await after(between(5 * MIN, 6 * HOUR));
      await must(200, 'POST', `/v1/orders/${o.id}/deliver`, {
        body: { content: `账号: ${o.id.slice(-8)}\n密码: ${pickInt(1e9)}\n绑定邮箱已解绑` }, token: keys.seller,
      });
    });
  }
  if (o.intent === 'not_delivered') {
    await after(between(6 * HOUR, 36 * HOUR));
    await openCase(o, 'not_received', '卖家一直没有发货。');
    return;
  }
  await after(between(10 * MIN, 2 * HOUR));
  const view = await waitFor(o, (v) => v.delivered_at, 30 * MIN, 40);
  if (!view) return;
  const delivered = Date.parse(view.delivered_at);
  if (o.intent === 'wait_escrow') return;
  await until(Math.max(simNow, delivered + between(10 * MIN, o.intent === 'dispute' ? 48 * HOUR : 24 * HOUR)));
  await must(200, 'POST', `/v1/orders/${o.id}/account_goods/reveal`, { body: {}, token: o.token });
  if (o.intent === 'dispute') {
    const ev = await upload(o, PNG_1X1, 'image/png', 'account.png');
    await openCase(o, 'not_as_described', '账号等级和描述不符，皮肤也少了。', ev ? [ev] : undefined);
    return;
  }
  await must(200, 'POST', `/v1/orders/${o.id}/confirm`, { body: {}, token: o.token });
  if (o.intent === 'confirm_then_ask') {
    await after(between(1 * HOUR, 3 * DAY));
    await openCase(o, 'not_as_described', '确认收货后发现账号被找回了。');
  }
}

// A refund that needs the buyer (requires_action: the card was closed) is moved to the shop
// balance by the buyer some hours after the notice; a refund the provider refused for good is
// moved there by 70% of buyers, the rest are left to a person. The watcher looks once an hour at
// the orders whose refunds can end so (prices ending in 66 and 99 fen).
const rerouted = new Set();
const mayRefund = (o) => o.variant === 'duplicate' || o.variant === 'late' || (o.cases ?? 0) > 0
  || (o.target && o.target !== 'ok' && o.target !== 'nocb');
async function watcher() {
  for (;;) {
    await after(HOUR);
    if (stopping) return;
    const watched = orders.filter((o) => o.id && [66, 99].includes(o.p.price % 100) && !o.watchDone && mayRefund(o));
    for (const o of watched) {
      const v = await getOrder(o);
      if (!v) continue;
      for (const rf of v.refunds) {
        if (rerouted.has(rf.id)) continue;
        const refused = rf.status === 'failed' && rf.method !== 'balance' && rf.failure_reason !== 'moved to the shop balance by the buyer';
        if (rf.status === 'requires_action' || refused) {
          rerouted.add(rf.id);
          if (refused && !chance(0.7)) continue;
          spawn(async () => {
            await after(refused ? between(1 * HOUR, 24 * HOUR) : between(30 * MIN, 12 * HOUR));
            await must(201, 'POST', `/v1/refunds/${rf.id}/reroute`, { body: { method: 'balance' }, token: o.token });
          });
        }
      }
      if (v.refunds.length > 0 && v.refunds.every((rf) => rf.status === 'succeeded' || (rf.status === 'failed' && rerouted.has(rf.id)))
        && !v.cases.some((c) => ['waiting', 'open', 'awaiting_buyer', 'appealed'].includes(c.status))) o.watchDone = true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Agents: two people on the refund desk, 09:00–21:00 Beijing time every day (the desk stays
// staffed over weekends and the Spring Festival, as shops' customer service does). Each looks at
// the queue every 30–120 minutes and handles up to 15 cases a visit, in deadline order.
const claimed = new Set();
const agentActions = { visits: 0, evidenceRequests: 0, decisions: 0, skippedSameAgent: 0 };
let stopping = false;

function nextVisit(t) {
  const h = bjHour(t);
  if (h >= 9 && h < 21) {
    const n = t + between(30 * MIN, 120 * MIN);
    if (bjHour(n) < 21 && bjHour(n) >= 9) return n;
  }
  const base = bjDayStart(h >= 21 ? t + DAY : t) + 9 * HOUR;
  return (base > t ? base : base + DAY) + between(0, 30 * MIN);
}

async function agentLoop(name) {
  const token = keys[name];
  for (;;) {
    await until(nextVisit(simNow));
    if (stopping) return;
    agentActions.visits++;
    const q = await must(200, 'GET', '/v1/cases?limit=100', { token });
    if (!q) continue;
    let handled = 0;
    for (const s of q.body.data) {
      if (handled >= 15) break;
      if (claimed.has(s.id)) continue;
      if (s.status === 'awaiting_buyer' && !s.overdue) continue;
      claimed.add(s.id);
      try {
        if (await handleCase(name, token, s)) handled++;
      } finally {
        claimed.delete(s.id);
      }
    }
  }
}

async function handleCase(name, token, s) {
  const r = await must(200, 'GET', `/v1/cases/${s.id}`, { token });
  if (!r) return false;
  const c = r.body;
  // The queue was read at the start of the visit: the other agent may have taken this case since.
  if (!['open', 'awaiting_buyer', 'appealed'].includes(c.status) || (c.status === 'awaiting_buyer' && !c.overdue)) return false;
  const o = byId.get(c.order_id);
  const appealStage = c.appealed_at !== null;
  if (appealStage && agentOf.get(c.id) === name) { agentActions.skippedSameAgent++; return false; }
  const kind = o?.p.kind;
  const buyerSent = c.messages.some((m) => m.author === 'buyer' && m.evidence_ids.length > 0);
  const asked = c.messages.some((m) => m.author.startsWith('agent'));
  // Ask for proof first, half the time, when the buyer has sent none.
  if (!appealStage && c.status === 'open' && !asked && !buyerSent && chance(0.5)) {
    const a = await must(200, 'POST', `/v1/cases/${c.id}/request_evidence`, {
      body: { message: '请提供充值失败页面的截图以及卡号后四位。' }, token,
    });
    if (a) {
      agentActions.evidenceRequests++;
      if (o?.replies) {
        spawn(async () => {
          await after(between(1 * HOUR, 24 * HOUR));
          const ev = await upload(o, PNG_1X1, 'image/png', 'screenshot.png');
          await must(201, 'POST', `/v1/cases/${c.id}/messages`, { body: { body: '截图在附件。', evidence_ids: ev ? [ev] : [] }, token: o.token });
        });
      }
    }
    return true;
  }
  let decision;
  const silent = c.status === 'awaiting_buyer'; // the buyer's 72 hours passed without an answer
  if (appealStage) {
    const first = c.decisions.find((d) => d.stage === 'initial');
    decision = o?.appealWins && !first.automatic
      ? { outcome: 'approve', rule: kind === 'account' ? 'E5' : 'E2', explanation: '复核：新提交的银行流水与发卡方记录一致，支持退款。' }
      : { outcome: 'reject', rule: first.rule.startsWith('N') ? first.rule : 'N1', explanation: '复核维持原决定：记录显示商品已按订单交付并使用。' };
  } else if (silent) {
    decision = { outcome: 'reject', rule: 'N1', explanation: '72 小时内未收到未使用的证明，按已使用处理。' };
  } else if (kind === 'account') {
    decision = o.dispute === 'full' ? { outcome: 'approve', rule: 'E5', explanation: '卖家交付的账号与描述不符，担保资金全额退回。' }
      : o.dispute === 'partial' ? { outcome: 'approve', rule: 'E5', amount_fen: Math.round(o.p.price * 0.5), explanation: '账号部分不符（缺少皮肤），按差价退还 50%。' }
        : { outcome: 'reject', rule: 'N1', explanation: '账号与描述一致，且已登录修改了密保。' };
  } else {
    decision = o?.honest ? { outcome: 'approve', rule: 'E2', explanation: '发卡方确认卡密未被使用，已作废并退款。' }
      : { outcome: 'reject', rule: 'N1', explanation: '发卡方记录显示该卡密已在其他渠道兑换。' };
  }
  const d = await must(200, 'POST', `/v1/cases/${c.id}/decide`, { body: decision, token });
  if (!d) return false;
  agentActions.decisions++;
  const real = caseReal.get(c.id);
  if (real) {
    if (appealStage) real.appealDecidedWall = performance.now();
    else real.decidedWall = performance.now();
  }
  if (!appealStage) {
    agentOf.set(c.id, name);
    if (decision.outcome === 'reject' && o?.appealAfterReject) {
      spawn(async () => { await after(between(2 * HOUR, 48 * HOUR)); await appeal(o, c.id); });
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Figures.
function pct(xs, p) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);
function dist(xs, ps = [50, 95, 99]) {
  const o = { n: xs.length };
  for (const p of ps) o[`p${p}`] = pct(xs, p);
  if (xs.length) o.max = Math.max(...xs);
  return o;
}

async function collect() {
  // Every order, as its buyer sees it, and every case with its decisions, as an agent sees it.
  const views = new Map();
  const cases = new Map();
  const list = orders.filter((o) => o.id);
  let k = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (k < list.length) {
      const o = list[k++];
      const v = await getOrder(o);
      if (!v) continue;
      views.set(o.id, v);
      for (const cs of v.cases) {
        const r = await must(200, 'GET', `/v1/cases/${cs.id}`, { token: keys.agent });
        if (r) cases.set(cs.id, r.body);
      }
    }
  }));
  return { views, cases };
}

function compute({ views, cases }, ledger, metrics, seeded, timing) {
  const res = { label: LABEL, clock_start: new Date(START).toISOString(), seed: SEED };
  // --- the mix, as played
  const mix = { orders: orders.length, created: 0, byProduct: {}, byRoute: {}, variants: {}, intents: {}, topupTargets: {} };
  for (const o of orders) {
    if (!o.id) continue;
    mix.created++;
    mix.byProduct[o.p.key] = (mix.byProduct[o.p.key] ?? 0) + 1;
    mix.byRoute[o.method] = (mix.byRoute[o.method] ?? 0) + 1;
    mix.variants[o.variant] = (mix.variants[o.variant] ?? 0) + 1;
    if (o.variant !== 'abandon' && o.variant !== 'late') mix.intents[`${o.p.kind}:${o.intent}`] = (mix.intents[`${o.p.kind}:${o.intent}`] ?? 0) + 1;
    if (o.target) mix.topupTargets[o.target] = (mix.topupTargets[o.target] ?? 0) + 1;
  }
  const statuses = {};
  for (const v of views.values()) statuses[v.status] = (statuses[v.status] ?? 0) + 1;
  mix.orderStatusAtEnd = statuses;
  res.mix = mix;

  // --- decisions
  const decisions = [];
  for (const c of cases.values()) {
    for (const d of c.decisions) decisions.push({ c, d, at: Date.parse(d.decided_at) });
  }
  const byRule = {};
  for (const { c, d } of decisions) {
    const key = `${d.rule} ${d.outcome}`;
    byRule[key] ??= { automatic: 0, agent: 0, initial: 0, appeal: 0, origin_system: 0, origin_buyer: 0 };
    byRule[key][d.automatic ? 'automatic' : 'agent']++;
    byRule[key][d.stage]++;
    byRule[key][`origin_${c.origin}`]++;
  }
  res.decisionsByRule = byRule;
  const caseStatus = {};
  for (const c of cases.values()) caseStatus[c.status] = (caseStatus[c.status] ?? 0) + 1;
  res.cases = { total: cases.size, byStatus: caseStatus, byOrigin: {}, appealed: 0, evidenceRequested: agentActions.evidenceRequests };
  for (const c of cases.values()) {
    res.cases.byOrigin[c.origin] = (res.cases.byOrigin[c.origin] ?? 0) + 1;
    if (c.appealed_at) res.cases.appealed++;
  }
  const auto = decisions.filter((x) => x.d.automatic).length;
  res.share = {
    decisions: { total: decisions.length, automatic: auto, share: round(auto / decisions.length, 4) },
  };
  const initial = decisions.filter((x) => x.d.stage === 'initial');
  res.share.initialDecisions = { total: initial.length, automatic: initial.filter((x) => x.d.automatic).length };
  res.share.initialDecisions.share = round(res.share.initialDecisions.automatic / initial.length, 4);
  const buyerInitial = initial.filter((x) => x.c.origin === 'buyer');
  res.share.buyerRequests = { total: buyerInitial.length, automatic: buyerInitial.filter((x) => x.d.automatic).length };
  res.share.buyerRequests.share = round(res.share.buyerRequests.automatic / buyerInitial.length, 4);

  // --- refunds: one chain per approval and paying route; a refund moved to the balance is
  // followed to the balance refund that replaced it.
  const refunds = [];
  for (const v of views.values()) for (const r of v.refunds) refunds.push({ ...r, order: v });
  const payoutStatus = {};
  const MOVED = 'moved to the shop balance by the buyer';
  // A balance refund of a payment that was not made from the balance replaces a refund that
  // needed action or was refused: it is counted with the refund it replaced.
  const payMethod = (r) => r.order.payments.find((p) => p.id === r.payment_id)?.method;
  const isReplacement = (r) => r.method === 'balance' && payMethod(r) !== 'balance';
  for (const r of refunds) {
    const k2 = `${isReplacement(r) ? 'balance (moved by the buyer)' : r.method} ${r.status}${r.failure_reason === MOVED ? ' (moved to balance)' : ''}`;
    payoutStatus[k2] = (payoutStatus[k2] ?? 0) + 1;
  }
  res.payouts = {
    refunds: refunds.length, byMethodStatus: payoutStatus,
    retried: refunds.filter((r) => r.attempts > 1).length,
    requiresActionMoved: refunds.filter((r) => r.failure_reason === MOVED).length,
    refusedMoved: refunds.filter((r) => r.status === 'failed' && r.failure_reason !== MOVED && !isReplacement(r)
      && refunds.some((x) => isReplacement(x) && x.payment_id === r.payment_id && x.case_id === r.case_id)).length,
    stillRequiresAction: refunds.filter((r) => r.status === 'requires_action').length,
    pending: refunds.filter((r) => r.status === 'pending').length,
    failedLeftToAPerson: refunds.filter((r) => r.status === 'failed' && r.failure_reason !== MOVED && !isReplacement(r)
      && !refunds.some((x) => isReplacement(x) && x.payment_id === r.payment_id && x.case_id === r.case_id)).length,
    amountFen: refunds.filter((r) => r.status === 'succeeded').reduce((s2, r) => s2 + r.amount_fen, 0),
  };
  const decisionOfRefund = (r) => {
    const c = cases.get(r.case_id);
    if (!c) return null;
    // the latest approval at or before the refund's creation
    const ds = c.decisions.filter((d) => d.outcome === 'approve' && Date.parse(d.decided_at) <= Date.parse(r.created_at));
    return { c, d: ds[ds.length - 1] };
  };
  const chains = [];
  for (const r of refunds) {
    if (isReplacement(r)) continue;
    const cd = decisionOfRefund(r);
    if (!cd || !cd.d) continue;
    let final = r;
    if (r.status === 'failed') {
      final = refunds.find((x) => isReplacement(x) && x.order.id === r.order.id && x.payment_id === r.payment_id && x.case_id === r.case_id) ?? r;
    }
    chains.push({ r, final, c: cd.c, d: cd.d, rerouted: final !== r });
  }
  const approved = chains.length;
  const approvedAuto = chains.filter((x) => x.d.automatic).length;
  res.share.refunds = {
    total: approved, automatic: approvedAuto, share: round(approvedAuto / approved, 4),
    amountFen: chains.reduce((s, x) => s + x.r.amount_fen, 0),
    amountAutomaticFen: chains.filter((x) => x.d.automatic).reduce((s, x) => s + x.r.amount_fen, 0),
  };
  res.share.refunds.amountShare = round(res.share.refunds.amountAutomaticFen / res.share.refunds.amountFen, 4);
  const refundsByRule = {};
  for (const x of chains) refundsByRule[`${x.d.rule} ${x.d.automatic ? 'automatic' : 'agent'}`] = (refundsByRule[`${x.d.rule} ${x.d.automatic ? 'automatic' : 'agent'}`] ?? 0) + 1;
  res.refundsByRule = refundsByRule;

  // --- the fact behind each decision, and the real time from it to the decision
  const fact = (c, d) => {
    const o = byId.get(c.order_id);
    const v = views.get(c.order_id);
    if (!d.automatic) {
      const since = d.stage === 'appeal' ? Date.parse(c.appealed_at) : Date.parse(c.created_at);
      const asked = c.messages.some((m) => m.author.startsWith('agent') && Date.parse(m.created_at) < Date.parse(d.decided_at)
        && (d.stage === 'appeal' || !c.appealed_at || Date.parse(m.created_at) < Date.parse(c.appealed_at)));
      return { kind: d.stage === 'appeal' ? 'agent (appeal)' : asked ? 'agent, after asking for evidence' : 'agent', at: since };
    }
    if (c.origin === 'buyer' && c.decisions[0] === d && Date.parse(d.decided_at) === Date.parse(c.created_at)) {
      return { kind: 'buyer request, decided at once', at: Date.parse(c.created_at) };
    }
    // decided by the machine without (or after) a request: from a callback or a deadline
    if (d.rule === 'E3') {
      const pay = v.payments.find((p) => p.disposition !== 'applied' && p.status === 'succeeded');
      const cb = pay && callbacks.payment.get(pay.id);
      return { kind: `payment callback (${pay?.disposition ?? '?'})`, at: pay ? Date.parse(pay.captured_at) : null, realMs: cb?.ms };
    }
    if (v.topup && (v.topup.status === 'failed' || v.topup.status === 'wrong_region')) {
      const cb = callbacks.upstream.get(v.topup.id);
      return { kind: `upstream callback (${v.topup.status})`, at: Date.parse(v.topup.result_at), realMs: cb?.ms, via: v.topup.result_via };
    }
    if (v.topup) {
      const deadline = Date.parse(v.paid_at) + v.refund_terms.topup_timeout_minutes * MIN;
      const adv = advances.find((a) => a.from < Date.parse(d.decided_at) && Date.parse(d.decided_at) <= a.to);
      return { kind: c.origin === 'buyer' ? 'top-up deadline (buyer had asked)' : 'top-up deadline', at: deadline, realMs: adv?.ms, realIsUpperBound: true };
    }
    return { kind: 'other', at: Date.parse(c.created_at) };
  };
  const f2d = {};
  for (const { c, d } of decisions) {
    const f = fact(c, d);
    let real = f.realMs;
    if (f.kind === 'buyer request, decided at once') real = requestLatency.find((x) => x.caseId === c.id)?.ms;
    if (f.kind.startsWith('agent')) {
      const w = caseReal.get(c.id);
      real = f.kind !== 'agent (appeal)' ? (w?.decidedWall - w?.openedWall) : (w?.appealDecidedWall - w?.appealWall);
    }
    const g = (f2d[f.kind] ??= { n: 0, real: [], simMinutes: [], rules: {}, within24h: 0 });
    g.n++;
    if (f.at && Date.parse(d.decided_at) - f.at <= DAY) g.within24h++;
    g.rules[d.rule] = (g.rules[d.rule] ?? 0) + 1;
    if (Number.isFinite(real)) g.real.push(real);
    if (f.at) g.simMinutes.push((Date.parse(d.decided_at) - f.at) / MIN);
  }
  res.factToDecision = {};
  for (const [k2, g] of Object.entries(f2d)) {
    const rd = dist(g.real, [50, 99]);
    const sd = dist(g.simMinutes, [50, 95, 99]);
    res.factToDecision[k2] = {
      n: g.n, rules: g.rules, within24h: g.within24h,
      realMs: { n: rd.n, p50: round(rd.p50, 1), p99: round(rd.p99, 1), max: round(rd.max, 1) },
      simMinutes: { p50: round(sd.p50, 1), p95: round(sd.p95, 1), p99: round(sd.p99, 1), max: round(sd.max, 1) },
    };
  }
  // all machine decisions together (the headline)
  const machineReal = [];
  for (const [k2, g] of Object.entries(f2d)) if (!k2.startsWith('agent')) machineReal.push(...g.real);
  const md = dist(machineReal, [50, 99]);
  res.factToDecisionMachine = { n: md.n, p50: round(md.p50, 1), p99: round(md.p99, 1), max: round(md.max, 1) };

  // --- time to money: from the fact (or the buyer's request) to completed_at, in working days
  // (calendar rule) and hours; and from the decision (refund created) to completed_at.
  const groups = {};
  const add = (key, x) => { (groups[key] ??= []).push(x); };
  let onTime = 0, withDeadline = 0;
  const unpaid = [];
  for (const x of chains) {
    if (x.final.status !== 'succeeded') { unpaid.push({ order: x.r.order.id, rule: x.d.rule, method: x.r.method, status: x.final.status, amount: x.r.amount_fen }); continue; }
    const f = fact(x.c, x.d);
    const start = f.at ?? Date.parse(x.c.created_at);
    const done = Date.parse(x.final.completed_at);
    const row = {
      wd: workingDaysBetween(start, done), hours: (done - start) / HOUR,
      wdDecision: workingDaysBetween(Date.parse(x.r.created_at), done),
      hoursDecision: (done - Date.parse(x.r.created_at)) / HOUR,
    };
    withDeadline++;
    if (done <= Date.parse(x.r.expected_by)) onTime++;
    const who = x.d.automatic ? 'automatic' : 'agent';
    const route = x.rerouted ? `${x.r.method}→balance` : x.r.method;
    const size = x.r.amount_fen < 10000 ? '<100 CNY' : '≥100 CNY';
    add(`route ${route}`, row);
    add(`who ${who}`, row);
    add(`size ${size}`, row);
    add(`${who} · ${route}`, row);
    add(`${who} · ${size}`, row);
    add('all', row);
  }
  res.timeToMoney = {};
  for (const [k2, rows] of Object.entries(groups).sort()) {
    const wd = dist(rows.map((r) => r.wd), [50, 95]);
    const h = dist(rows.map((r) => r.hours), [50, 95]);
    const wdd = dist(rows.map((r) => r.wdDecision), [50, 95]);
    const hd = dist(rows.map((r) => r.hoursDecision), [50, 95]);
    res.timeToMoney[k2] = {
      n: rows.length, workingDays: { p50: wd.p50, p95: wd.p95, max: wd.max }, hours: { p50: round(h.p50, 2), p95: round(h.p95, 2), max: round(h.max, 2) },
      fromDecision: { workingDays: { p50: wdd.p50, p95: wdd.p95 }, hours: { p50: round(hd.p50, 2), p95: round(hd.p95, 2) } },
    };
  }
  res.expectedBy = { refunds: withDeadline, completedByExpected: onTime, promised: {} };
  // What each refund promised (expected_by, from its creation): working days and calendar days.
  const promised = {};
  for (const x of chains) {
    const k2 = `${x.r.method} ${x.r.amount_fen < 10000 ? '<100 CNY' : '≥100 CNY'}`;
    const from = Date.parse(x.r.created_at), by = Date.parse(x.r.expected_by);
    (promised[k2] ??= []).push({ wd: workingDaysBetween(from, by), days: (by - from) / DAY });
  }
  for (const [k2, rows] of Object.entries(promised).sort()) {
    res.expectedBy.promised[k2] = {
      n: rows.length, workingDays: [...new Set(rows.map((r) => r.wd))].sort((a, b) => a - b),
      calendarDays: { min: round(Math.min(...rows.map((r) => r.days)), 1), max: round(Math.max(...rows.map((r) => r.days)), 1) },
    };
  }
  res.notPaid = unpaid;

  res.ledger = ledger;
  res.http = {
    requests: stats.requests, byStatus: stats.byStatus, fiveXX: stats.fiveXX.length, fiveXXSamples: stats.fiveXX.slice(0, 5),
    unexpected: stats.unexpected.length, unexpectedByKind: Object.entries(stats.unexpected.reduce((m, u) => {
      const k3 = `${u.method} ${u.path} ${u.status} ${u.error ?? ''}`;
      m[k3] = (m[k3] ?? 0) + 1;
      return m;
    }, {})),
    callbacks: callbacks.count, callback5xx: callbacks.fiveXX, server5xxByRoute: metrics,
  };
  res.agents = agentActions;
  res.slow = { count: slow.length, samples: slow.slice(0, 10) };
  res.scriptErrors = scriptErrors.slice(0, 5);
  res.seeded = seeded;
  res.timing = timing;
  return res;
}

async function metrics5xx() {
  const r = await api('GET', '/metrics');
  const out = {};
  for (const line of String(r.body).split('\n')) {
    const m = line.match(/^kameng_http_requests_total\{route="([^"]+)",status="5xx"\} (\d+)/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const wall0 = performance.now();
  await new Promise((r) => proxy.listen(PROXY_PORT, '127.0.0.1', r));
  const clock = await must(200, 'GET', '/v1/test/clock');
  simNow = Date.parse(clock.body.now);
  if (simNow !== START) throw new Error(`the server's clock is ${clock.body.now}, not ${new Date(START).toISOString()}`);
  const seeded = await seed();
  const seedS = (performance.now() - wall0) / 1000;
  console.log(`[${LABEL}] seeded ${CATALOGUE.length} products, ${seeded.imported} card keys (${seedS.toFixed(1)} s)`);

  const arrivals = arrivalTimes(ORDERS);
  for (let i = 0; i < ORDERS; i++) {
    const o = planOrder(i, arrivals[i]);
    orders.push(o);
    spawn(() => buyerScript(o));
  }
  spawn(() => agentLoop('agent'), { perpetual: true });
  spawn(() => agentLoop('agent2'), { perpetual: true });
  spawn(() => watcher(), { perpetual: true });

  // The day.
  const dayEnd = START + DAY;
  while (simNow < dayEnd) {
    await drainDue();
    await advance(Math.min(DAY1_STEP_S, (dayEnd - simNow) / 1000));
  }
  await drainDue();
  const dayS = (performance.now() - wall0) / 1000 - seedS;
  console.log(`[${LABEL}] day played: ${orders.filter((o) => o.id).length} orders, ${advances.length} advances (${dayS.toFixed(1)} s)`);

  // Afterwards: until nobody has anything left to do, no case is open and every payout is final.
  const tailEnd = dayEnd + TAIL_DAYS_MAX * DAY;
  let nextCheck = simNow + 6 * HOUR;
  let settled = false;
  while (simNow < tailEnd) {
    await drainDue();
    if (simNow >= nextCheck) {
      nextCheck = simNow + 6 * HOUR;
      if (live === 0) {
        const q = await must(200, 'GET', '/v1/cases?limit=1', { token: keys.agent });
        if (q && q.body.data.length === 0) {
          let open = 0;
          for (const o of orders.filter((x) => x.id && (mayRefund(x) || x.p.kind === 'account'))) {
            const v = await getOrder(o);
            if (v && v.refunds.some((r) => r.status === 'pending' || r.status === 'requires_action')) { open++; break; }
            if (v && v.status === 'delivering') { open++; break; } // escrow still running
          }
          if (open === 0) { settled = true; break; }
        }
      }
    }
    await advance(TAIL_STEP_S);
  }
  stopping = true;
  const tailS = (performance.now() - wall0) / 1000 - seedS - dayS;
  console.log(`[${LABEL}] settled=${settled} at ${new Date(simNow).toISOString()} after ${advances.length} advances (${tailS.toFixed(1)} s)`);

  const collected = await collect();
  const ledger = (await must(200, 'GET', '/v1/ledger/check', { token: keys.admin }))?.body;
  const m5 = await metrics5xx();
  const totalS = (performance.now() - wall0) / 1000;
  const res = compute(collected, ledger, m5, seeded, {
    seedS: round(seedS), dayS: round(dayS), tailS: round(tailS), totalS: round(totalS), advances: advances.length,
    settled, clockEnd: new Date(simNow).toISOString(),
    advanceMs: dist(advances.map((a) => a.ms), [50, 99]),
  });
  if (OUT) writeFileSync(OUT, JSON.stringify(res, null, 2));
  report(res);
  proxy.closeAllConnections?.();
  proxy.close();
  if (!settled || scriptErrors.length || res.http.fiveXX || !ledger?.balanced) process.exitCode = 1;
}

function report(res) {
  const L = (s = '') => console.log(s);
  const pctS = (x) => `${(x * 100).toFixed(1)}%`;
  L(`\n== ${res.label}: clock ${res.clock_start} → ${res.timing.clockEnd}, ${res.timing.totalS} s real ==`);
  L(`orders: ${res.mix.created} created; routes ${JSON.stringify(res.mix.byRoute)}; variants ${JSON.stringify(res.mix.variants)}`);
  L(`order status at end: ${JSON.stringify(res.mix.orderStatusAtEnd)}`);
  L(`cases: ${res.cases.total} ${JSON.stringify(res.cases.byStatus)} origin ${JSON.stringify(res.cases.byOrigin)}; appealed ${res.cases.appealed}; evidence requests ${res.cases.evidenceRequested}`);
  L(`refunds decided without a person: ${res.share.refunds.automatic}/${res.share.refunds.total} = ${pctS(res.share.refunds.share)} (by amount ${pctS(res.share.refunds.amountShare)})`);
  L(`decisions without a person: ${res.share.decisions.automatic}/${res.share.decisions.total} = ${pctS(res.share.decisions.share)}; buyer requests decided at once ${res.share.buyerRequests.automatic}/${res.share.buyerRequests.total} = ${pctS(res.share.buyerRequests.share)}`);
  L('fact → decision:');
  for (const [k, g] of Object.entries(res.factToDecision)) {
    L(`  ${k.padEnd(36)} n=${String(g.n).padStart(4)} ≤24h ${g.within24h} real ms p50 ${g.realMs.p50} p99 ${g.realMs.p99} (n=${g.realMs.n}) | simulated min p50 ${g.simMinutes.p50} p95 ${g.simMinutes.p95} max ${g.simMinutes.max} | ${JSON.stringify(g.rules)}`);
  }
  L(`  all machine decisions: real ms p50 ${res.factToDecisionMachine.p50} p99 ${res.factToDecisionMachine.p99} (n=${res.factToDecisionMachine.n})`);
  L('time to money (fact/request → completed_at): working days p50/p95 [max] | hours p50/p95 | from decision: wd p50/p95, h p50/p95');
  for (const [k, g] of Object.entries(res.timeToMoney)) {
    L(`  ${k.padEnd(30)} n=${String(g.n).padStart(4)}  wd ${g.workingDays.p50}/${g.workingDays.p95} [${g.workingDays.max}]  h ${g.hours.p50}/${g.hours.p95}  | dec: wd ${g.fromDecision.workingDays.p50}/${g.fromDecision.workingDays.p95} h ${g.fromDecision.hours.p50}/${g.fromDecision.hours.p95}`);
  }
  L(`completed by expected_by: ${res.expectedBy.completedByExpected}/${res.expectedBy.refunds}; promised: ${JSON.stringify(res.expectedBy.promised)}`);
  L(`decisions by rule: ${JSON.stringify(res.decisionsByRule)}`);
  L(`refunds by rule: ${JSON.stringify(res.refundsByRule)}`);
  L(`payouts: ${JSON.stringify(res.payouts)}`);
  L(`not paid: ${JSON.stringify(res.notPaid)}`);
  L(`ledger: ${JSON.stringify(res.ledger)}`);
  L(`http: ${res.http.requests} requests ${JSON.stringify(res.http.byStatus)}; 5xx client-seen ${res.http.fiveXX}, server /metrics 5xx ${JSON.stringify(res.http.server5xxByRoute)}; callbacks ${JSON.stringify(res.http.callbacks)}`);
  L(`unexpected answers: ${res.http.unexpected} ${JSON.stringify(res.http.unexpectedByKind)}`);
  L(`agents: ${JSON.stringify(res.agents)}; script errors: ${JSON.stringify(res.scriptErrors)}`);
  L(`slow (>1 s): ${JSON.stringify(res.slow)}`);
  L(`timing: ${JSON.stringify(res.timing)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
