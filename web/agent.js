// kameng agent console: the queue of cases ordered by deadline, a case view that puts the
// machine-collected facts beside the buyer's words and evidence, asking for evidence, and deciding
// under a rule that fits (approve → E1–E5, reject → N1–N3). Keyboard first: j/k, Enter, a/r, e, ?.
// The agent's key lives in this tab's sessionStorage only; this page never reads a buyer's token.
'use strict';

const KEY_SLOT = 'km.staff.agent';
const staffKey = () => sessionStorage.getItem(KEY_SLOT);
const sapi = (method, path, body, opts) => api(method, path, body, staffKey(), opts);

const S = { queue: [], sel: 0, c: null, policy: null, now: Date.now(), outcome: null, objectUrls: [], disputes: [] };

// ---- sign in: a staff API key (sk_…), checked against the queue ----
async function signIn(ev) {
  ev.preventDefault();
  const form = ev.target, err = $('.err', form), key = form.elements.key.value.trim();
  err.textContent = '';
  if (!key.startsWith('sk_')) { err.textContent = t('请粘贴客服或管理员的 API 密钥 (sk_…)；买家的购买凭证不能登录客服台。'); return; }
  try {
    await api('GET', '/v1/cases?limit=1', undefined, key);
  } catch (e) {
    err.textContent = e.code === 'forbidden' ? t('这个密钥没有客服权限。') : t('密钥无效：{m}', { m: e.message });
    return;
  }
  sessionStorage.setItem(KEY_SLOT, key);
  form.reset();
  start();
}

function signOut() {
  sessionStorage.removeItem(KEY_SLOT);
  location.hash = '#/';
  location.reload();
}

async function start() {
  const signedIn = !!staffKey();
  $('#signin').hidden = signedIn;
  $('#console').hidden = !signedIn;
  $('#signout').hidden = !signedIn;
  if (!signedIn) { $('#signin input').focus(); return; }
  if (!S.policy) S.policy = await api('GET', '/v1/policy').catch(() => null);
  await Promise.all([loadQueue(), loadDisputes()]);
  route();
}

// ---- the queue ----
async function loadQueue() {
  const err = $('.queue .err');
  err.textContent = '';
  try {
    const all = [];
    let after = '';
    for (let page = 0; page < 10; page++) { // ordered by deadline on the server
      const r = await sapi('GET', `/v1/cases?limit=100${after ? `&starting_after=${encodeURIComponent(after)}` : ''}`);
      all.push(...r.data);
      if (!r.has_more || !r.data.length) break;
      after = r.data[r.data.length - 1].id;
    }
    S.queue = all;
    S.now = await serverNow();
  } catch (e) {
    if (e.code === 'invalid_api_key') { signOut(); return; }
    err.textContent = e.message;
  }
  const open = S.c && S.queue.findIndex((c) => c.id === S.c.id);
  if (open >= 0) S.sel = open;
  S.sel = Math.min(S.sel, Math.max(0, S.queue.length - 1));
  drawQueue();
}

function drawQueue() {
  const overdue = S.queue.filter((c) => c.overdue).length;
  $('#queue-count').textContent = t('{n} 个', { n: S.queue.length }) + (overdue ? t('，{n} 个超时', { n: overdue }) : '');
  const items = S.queue.map((c, i) => {
    const due = c.status === 'awaiting_buyer' ? c.buyer_reply_due_at : c.sla_due_at;
    return h('li', {
      class: `q-item${c.overdue ? ' overdue' : ''}${i === S.sel ? ' sel' : ''}${S.c && S.c.id === c.id ? ' open' : ''}`,
      role: 'option', 'aria-selected': String(i === S.sel), id: `q-${c.id}`, 'data-case': c.id,
      onclick: () => { S.sel = i; openSelected(); },
    },
    h('div', { class: 'row' },
      c.overdue && h('span', { class: 'flag' }, t('超时')),
      h('strong', null, REASON()[c.reason] || c.reason),
      h('span', { class: `badge c-${c.status}` }, CASE_STATUS()[c.status] || c.status)),
    h('div', { class: 'small muted row' },
      h('span', null, `${t('预判')} ${c.preview.rule || '—'}`),
      due && h('span', { class: c.overdue ? 'late' : '' }, `${c.status === 'awaiting_buyer' ? t('买家回复') : t('时限')} ${when(due)} · ${leftUntil(due, S.now)}`)),
    h('code', { class: 'small muted' }, c.id));
  });
  $('#queue-list').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, t('队列已清空。'))]));
  const sel = $('#queue-list .sel');
  if (sel) sel.scrollIntoView({ block: 'nearest' });
}

function openSelected() {
  const c = S.queue[S.sel];
  if (c) location.hash = `#/case/${encodeURIComponent(c.id)}`;
}

function route() {
  const [, view, raw] = location.hash.split('/');
  if (view === 'case' && raw) openCase(decodeURIComponent(raw));
  else if (view === 'dispute' && raw) openDispute(decodeURIComponent(raw));
  else { S.c = null; $('#case').replaceChildren(h('p', { class: 'muted empty' }, t('从左侧队列选择一个工单。'))); drawQueue(); }
}

// ---- the case ----
async function openCase(id) {
  const pane = $('#case');
  if (!S.c || S.c.id !== id) pane.replaceChildren(h('p', { class: 'muted' }, t('加载中…')));
  try {
    const [c, now] = await Promise.all([sapi('GET', `/v1/cases/${encodeURIComponent(id)}`), serverNow()]);
    if (!S.c || S.c.id !== id) S.outcome = null;
    Object.assign(S, { c, now });
  } catch (e) { pane.replaceChildren(h('p', { class: 'err' }, e.message)); return; }
  const i = S.queue.findIndex((q) => q.id === id);
  if (i >= 0) S.sel = i;
  drawQueue();
  drawCase();
  loadEvidence();
}

const active = (c) => ['open', 'awaiting_buyer', 'appealed'].includes(c.status);
const authorName = (a) => (a === 'buyer' ? t('买家') : a === 'system' ? t('系统') : `${t('客服')} ${a.replace(/^agent:/, '')}`);

