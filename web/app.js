// kameng buyer page: products → order → sandbox payment → delivery. Plain ES2020, no framework.
// Everything from the API or typed by the user reaches the page as text (append / textContent),
// never as HTML. Buyer tokens live in sessionStorage, for this tab only.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
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

const KIND = { card_key: '卡密', direct_topup: '直充', account: '账号担保' };
const METHOD = { alipay: '支付宝', wechat: '微信支付', bank_card: '银行卡', balance: '余额' };
const STATUS = {
  pending_payment: '待付款', paid: '已付款，处理中', delivering: '发货中', delivered: '已发货',
  completed: '已完成', expired: '已过期（未付款）', failed: '发货失败，待退款', refunded: '已退款',
};
const REFUND = { pending: '退款中', processing: '退款处理中', succeeded: '已退回', failed: '退款失败，客服处理中' };
const PAY_STATUS = { requires_payment: '待支付', succeeded: '支付成功', failed: '支付失败' };
const DISPOSITION = { duplicate: '重复支付，待退回', late: '订单过期后到账，待退回', undeliverable: '无法发货，待退回' };
const TOPUP = {
  queued: '排队中', submitted: '已提交，等待运营商结果', processing: '处理中',
  succeeded: '充值成功', failed: '充值失败', wrong_region: '充值到了错误的区服',
};
const FIELD = {
  quantity: '购买数量', target_account: '充值账号', target_region: '区服', contact: '联系方式',
  lookup_password: '查询密码', order_id: '订单号', target_confirmed: '充值账号', method: '支付方式',
};
const ERR = {
  out_of_stock: '库存不足，请减少数量或稍后再试', lookup_failed: '订单号或查询密码不正确',
  rate_limited: '尝试次数过多，请一分钟后再试', password_too_short: '查询密码至少需要 6 位',
  order_expired: '订单已超过付款时限，请重新下单', order_not_payable: '订单当前状态不能付款',
  target_mismatch: '确认的账号与订单中的账号不一致', too_many_payments: '支付尝试次数过多，请重新下单',
  invalid_buyer_token: '购买凭证无效，请用订单号 + 查询密码重新查询',
  card_key_not_delivered: '卡密尚未发放', not_delivered: '卖家尚未发货',
  'parameter_missing:target_account': '请填写充值账号', 'parameter_missing:target_region': '请选择区服',
};

const yuan = (fen) => `¥${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
const when = (t) => (t ? new Date(t).toLocaleString('zh-CN', { hour12: false }) : '');

function refundTerms(t, kind) {
  const out = [];
  if (t.refund_window_hours) out.push(`付款后 ${t.refund_window_hours} 小时内可申请退款`);
  if (kind === 'card_key' && t.no_reason_days) out.push(`未提取的卡密 ${t.no_reason_days} 天无理由退款`);
  if (kind === 'direct_topup' && t.topup_timeout_minutes) out.push(`直充 ${t.topup_timeout_minutes} 分钟未到账自动退款`);
  if (kind === 'account' && t.escrow_days) out.push(`担保 ${t.escrow_days} 天：确认收货后货款才付给卖家`);
  return out.length ? out.join('；') : '虚拟商品售出后不支持退款';
}

// ---- API ----
async function api(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) };
  const res = await fetch(path, init).catch(() => { throw { message: '网络错误，请检查连接后重试' }; });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw data.error || { message: `请求失败 (HTTP ${res.status})` };
  return data;
}
const tokens = () => JSON.parse(sessionStorage.getItem('km.tokens') || '{}');
const orderApi = (method, id, rest = '', body) =>
  api(method, `/v1/orders/${encodeURIComponent(id)}${rest}`, body, tokens()[id]);

function saveToken(id, token) {
  sessionStorage.setItem('km.tokens', JSON.stringify({ ...tokens(), [id]: token }));
  sessionStorage.setItem('km.current', id);
}

// Shows an API error ({message, param, code}) as plain text; marks the form field it names.
function showErr(box, e, form) {
  if (form) for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  if (!e) { box.textContent = ''; return; }
  const field = form && e.param && form.elements[e.param];
  if (field) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
  const zh = ERR[`${e.code}:${e.param}`] || ERR[e.code];
  box.textContent = zh || (FIELD[e.param] ? `${FIELD[e.param]}：` : '') + (e.message || '出错了，请重试');
}

// Runs fn with the button disabled; an error goes to errBox (or onto the button itself).
async function busy(btn, errBox, fn, form) {
  btn.disabled = true;
  try {
    await fn();
    if (errBox) showErr(errBox, null, form);
  } catch (e) {
    if (errBox) showErr(errBox, e, form); else btn.textContent = ERR[e.code] || e.message;
  } finally {
    btn.disabled = false;
  }
}

// ---- routing: #/  #/buy/<product>  #/order/<order>  #/lookup[/<order>] ----
const state = { products: [], order: null, freshToken: null };

function route() {
  const [, view = '', raw = ''] = location.hash.split('/');
  const id = decodeURIComponent(raw), current = sessionStorage.getItem('km.current');
  const name = ['buy', 'order', 'lookup'].includes(view) ? view : 'shop';
  $('#nav-order').hidden = !current;
  if (current) $('#nav-order').href = `#/order/${current}`;
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== `v-${name}`;
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('on', a.dataset.nav === name);
  if (name === 'shop') loadProducts();
  if (name === 'buy') openBuy(id);
  if (name === 'order') openOrder(id);
  if (name === 'lookup' && id) $('#lookup-form').elements.order_id.value = id;
  window.scrollTo(0, 0);
}

