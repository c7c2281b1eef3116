// kameng pages, shared helpers: DOM building (text only, never HTML), the language switch
// (Simplified Chinese first, English on request, remembered in localStorage), money and time
// formatting, and the API call. Loaded before each page's own script.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// h('button', {class: 'x', onclick: fn}, 'text', child, [children]): strings become text nodes.
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el) el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const c of kids.flat(2)) if (c != null && c !== false) el.append(c);
  return el;
}

// ---- language: the Chinese text is the key; EN holds its English ----
const LANG = localStorage.getItem('km.lang') === 'en' ? 'en' : 'zh';
const EN = {};
const addEN = (dict) => Object.assign(EN, dict);
// t(zh, {name: value}): the text in the chosen language, each {name} in it filled in.
function t(zh, vars) {
  let s = LANG === 'en' && EN[zh] !== undefined ? EN[zh] : zh;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}
// Static page text: elements marked data-i18n hold their Chinese text; placeholders and labels
// are marked data-i18n-placeholder / data-i18n-label.
function translatePage() {
  document.documentElement.lang = LANG === 'en' ? 'en' : 'zh-CN';
  for (const el of $$('[data-i18n]')) {
    if (!el.dataset.zh) el.dataset.zh = el.textContent.trim();
    el.textContent = t(el.dataset.zh);
  }
  for (const el of $$('[data-i18n-placeholder]')) el.placeholder = t(el.getAttribute('data-i18n-placeholder'));
  for (const el of $$('[data-i18n-label]')) el.setAttribute('aria-label', t(el.getAttribute('data-i18n-label')));
  const sw = $('#lang');
  if (sw) {
    sw.textContent = LANG === 'en' ? '中文' : 'EN';
    sw.setAttribute('aria-label', LANG === 'en' ? '切换到中文' : 'Switch to English');
    sw.addEventListener('click', () => {
      localStorage.setItem('km.lang', LANG === 'en' ? 'zh' : 'en');
      location.reload();
    });
  }
}