function drawCase() {
  const c = S.c, o = c.order || {};
  const due = c.status === 'awaiting_buyer' ? c.buyer_reply_due_at : c.sla_due_at;
  const head = h('section', { class: 'card case-head' },
    h('div', { class: 'row' },
      c.overdue && h('span', { class: 'flag' }, t('超时')),
      h('h1', null, REASON()[c.reason] || c.reason),
      h('span', { class: `badge c-${c.status}`, id: 'case-status' }, CASE_STATUS()[c.status] || c.status)),
    kv([[t('工单'), h('code', null, c.id)], [t('订单'), h('code', null, c.order_id)],
      [t('系统预判'), `${OUTCOME()[c.preview.outcome] || c.preview.outcome} · ${ruleLabel(c.preview.rule)}`],
      [t('提交时间'), when(c.created_at)],
      due && [c.status === 'awaiting_buyer' ? t('买家回复截止') : t('处理时限'), h('span', { class: c.overdue ? 'late' : '' }, `${when(due)} · ${leftUntil(due, S.now)}`)],
      c.appealed_at && [t('申诉时间'), when(c.appealed_at)]], 'compact'));
  // A request sent without a word or a file leaves no bubble of its own.
  const said = c.messages.filter((m) => m.body || m.evidence_ids.length > 0);
  const words = h('section', { class: 'card words' }, h('h2', null, t('买家陈述与证据')),
    h('ol', { class: 'events' }, said.map((m) => h('li', { class: `ev msg ${m.author === 'buyer' ? 'buyer' : 'staff'}` },
      h('div', { class: 'meta' }, h('strong', null, authorName(m.author)), h('time', null, when(m.created_at))),
      m.body && h('p', { class: 'body' }, m.body),
      m.evidence_ids.length > 0 && h('ul', { class: 'evidence-list' }, m.evidence_ids.map((ev) =>
        h('li', { class: 'evidence-item', 'data-evidence': ev }, h('code', { class: 'small' }, ev), h('span', { class: 'small muted' }, t('加载中…')))))))),
    said.length === 0 && h('p', { class: 'muted' }, t('买家没有留言。')));
  const facts = factsPane(c, o);
  $('#case').replaceChildren(...[head, h('div', { class: 'case-cols' }, words, facts),
    decisionsPane(c), disputeNote(o), unpaidPane(o), active(c) ? actionsPane(c, o) : nextPane(c)].filter(Boolean));
}

// The buyer also complained at the payment provider: what it froze cannot be approved here.
function disputeNote(o) {
  const open = (o.disputes || []).filter((d) => d.status === 'needs_response' || d.status === 'under_review');
  if (!open.length) return null;
  return h('section', { class: 'card warn', id: 'case-disputes' }, h('h2', null, t('支付平台投诉')),
    h('ul', { class: 'plain' }, open.map((d) => h('li', null,
      h('a', { href: `#/dispute/${encodeURIComponent(d.id)}` }, t('{s}：冻结 {a}，答复截止 {t}', {
        s: DISPUTE_STATUS()[d.status] || d.status, a: yuan(d.frozen_fen), t: when(d.respond_by) })))),
    h('p', { class: 'small muted' }, t('冻结的金额在支付平台裁决前不能再同意退款。'))));
}

// Refunds of the order, from any of its cases, that were approved and not paid out. The shop
// refuses a new approval while one is left: the agent moves it to the shop balance instead, so
// that one claim is never paid twice.
function unpaidPane(o) {
  const stuck = (o.refunds || []).filter(refundStuck);
  if (!stuck.length) return null;
  const err = h('p', { class: 'err', role: 'alert' });
  const move = async (btn, r) => {
    btn.disabled = true;
    err.textContent = '';
    try {
      await sapi('POST', `/v1/refunds/${encodeURIComponent(r.id)}/reroute`, { method: 'balance' });
      await openCase(S.c.id);
      loadQueue();
    } catch (e) {
      err.textContent = e.message;
      btn.disabled = false;
    }
  };
  return h('section', { class: 'card unpaid', id: 'unpaid' }, h('h2', null, t('未能到账的退款')),
    h('p', null, t('这些退款已同意，但原路未能退回。请改退至店铺余额，而不是再次同意退款，以免同一诉求退两次。')),
    h('ul', { class: 'plain' }, stuck.map((r) => h('li', { 'data-refund': r.id },
      h('strong', null, `${yuan(r.amount_fen)} · ${METHOD()[r.method] || r.method} · ${REFUND()[r.status] || r.status}`), ' ',
      h('code', { class: 'small' }, r.id),
      r.failure_reason && h('p', { class: 'small muted' }, t('原因：{r}', { r: r.failure_reason })),
      r.movable_fen < r.amount_fen && h('p', { class: 'small' }, t('另一笔退款已付 {b}，改退只付其余的 {a}。', { b: yuan(r.amount_fen - r.movable_fen), a: yuan(r.movable_fen) })),
      h('button', { type: 'button', class: 'primary move', onclick: (ev) => move(ev.target, r) },
        r.movable_fen < r.amount_fen ? t('改退 {a} 至店铺余额', { a: yuan(r.movable_fen) }) : t('改退至店铺余额'))))),
    err);
}

// The machine-collected facts: order, payments, top-up record, keys, reveals, refunds, earlier
// cases, timeline and the evidence log.
// The facts' states in words; the API's own code (what the logs and the API say) is the word's
// tooltip, so the tables stay narrow enough for the pane.
const STAFF_WORDS = () => ({
  order: { pending_payment: t('待付款'), paid: t('已付款'), delivering: t('发货中'), delivered: t('已发货'),
    completed: t('已完成'), expired: t('已过期'), failed: t('发货失败'), refunded: t('已退款') },
  payment: { requires_payment: t('待支付'), succeeded: t('支付成功'), failed: t('支付失败') },
  use: { applied: t('用于本单'), duplicate: t('重复支付'), late: t('逾期到账'), undeliverable: t('无法发货') },
  key: { available: t('可售'), reserved: t('占用'), delivered: t('已发放'), void: t('已作废') },
  topup: { queued: t('排队中'), submitted: t('已提交'), processing: t('处理中'), succeeded: t('充值成功'),
    failed: t('充值失败'), wrong_region: t('到错区服') },
});
function coded(kind, code) {
  const word = code && STAFF_WORDS()[kind][code];
  return word ? h('span', { title: code, 'data-code': code }, word) : code || '—';
}