// ---- products ----
async function loadProducts() {
  const err = $('#v-shop .err');
  try {
    state.products = (await api('GET', '/v1/products?limit=100')).data;
    showErr(err, null);
  } catch (e) { showErr(err, e); return; }
  const items = state.products.map((p) => h('li', { class: 'card product' }, productInfo(p),
    p.stock && !p.stock.available ? h('span', { class: 'button disabled' }, '暂时缺货')
      : h('a', { class: 'button primary', href: `#/buy/${encodeURIComponent(p.id)}` }, '购买')));
  $('#products').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, '暂无商品')]));
}

function productInfo(p) {
  const out = p.stock && !p.stock.available;
  return [
    h('div', { class: 'row' }, h('span', { class: `tag ${p.kind}` }, KIND[p.kind] || p.kind),
      p.stock && h('span', { class: out ? 'stock out' : 'stock' }, out ? '缺货' : `库存 ${p.stock.available}`)),
    h('h3', null, p.name),
    h('p', { class: 'price' }, yuan(p.price_fen),
      p.face_value_fen !== p.price_fen && h('s', { class: 'face' }, `面值 ${yuan(p.face_value_fen)}`)),
    h('p', { class: 'terms' }, refundTerms(p.refund_terms, p.kind)),
  ];
}

// ---- buying: a top-up account is checked and echoed back before the order is placed ----
let buying = null, checked = null;

async function openBuy(id) {
  const form = $('#buy-form'), f = form.elements;
  if (!state.products.length) await loadProducts();
  buying = state.products.find((p) => p.id === id);
  if (!buying) { location.hash = '#/'; return; }
  form.reset();
  showErr($('.err', form), null, form);
  $('#buy-product').replaceChildren(h('div', { class: 'card product' }, productInfo(buying)));
  const topup = buying.kind === 'direct_topup', game = buying.target_format === 'game_account';
  $('.f-qty', form).hidden = buying.kind !== 'card_key';
  f.quantity.max = Math.min(100, buying.stock ? buying.stock.available : 1);
  $('.f-target', form).hidden = !topup;
  $('.f-region', form).hidden = !(topup && game);
  $('#target-label').textContent = game ? '游戏账号 (account)' : '充值手机号';
  f.target_account.placeholder = game ? '4–32 位字母、数字或 _ . @ -' : '如 138 0013 8000';
  f.target_account.inputMode = game ? 'text' : 'tel';
  f.target_region.replaceChildren(h('option', { value: '' }, '请选择区服'),
    ...buying.regions.map((r) => h('option', { value: r }, r)));
  resetCheck();
  updateTotal();
}

function resetCheck() {
  checked = null;
  $('#target-confirm').hidden = true;
  $('#buy-submit').textContent = buying && buying.kind === 'direct_topup' ? '核对充值账号' : '提交订单';
}