// ---- money and time ----
const yuan = (fen) => `${fen < 0 ? '-' : ''}¥${Math.floor(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;
const LOCALE = () => (LANG === 'en' ? 'en-GB' : 'zh-CN');
// A time; a deadline at the very end of a day (23:59:59.999 here) is shown as that day.
function when(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (d.getHours() === 23 && d.getMinutes() === 59 && d.getMilliseconds() === 999) {
    return d.toLocaleDateString(LOCALE(), { year: 'numeric', month: 'numeric', day: 'numeric' });
  }
  return d.toLocaleString(LOCALE(), { hour12: false });
}
const day = (ts) => new Date(ts).toLocaleDateString(LOCALE(), { month: '2-digit', day: '2-digit' });

// "2 小时 5 分" / "2 h 5 min" for a duration in ms (rounded to minutes; days past 48 h).
function dur(ms) {
  const m = Math.max(0, Math.round(ms / 60000));
  if (m < 60) return t('{m} 分钟', { m });
  const hrs = Math.floor(m / 60), rest = m % 60;
  if (hrs >= 48) return t('{d} 天 {h} 小时', { d: Math.floor(hrs / 24), h: hrs % 24 });
  return rest ? t('{h} 小时 {m} 分', { h: hrs, m: rest }) : t('{h} 小时', { h: hrs });
}

// "Now" on the server's clock: a server started with --test-clock tells it at /v1/test/clock, so
// deadlines count down against the shop's time, not the browser's.
let clockOffset = null;
async function serverNow() {
  if (clockOffset === null) {
    clockOffset = 0;
    try {
      const r = await fetch('/v1/test/clock', { cache: 'no-store' });
      if (r.ok) clockOffset = Date.parse((await r.json()).now) - Date.now();
    } catch { /* real time */ }
  }
  return Date.now() + clockOffset;
}
// "还剩 3 小时" / "已超时 2 小时" for a deadline.
const leftUntil = (due, now) => (Date.parse(due) >= now
  ? t('还剩 {d}', { d: dur(Date.parse(due) - now) }) : t('已超时 {d}', { d: dur(now - Date.parse(due)) }));

// ---- the API ----
// api('POST', path, body, token): JSON in, JSON out; a failure throws the API's error object
// ({code, message, param, ...}). opts.raw sends bytes as they are, with opts.type as Content-Type;
// opts.key is an Idempotency-Key, for a form sent again after an answer was lost.
async function api(method, path, body, token, opts = {}) {
  const headers = {};
  if (opts.key) headers['Idempotency-Key'] = opts.key;
  let payload;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['Content-Type'] = opts.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, cache: 'no-store', body: payload })
    .catch(() => { throw { message: t('网络错误，请检查连接后重试') }; });
  if (opts.blob) {
    if (!res.ok) throw ((await res.json().catch(() => ({}))).error || { message: `HTTP ${res.status}` });
    return res.blob();
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw data.error || { message: t('请求失败 (HTTP {s})', { s: res.status }) };
  return data;
}

// Saves a Blob as a file through a temporary object URL.
function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A Blob as a data: URL (the CSP lets images come from 'self' and data:, not blob:).
const dataUrl = (blob) => new Promise((ok, bad) => {
  const r = new FileReader();
  r.onload = () => ok(r.result);
  r.onerror = () => bad(r.error);
  r.readAsDataURL(blob);
});

// Yuan as typed ("12.5", "¥10") to integer fen without floating point; NaN when malformed.
function fenOf(text) {
  const m = /^\s*¥?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(String(text));
  return m ? Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0')) : NaN;
}

const section = (title, ...kids) => h('section', { class: 'card' }, h('h2', null, title), kids);
// A definition list from [label, value] pairs; falsy pairs are skipped.
const kv = (pairs, cls = '') => h('dl', { class: `kv ${cls}` },
  pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));

function copyButton(text) {
  const copy = (ev) => navigator.clipboard.writeText(text).then(
    () => { ev.target.textContent = t('已复制'); }, () => { ev.target.textContent = t('请长按文字手动复制'); });
  return h('button', { type: 'button', class: 'small-btn', onclick: copy }, t('复制'));
}
const copyable = (text, cls) => [h('code', { class: cls }, text), ' ', copyButton(text)];

// ---- words shared by the buyer's and the staff's pages ----
const KIND = () => ({ card_key: t('卡密'), direct_topup: t('直充'), account: t('账号担保') });
const METHOD = () => ({ alipay: t('支付宝'), wechat: t('微信支付'), bank_card: t('银行卡'), balance: t('余额') });
const REASON = () => ({
  not_received: t('没有收到 / 未到账'), wrong_item: t('发错了（区服、面额不符）'),
  duplicate_charge: t('重复扣款'), changed_mind: t('不想要了（无理由退款）'),
  key_not_working: t('卡密无法使用'), not_as_described: t('与描述不符'), wrong_account: t('充值账号填错了'),
});
// Why a buyer disputed a payment at the provider (the provider's reasons, not the shop's).
const DISPUTE_REASON = () => ({
  not_received: t('未收到货'), not_as_described: t('与描述不符'), unauthorized: t('非本人支付'),
  duplicate: t('重复扣款'), other: t('其他'),
});
const OUTCOME = () => ({
  approve: t('同意退款'), reject: t('不予退款'), review: t('转客服审核'), wait: t('等待系统结果'), none: t('无需退款'),
});
const CASE_STATUS = () => ({
  waiting: t('等待充值结果'), open: t('客服审核中'), awaiting_buyer: t('等待买家补充材料'),
  decided: t('已处理'), appealed: t('申诉审核中'), closed: t('已结案'),
});
const REFUND = () => ({
  pending: t('退款中'), processing: t('退款处理中'), succeeded: t('已退回'), failed: t('退款失败'),
  requires_action: t('收款账户异常，需您处理'),
});
// A refund that could not reach the payment route (it failed for good, or the receiving account
// refused it) goes to the shop balance instead when the buyer or an agent says so, once: the new
// refund names the one it replaces (rerouted_from). The shop says which refunds are owed and
// not moved yet (movable); one whose payment was refunded in full another way is not.
const refundMoved = (r, refunds) => refunds.some((x) => x.rerouted_from === r.id);
const refundStuck = (r) => r.movable === true;
const RULE_TITLE = () => ({
  E1: t('未到账'), E2: t('错发'), E3: t('平台故障'), E4: t('无理由'), E5: t('担保'),
  N1: t('已使用'), N2: t('逾期'), N3: t('填写错误'),
});
const ruleLabel = (id, title) => (id ? `${id} · ${RULE_TITLE()[id] || title || ''}` : '—');

addEN({
  '网络错误，请检查连接后重试': 'Network error: check your connection and try again',
  '请求失败 (HTTP {s})': 'Request failed (HTTP {s})',
'{m} 分钟': '{m} min', '{d} 天 {h} 小时': '{d} d {h} h', '{h} 小时 {m} 分': '{h} h {m} min', '{h} 小时': '{h} h',
  '还剩 {d}': '{d} left', '已超时 {d}': 'overdue by {d}',
  '已复制': 'Copied', '请长按文字手动复制': 'Long-press the text to copy', '复制': 'Copy',
  '卡密': 'Card key', '直充': 'Direct top-up', '账号担保': 'Account (escrow)',
  '支付宝': 'Alipay', '微信支付': 'WeChat Pay', '银行卡': 'Bank card', '余额': 'Shop balance',
  '没有收到 / 未到账': 'Not received / not credited', '发错了（区服、面额不符）': 'Wrong item (region or face value)',
  '重复扣款': 'Charged twice', '不想要了（无理由退款）': 'Changed my mind (no-reason refund)',
  '卡密无法使用': 'The key does not work', '与描述不符': 'Not as described', '充值账号填错了': 'I entered the wrong account',
  '未收到货': 'Not received', '非本人支付': 'Not authorised by the payer', '其他': 'Other',
  '同意退款': 'Refund approved', '不予退款': 'No refund', '转客服审核': 'An agent reviews it',
  '等待系统结果': 'Waiting for the system', '无需退款': 'Nothing to refund',
  '等待充值结果': 'Waiting for the top-up result', '客服审核中': 'Being reviewed', '等待买家补充材料': 'Waiting for the buyer',
  '已处理': 'Decided', '申诉审核中': 'Appeal under review', '已结案': 'Closed',
  '退款中': 'Refund pending', '退款处理中': 'Refund processing', '已退回': 'Refunded',
  '退款失败': 'Refund failed', '收款账户异常，需您处理': 'Receiving account rejected it: action needed',
  '未到账': 'not delivered', '错发': 'wrong item', '平台故障': 'platform fault', '无理由': 'no reason',
  '担保': 'escrow', '已使用': 'used', '逾期': 'late', '填写错误': 'buyer error',
});

// ---- the published refund policy, readable (GET /v1/policy is the same rules as data) ----
const REVIEW_ZH = {
  A1: '直充：查上游记录；未到账且未使用 → 同意 (E1)；已按填写的账号到账 → 不予退款 (N1；买家自己填错为 N3)。',
  A2: '卡密：未提取 → 适用 E4 或 E2 时同意；已提取未激活 → 能在发卡方作废则作废并同意，否则客服请买家提供未使用证明；已激活 → 不予退款 (N1)。',
};
async function policyView() {
  const p = await api('GET', '/v1/policy');
  const text = (r) => (LANG === 'en' ? r.text : r.text_zh || REVIEW_ZH[r.id] || r.text);
  const rule = (r) => h('li', { class: `rule-card ${r.outcome}`, id: `rule-${r.id}` },
    h('div', { class: 'row' }, h('strong', { class: 'rule' }, r.id), h('span', null, `${RULE_TITLE()[r.id] || ''} · ${r.title}`)),
    h('p', null, text(r)));
  const s = p.service || {}, pay = p.payout || {}, ap = p.appeal || {}, pd = p.provider_disputes;
  return h('div', { class: 'policy' },
    h('p', { class: 'small muted' }, t('退款规则版本 {v}：每个决定都注明所依据的规则编号。', { v: p.version || p.policy_version })),
    section(t('可以退款'), h('ul', { class: 'plain' }, p.rules.filter((r) => r.outcome === 'eligible').map(rule))),
    section(t('不可退款'), h('ul', { class: 'plain' }, p.rules.filter((r) => r.outcome !== 'eligible').map(rule))),
    section(t('审核流程'), h('ul', { class: 'plain' }, (p.review || []).map((r) => h('li', null, h('strong', { class: 'rule' }, r.id), ' ', text(r))))),
    section(t('时限'), h('ul', { class: 'steps' },
      s.agent_decision_hours && h('li', null, t('客服在 {h} 小时内处理；请您补充材料时，您有 {b} 小时回复。', { h: s.agent_decision_hours, b: s.buyer_reply_hours })),
      ap.window_days && h('li', null, t('被拒绝后 {d} 天内可申诉一次，由另一位客服处理，之后为平台最终结果。', { d: ap.window_days })),
      pay.under_100_cny_working_days && h('li', null, t('原路退回：100 元以下 {a} 个工作日内，其余 {b} 个工作日内；微信、支付宝 {c} 个工作日；余额立即到账。',
        { a: pay.under_100_cny_working_days, b: pay.otherwise_working_days, c: pay.wallets_working_days })))),
    pd && section(t('向支付平台投诉'), h('p', { id: 'policy-disputes' },
      t('您也可以直接向支付宝、微信支付或银行投诉。投诉期间争议金额被冻结，店铺不会重复退款；店铺在支付平台的截止时间前提交发货与提取记录（附证据日志证明）和沟通记录，或认可投诉；由支付平台裁决，店铺输了的款项经支付平台退回给您。'))));
}
addEN({
  '向支付平台投诉': 'If you complain to your payment provider',
  '您也可以直接向支付宝、微信支付或银行投诉。投诉期间争议金额被冻结，店铺不会重复退款；店铺在支付平台的截止时间前提交发货与提取记录（附证据日志证明）和沟通记录，或认可投诉；由支付平台裁决，店铺输了的款项经支付平台退回给您。': 'You can also complain to Alipay, WeChat Pay or your bank directly. While it is open the disputed money is frozen and the shop does not refund it a second time; before the provider\'s due date the shop sends its delivery and reveal records (with their evidence-log proofs) and the messages, or accepts; the provider decides, and money the shop loses goes back to you through it.',
  '退款规则版本 {v}：每个决定都注明所依据的规则编号。': 'Refund policy {v}: every decision names the rule it rests on.',
  '可以退款': 'When you get your money back', '不可退款': 'When you do not', '审核流程': 'How a request is reviewed', '时限': 'Times you can rely on',
  '客服在 {h} 小时内处理；请您补充材料时，您有 {b} 小时回复。': 'An agent decides within {h} hours; when asked for evidence you have {b} hours to reply.',
  '被拒绝后 {d} 天内可申诉一次，由另一位客服处理，之后为平台最终结果。': 'A rejection can be appealed once within {d} days; a different agent decides, and that is final on the platform.',
  '原路退回：100 元以下 {a} 个工作日内，其余 {b} 个工作日内；微信、支付宝 {c} 个工作日；余额立即到账。': 'Back the way it came: under 100 CNY within {a} working days, otherwise {b}; WeChat Pay and Alipay within {c}; the shop balance at once.',
});