function factsPane(c, o) {
  const tbl = (head, rows) => (rows.length ? h('table', { class: 'tbl' }, h('thead', null, h('tr', null, head.map((x) => h('th', null, x)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((x) => h('td', null, x)))))) : h('p', { class: 'small muted' }, t('无')));
  const others = (o.cases || []).filter((x) => x.id !== c.id);
  const terms = o.refund_terms || {};
  return h('section', { class: 'card facts' }, h('h2', null, t('系统采集的事实')),
    kv([[t('商品'), `${o.product ? o.product.name : o.product_id} (${KIND()[o.kind] || o.kind})`],
      [t('金额'), `${yuan(o.amount_fen || 0)}${o.quantity > 1 ? ` (${yuan(o.unit_price_fen)} × ${o.quantity})` : ''}`],
      [t('订单状态'), coded('order', o.status)],
      [t('实收 / 已退'), `${yuan(o.amount_captured_fen || 0)} / ${yuan(o.amount_refunded_fen || 0)}`],
      o.target && [t('充值账号'), o.target.display],
      [t('退款条款'), t('窗口 {w} 小时 · 无理由 {d} 天 · 直充超时 {m} 分钟 · 担保 {e} 天',
        { w: terms.refund_window_hours, d: terms.no_reason_days, m: terms.topup_timeout_minutes, e: terms.escrow_days })],
      [t('下单 / 付款 / 发货'), `${when(o.created_at)} / ${when(o.paid_at) || '—'} / ${when(o.delivered_at) || '—'}`],
      o.no_reason_until && [t('无理由截止'), when(o.no_reason_until)]], 'compact'),
    h('h3', null, t('支付')),
    tbl([t('方式'), t('金额'), t('状态'), t('用途'), t('到账')], (o.payments || []).map((p) =>
      [METHOD()[p.method] || p.method, yuan(p.amount_fen), coded('payment', p.status), coded('use', p.disposition), when(p.captured_at) || '—'])),
    o.topup && [h('h3', null, t('上游充值记录')), kv([[t('状态'), coded('topup', o.topup.status)], [t('上游'), `${o.topup.upstream} ${o.topup.upstream_ref || ''}`],
      o.topup.credited_region && [t('到账区服'), o.topup.credited_region], o.topup.detail && [t('说明'), o.topup.detail],
      [t('提交 / 结果'), `${when(o.topup.submitted_at) || '—'} / ${when(o.topup.result_at) || '—'} (${o.topup.result_via || '—'})`]], 'compact')],
    o.card_keys && [h('h3', null, t('卡密')), tbl([t('卡密'), t('状态'), t('首次提取'), t('激活（发卡方）')], o.card_keys.map((k) =>
      [h('code', null, k.masked), coded('key', k.status), when(k.first_revealed_at) || t('未提取'),
        h('span', { class: k.activated_at ? 'late' : 'okc' }, k.activated_at ? when(k.activated_at) : t('未激活'))]))],
    h('h3', null, t('提取记录')),
    tbl([t('时间'), t('对象'), 'IP', t('放弃无理由确认')], (o.reveals || []).map((r) =>
      [when(r.revealed_at), r.card_key_id ? h('code', { class: 'id' }, r.card_key_id) : t('账号'), r.ip, r.waiver_confirmed_at ? `${when(r.waiver_confirmed_at)} (${r.policy_version})` : '—'])),
    h('h3', null, t('退款')),
    tbl([t('金额'), t('方式'), t('规则'), t('状态'), t('预计 / 到账')], (o.refunds || []).map((r) =>
      [yuan(r.amount_fen), METHOD()[r.method] || r.method, r.rule, REFUND()[r.status] || r.status,
        r.overdue ? h('span', { class: 'late' }, t('{t}（已逾期）', { t: when(r.expected_by) })) : when(r.completed_at) || when(r.expected_by) || '—'])),
    h('h3', null, t('此订单的其他工单')),
    tbl([t('工单'), t('原因'), t('状态'), t('时间')], others.map((x) =>
      [h('a', { href: `#/case/${encodeURIComponent(x.id)}` }, x.id), REASON()[x.reason] || x.reason, CASE_STATUS()[x.status] || x.status, when(x.created_at)])),
    h('details', null, h('summary', null, t('订单时间线（{n} 条事件）', { n: (o.timeline || []).length })),
      h('ol', { class: 'plain small' }, (o.timeline || []).map((e) => h('li', null, `${when(e.at)} · ${e.type} · `, h('code', null, e.object_id))))),
    h('details', null, h('summary', null, t('证据日志（{n} 条）', { n: c.evidence_log.entries.length })),
      h('ol', { class: 'plain small' }, c.evidence_log.entries.map((e) => h('li', null, `#${e.index} · ${e.kind}`))),
      h('button', { type: 'button', class: 'small-btn', onclick: (ev) => download(ev.target, c.evidence_log.receipt, `kameng-receipt-${c.order_id}.json`) }, t('下载凭证'))));
}

async function download(btn, path, name) {
  btn.disabled = true;
  try {
    const data = await sapi('GET', path);
    saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), name);
  } catch (e) { btn.textContent = e.message; } finally { btn.disabled = false; }
}