function updateTotal() {
  const q = buying.kind === 'card_key' ? Math.max(1, parseInt($('#buy-form').elements.quantity.value, 10) || 1) : 1;
  $('#buy-total').textContent = yuan(buying.price_fen * q);
}

function submitBuy(ev) {
  ev.preventDefault();
  const form = ev.target, f = form.elements, btn = $('#buy-submit');
  const body = { product_id: buying.id };
  if (buying.kind === 'card_key') body.quantity = parseInt(f.quantity.value, 10) || 1;
  if (buying.kind === 'direct_topup') body.target_account = f.target_account.value.trim();
  if (buying.target_format === 'game_account') body.target_region = f.target_region.value || undefined;
  if (f.contact.value.trim()) body.contact = f.contact.value.trim();
  if (f.lookup_password.value) body.lookup_password = f.lookup_password.value;
  busy(btn, $('.err', form), async () => {
    if (buying.kind === 'direct_topup' && !checked) {
      const { product_id, target_account, target_region } = body;
      checked = await api('POST', '/v1/targets/check', { product_id, target_account, target_region });
      $('#target-display').textContent = checked.display;
      $('#target-confirm').hidden = false;
      btn.textContent = '账号无误，提交订单';
    } else {
      if (checked) body.target_account = checked.account;
      const order = await api('POST', '/v1/orders', body);
      saveToken(order.id, order.buyer_token);
      forgetOrder();
      state.order = order;
      state.freshToken = { id: order.id, token: order.buyer_token }; // shown once
      location.hash = `#/order/${order.id}`;
    }
  }, form);
}

// ---- the order ----
// checkoutId: null = show the latest open payment, 'none' = let the buyer choose a method again.
function forgetOrder() {
  Object.assign(state, { order: null, checkoutId: null, note: null, secrets: {}, account: null, watching: null, waiver: null });
}

async function openOrder(id) {
  if (!tokens()[id]) { location.hash = `#/lookup/${encodeURIComponent(id)}`; return; }
  if (!state.order || state.order.id !== id) {
    forgetOrder();
    $('#v-order').replaceChildren(h('p', { class: 'muted' }, '加载中…'));
  }
  try {
    state.order = await orderApi('GET', id);
  } catch (e) {
    $('#v-order').replaceChildren(h('p', { class: 'err' }, ERR[e.code] || e.message),
      h('a', { class: 'button', href: `#/lookup/${encodeURIComponent(id)}` }, '用查询密码重新打开'));
    return;
  }
  renderOrder();
}

const section = (title, ...kids) => h('section', { class: 'card' }, h('h2', null, title), kids);
// A definition list from [label, value] pairs; falsy pairs are skipped.
const kv = (pairs, cls = '') => h('dl', { class: `kv ${cls}` },
  pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));

function copyButton(text) {
  const copy = (ev) => navigator.clipboard.writeText(text).then(
    () => { ev.target.textContent = '已复制'; }, () => { ev.target.textContent = '请长按文字手动复制'; });
  return h('button', { type: 'button', class: 'small-btn', onclick: copy }, '复制');
}
const copyable = (text, cls) => [h('code', { class: cls }, text), ' ', copyButton(text)];

function statusText(o) {
  const byKind = {
    delivering: { direct_topup: '充值中', account: '等待卖家发货' },
    delivered: { card_key: '卡密已发放', direct_topup: '已到账', account: '卖家已发货，待确认收货' },
    failed: { direct_topup: '充值失败，待退款' },
  };
  return (byKind[o.status] || {})[o.kind] || STATUS[o.status] || o.status;
}

function renderOrder() {
  const o = state.order, fresh = state.freshToken && state.freshToken.id === o.id;
  const parts = [
    h('h1', null, '订单详情'),
    state.note && h('p', { class: `note ${state.note.tone || ''}`, role: 'status' }, state.note.text),
    fresh && h('section', { class: 'card warn' }, h('h2', null, '请立即保存订单号与购买凭证'),
      h('p', null, '购买凭证 (buyer_token) 只显示这一次。关闭此标签页后，需凭它或「订单号 + 查询密码」才能再次打开订单。'),
      kv([['订单号', copyable(o.id)], ['购买凭证', copyable(state.freshToken.token, 'secret')]]),
      h('button', { type: 'button', onclick: () => { state.freshToken = null; renderOrder(); } }, '我已保存')),
    h('section', { class: 'card' },
      h('div', { class: 'row' }, h('span', { class: `badge s-${o.status}` }, statusText(o)),
        h('span', { class: `tag ${o.kind}` }, KIND[o.kind] || o.kind)),
      h('h3', null, o.product ? o.product.name : o.product_id),
      kv([['订单号', copyable(o.id)],
        ['金额', [yuan(o.amount_fen), o.quantity > 1 && `（${yuan(o.unit_price_fen)} × ${o.quantity}）`]],
        o.target && ['充值账号', o.target.display]]),
      o.refund_terms && h('p', { class: 'terms' }, refundTerms(o.refund_terms, o.kind))),
    o.status === 'pending_payment' && paySection(o),
    o.topup && section('充值进度', kv([
      ['状态', h('span', { class: `t-${o.topup.status}` }, TOPUP[o.topup.status] || o.topup.status)],
      o.topup.credited_region && ['实际到账区服', o.topup.credited_region],
      o.topup.detail && ['说明', o.topup.detail],
      o.topup.submitted_at && ['提交时间', when(o.topup.submitted_at)],
      o.topup.result_at && ['结果时间', when(o.topup.result_at)]])),
    o.card_keys && !['pending_payment', 'expired'].includes(o.status) && keysSection(o),
    o.kind === 'account' && ['delivered', 'completed'].includes(o.status) && accountSection(o),
    timeline(o),
    o.payments.length > 0 && paymentsSection(o),
    o.refunds && o.refunds.length > 0 && section('退款', h('ul', { class: 'plain' }, o.refunds.map((r) => h('li', null,
      h('div', { class: 'row' }, h('strong', null, `原路退回 · ${METHOD[r.method] || r.method} ${yuan(r.amount_fen)}`),
        h('span', { class: `pay-${r.status}` }, REFUND[r.status] || r.status)),
      h('span', { class: 'small muted' }, r.completed_at ? `到账时间 ${when(r.completed_at)}`
        : r.expected_by ? `预计 ${when(r.expected_by)} 前到账` : r.id))))),
    o.reveals.length > 0 && revealsSection(o),
    h('p', null, h('button', { type: 'button', onclick: () => openOrder(o.id) }, '刷新订单'))];
  $('#v-order').replaceChildren(...parts.filter(Boolean));
}

function paySection(o) {
  const open = o.payments.filter((p) => p.status === 'requires_payment');
  const checkout = open.find((p) => p.id === state.checkoutId) || (state.checkoutId === null && open[open.length - 1]);
  const err = h('p', { class: 'err', role: 'alert' });
  const methods = h('div', { class: 'methods', role: 'radiogroup', 'aria-label': '支付方式' },
    Object.entries(METHOD).map(([v, label], i) => h('label', { class: 'method' },
      h('input', { type: 'radio', name: 'method', value: v, checked: i === 0 }), h('span', null, label))));
  const start = (ev) => busy(ev.target, err, async () => {
    const body = { method: $('input[name=method]:checked', methods).value };
    if (o.target) body.target_confirmed = o.target.account; // the buyer confirmed it before ordering
    state.checkoutId = (await orderApi('POST', o.id, '/payments', body)).id;
    state.note = null;
    await openOrder(o.id);
  });
  return section('支付',
    h('p', null, '应付 ', h('strong', { class: 'price' }, yuan(o.amount_fen)), ` · 请在 ${when(o.expires_at)} 前完成支付`),
    checkout ? cashier(o, checkout) : [methods, h('button', { type: 'button', class: 'primary wide', onclick: start }, '去支付'), err]);
}