// Evidence needs the agent's Authorization header: fetched here, offered as an object URL link,
// images also shown (as data: URLs, which the CSP allows for images).
async function loadEvidence() {
  for (const u of S.objectUrls) URL.revokeObjectURL(u);
  S.objectUrls = [];
  const c = S.c;
  for (const li of $$('.evidence-item')) {
    const id = li.dataset.evidence;
    try {
      const blob = await sapi('GET', `/v1/orders/${encodeURIComponent(c.order_id)}/evidence/${encodeURIComponent(id)}`, undefined, { blob: true });
      if (S.c !== c) return;
      const url = URL.createObjectURL(blob);
      S.objectUrls.push(url);
      const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'application/pdf': 'pdf' }[blob.type] || 'bin';
      const kids = [h('code', { class: 'small' }, id),
        h('a', { href: url, download: `${id}.${ext}`, class: 'small-btn button' }, t('下载 ({t}, {k} KB)', { t: blob.type, k: Math.ceil(blob.size / 1024) }))];
      if (blob.type.startsWith('image/')) kids.push(h('img', { src: await dataUrl(blob), alt: t('证据 {id}', { id }), class: 'thumb' }));
      li.replaceChildren(...kids);
    } catch (e) {
      li.replaceChildren(h('code', { class: 'small' }, id), h('span', { class: 'err' }, e.message));
    }
  }
}

function decisionsPane(c) {
  if (!c.decisions.length) return null;
  return h('section', { class: 'card' }, h('h2', null, t('决定')),
    h('ol', { class: 'events' }, c.decisions.map((d) => h('li', { class: `ev decision ${d.outcome}` },
      h('div', { class: 'meta' }, h('strong', null, `${d.stage === 'appeal' ? t('申诉决定') : t('处理决定')}: ${OUTCOME()[d.outcome] || d.outcome} · ${ruleLabel(d.rule, d.rule_title)}`),
        h('time', null, when(d.decided_at))),
      h('p', { class: 'small muted' }, `${d.automatic ? t('系统自动') : d.decided_by}${d.amount_fen ? ` · ${yuan(d.amount_fen)}` : ''}`),
      h('p', { class: 'body' }, d.explanation),
      d.facts && d.facts.consulted && h('p', { class: 'small muted' }, t('依据的事实：{f}', { f: d.facts.consulted.join(', ') }))))));
}

// What happens next once the case is decided: the refund and its date, or the buyer's appeal.
function nextPane(c) {
  const last = c.decisions[c.decisions.length - 1];
  const appeal = c.next_steps.find((s) => s.action === 'appeal');
  return h('section', { class: 'card next', id: 'next' }, h('h2', null, t('接下来')),
    h('ul', { class: 'steps' },
      last && last.outcome === 'approve' && h('li', null, t('退款按原路退回，系统自动提交并对账。')),
      c.refunds.map((r) => h('li', { class: 'refund-line' }, t('退款 {a} · {m} · {s} · 预计 {e}', {
        a: yuan(r.amount_fen), m: METHOD()[r.method] || r.method, s: REFUND()[r.status] || r.status, e: when(r.completed_at || r.expected_by) || '—',
      }))),
      appeal && h('li', null, t('买家可在 {t} 前申诉一次，由另一位客服处理。', { t: when(appeal.until) })),
      c.status === 'closed' && h('li', null, t('申诉已决定，平台内为最终结果。')),
      c.status === 'waiting' && h('li', null, t('等待上游充值结果，系统会自动处理。'))));
}

// ---- acting: ask for evidence, decide under a rule that fits ----
function rulesFor(outcome) {
  const ids = outcome === 'approve' ? ['E1', 'E2', 'E3', 'E4', 'E5'] : ['N1', 'N2', 'N3'];
  const byId = Object.fromEntries(((S.policy && S.policy.rules) || []).map((r) => [r.id, r]));
  return ids.map((id) => ({ id, title: byId[id] ? byId[id].title : '', text: byId[id] ? (LANG === 'en' ? byId[id].text : byId[id].text_zh) : '' }));
}

// The most a decision under rule may approve, as the shop will check it (the case's refundable;
// absent only if the shop could not read the order's facts, and then it decides alone).
const maxFor = (c, rule) => (c.refundable ? c.refundable.fen + (rule === 'E3' ? c.refundable.unapplied_fen : 0) : 0);