// The sandbox provider's checkout, as the buyer would see it at Alipay or WeChat Pay.
function cashier(o, p) {
  const err = h('p', { class: 'err', role: 'alert' });
  const pay = (outcome) => (ev) => busy(ev.target, err, async () => {
    await api('POST', p.next_action ? p.next_action.url : `/v1/sandbox/payments/${p.id}/pay`, { outcome });
    state.note = { text: '正在确认支付结果…', tone: 'info' };
    renderOrder();
    watch(o.id, p.id);
  });
  return h('div', { class: 'cashier' },
    h('p', { class: 'cashier-title' }, '沙箱收银台 (sandbox checkout)'),
    h('p', { class: 'cashier-amount' }, yuan(p.amount_fen)),
    h('p', { class: 'small muted' }, `${METHOD[p.method] || p.method} · 支付单 ${p.id}`),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', onclick: pay('succeeded') }, '确认支付'),
      h('button', { type: 'button', onclick: pay('failed') }, '模拟失败')),
    h('button', { type: 'button', class: 'link', onclick: () => { state.checkoutId = 'none'; renderOrder(); } }, '更换支付方式'),
    err);
}

// Polls the order every second, up to ~30 s, until the payment settles and delivery stops moving.
async function watch(id, payId) {
  const me = Symbol('watch'), end = Date.now() + 30000;
  state.watching = me;
  while (Date.now() < end) {
    await sleep(1000);
    const o = await orderApi('GET', id).catch(() => null);
    if (state.watching !== me) return;
    if (!o) continue;
    const p = o.payments.find((x) => x.id === payId);
    const paying = p && p.status === 'requires_payment';
    const moving = o.status === 'paid' || (o.status === 'delivering' && o.kind === 'direct_topup');
    if (p && p.status === 'failed') {
      state.checkoutId = 'none';
      state.note = { text: '支付失败（模拟），可重新选择支付方式再试。', tone: 'bad' };
    } else if (['failed', 'refunded'].includes(o.status)) {
      state.note = { text: `支付成功，但发货失败，${o.status === 'refunded' ? '已自动发起原路退款' : '款项将退回'}。`, tone: 'bad' };
    } else if (!paying) state.note = { text: moving ? '支付成功，正在发货…' : '支付成功。', tone: moving ? 'info' : '' };
    const changed = JSON.stringify(o) !== JSON.stringify(state.order);
    state.order = o;
    if (changed || !paying) renderOrder();
    if (!paying && !moving) return;
  }
  if (state.watching === me) { state.note = { text: '仍在处理中，请稍后点击「刷新订单」。', tone: 'info' }; renderOrder(); }
}

function keysSection(o) {
  const items = o.card_keys.map((k) => {
    const secret = state.secrets[k.id];
    // While the no-reason refund right is open the shop asks the buyer to waive it first.
    const reveal = (waive) => (ev) => busy(ev.target, null, async () => {
      const path = `/card_keys/${encodeURIComponent(k.id)}/reveal`;
      try {
        state.secrets[k.id] = await orderApi('POST', o.id, path, waive ? { confirm_waiver: true } : undefined);
      } catch (e) {
        if (e.code !== 'waiver_confirmation_required') throw e;
        state.waiver = k.id;
        renderOrder();
        return;
      }
      state.waiver = null;
      await openOrder(o.id); // the reveal record appears in the order
    });
    return h('li', { class: 'key' },
      h('div', { class: 'row' }, h('code', null, k.masked),
        h('span', { class: 'small muted' }, k.revealed ? `已提取 · ${when(k.first_revealed_at)}` : '未提取'),
        !secret && k.status === 'delivered' && h('button',
          { type: 'button', class: `small-btn ${k.revealed ? '' : 'primary'}`, onclick: reveal(false) }, k.revealed ? '查看' : '提取')),
      state.waiver === k.id && !secret && h('div', { class: 'confirm' },
        h('p', null, `提取后，这张卡密将不再享受${o.refund_terms ? ` ${o.refund_terms.no_reason_days} 天` : ''}无理由退款。确定提取吗？`),
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'small-btn primary', onclick: reveal(true) }, '确定提取'),
          h('button', { type: 'button', class: 'small-btn', onclick: () => { state.waiver = null; renderOrder(); } }, '取消'))),
      secret && kv([secret.number && ['卡号', copyable(secret.number)], ['密码', copyable(secret.password)]], 'secret-box'));
  });
  return section('卡密', h('p', { class: 'small muted' }, '提取后即视为已使用，不再适用无理由退款；每次提取都记录时间和 IP。'),
    h('ul', { class: 'keys' }, items));
}

function accountSection(o) {
  const err = h('p', { class: 'err', role: 'alert' });
  const show = (ev) => busy(ev.target, err, async () => {
    state.account = (await orderApi('POST', o.id, '/account_goods/reveal')).content;
    await openOrder(o.id);
  });
  const confirm = (ev) => busy(ev.target, err, async () => {
    state.order = await orderApi('POST', o.id, '/confirm');
    state.note = { text: '已确认收货，交易完成。' };
    renderOrder();
  });
  const auto = o.escrow_release_at ? `未确认将于 ${when(o.escrow_release_at)} 自动确认。` : '';
  return section('账号商品',
    state.account != null ? h('pre', { class: 'account' }, state.account)
      : h('button', { type: 'button', onclick: show }, '查看账号'),
    o.status === 'delivered' && [
      h('p', { class: 'small muted' }, `请登录核对无误后再确认收货，确认后担保款将付给卖家。${auto}`),
      h('button', { type: 'button', class: 'primary', onclick: confirm }, '确认收货')],
    err);
}

function timeline(o) {
  const steps = [['下单', o.created_at], ['付款', o.paid_at], ['发货', o.delivered_at], ['完成', o.completed_at]];
  if (o.status === 'expired') steps.splice(1, 3, ['超时关闭', o.expires_at]);
  else if (o.escrow_release_at && !o.completed_at) steps.push(['担保到期自动确认', o.escrow_release_at, 'due']);
  return section('时间线', h('ol', { class: 'timeline' }, steps.map(([label, t, due]) =>
    h('li', { class: t && !due ? 'done' : '' }, h('span', null, label), h('time', null, when(t) || '—')))));
}

function paymentsSection(o) {
  return section('支付记录',
    h('ul', { class: 'plain' }, o.payments.map((p) => h('li', null,
      h('div', { class: 'row' }, h('strong', null, `${METHOD[p.method] || p.method} ${yuan(p.amount_fen)}`),
        h('span', { class: `pay-${p.status}` }, PAY_STATUS[p.status] || p.status),
        DISPOSITION[p.disposition] && h('span', { class: 'tag warnish' }, DISPOSITION[p.disposition])),
      h('span', { class: 'small muted' }, `${p.id} · ${when(p.captured_at || p.created_at)}`)))),
    o.amount_unapplied_fen > 0 && h('p', { class: 'note warn' },
      `有 ${yuan(o.amount_unapplied_fen)} 未用于本订单（重复或逾期支付），将原路退回。`));
}

function revealsSection(o) {
  const masked = Object.fromEntries((o.card_keys || []).map((k) => [k.id, k.masked]));
  return section('提取记录', h('ul', { class: 'plain small' }, o.reveals.map((r) => h('li', null,
    `${when(r.revealed_at)} · ${r.card_key_id ? `卡密 ${masked[r.card_key_id] || r.card_key_id}` : '账号信息'}`,
    ` · IP ${r.ip}${r.actor === 'buyer' ? '' : ` · ${r.actor}`}`))));
}

// ---- lookup: order id + lookup password (or a saved buyer token) ----
function submitLookup(ev) {
  ev.preventDefault();
  const form = ev.target, f = form.elements, id = f.order_id.value.trim(), secret = f.lookup_password.value;
  if (!id) { showErr($('.err', form), { param: 'order_id', message: '请填写订单号' }, form); return; }
  busy($('button', form), $('.err', form), async () => {
    const order = secret.startsWith('bt_')
      ? await api('GET', `/v1/orders/${encodeURIComponent(id)}`, undefined, secret)
      : await api('POST', '/v1/orders/lookup', { order_id: id, lookup_password: secret });
    saveToken(order.id, order.buyer_token || secret); // lookup issues a new token
    form.reset();
    forgetOrder();
    location.hash = `#/order/${order.id}`;
  }, form);
}

// app.js is loaded with defer: the document is parsed by now.
$('#buy-form').addEventListener('submit', submitBuy);
$('#buy-form').elements.quantity.addEventListener('input', updateTotal);
$('#buy-form').elements.target_account.addEventListener('input', resetCheck);
$('#buy-form').elements.target_region.addEventListener('change', resetCheck);
$('#lookup-form').addEventListener('submit', submitLookup);
window.addEventListener('hashchange', route);
route();