function actionsPane(c, o) {
  const err = h('p', { class: 'err', role: 'alert' });
  const refundable = maxFor(c, c.preview.rule);
  const outcome = S.outcome || (c.preview.rule && c.preview.rule.startsWith('N') ? 'reject' : 'approve');
  const ruleSel = h('select', { name: 'rule', id: 'rule' });
  // All that is left, for the order's first refund; after one, the agent states what this claim
  // is worth, so that a claim about money already paid back is not paid in full again.
  const amount = h('input', { name: 'amount', id: 'amount', inputMode: 'decimal',
    value: (o.refunds || []).length ? '' : (refundable / 100).toFixed(2), placeholder: (refundable / 100).toFixed(2) });
  const explain = h('textarea', { name: 'explanation', id: 'explanation', rows: 3, maxLength: 2000 });
  let edited = false, amountEdited = false;
  amount.addEventListener('input', () => { amountEdited = true; });
  explain.addEventListener('input', () => { edited = true; });
  const fill = () => {
    const o2 = $('input[name=outcome]:checked', form).value;
    S.outcome = o2;
    const rules = rulesFor(o2);
    const keep = rules.some((r) => r.id === ruleSel.value) ? ruleSel.value
      : rules.some((r) => r.id === c.preview.rule) ? c.preview.rule : rules[0].id;
    ruleSel.replaceChildren(...rules.map((r) => h('option', { value: r.id, selected: r.id === keep }, `${ruleLabel(r.id, r.title)}`)));
    $('.f-amount', form).hidden = o2 !== 'approve';
    ruleText();
  };
  const ruleText = () => {
    const r = rulesFor(S.outcome).find((x) => x.id === ruleSel.value);
    $('.rule-text', form).textContent = r ? r.text : '';
    const max = maxFor(c, ruleSel.value);
    $('.amount-label', form).textContent = t('退款金额（元，最多 {a}）', { a: yuan(max) });
    amount.placeholder = (max / 100).toFixed(2);
    if (!amountEdited && !(o.refunds || []).length) amount.value = (max / 100).toFixed(2);
    if (!edited && r) explain.value = r.text;
  };
  ruleSel.addEventListener('change', ruleText);
  const form = h('form', { class: 'form decide', id: 'decide-form', novalidate: true },
    h('div', { class: 'methods outcome', role: 'radiogroup', 'aria-label': t('结果') },
      [['approve', t('同意退款'), 'a'], ['reject', t('拒绝'), 'r']].map(([v, label, key]) => h('label', { class: 'method' },
        h('input', { type: 'radio', name: 'outcome', value: v, checked: v === outcome, onchange: fill }), h('span', null, label, ' ', h('kbd', null, key))))),
    h('label', null, h('span', null, t('依据的规则')), ruleSel),
    h('p', { class: 'small muted rule-text' }),
    h('label', { class: 'f-amount' }, h('span', { class: 'amount-label' }, t('退款金额（元，最多 {a}）', { a: yuan(refundable) })), amount),
    h('label', null, h('span', null, t('给买家的说明')), explain),
    err,
    h('button', { type: 'submit', class: 'primary', id: 'decide-submit' }, t('提交决定')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const btn = $('#decide-submit');
    const body = { outcome: S.outcome, rule: ruleSel.value, explanation: explain.value.trim() };
    if (S.outcome === 'approve') {
      const fen = fenOf(amount.value);
      if (!(fen > 0)) { err.textContent = t('请填写正确的金额，例如 10.00'); amount.focus(); return; }
      body.amount_fen = fen;
    }
    if (!body.explanation) { err.textContent = t('请填写给买家的说明'); explain.focus(); return; }
    act(btn, err, () => sapi('POST', `/v1/cases/${encodeURIComponent(c.id)}/decide`, body));
  });
  queueMicrotask(fill);

  const ask = h('textarea', { name: 'message', id: 'ask-message', rows: 2, maxLength: 2000 });
  const askErr = h('p', { class: 'err', role: 'alert' });
  const askForm = h('form', { class: 'form', id: 'ask-form', novalidate: true },
    h('label', null, h('span', null, t('请买家补充（买家有 72 小时回复）')), ask), askErr,
    h('button', { type: 'submit', id: 'ask-submit' }, t('请求补充证据'), ' ', h('kbd', null, 'e')));
  askForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!ask.value.trim()) { askErr.textContent = t('请写明需要什么材料'); ask.focus(); return; }
    act($('#ask-submit'), askErr, () => sapi('POST', `/v1/cases/${encodeURIComponent(c.id)}/request_evidence`, { message: ask.value.trim() }));
  });
  return h('div', { class: 'case-cols actions' },
    h('section', { class: 'card' }, h('h2', null, t('决定')), form),
    c.status !== 'awaiting_buyer' ? h('section', { class: 'card' }, h('h2', null, t('补充证据')), askForm)
      : h('section', { class: 'card' }, h('h2', null, t('补充证据')), h('p', { class: 'muted' }, t('已请买家补充，等待回复（截止 {t}）。', { t: when(c.buyer_reply_due_at) }))));
}

async function act(btn, err, fn) {
  btn.disabled = true;
  err.textContent = '';
  try {
    S.c = { ...(await fn()), order: S.c.order };
    await openCase(S.c.id); // the order's facts (refunds) as they are now
    loadQueue();
  } catch (e) {
    err.textContent = e.code === 'forbidden' ? t('无权操作：{m}', { m: e.message })
      : e.code === 'refund_exceeds_captured' ? t('退款金额超过了这笔订单还能退的金额（最多 {a}）。', { a: yuan(maxFor(S.c, $('#rule') && $('#rule').value)) })
        : e.code === 'payment_disputed' ? t('这笔订单有款项因支付平台投诉被冻结，支付平台裁决前不能再同意退还这部分。')
          : e.message;
  } finally { btn.disabled = false; }
}

// ---- disputes at the payment provider: open ones by due date, each answered once ----
const DISPUTE_STATUS = () => ({ needs_response: t('待答复'), under_review: t('支付平台审理中'), won: t('店铺胜诉'), lost: t('已退给买家') });
const DISPUTE_DETAIL = () => ({ delivery_proven: t('证据证明已交付'), already_refunded: t('款项此前已退回'), delivery_not_proven: t('证据未能证明交付'), accepted_by_shop: t('店铺认可投诉'), no_response: t('店铺逾期未答复') });

async function loadDisputes() {
  try {
    const [r, now] = await Promise.all([sapi('GET', '/v1/disputes?limit=100'), serverNow()]);
    S.disputes = r.data;
    S.now = now;
  } catch (e) {
    S.disputes = [];
    if (e.code === 'invalid_api_key') return;
  }
  $('#disputes-count').textContent = t('{n} 件', { n: S.disputes.length });
  const open = location.hash.startsWith('#/dispute/') ? decodeURIComponent(location.hash.split('/')[2]) : null;
  $('#disputes-list').replaceChildren(...(S.disputes.length ? S.disputes.map((d) => {
    const late = d.status === 'needs_response' && Date.parse(d.respond_by) - S.now < 24 * 3600 * 1000;
    return h('li', { class: `q-item${late ? ' overdue' : ''}${open === d.id ? ' open' : ''}`, 'data-dispute': d.id,
      onclick: () => { location.hash = `#/dispute/${encodeURIComponent(d.id)}`; } },
    h('div', { class: 'row' }, h('strong', null, DISPUTE_REASON()[d.reason] || d.reason), h('span', { class: 'small' }, yuan(d.amount_fen))),
    h('div', { class: 'small muted' }, d.status === 'needs_response'
      ? t('答复截止 {t} · {l}', { t: when(d.respond_by), l: leftUntil(d.respond_by, S.now) })
      : DISPUTE_STATUS()[d.status] || d.status));
  }) : [h('li', { class: 'muted small' }, t('没有待处理的投诉。'))]));
}

async function openDispute(id) {
  const pane = $('#case');
  S.c = null;
  pane.replaceChildren(h('p', { class: 'muted' }, t('加载中…')));
  let d, o;
  try {
    [d, S.now] = await Promise.all([sapi('GET', `/v1/disputes/${encodeURIComponent(id)}`), serverNow()]);
    o = await sapi('GET', `/v1/orders/${encodeURIComponent(d.order_id)}`);
  } catch (e) { pane.replaceChildren(h('p', { class: 'err' }, e.message)); return; }
  drawQueue();
  for (const li of $$('#disputes-list [data-dispute]')) li.classList.toggle('open', li.dataset.dispute === id);
  const err = h('p', { class: 'err', role: 'alert' });
  const answer = (response) => async (ev) => {
    ev.target.disabled = true;
    err.textContent = '';
    try {
      await sapi('POST', `/v1/disputes/${encodeURIComponent(id)}/respond`, { response });
      await loadDisputes();
      await openDispute(id);
    } catch (e) {
      err.textContent = e.code === 'dispute_past_due' ? t('已过答复截止时间，支付平台将判给买家。') : e.message;
      ev.target.disabled = false;
    }
  };
  // Saved byte for byte: once submitted, the file hashes to the SHA-256 shown here.
  const saveBundle = async (ev) => {
    ev.target.disabled = true;
    try {
      saveBlob(await sapi('GET', `/v1/disputes/${encodeURIComponent(id)}/bundle`, undefined, { blob: true }), `dispute-${id}.json`);
    } catch (e) { err.textContent = e.message; } finally { ev.target.disabled = false; }
  };
  const bundle = h('button', { type: 'button', id: 'dispute-bundle', onclick: saveBundle },
    d.bundle_sha256 ? t('下载已提交的证据包') : t('下载证据包（预览）'));
  const open = d.status === 'needs_response' && Date.parse(d.respond_by) > S.now;
  pane.replaceChildren(
    h('section', { class: 'card case-head' },
      h('div', { class: 'row' }, h('h1', null, t('支付平台投诉：{r}', { r: DISPUTE_REASON()[d.reason] || d.reason })),
        h('span', { class: `badge d-${d.status}`, id: 'dispute-status' }, DISPUTE_STATUS()[d.status] || d.status)),
      kv([[t('投诉'), h('code', { class: 'id' }, d.id)], [t('订单'), h('code', { class: 'id' }, d.order_id)],
        [t('支付单'), h('code', { class: 'id' }, d.payment_id)],
        [t('争议金额 / 冻结'), `${yuan(d.amount_fen)} / ${yuan(d.frozen_fen)}`],
        [t('收到时间'), when(d.opened_at)],
        d.status === 'needs_response' && [t('答复截止'), `${when(d.respond_by)} · ${leftUntil(d.respond_by, S.now)}`],
        d.response && [t('答复'), `${d.response === 'evidence' ? t('已提交证据包') : t('已认可投诉')} · ${when(d.responded_at)} · ${authorName(d.responded_by || '')}`],
        d.bundle_sha256 && [t('证据包 SHA-256'), h('code', { class: 'id' }, d.bundle_sha256)],
        d.closed_at && [t('裁决'), `${DISPUTE_STATUS()[d.status] || d.status} · ${DISPUTE_DETAIL()[d.outcome_detail] || d.outcome_detail || ''} · ${when(d.closed_at)}`]], 'compact')),
    disputeFacts(o),
    h('section', { class: 'card' }, h('h2', null, t('答复支付平台')),
      h('p', { class: 'small muted' }, d.frozen_fen === 0 ? t('争议金额此前已退回买家，没有冻结任何款项。')
        : d.status === 'won' ? t('冻结的 {a} 已解冻，回到店铺收入（账号商品回到担保）。', { a: yuan(d.frozen_fen) })
          : d.status === 'lost' ? t('冻结的 {a} 已经支付平台退回给买家，按退款计入订单。', { a: yuan(d.frozen_fen) })
            : t('支付平台已冻结 {a}：裁决前这笔钱不能再退给买家，以免重复退款。', { a: yuan(d.frozen_fen) })),
      h('p', { class: 'small muted' }, t('证据包由系统汇总：订单与支付、发货与提取记录及其证据日志证明、退款工单与沟通记录、退款规则。提交后原样保存，哈希写入证据日志。')),
      h('div', { class: 'row' }, bundle,
        open && h('button', { type: 'button', class: 'primary', id: 'dispute-submit', onclick: answer('evidence') }, t('提交证据包')),
        open && h('button', { type: 'button', id: 'dispute-accept', onclick: answer('accepted') }, t('认可投诉（款项退给买家）'))),
      !open && h('p', { class: 'small' }, d.status === 'under_review' ? t('已答复，等待支付平台裁决。')
        : d.status === 'needs_response' ? t('已过答复截止时间，支付平台将判给买家。') : t('支付平台已裁决。')),
      err));
}

// What the shop's records say about delivery, the ground the provider decides on, beside the
// bundle that carries the proofs.
function disputeFacts(o) {
  const keys = o.card_keys || [];
  const revealed = keys.filter((k) => k.revealed).length;
  const delivery = o.kind === 'card_key' ? t('卡密 {n} 把，已提取 {r} 把', { n: keys.length, r: revealed })
    : o.kind === 'direct_topup' ? (o.topup ? coded('topup', o.topup.status) : t('未提交'))
      : o.delivered_at ? t('卖家已交付 {t}', { t: when(o.delivered_at) }) : t('卖家未交付');
  return h('section', { class: 'card', id: 'dispute-facts' }, h('h2', null, t('店铺的记录')),
    kv([[t('商品'), `${o.product ? o.product.name : o.product_id} · ${yuan(o.amount_fen)}`],
      [t('订单状态'), coded('order', o.status)],
      [t('交付'), delivery],
      [t('已退款'), yuan(o.amount_refunded_fen || 0)]], 'compact'));
}

// ---- keyboard ----
function toggleHelp(show) {
  const help = $('#help');
  help.hidden = show === undefined ? !help.hidden : !show;
  if (!help.hidden) $('#help-close').focus();
}

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const typing = ev.target.closest('input, textarea, select');
  if (ev.key === 'Escape') {
    if (!$('#help').hidden) { toggleHelp(false); return; }
    if (typing) { ev.target.blur(); return; }
    location.hash = '#/';
    return;
  }
  if (typing || !staffKey()) return;
  const k = ev.key;
  if (k === '?') { toggleHelp(); ev.preventDefault(); return; }
  if (!$('#help').hidden) return;
  if (k === 'j' || k === 'k') {
    S.sel = Math.max(0, Math.min(S.queue.length - 1, S.sel + (k === 'j' ? 1 : -1)));
    drawQueue();
    ev.preventDefault();
  } else if (k === 'Enter' && !ev.target.closest('button, a')) {
    openSelected();
    ev.preventDefault();
  } else if ((k === 'a' || k === 'r') && $('#decide-form')) {
    const radio = $(`#decide-form input[value=${k === 'a' ? 'approve' : 'reject'}]`);
    radio.checked = true;
    radio.dispatchEvent(new Event('change'));
    $('#rule').focus();
    ev.preventDefault();
  } else if (k === 'e' && $('#ask-message')) {
    $('#ask-message').focus();
    ev.preventDefault();
  } else if (k === 'g') {
    loadQueue();
    loadDisputes();
  }
}

addEN({
  'kameng 客服台': 'kameng agent console', '客服台': 'agents', '队列': 'Queue', '键盘快捷键': 'Keyboard shortcuts', '退出': 'Sign out',
  '客服登录': 'Agent sign-in', 'API 密钥（客服或管理员）': 'API key (agent or admin)',
  '密钥只保存在本标签页 (sessionStorage)，关闭标签页即失效。买家的购买凭证不能登录这里。': 'The key stays in this tab only (sessionStorage) and is gone when the tab closes. A buyer token cannot sign in here.',
  '登录': 'Sign in', '待处理队列': 'Queue', '刷新': 'Refresh', '按处理时限排序；j / k 移动，Enter 打开。': 'Ordered by deadline; j / k to move, Enter to open.',
  '从左侧队列选择一个工单。': 'Pick a case from the queue.', '在队列中下移 / 上移': 'Move down / up the queue', '打开选中的工单': 'Open the selected case',
  '同意退款（选择 E 规则）': 'Approve (choose an E rule)', '拒绝（选择 N 规则）': 'Reject (choose an N rule)', '请买家补充证据': 'Ask the buyer for evidence',
  '刷新队列': 'Refresh the queue', '显示 / 隐藏本帮助': 'Show / hide this help', '关闭帮助，回到队列': 'Close help, back to the queue', '关闭': 'Close',
  '请粘贴客服或管理员的 API 密钥 (sk_…)；买家的购买凭证不能登录客服台。': 'Paste an agent or admin API key (sk_…); a buyer token cannot sign in here.',
  '这个密钥没有客服权限。': 'This key may not work cases.', '密钥无效：{m}': 'Key refused: {m}',
  '{n} 个': '{n} cases', '，{n} 个超时': ', {n} overdue', '超时': 'OVERDUE', '预判': 'preview', '买家回复': 'buyer reply', '时限': 'due',
  '队列已清空。': 'The queue is empty.', '加载中…': 'Loading…', '买家': 'Buyer', '系统': 'System', '客服': 'Agent',
  '工单': 'Case', '订单': 'Order', '系统预判': 'Policy preview', '提交时间': 'Submitted', '买家回复截止': 'Buyer reply due', '处理时限': 'Decision due',
  '申诉时间': 'Appealed', '买家陈述与证据': 'The buyer\'s words and evidence', '买家没有留言。': 'The buyer wrote nothing.', '无': 'none',
  '系统采集的事实': 'Machine-collected facts', '商品': 'Product', '金额': 'Amount', '订单状态': 'Order status', '实收 / 已退': 'Captured / refunded',
  '充值账号': 'Top-up account', '退款条款': 'Refund terms', '窗口 {w} 小时 · 无理由 {d} 天 · 直充超时 {m} 分钟 · 担保 {e} 天': 'window {w} h · no-reason {d} d · top-up timeout {m} min · escrow {e} d',
  '下单 / 付款 / 发货': 'Ordered / paid / delivered', '无理由截止': 'No-reason until', '支付': 'Payments', '方式': 'Method', '状态': 'Status',
  '用途': 'Disposition', '到账': 'Captured', '上游充值记录': 'Upstream top-up record', '上游': 'Upstream', '到账区服': 'Credited region', '说明': 'Detail',
  '提交 / 结果': 'Submitted / result', '卡密': 'Card keys', '首次提取': 'First revealed', '激活（发卡方）': 'Activated (issuer)', '未提取': 'not revealed',
  '未激活': 'not activated', '提取记录': 'Reveals', '时间': 'Time', '对象': 'What', '放弃无理由确认': 'No-reason waiver confirmed', '账号': 'account',
  '退款': 'Refunds', '规则': 'Rule', '预计 / 到账': 'Expected / arrived', '此订单的其他工单': 'Earlier cases of this order', '原因': 'Reason',
  '订单时间线（{n} 条事件）': 'Order timeline ({n} events)', '证据日志（{n} 条）': 'Evidence log ({n} entries)', '下载凭证': 'Download receipt',
  '下载 ({t}, {k} KB)': 'Download ({t}, {k} KB)', '证据 {id}': 'evidence {id}', '决定': 'Decision', '申诉决定': 'Appeal decision', '处理决定': 'Decision',
  '系统自动': 'automatic', '依据的事实：{f}': 'Facts consulted: {f}', '接下来': 'What happens next',
  '退款按原路退回，系统自动提交并对账。': 'The refund goes back the way the money came; the system submits and reconciles it.',
  '退款 {a} · {m} · {s} · 预计 {e}': 'Refund {a} · {m} · {s} · by {e}', '买家可在 {t} 前申诉一次，由另一位客服处理。': 'The buyer may appeal once before {t}; a different agent decides.',
  '申诉已决定，平台内为最终结果。': 'The appeal is decided; final on the platform.', '等待上游充值结果，系统会自动处理。': 'Waiting for the upstream result; the system acts on it.',
  '结果': 'Outcome', '拒绝': 'Reject', '依据的规则': 'Rule', '退款金额（元，最多 {a}）': 'Refund amount (CNY, at most {a})', '退款金额超过了这笔订单还能退的金额（最多 {a}）。': 'The amount is more than is left to refund on this order (at most {a}).', '给买家的说明': 'Explanation for the buyer',
  '提交决定': 'Decide', '请填写正确的金额，例如 10.00': 'Enter an amount such as 10.00', '请填写给买家的说明': 'Write an explanation for the buyer',
  '请买家补充（买家有 72 小时回复）': 'Ask the buyer (they have 72 hours to reply)', '请求补充证据': 'Ask for evidence', '请写明需要什么材料': 'Say what you need',
  '补充证据': 'Evidence request', '已请买家补充，等待回复（截止 {t}）。': 'Asked the buyer; waiting for the reply (due {t}).', '无权操作：{m}': 'Not allowed: {m}',
  '未能到账的退款': 'Refunds not paid out', '{t}（已逾期）': '{t} (overdue)', '原因：{r}': 'Reason: {r}', '改退至店铺余额': 'Move to the shop balance',
  '改退 {a} 至店铺余额': 'Move {a} to the shop balance', '另一笔退款已付 {b}，改退只付其余的 {a}。': 'Another refund of the payment has paid {b} of it; a move pays the other {a}.',
  '这些退款已同意，但原路未能退回。请改退至店铺余额，而不是再次同意退款，以免同一诉求退两次。': 'These refunds were approved, but the original route could not pay them. Move them to the shop balance rather than approve again, so that no claim is paid twice.',
  '待付款': 'Awaiting payment', '已付款': 'Paid', '发货中': 'Delivering', '已发货': 'Delivered', '已完成': 'Completed',
  '已过期': 'Expired', '发货失败': 'Delivery failed', '已退款': 'Refunded', '待支付': 'Awaiting payment',
  '支付成功': 'Paid', '支付失败': 'Failed', '用于本单': 'Paid for the order', '重复支付': 'Duplicate',
  '逾期到账': 'Arrived late', '无法发货': 'Undeliverable', '可售': 'Available', '占用': 'Reserved',
  '已发放': 'Delivered', '已作废': 'Void', '排队中': 'Queued', '已提交': 'Submitted', '处理中': 'Processing',
  '充值成功': 'Credited', '充值失败': 'Failed', '到错区服': 'Wrong region',
  '支付平台投诉': 'Payment provider disputes', '买家向支付宝、微信支付或银行投诉的付款，按答复截止时间排序。': 'Payments the buyer disputed at Alipay, WeChat Pay or the bank, by the date an answer is due.',
  '待答复': 'Needs an answer', '支付平台审理中': 'With the provider', '店铺胜诉': 'Won by the shop', '已退给买家': 'Returned to the buyer',
  '证据证明已交付': 'the evidence proves delivery', '款项此前已退回': 'already refunded', '证据未能证明交付': 'the evidence does not prove delivery',
  '店铺认可投诉': 'the shop accepted', '店铺逾期未答复': 'no answer by the due date', '{n} 件': '{n}', '答复截止 {t} · {l}': 'answer by {t} · {l}',
  '没有待处理的投诉。': 'No open disputes.', '已过答复截止时间，支付平台将判给买家。': 'The due date has passed; the provider decides for the buyer.',
  '下载已提交的证据包': 'Download the bundle as submitted', '下载证据包（预览）': 'Download the evidence bundle (preview)',
  '支付平台投诉：{r}': 'Provider dispute: {r}', '投诉': 'Dispute', '争议金额 / 冻结': 'Disputed / frozen', '收到时间': 'Received', '答复截止': 'Answer due',
  '答复': 'Answer', '已提交证据包': 'evidence bundle sent', '已认可投诉': 'accepted', '证据包 SHA-256': 'Bundle SHA-256', '裁决': 'Decision',
  '答复支付平台': 'Answer the provider', '支付平台已冻结 {a}：裁决前这笔钱不能再退给买家，以免重复退款。': 'The provider froze {a}: until it decides, this money cannot also be refunded, so it is never paid twice.',
  '冻结的 {a} 已解冻，回到店铺收入（账号商品回到担保）。': 'The {a} frozen is released, back to the shop\'s revenue (or the seller\'s escrow for account goods).',
  '冻结的 {a} 已经支付平台退回给买家，按退款计入订单。': 'The {a} frozen went back to the buyer through the provider and counts as refunded on the order.',
  '争议金额此前已退回买家，没有冻结任何款项。': 'The disputed money was refunded before; nothing is frozen.',
  '证据包由系统汇总：订单与支付、发货与提取记录及其证据日志证明、退款工单与沟通记录、退款规则。提交后原样保存，哈希写入证据日志。': 'The shop assembles the bundle: the order and its payments, delivery and reveal records with their evidence-log proofs, refund cases and messages, the refund policy. Once sent it is kept as sent, and its hash goes into the evidence log.',
  '提交证据包': 'Send the evidence bundle', '认可投诉（款项退给买家）': 'Accept (the buyer gets the money back)',
  '这笔订单有款项因支付平台投诉被冻结，支付平台裁决前不能再同意退还这部分。': 'Part of this order\'s money is frozen for a dispute at the payment provider; it cannot be approved as a refund until the provider decides.',
  '支付单': 'Payment', '卡密 {n} 把，已提取 {r} 把': '{n} card keys, {r} revealed', '未提交': 'not submitted',
  '卖家已交付 {t}': 'handed over by the seller {t}', '卖家未交付': 'not handed over yet', '店铺的记录': 'The shop\'s records',
  '交付': 'Delivery',
  '{s}：冻结 {a}，答复截止 {t}': '{s}: {a} frozen, answer due {t}', '冻结的金额在支付平台裁决前不能再同意退款。': 'Until the provider decides, the frozen money cannot be approved as a refund here.',
  '已答复，等待支付平台裁决。': 'Answered; waiting for the provider\'s decision.', '支付平台已裁决。': 'The provider has decided.',
});

translatePage();
$('#signin-form').addEventListener('submit', signIn);
$('#signout').addEventListener('click', signOut);
$('#queue-refresh').addEventListener('click', loadQueue);
$('#help-open').addEventListener('click', () => toggleHelp());
$('#help-close').addEventListener('click', () => toggleHelp(false));
document.addEventListener('keydown', onKey);
window.addEventListener('hashchange', () => staffKey() && route());
start();
