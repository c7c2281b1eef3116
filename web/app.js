// kameng buyer page: products → order → sandbox payment → delivery → refund request and its case.
// Plain ES2020, no framework; helpers (h, t, api, …) come from common.js. Everything from the API
// or typed by the user reaches the page as text (append / textContent), never as HTML. Buyer
// tokens live in sessionStorage, for this tab only; this page never uses a staff key.
'use strict';

const STATUS = () => ({
  pending_payment: t('待付款'), paid: t('已付款，处理中'), delivering: t('发货中'), delivered: t('已发货'),
  completed: t('已完成'), expired: t('已过期（未付款）'), failed: t('发货失败，待退款'), refunded: t('已退款'),
});
const PAY_STATUS = () => ({ requires_payment: t('待支付'), succeeded: t('支付成功'), failed: t('支付失败') });
const DISPOSITION = () => ({
  duplicate: t('重复支付，待退回'), late: t('订单过期后到账，待退回'), undeliverable: t('无法发货，待退回'),
});
const DISPOSITION_RETURNING = () => ({
  duplicate: t('重复支付，退回中'), late: t('订单过期后到账，退回中'), undeliverable: t('无法发货，退回中'),
});
const DISPOSITION_RETURNED = () => ({
  duplicate: t('重复支付，已退回'), late: t('订单过期后到账，已退回'), undeliverable: t('无法发货，已退回'),
});
const DISPOSITION_STUCK = () => ({
  duplicate: t('重复支付，未能原路退回'), late: t('订单过期后到账，未能原路退回'), undeliverable: t('无法发货，未能原路退回'),
});
// A payment the order did not use (not the one that paid for it, 'applied').
const unapplied = (p) => Boolean(p.disposition) && p.disposition !== 'applied';
// How far the money of such a payment has got back: 'returned' once refunds of it reached the
// buyer in full, 'returning' while one is on its way, 'stuck' when the route refused one and the
// buyer must choose (see the refund list), else 'owed'.
function returnState(o, payment) {
  const rs = (o.refunds || []).filter((r) => r.payment_id === payment.id && !refundMoved(r, o.refunds));
  const back = rs.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount_fen, 0);
  if (rs.length && back >= payment.amount_fen) return 'returned';
  if (rs.some((r) => ['pending', 'processing'].includes(r.status))) return 'returning';
  return rs.some(refundStuck) ? 'stuck' : 'owed';
}
const TOPUP = () => ({
  queued: t('排队中'), submitted: t('已提交，等待运营商结果'), processing: t('处理中'),
  succeeded: t('充值成功'), failed: t('充值失败'), wrong_region: t('充值到了错误的区服'),
});
const FIELD = () => ({
  quantity: t('购买数量'), target_account: t('充值账号'), target_region: t('区服'), contact: t('联系方式'),
  lookup_password: t('查询密码'), order_id: t('订单号'), target_confirmed: t('充值账号'), method: t('支付方式'),
  message: t('说明'), reason: t('退款原因'), body: t('回复内容'), evidence_ids: t('证据'),
});
const ERR = () => ({
  out_of_stock: t('库存不足，请减少数量或稍后再试'), lookup_failed: t('订单号或查询密码不正确'),
  rate_limited: t('尝试次数过多，请一分钟后再试'), password_too_short: t('查询密码至少需要 6 位'),
  order_expired: t('订单已超过付款时限，请重新下单'), order_not_payable: t('订单当前状态不能付款'),
  target_mismatch: t('确认的账号与订单中的账号不一致'), too_many_payments: t('支付尝试次数过多，请重新下单'),
  invalid_buyer_token: t('购买凭证无效，请用订单号 + 查询密码重新查询'),
  card_key_not_delivered: t('卡密尚未发放'), not_delivered: t('卖家尚未发货'),
  'parameter_missing:target_account': t('请填写充值账号'), 'parameter_missing:target_region': t('请选择区服'),
  unsupported_evidence_type: t('证据只能是 PNG、JPEG、WebP 图片或 PDF'),
  content_type_mismatch: t('文件内容与类型不符，请换一个文件'),
  payload_too_large: t('文件太大（最大 4 MB）'),
  refund_moved: t('这笔退款已改退至店铺余额，请刷新订单'), refund_state: t('这笔退款当前不能改退'),
  refund_exceeds_captured: t('这笔付款已全部退回'),
  'parameter_missing:message': t('请填写说明'), 'parameter_missing:body': t('请填写回复内容'),
});

function refundTerms(terms, kind) {
  const out = [];
  if (terms.refund_window_hours) out.push(t('付款后 {h} 小时内可申请退款', { h: terms.refund_window_hours }));
  if (kind === 'card_key' && terms.no_reason_days) out.push(t('未提取的卡密 {d} 天无理由退款', { d: terms.no_reason_days }));
  if (kind === 'direct_topup' && terms.topup_timeout_minutes) out.push(t('直充 {m} 分钟未到账自动退款', { m: terms.topup_timeout_minutes }));
  if (kind === 'account' && terms.escrow_days) out.push(t('担保 {d} 天：确认收货后货款才付给卖家', { d: terms.escrow_days }));
  return out.length ? out.join(t('；')) : t('虚拟商品售出后不支持退款');
}

// ---- API: the buyer's token for each order ----
const tokens = () => JSON.parse(sessionStorage.getItem('km.tokens') || '{}');
const orderApi = (method, id, rest = '', body, opts) =>
  api(method, `/v1/orders/${encodeURIComponent(id)}${rest}`, body, tokens()[id], opts);

function saveToken(id, token) {
  sessionStorage.setItem('km.tokens', JSON.stringify({ ...tokens(), [id]: token }));
  sessionStorage.setItem('km.current', id);
}

// File names of the evidence uploaded in this tab, by evidence id (the case view carries ids only).
const evNames = () => JSON.parse(sessionStorage.getItem('km.evidence') || '{}');
const rememberEv = (ev) => sessionStorage.setItem('km.evidence', JSON.stringify({ ...evNames(), [ev.id]: ev.filename }));

// The API's own messages are English; a field's error the buyer can mend gets the page's words.
function fieldErr(e) {
  const field = FIELD()[e.param];
  if (e.param === 'quantity' && ['parameter_out_of_range', 'parameter_invalid', 'parameter_invalid_type'].includes(e.code)) {
    return t('购买数量须为 1–{n} 的整数', { n: Number($('#buy-form').elements.quantity.max) || 100 });
  }
  if (e.code === 'parameter_invalid' && e.param === 'target_account' && buying) {
    if (buying.target_format === 'phone_cn') return t('请填写 11 位中国大陆手机号（以 13–19 开头）');
    if (buying.target_format === 'game_account') return t('游戏账号为 4–32 位，只能包含字母、数字和 _ . @ -');
  }
  if (e.code === 'parameter_missing' && field) return t('请填写{f}', { f: field });
  return null;
}

// Shows an API error ({message, param, code}) as plain text; marks the form field it names.
function showErr(box, e, form) {
  if (form) for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  if (!e) { box.textContent = ''; return; }
  const field = form && e.param && form.elements[e.param];
  if (field && field.setAttribute) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
  const zh = ERR()[`${e.code}:${e.param}`] || ERR()[e.code] || fieldErr(e);
  box.textContent = zh || (FIELD()[e.param] ? `${FIELD()[e.param]}: ` : '') + (e.message || t('出错了，请重试'));
}

// Runs fn with the button disabled; an error goes to errBox (or onto the button itself).
async function busy(btn, errBox, fn, form) {
  btn.disabled = true;
  try {
    await fn();
    if (errBox) showErr(errBox, null, form);
  } catch (e) {
    if (errBox) showErr(errBox, e, form); else btn.textContent = ERR()[e.code] || e.message;
  } finally {
    btn.disabled = false;
  }
}

// ---- routing: #/  #/buy/<product>  #/order/<order>  #/refund/<order>  #/case/<order>/<case>
//      #/lookup[/<order>] ----
const state = { products: [], order: null, freshToken: null };
const VIEWS = ['buy', 'order', 'refund', 'case', 'lookup', 'policy'];

function route() {
  const [, view = '', raw = '', raw2 = ''] = location.hash.split('/');
  const id = decodeURIComponent(raw), current = sessionStorage.getItem('km.current');
  const name = VIEWS.includes(view) ? view : 'shop';
  $('#nav-order').hidden = !current;
  if (current) $('#nav-order').href = `#/order/${current}`;
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== `v-${name}`;
  const navName = ['refund', 'case'].includes(name) ? 'order' : name;
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('on', a.dataset.nav === navName);
  if (name === 'shop') { loadProducts(); showShopTrust(); }
  if (name === 'buy') openBuy(id);
  if (name === 'order') openOrder(id);
  if (name === 'refund') openRefund(id);
  if (name === 'case') openCase(id, decodeURIComponent(raw2));
  if (name === 'lookup' && id) $('#lookup-form').elements.order_id.value = id;
  if (name === 'policy') openPolicy();
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
    p.stock && !p.stock.available ? h('span', { class: 'button disabled' }, t('暂时缺货'))
      : h('a', { class: 'button primary', href: `#/buy/${encodeURIComponent(p.id)}` }, t('购买'))));
  $('#products').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, t('暂无商品'))]));
}

// ---- trust signals: how this shop (and a seller) handled refunds, from its own data ----
// A share in basis points; it reads 0% or 100% only when it is exactly none or all.
function share(bp)
{
    if (bp == null)
        return '—';
    if (bp === 0 || bp === 10000)
        return `${bp / 100}%`;
    const s = (bp / 100).toFixed(1);
    return s === '100.0' ? '>99.9%' : s === '0.0' ? '<0.1%' : `${s.replace(/\.0$/, '')}%`;
}
function duration(s) {
  if (s == null) return '—';
  if (s < 3600) return t('{m} 分钟', { m: Math.max(1, Math.round(s / 60)) });
  if (s < 2 * 86400) return t('{h} 小时', { h: +(s / 3600).toFixed(1) });
  return t('{d} 天', { d: +(s / 86400).toFixed(1) });
}

function trustFigures(f) {
    return h('div', {class : 'trust-figures'},
             [
                 [
                     share(f.refund_rate_bp), t('退款率'),
                     t('{n} / {m} 单', {n : f.refunded_orders, m : f.paid_orders})
                 ],
                 [
                     duration(f.median_time_to_money_s), t('申请到退款到账（中位数）'),
                     t('{n} 笔退款', {n : f.refunds_paid}) +
                         (f.refunds_late ? t('，{k} 笔已超过承诺时间仍未到账', {k : f.refunds_late})
                                         : '')
                 ],
                 [
                     share(f.auto_decided_bp), t('按公开规则自动处理'),
                     t('{n} / {m} 个申请，同意 {a}',
                       {n : f.decided_automatically, m : f.decisions, a : share(f.approved_bp)})
                 ],
                 [
                     share(f.in_time_bp), t('客服按时处理'),
                     t('{n} / {m} 个', {n : f.decided_in_time, m : f.decisions_due})
                 ],
             ].map(([ v, label, of ]) => h('div', null, h('b', null, v), h('span', null, label),
                                           h('small', null, of))));
}

let trustData = null;
async function loadTrust() {
  try { trustData = await api('GET', '/v1/trust'); } catch (e) { trustData = null; }
  return trustData;
}

async function showShopTrust() {
  const d = await loadTrust();
  $('#trust').replaceChildren(...(d ? [h('section', { class: 'card trust' },
    h('h2', null, t('本店近 {n} 天的退款记录', { n: d.window_days })),
    d.shop.paid_orders ? trustFigures(d.shop) : h('p', { class: 'muted' }, t('还没有已付款的订单，暂无记录。')),
    h('p', { class: 'small muted' }, t('由订单、退款和处理记录自动计算，每分钟更新；规则见'), ' ',
      h('a', { href: '#/policy' }, t('退款规则')), t('。')))] : []));
}

// An account's seller, by their own record; nothing when they have no orders in the window.
function sellerTrust(p) {
  const s = p.seller_id && trustData && trustData.sellers.find((x) => x.seller_id === p.seller_id);
  return s ? h('section', { class: 'card trust' }, h('h2', null, t('卖家 {s} 近 {n} 天的记录', { s: s.name, n: trustData.window_days })),
    trustFigures(s)) : null;
}

function productInfo(p) {
  const out = p.stock && !p.stock.available;
  return [
    h('div', { class: 'row' }, h('span', { class: `tag ${p.kind}` }, KIND()[p.kind] || p.kind),
      p.stock && h('span', { class: out ? 'stock out' : 'stock' }, out ? t('缺货') : t('库存 {n}', { n: p.stock.available }))),
    h('h3', null, p.name),
    h('p', { class: 'price' }, yuan(p.price_fen),
      p.face_value_fen !== p.price_fen && h('s', { class: 'face' }, t('面值 {v}', { v: yuan(p.face_value_fen) }))),
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
  const shown = buying;
  if (shown.kind === 'account') {
      loadTrust().then(() => {
          const s = buying === shown && sellerTrust(shown);
          if (s)
              $('#buy-product')
                  .replaceChildren(h('div', {class : 'card product'}, productInfo(shown)), s);
      });
  }
  const topup = buying.kind === 'direct_topup', game = buying.target_format === 'game_account';
  $('.f-qty', form).hidden = buying.kind !== 'card_key';
  f.quantity.max = Math.min(100, buying.stock ? buying.stock.available : 1);
  $('.f-target', form).hidden = !topup;
  $('.f-region', form).hidden = !(topup && game);
  $('#target-label').textContent = game ? t('游戏账号 (account)') : t('充值手机号');
  f.target_account.placeholder = game ? t('4–32 位字母、数字或 _ . @ -') : t('如 138 0013 8000');
  f.target_account.inputMode = game ? 'text' : 'tel';
  f.target_region.replaceChildren(h('option', { value: '' }, t('请选择区服')),
    ...buying.regions.map((r) => h('option', { value: r }, r)));
  resetCheck();
  updateTotal();
}

function resetCheck() {
  checked = null;
  $('#target-confirm').hidden = true;
  $('#buy-submit').textContent = buying && buying.kind === 'direct_topup' ? t('核对充值账号') : t('提交订单');
}

// The quantity typed, or null when it is not a whole number the shop sells (0, 2.5, 101 …): the
// order is never placed for another quantity than the buyer sees.
function quantityOf(field) {
  const text = field.value.trim(), max = Number(field.max) || 100;
  return /^[0-9]+$/.test(text) && Number(text) >= 1 && Number(text) <= max ? Number(text) : null;
}

function updateTotal() {
  const q = buying.kind === 'card_key' ? quantityOf($('#buy-form').elements.quantity) : 1;
  $('#buy-total').textContent = q ? yuan(buying.price_fen * q) : '—';
}

function submitBuy(ev) {
  ev.preventDefault();
  const form = ev.target, f = form.elements, btn = $('#buy-submit');
  const body = { product_id: buying.id };
  if (buying.kind === 'card_key') {
    body.quantity = quantityOf(f.quantity);
    if (!body.quantity) {
      showErr($('.err', form), { code: 'parameter_out_of_range', param: 'quantity' }, form);
      return;
    }
  }
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
      btn.textContent = t('账号无误，提交订单');
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
    $('#v-order').replaceChildren(h('p', { class: 'muted' }, t('加载中…')));
  }
  try {
    state.order = await orderApi('GET', id);
  } catch (e) {
    $('#v-order').replaceChildren(h('p', { class: 'err' }, ERR()[e.code] || e.message),
      h('a', { class: 'button', href: `#/lookup/${encodeURIComponent(id)}` }, t('用查询密码重新打开')));
    return;
  }
  renderOrder();
}

function statusText(o) {
  // "Refunded" would say the money is back; a refund the route refused is not.
  if (o.status === 'refunded' && (o.refunds || []).some(refundStuck)) return t('退款未能到账，需您处理');
  if (o.status === 'refunded' && (o.refunds || []).some((r) => ['pending', 'processing'].includes(r.status))) return t('退款中');
  // Expired "unpaid" is not true of an order the buyer paid too late.
  if (o.status === 'expired' && o.payments.some((p) => p.status === 'succeeded')) return t('已过期（逾期付款，原路退回）');
  const byKind = {
    delivering: { direct_topup: t('充值中'), account: t('等待卖家发货') },
    delivered: { card_key: t('卡密已发放'), direct_topup: t('已到账'), account: t('卖家已发货，待确认收货') },
    failed: { direct_topup: t('充值失败，待退款') },
  };
  return (byKind[o.status] || {})[o.kind] || STATUS()[o.status] || o.status;
}

// A top-up the shop stopped waiting for (refunded at its timeout) is not "submitted" to the buyer.
function topupText(o) {
  const open = ['queued', 'submitted', 'processing'].includes(o.topup.status);
  if (open && ['refunded', 'failed'].includes(o.status)) return t('超时未到账，已转退款');
  return TOPUP()[o.topup.status] || o.topup.status;
}

function renderOrder() {
  const o = state.order, fresh = state.freshToken && state.freshToken.id === o.id;
  const parts = [
    h('h1', null, t('订单详情')),
    state.note && h('p', { class: `note ${state.note.tone || ''}`, role: 'status' }, state.note.text),
    fresh && h('section', { class: 'card warn' }, h('h2', null, t('请立即保存订单号与购买凭证')),
      h('p', null, t('购买凭证 (buyer_token) 只显示这一次。关闭此标签页后，需凭它或「订单号 + 查询密码」才能再次打开订单。')),
      kv([[t('订单号'), copyable(o.id)], [t('购买凭证'), copyable(state.freshToken.token, 'secret')]]),
      h('button', { type: 'button', id: 'token-saved', onclick: () => { state.freshToken = null; renderOrder(); } }, t('我已保存'))),
    h('section', { class: 'card' },
      h('div', { class: 'row' }, h('span', { class: `badge s-${o.status}` }, statusText(o)),
        h('span', { class: `tag ${o.kind}` }, KIND()[o.kind] || o.kind)),
      h('h3', null, o.product ? o.product.name : o.product_id),
      kv([[t('订单号'), copyable(o.id)],
        [t('金额'), [yuan(o.amount_fen), o.quantity > 1 && `（${yuan(o.unit_price_fen)} × ${o.quantity}）`]],
        o.target && [t('充值账号'), o.target.display]]),
      o.refund_terms && h('p', { class: 'terms' }, refundTerms(o.refund_terms, o.kind))),
    o.status === 'pending_payment' && paySection(o),
    o.topup && section(t('充值进度'), kv([
      [t('状态'), h('span', { class: `t-${o.topup.status}` }, topupText(o))],
      o.topup.credited_region && ['succeeded', 'wrong_region'].includes(o.topup.status) && [t('实际到账区服'), o.topup.credited_region],
      o.topup.detail && [t('说明'), o.topup.detail],
      o.topup.submitted_at && [t('提交时间'), when(o.topup.submitted_at)],
      o.topup.result_at && [t('结果时间'), when(o.topup.result_at)]])),
    o.card_keys && !['pending_payment', 'expired'].includes(o.status) && keysSection(o),
    o.kind === 'account' && ['delivered', 'completed'].includes(o.status) && accountSection(o),
    timeline(o),
    o.payments.length > 0 && paymentsSection(o),
    o.refunds && o.refunds.length > 0 && section(t('退款'), refundList(o.refunds, o.id, () => openOrder(o.id))),
    o.disputes && o.disputes.length > 0 && disputesSection(o),
    refundSection(o),
    o.reveals.length > 0 && revealsSection(o),
    o.paid_at && receiptSection(o),
    h('p', null, h('button', { type: 'button', onclick: () => openOrder(o.id) }, t('刷新订单')))];
  $('#v-order').replaceChildren(...parts.filter(Boolean));
}


function refundList(refunds, orderId, after) {
  return h('ul', { class: 'plain refunds' }, refunds.map((r) => {
    const moved = refundMoved(r, refunds), stuck = refundStuck(r);
    const err = h('p', { class: 'err', role: 'alert' });
    const move = (ev) => busy(ev.target, err, async () => {
      await api('POST', `/v1/refunds/${encodeURIComponent(r.id)}/reroute`, { method: 'balance' }, tokens()[orderId]);
      await after();
    });
    return h('li', { 'data-refund': r.id },
      h('div', { class: 'row' }, h('strong', null, r.method === 'balance' ? t('退至店铺余额 · {a}', { a: yuan(r.amount_fen) })
        : t('原路退回 · {m} {a}', { m: METHOD()[r.method] || r.method, a: yuan(r.amount_fen) })),
      h('span', { class: moved ? 'muted' : `pay-${r.status}` }, moved ? t('已改退至店铺余额') : REFUND()[r.status] || r.status)),
      h('span', { class: 'small muted' }, [r.rule && `${ruleLabel(r.rule)} · `,
        r.status === 'succeeded' ? t('到账时间 {t}', { t: when(r.completed_at) })
          : stuck && r.completed_at ? t('退款失败于 {t}', { t: when(r.completed_at) })
            : stuck ? t('等待您选择退款方式')
              : r.completed_at ? t('结束于 {t}', { t: when(r.completed_at) })
                : r.expected_by ? t('预计 {t} 前到账', { t: when(r.expected_by) }) : r.id]),
      r.overdue && h('p', { class: 'small overdue' }, t('已超过承诺的到账时间 {t}，店铺已收到逾期提醒。', { t: when(r.expected_by) })),
      stuck && h('p', { class: 'small' }, r.status === 'requires_action'
        ? t('未能原路退回：收款账户异常（例如银行卡已注销），渠道无法入账。')
        : t('未能原路退回：支付渠道拒绝了这笔退款。')),
      stuck && r.failure_reason && h('p', { class: 'small muted provider-words' }, t('渠道原话：{r}', { r: r.failure_reason })),
      stuck && r.movable_fen < r.amount_fen && h('p', { class: 'small' },
        t('其中 {b} 已由同一笔付款的另一笔退款退回，改退只退其余的 {a}。', { b: yuan(r.amount_fen - r.movable_fen), a: yuan(r.movable_fen) })),
      stuck && h('div', { class: 'row' }, h('button', { type: 'button', class: 'small-btn primary', onclick: move },
        r.movable_fen < r.amount_fen ? t('改退 {a} 至店铺余额', { a: yuan(r.movable_fen) }) : t('改退至店铺余额')),
        h('span', { class: 'small muted' }, t('退到本店余额，立即到账，可用于下次购买'))),
      stuck && err);
  }));
}

function paySection(o) {
  const open = o.payments.filter((p) => p.status === 'requires_payment');
  const checkout = open.find((p) => p.id === state.checkoutId) || (state.checkoutId === null && open[open.length - 1]);
  const err = h('p', { class: 'err', role: 'alert' });
  const methods = h('div', { class: 'methods', role: 'radiogroup', 'aria-label': t('支付方式') },
    Object.entries(METHOD()).map(([v, label], i) => h('label', { class: 'method' },
      h('input', { type: 'radio', name: 'method', value: v, checked: i === 0 }), h('span', null, label))));
  const start = (ev) => busy(ev.target, err, async () => {
    const body = { method: $('input[name=method]:checked', methods).value };
    if (o.target) body.target_confirmed = o.target.account; // the buyer confirmed it before ordering
    state.checkoutId = (await orderApi('POST', o.id, '/payments', body)).id;
    state.note = null;
    await openOrder(o.id);
  });
  return section(t('支付'),
    h('p', null, t('应付'), ' ', h('strong', { class: 'price' }, yuan(o.amount_fen)), ' · ', t('请在 {t} 前完成支付', { t: when(o.expires_at) })),
    checkout ? cashier(o, checkout) : [methods, h('button', { type: 'button', class: 'primary wide', onclick: start }, t('去支付')), err]);
}

// The sandbox provider's checkout, as the buyer would see it at Alipay or WeChat Pay.
function cashier(o, p) {
  const err = h('p', { class: 'err', role: 'alert' });
  const pay = (outcome) => (ev) => busy(ev.target, err, async () => {
    await api('POST', p.next_action ? p.next_action.url : `/v1/sandbox/payments/${p.id}/pay`, { outcome });
    state.note = { text: t('正在确认支付结果…'), tone: 'info' };
    renderOrder();
    watch(o.id, p.id);
  });
  return h('div', { class: 'cashier' },
    h('p', { class: 'cashier-title' }, t('沙箱收银台 (sandbox checkout)')),
    h('p', { class: 'cashier-amount' }, yuan(p.amount_fen)),
    h('p', { class: 'small muted' }, `${METHOD()[p.method] || p.method} · ${t('支付单')} ${p.id}`),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', onclick: pay('succeeded') }, t('确认支付')),
      h('button', { type: 'button', onclick: pay('failed') }, t('模拟失败'))),
    h('button', { type: 'button', class: 'link', onclick: () => { state.checkoutId = 'none'; renderOrder(); } }, t('更换支付方式')),
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
      state.note = { text: t('支付失败（模拟），可重新选择支付方式再试。'), tone: 'bad' };
    } else if (p && p.status === 'succeeded' && p.disposition === 'late') {
      state.note = { text: t('付款到账时订单已超过付款时限，没有发货；这笔款项将原路退回。'), tone: 'bad' };
    } else if (p && p.status === 'succeeded' && p.disposition === 'duplicate') {
      state.note = { text: t('这笔是重复支付，订单不会因此重复发货；这笔款项将原路退回。'), tone: 'bad' };
    } else if (['failed', 'refunded'].includes(o.status)) {
      state.note = { text: o.status === 'refunded' ? t('支付成功，但发货失败，已自动发起原路退款。') : t('支付成功，但发货失败，款项将退回。'), tone: 'bad' };
    } else if (!paying) state.note = { text: moving ? t('支付成功，正在发货…') : t('支付成功。'), tone: moving ? 'info' : '' };
    const changed = JSON.stringify(o) !== JSON.stringify(state.order);
    state.order = o;
    if (changed || !paying) renderOrder();
    if (!paying && !moving) return;
  }
  if (state.watching === me) { state.note = { text: t('仍在处理中，请稍后点击「刷新订单」。'), tone: 'info' }; renderOrder(); }
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
        h('span', { class: 'small muted' }, k.revealed ? t('已提取 · {t}', { t: when(k.first_revealed_at) }) : t('未提取')),
        !secret && k.status === 'delivered' && h('button',
          { type: 'button', class: `small-btn ${k.revealed ? '' : 'primary'}`, onclick: reveal(false) }, k.revealed ? t('查看') : t('提取'))),
      state.waiver === k.id && !secret && h('div', { class: 'confirm' },
        h('p', null, o.refund_terms ? t('提取后，这张卡密将不再享受 {d} 天无理由退款。确定提取吗？', { d: o.refund_terms.no_reason_days })
          : t('提取后，这张卡密将不再享受无理由退款。确定提取吗？')),
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'small-btn primary', onclick: reveal(true) }, t('确定提取')),
          h('button', { type: 'button', class: 'small-btn', onclick: () => { state.waiver = null; renderOrder(); } }, t('取消')))),
      secret && kv([secret.number && [t('卡号'), copyable(secret.number)], [t('密码'), copyable(secret.password)]], 'secret-box'));
  });
  // A refund of keys never revealed takes them back: the order no longer holds any.
  if (!items.length) {
    return o.status === 'refunded' ? section(t('卡密'), h('p', { class: 'muted', id: 'keys-recalled' }, t('本订单已退款，卡密已收回，不能再提取。'))) : null;
  }
  return section(t('卡密'), h('p', { class: 'small muted' }, t('提取后即视为已使用，不再适用无理由退款；每次提取都记录时间和 IP。')),
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
    state.note = { text: t('已确认收货，交易完成。') };
    renderOrder();
  });
  const auto = o.escrow_release_at ? t('未确认将于 {t} 自动确认。', { t: when(o.escrow_release_at) }) : '';
  return section(t('账号商品'),
    state.account != null ? h('pre', { class: 'account' }, state.account)
      : h('button', { type: 'button', onclick: show }, t('查看账号')),
    o.status === 'delivered' && [
      h('p', { class: 'small muted' }, t('请登录核对无误后再确认收货，确认后担保款将付给卖家。') + auto),
      h('button', { type: 'button', class: 'primary', onclick: confirm }, t('确认收货'))],
    err);
}

// Disputes the buyer opened at the payment provider, as the shop knows them.
function disputesSection(o) {
  const state = (d) => ({
    needs_response: d.frozen_fen > 0
      ? t('支付平台已冻结 {a}，店铺须在 {t} 前答复；冻结期间店铺不会重复退款。', { a: yuan(d.frozen_fen), t: when(d.respond_by) })
      : t('店铺须在 {t} 前答复支付平台。', { t: when(d.respond_by) }),
    under_review: d.response === 'accepted'
      ? t('店铺已认可投诉，款项将经支付平台退回。')
      : t('店铺已于 {t} 向支付平台提交证据，等待支付平台裁决。', { t: when(d.responded_at) }),
    won: d.outcome_detail === 'already_refunded'
      ? t('支付平台已结案：该款项此前已退回给您。')
      : t('支付平台裁定店铺已交付商品，投诉未获支持（{t}）。', { t: when(d.closed_at) }),
    lost: d.frozen_fen > 0
      ? t('支付平台裁定退款：{a} 已经支付平台退回给您（{t}）。', { a: yuan(d.frozen_fen), t: when(d.closed_at) })
      : t('支付平台已结案（{t}）。', { t: when(d.closed_at) }),
  })[d.status] || d.status;
  return section(t('支付平台投诉'), h('ul', { class: 'plain disputes' }, o.disputes.map((d) => h('li', { 'data-dispute': d.id },
    h('div', { class: 'row' }, h('strong', null, `${DISPUTE_REASON()[d.reason] || d.reason} · ${yuan(d.amount_fen)}`),
      h('span', { class: `tag ${d.status === 'lost' || d.status === 'won' ? 'okish' : 'warnish'}` },
        { needs_response: t('待店铺答复'), under_review: t('支付平台审理中'), won: t('已结案'), lost: t('已退回') }[d.status] || d.status)),
    h('p', { class: 'small' }, state(d))))));
}

function timeline(o) {
  const steps = [[t('下单'), o.created_at], [t('付款'), o.paid_at], [t('发货'), o.delivered_at], [t('完成'), o.completed_at]];
  if (o.status === 'expired') steps.splice(1, 3, [t('超时关闭'), o.expires_at]);
  else if (o.escrow_release_at && !o.completed_at) steps.push([t('担保到期自动确认'), o.escrow_release_at, 'due']);
  return section(t('时间线'), h('ol', { class: 'timeline' }, steps.map(([label, at, due]) =>
    h('li', { class: at && !due ? 'done' : '' }, h('span', null, label), h('time', null, when(at) || '—')))));
}

function paymentsSection(o) {
  return section(t('支付记录'),
    h('ul', { class: 'plain' }, o.payments.map((p) => h('li', null,
      h('div', { class: 'row' }, h('strong', null, `${METHOD()[p.method] || p.method} ${yuan(p.amount_fen)}`),
        h('span', { class: `pay-${p.status}` }, PAY_STATUS()[p.status] || p.status),
        unapplied(p) && dispositionTag(o, p)),
      h('span', { class: 'small muted' }, `${p.id} · ${when(p.captured_at || p.created_at)}`)))),
    o.amount_unapplied_fen > 0 && unappliedNote(o));
}

function dispositionTag(o, p) {
  const state = returnState(o, p);
  const words = { returned: DISPOSITION_RETURNED, returning: DISPOSITION_RETURNING, stuck: DISPOSITION_STUCK }[state] || DISPOSITION;
  const text = words()[p.disposition];
  return text && h('span', { class: `tag ${state === 'returned' ? 'okish' : 'warnish'}` }, text);
}

function unappliedNote(o) {
  const extra = o.payments.filter((p) => unapplied(p) && p.status === 'succeeded');
  const ids = new Set(extra.map((p) => p.id));
  const states = extra.map((p) => returnState(o, p));
  const a = yuan(o.amount_unapplied_fen);
  if (states.length && states.every((x) => x === 'returned')) {
    const toBalance = (o.refunds || []).some((r) => ids.has(r.payment_id) && r.method === 'balance' && r.status === 'succeeded');
    return h('p', { class: 'note ok' }, toBalance
      ? t('有 {a} 未用于本订单（重复或逾期支付），已退回（部分或全部退至店铺余额）。', { a })
      : t('有 {a} 未用于本订单（重复或逾期支付），已原路退回。', { a }));
  }
  if (states.includes('stuck')) {
    return h('p', { class: 'note warn' }, t('有 {a} 未用于本订单（重复或逾期支付），未能原路退回，请在下方「退款」中选择处理方式。', { a }));
  }
  if (states.includes('returning')) {
    const by = (o.refunds || []).filter((r) => ids.has(r.payment_id) && ['pending', 'processing'].includes(r.status) && r.expected_by)
      .map((r) => r.expected_by).sort().pop();
    return h('p', { class: 'note info' }, by
      ? t('有 {a} 未用于本订单（重复或逾期支付），正在原路退回，预计 {t} 前到账。', { a, t: when(by) })
      : t('有 {a} 未用于本订单（重复或逾期支付），正在原路退回。', { a }));
  }
  return h('p', { class: 'note warn' }, t('有 {a} 未用于本订单（重复或逾期支付），将原路退回。', { a }));
}

function revealsSection(o) {
  const masked = Object.fromEntries((o.card_keys || []).map((k) => [k.id, k.masked]));
  return section(t('提取记录'), h('ul', { class: 'plain small' }, o.reveals.map((r) => h('li', null,
    `${when(r.revealed_at)} · ${r.card_key_id ? `${t('卡密')} ${masked[r.card_key_id] || r.card_key_id}` : t('账号信息')}`,
    ` · IP ${r.ip}${r.actor === 'buyer' ? '' : ` · ${r.actor}`}`,
    r.waiver_confirmed_at && ` · ${t('已确认放弃无理由退款')}`))));
}

// ---- refunds: the order's cases and the way into the wizard ----
function refundSection(o) {
  const cases = o.cases || [];
  const canAsk = o.paid_at && !['pending_payment', 'expired', 'refunded'].includes(o.status);
  if (!cases.length && !canAsk) return null;
  return section(t('退款申请'),
    cases.length > 0 && h('ul', { class: 'plain' }, cases.map((c) => h('li', null,
      h('div', { class: 'row' },
        h('a', { href: `#/case/${encodeURIComponent(o.id)}/${encodeURIComponent(c.id)}` }, REASON()[c.reason] || c.reason),
        h('span', { class: `badge c-${c.status}` }, CASE_STATUS()[c.status] || c.status)),
      h('span', { class: 'small muted' }, `${c.id} · ${when(c.created_at)}`)))),
    canAsk && [h('p', { class: 'small muted' }, t('提交前会先告诉您适用哪条规则、结果如何、钱何时到账。')),
      h('a', { class: 'button wide', href: `#/refund/${encodeURIComponent(o.id)}`, id: 'ask-refund' }, t('申请退款'))]);
}

// The order's receipt from the evidence log, saved as a JSON file anyone can check offline.
function receiptSection(o) {
  const err = h('p', { class: 'err', role: 'alert' });
  const download = (ev) => busy(ev.target, err, async () => {
    const receipt = await orderApi('GET', o.id, '/receipt');
    saveBlob(new Blob([JSON.stringify(receipt, null, 2)], { type: 'application/json' }), `kameng-receipt-${o.id}.json`);
  });
  return section(t('交易凭证'),
    h('p', { class: 'small muted' }, t('付款、发货、提取和退款决定都记入防篡改的证据日志 (Merkle 透明日志，带签名检查点)。下载凭证后，任何人都可以离线核验：')),
    h('pre', { class: 'cmd' }, 'kameng log verify --receipt receipt.json --key "<verifier_key>"'),
    h('p', { class: 'small muted' }, t('verifier_key 就在凭证文件里，也可向商家索取其公布的公钥进行比对。')),
    h('button', { type: 'button', id: 'receipt', onclick: download }, t('下载凭证 (JSON)')), err);
}

// Which reasons make sense for an order of this kind, in this state.
function reasonsFor(o) {
  const delivered = ['delivered', 'completed'].includes(o.status);
  const list = {
    card_key: ['key_not_working', 'wrong_item', 'changed_mind', 'not_received', 'duplicate_charge'],
    direct_topup: ['not_received', 'wrong_item', 'wrong_account', 'duplicate_charge'],
    account: ['not_received', 'not_as_described', 'duplicate_charge'],
  }[o.kind] || [];
  return list.filter((r) => {
    if (r === 'changed_mind') return !!(o.refund_terms && o.refund_terms.no_reason_days); // only where offered
    if (o.kind === 'card_key' && r === 'not_received') return !delivered; // keys come at once
    if (o.kind === 'card_key' && ['key_not_working', 'wrong_item'].includes(r)) return delivered;
    return true;
  });
}

// ---- the refund wizard: reason → what the policy says (before submitting) → words, evidence ----
const wizard = { order: null, reason: null, preview: null, evidence: [] };

async function openRefund(id) {
  const view = $('#v-refund');
  if (!tokens()[id]) { location.hash = `#/lookup/${encodeURIComponent(id)}`; return; }
  view.replaceChildren(h('p', { class: 'muted' }, t('加载中…')));
  try {
    const o = await orderApi('GET', id);
    if (!wizard.order || wizard.order.id !== id) Object.assign(wizard, { reason: null, preview: null, evidence: [] });
    wizard.order = o;
  } catch (e) { view.replaceChildren(h('p', { class: 'err' }, ERR()[e.code] || e.message)); return; }
  renderRefund();
}

function renderRefund() {
  const o = wizard.order, view = $('#v-refund');
  const reasons = reasonsFor(o);
  const err = h('p', { class: 'err', role: 'alert' });
  const pick = (r) => async () => {
    wizard.reason = r;
    wizard.preview = null;
    renderRefund();
    try {
      wizard.preview = await orderApi('POST', o.id, '/refund_preview', { reason: r });
    } catch (e) { wizard.preview = { error: e }; }
    if (wizard.reason === r) renderRefund();
  };
  const form = h('form', { class: 'form', id: 'refund-form', novalidate: true },
    h('label', null, h('span', null, t('补充说明（选填，客服会看到）')),
      h('textarea', { name: 'message', rows: 3, maxLength: 2000, placeholder: t('例如：充值后游戏里没有到账；附上截图更快处理') })),
    evidencePicker(o.id, wizard.evidence),
    err,
    h('button', { type: 'submit', class: 'primary', id: 'refund-submit', disabled: !wizard.preview || !!wizard.preview.error }, t('提交退款申请')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('#refund-submit'), err, async () => {
      const body = { reason: wizard.reason, evidence_ids: wizard.evidence.map((e) => e.id) };
      if (form.elements.message.value.trim()) body.message = form.elements.message.value.trim();
      const c = await orderApi('POST', o.id, '/cases', body);
      Object.assign(wizard, { order: null, reason: null, preview: null, evidence: [] });
      location.hash = `#/case/${encodeURIComponent(o.id)}/${encodeURIComponent(c.id)}`;
    }, form);
  });
  // replaceChildren writes a null as the text "null": the steps not reached yet are left out.
  view.replaceChildren(...[
    h('a', { class: 'back', href: `#/order/${encodeURIComponent(o.id)}` }, t('← 返回订单')),
    h('h1', null, t('申请退款')),
    h('p', { class: 'small muted' }, `${o.product ? o.product.name : ''} · ${yuan(o.amount_fen)} · ${o.id}`),
    section(t('1. 选择原因'), h('div', { class: 'reasons', role: 'radiogroup', 'aria-label': t('退款原因') },
      reasons.map((r) => h('label', { class: 'method reason' },
        h('input', { type: 'radio', name: 'reason', value: r, checked: wizard.reason === r, onchange: pick(r) }),
        h('span', null, REASON()[r]))))),
    wizard.reason && section(t('2. 提交前先看结果'), previewCard(wizard.preview)),
    wizard.reason && h('section', { class: 'card' }, h('h2', null, t('3. 说明与证据')), form),
    h('p', { class: 'small muted' }, h('a', { href: '#/policy' }, t('退款规则全文')))].filter(Boolean));
}

// What the policy would decide: rule, outcome, amount, the explanation, and by when.
function previewCard(p) {
  if (!p) return h('p', { class: 'muted' }, t('正在按退款规则核对…'));
  if (p.error) return h('p', { class: 'err' }, ERR()[p.error.code] || p.error.message);
  const tone = { approve: 'ok', reject: 'bad', review: 'info', wait: 'info', none: '' }[p.outcome] || '';
  return h('div', { class: `preview ${tone}`, id: 'refund-preview', 'data-rule': p.rule || '', 'data-outcome': p.outcome },
    h('div', { class: 'row' }, h('strong', { class: 'outcome' }, OUTCOME()[p.outcome] || p.outcome),
      p.rule && h('span', { class: 'rule' }, ruleLabel(p.rule, p.rule_title)),
      h('span', { class: 'small muted' }, p.automatic ? t('系统自动处理') : t('客服人工审核'))),
    h('p', { class: 'explain' }, LANG === 'en' ? p.explanation : p.explanation_zh),
    kv([p.amount_fen > 0 && [t('退款金额'), yuan(p.amount_fen)],
      p.wait_until && [t('系统结果最迟'), when(p.wait_until)],
      p.expected_by && [t('预计到账'), t('{t} 前原路退回', { t: when(p.expected_by) })],
      p.outcome === 'review' && [t('审核时限'), t('客服 24 小时内处理')],
      [t('规则版本'), p.policy_version]]));
}

// Evidence: each file is uploaded as soon as it is picked (raw body, its own Content-Type).
function evidencePicker(orderId, list) {
  const err = h('p', { class: 'err', role: 'alert' });
  const chips = h('ul', { class: 'chips' });
  const draw = () => chips.replaceChildren(...list.map((ev, i) => h('li', { class: 'chip' },
    h('span', { class: 'fname' }, ev.filename || ev.id), h('span', { class: 'small muted' }, ` ${Math.ceil(ev.size / 1024)} KB`),
    h('button', { type: 'button', class: 'small-btn', 'aria-label': t('移除'), onclick: () => { list.splice(i, 1); draw(); } }, '×'))));
  const input = h('input', { type: 'file', name: 'evidence', accept: 'image/png,image/jpeg,image/webp,application/pdf', multiple: true });
  input.addEventListener('change', async () => {
    showErr(err, null);
    for (const file of [...input.files]) {
      try {
        const ev = await orderApi('POST', orderId, `/evidence?filename=${encodeURIComponent(file.name)}`, undefined,
          { raw: file, type: file.type || 'application/octet-stream' });
        rememberEv(ev);
        if (!list.some((x) => x.id === ev.id)) list.push(ev);
      } catch (e) { showErr(err, e); }
    }
    input.value = '';
    draw();
  });
  draw();
  return h('div', { class: 'evidence' }, h('label', null, h('span', null, t('上传证据（截图或 PDF，单个最大 4 MB）')), input), chips, err);
}

// ---- the case: timeline of messages, decisions and refunds; reply, appeal, next steps ----
const caseState = { id: null, order: null, c: null };

async function openCase(orderId, caseId) {
  const view = $('#v-case');
  if (!tokens()[orderId]) { location.hash = `#/lookup/${encodeURIComponent(orderId)}`; return; }
  if (caseState.id !== caseId) view.replaceChildren(h('p', { class: 'muted' }, t('加载中…')));
  try {
    const tok = tokens()[orderId];
    const [c, now] = await Promise.all([api('GET', `/v1/cases/${encodeURIComponent(caseId)}`, undefined, tok), serverNow()]);
    Object.assign(caseState, { id: caseId, order: orderId, c, now });
  } catch (e) { view.replaceChildren(h('p', { class: 'err' }, ERR()[e.code] || e.message)); return; }
  renderCase();
}

function caseEvents(c) {
  const ev = [];
  for (const m of c.messages) ev.push({ at: m.created_at, kind: 'message', m });
  for (const d of c.decisions) ev.push({ at: d.decided_at, kind: 'decision', d });
  if (c.appealed_at) ev.push({ at: c.appealed_at, kind: 'appeal' });
  for (const r of c.refunds) {
    if (r.completed_at) ev.push({ at: r.completed_at, kind: 'refund', r });
  }
  const rank = { message: 0, appeal: 1, decision: 2, refund: 3 };
  return ev.map((e, i) => ({ ...e, i })).sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || rank[a.kind] - rank[b.kind] || a.i - b.i);
}

// The decision's explanation in the page's language: the shop's own sentences come in Chinese too
// (explanation_zh); an agent's words stay as written.
const explanation = (d) => (LANG === 'zh' && d.automatic && d.explanation_zh ? d.explanation_zh : d.explanation);

// An approval of less than was left to refund of the goods says so, with what was left.
function partialNote(d) {
  const f = d.facts;
  if (d.outcome !== 'approve' || !f || typeof f.amount_fen !== 'number') return null;
  // As the shop checked it: the goods' money left, and under E3 the extra payments as well.
  const left = Math.max(0, f.amount_fen - (f.refunded_fen || 0) - (f.disputed_fen || 0)) + (d.rule === 'E3' ? f.unapplied_fen || 0 : 0);
  return d.amount_fen > 0 && d.amount_fen < left ? t('部分退款：{a}（当时可退 {b}）', { a: yuan(d.amount_fen), b: yuan(left) }) : null;
}

function author(a) {
  if (a === 'buyer') return t('我');
  if (a === 'system') return t('系统');
  return t('客服');
}

function evidenceLinks(ids, orderId, token) {
  if (!ids || !ids.length) return null;
  const names = evNames();
  return h('ul', { class: 'chips' }, ids.map((id) => h('li', { class: 'chip' },
    h('button', { type: 'button', class: 'link', onclick: (e) => busy(e.target, null, async () => {
      const blob = await api('GET', `/v1/orders/${encodeURIComponent(orderId)}/evidence/${encodeURIComponent(id)}`, undefined, token, { blob: true });
      saveBlob(blob, names[id] || id);
    }) }, `${t('附件')} ${names[id] || id}`))));
}

function renderCase() {
  const { c, order: orderId, now } = caseState, view = $('#v-case'), tok = tokens()[orderId];
  const last = c.decisions[c.decisions.length - 1];
  const appeal = c.next_steps.find((s) => s.action === 'appeal');
  const active = ['open', 'awaiting_buyer', 'appealed', 'waiting'].includes(c.status);
  const clock = c.status === 'awaiting_buyer' && c.buyer_reply_due_at
    ? h('p', { class: 'note warn clock', role: 'status' }, t('客服请您补充材料：请在 {t} 前回复（{left}），逾期将按现有材料处理。',
      { t: when(c.buyer_reply_due_at), left: leftUntil(c.buyer_reply_due_at, now) }))
    : ['open', 'appealed'].includes(c.status) && c.sla_due_at
      ? h('p', { class: 'note info clock', role: 'status' }, t('客服将在 {t} 前处理（{left}）。', { t: when(c.sla_due_at), left: leftUntil(c.sla_due_at, now) }))
      : c.status === 'waiting' && c.sla_due_at
        ? h('p', { class: 'note info clock', role: 'status' }, t('系统将在 {t} 前确认结果，未到账会自动退款。', { t: when(c.sla_due_at) })) : null;
  const items = caseEvents(c).map((e) => {
    if (e.kind === 'message') {
      if (!e.m.body && !(e.m.evidence_ids || []).length) return null;
      return h('li', { class: `ev msg ${e.m.author === 'buyer' ? 'mine' : 'theirs'}` },
        h('div', { class: 'meta' }, h('strong', null, author(e.m.author)), h('time', null, when(e.at))),
        e.m.body && h('p', { class: 'body' }, e.m.body), evidenceLinks(e.m.evidence_ids, orderId, tok));
    }
    if (e.kind === 'appeal') return h('li', { class: 'ev sys' }, h('div', { class: 'meta' }, h('strong', null, t('已提出申诉')), h('time', null, when(e.at))));
    if (e.kind === 'refund') {
      return h('li', { class: 'ev sys ok' }, h('div', { class: 'meta' }, h('strong', null, t('退款已到账 {a}', { a: yuan(e.r.amount_fen) })), h('time', null, when(e.at))));
    }
    const d = e.d;
    return h('li', { class: `ev decision ${d.outcome}` },
      h('div', { class: 'meta' }, h('strong', null, `${d.stage === 'appeal' ? t('申诉决定') : t('处理决定')}: ${OUTCOME()[d.outcome] || d.outcome}`),
        h('time', null, when(e.at))),
      h('p', null, h('span', { class: 'rule' }, ruleLabel(d.rule, d.rule_title)), ' · ',
        d.automatic ? t('系统自动') : t('客服'), d.amount_fen > 0 && ` · ${yuan(d.amount_fen)}`),
      partialNote(d) && h('p', { class: 'small partial' }, partialNote(d)),
      h('p', { class: 'body' }, explanation(d)));
  });
  const replyBox = active && messageForm(t('回复客服'), t('发送'), async (body, evidence) => {
    caseState.c = await api('POST', `/v1/cases/${encodeURIComponent(c.id)}/messages`, { body, evidence_ids: evidence }, tok);
    renderCase();
  }, 'body');
  const appealBox = appeal && messageForm(t('不服这个决定？申诉一次'), t('提交申诉'), async (message, evidence) => {
    caseState.c = await api('POST', `/v1/cases/${encodeURIComponent(c.id)}/appeal`, { message, evidence_ids: evidence }, tok);
    renderCase();
  }, 'message', t('申诉只能提出一次，截止 {t}，由另一位客服处理；请附上新的证据。', { t: when(appeal.until) }));
  // Outside the platform only once nothing is pending on it.
  const finalSteps = active ? [] : c.next_steps.filter((s) => s.action !== 'appeal');
  const STEP = { provider_dispute: t('向支付机构发起交易纠纷（支付宝交易纠纷 / 微信支付投诉），通常 7–15 个工作日处理；商家会用本案证据答复。'),
    consumer_complaint: t('带上本案记录向 12315 或黑猫投诉反映。'), small_claims: t('金额较大（如超过 2000 元）可向小额诉讼法庭起诉。') };
  view.replaceChildren(...[
    h('a', { class: 'back', href: `#/order/${encodeURIComponent(orderId)}` }, t('← 返回订单')),
    h('h1', null, t('退款进度')),
    h('section', { class: 'card' },
      h('div', { class: 'row' }, h('span', { class: `badge c-${c.status}`, id: 'case-status' }, CASE_STATUS()[c.status] || c.status),
        h('span', { class: 'small muted' }, c.id)),
      kv([[t('原因'), REASON()[c.reason] || c.reason],
        [t('提交时的预判'), `${OUTCOME()[c.preview.outcome] || c.preview.outcome} · ${ruleLabel(c.preview.rule)}`],
        last && [t('当前结果'), h('span', { id: 'case-decision', 'data-rule': last.rule, 'data-outcome': last.outcome },
          `${OUTCOME()[last.outcome] || last.outcome} · ${ruleLabel(last.rule, last.rule_title)}`)],
        [t('提交时间'), when(c.created_at)]]),
      clock),
    c.refunds.length > 0 && section(t('退款'), refundList(c.refunds, orderId, () => openCase(orderId, c.id))),
    section(t('处理记录'), h('ol', { class: 'events' }, items)),
    replyBox, appealBox,
    finalSteps.length > 0 && section(t('平台内已是最终结果，您还可以：'),
      h('ul', { class: 'steps' }, finalSteps.map((s) => h('li', null, STEP[s.action] || s.text)))),
    h('p', null, h('button', { type: 'button', onclick: () => openCase(orderId, c.id) }, t('刷新')))].filter(Boolean));
}

// A message with evidence: used to reply on a case and to appeal.
function messageForm(title, submitLabel, send, field, hint) {
  const evidence = [];
  const err = h('p', { class: 'err', role: 'alert' });
  const text = h('textarea', { name: field, rows: 3, maxLength: 2000, required: true });
  const btn = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const form = h('form', { class: 'form', novalidate: true },
    hint && h('p', { class: 'small muted' }, hint),
    h('label', null, h('span', null, t('内容')), text),
    evidencePicker(caseState.order, evidence), err, btn);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(btn, err, () => send(text.value.trim(), evidence.map((e) => e.id)), form);
  });
  return h('section', { class: 'card' }, h('h2', null, title), form);
}

async function openPolicy() {
  const box = $('#policy-body');
  try { box.replaceChildren(await policyView()); } catch (e) { box.replaceChildren(h('p', { class: 'err' }, e.message)); }
}

// ---- lookup: order id + lookup password (or a saved buyer token) ----
function submitLookup(ev) {
  ev.preventDefault();
  const form = ev.target, f = form.elements, id = f.order_id.value.trim(), secret = f.lookup_password.value;
  if (!id) { showErr($('.err', form), { param: 'order_id', message: t('请填写订单号') }, form); return; }
  if (secret.startsWith('sk_')) { // a staff key never goes out from the buyer's page
    showErr($('.err', form), { param: 'lookup_password', message: t('这是员工 API 密钥，不能在买家页面使用。') }, form);
    return;
  }
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

// ---- English ----
addEN({
    '部分退款：{a}（当时可退 {b}）': 'Partial refund: {a} (of {b} then left to refund)',
    '支付平台投诉': 'Disputes at the payment provider',
    '支付平台已冻结 {a}，店铺须在 {t} 前答复；冻结期间店铺不会重复退款。': 'The provider froze {a}; the shop must answer by {t}. While it is frozen the shop does not refund it a second time.',
    '店铺须在 {t} 前答复支付平台。': 'The shop must answer the provider by {t}.',
    '店铺已认可投诉，款项将经支付平台退回。': 'The shop accepted the dispute; the money comes back to you through the provider.',
    '店铺已于 {t} 向支付平台提交证据，等待支付平台裁决。': 'The shop sent its evidence to the provider on {t}; the provider decides.',
    '支付平台已结案：该款项此前已退回给您。': 'The provider closed it: this money had already been refunded to you.',
    '支付平台裁定店铺已交付商品，投诉未获支持（{t}）。': 'The provider found the goods were delivered and did not uphold the dispute ({t}).',
    '支付平台裁定退款：{a} 已经支付平台退回给您（{t}）。': 'The provider decided for you: {a} went back to you through the provider ({t}).',
    '支付平台已结案（{t}）。': 'The provider closed it ({t}).',
    '待店铺答复': 'Waiting for the shop', '支付平台审理中': 'With the provider', '已结案': 'Closed', '已退回': 'Returned',
    'kameng 卡盟 · 虚拟商品自助购买' : 'kameng · virtual goods, self-service',
    '商品' : 'Products',
    '当前订单' : 'My order',
    '查订单' : 'Find order',
    '沙箱环境 (sandbox)：支付与充值均为模拟，不会产生真实扣款。' :
        'Sandbox: payments and top-ups are simulated; no real money moves.',
    '全部商品' : 'All products',
    '← 返回商品列表' : '← Back to products',
    '填写订单' : 'Your order',
    '区服 (region / server)' : 'Region / server',
    '请确认充值账号：' : 'Please confirm the account: ',
    '充值到错误的账号通常无法追回。如有误，请修改上方账号后重新核对。' :
        'A top-up to the wrong account usually cannot be recovered. If it is wrong, edit it above and check again.',
    '联系方式（选填）' : 'Contact (optional)',
    '手机号或邮箱，便于客服联系' : 'Phone or e-mail, so support can reach you',
    '查询密码（选填，至少 6 位）' : 'Lookup password (optional, 6+ characters)',
    '设置后可在其他设备凭「订单号 + 查询密码」找回订单。' :
        'With it you can reopen the order on another device with "order id + lookup password".',
    '合计' : 'Total',
    '退款规则' : 'Refund policy',
    '订单查询' : 'Find an order',
    '也可以填写下单时保存的购买凭证 (buyer_token，以 bt_ 开头)。' :
        'Or paste the buyer token you saved when ordering (starts with bt_).',
    '查询订单' : 'Open order',
    'kameng 卡盟 · 卡密 / 直充 / 账号担保交易' :
        'kameng · card keys / direct top-ups / escrowed accounts',
    '待付款' : 'Awaiting payment',
    '已付款，处理中' : 'Paid, processing',
    '发货中' : 'Delivering',
    '已发货' : 'Delivered',
    '已改退至店铺余额' : 'Moved to the shop balance',
    '退款未能到账，需您处理' : 'Refund didn\'t arrive: action needed',
    '退款失败于 {t}' : 'Failed {t}',
    '等待您选择退款方式' : 'Waiting for you to choose how to be refunded',
    '这笔退款已改退至店铺余额，请刷新订单' :
        'This refund went to the shop balance already; refresh the order',
    '这笔退款当前不能改退' : 'This refund cannot be moved now',
    '这笔付款已全部退回' : 'This payment has been refunded in full already',
    '结束于 {t}' : 'Ended {t}',
    '退至店铺余额 · {a}' : 'Refund to shop balance · {a}',
    '未能原路退回：收款账户异常（例如银行卡已注销），渠道无法入账。' :
        'Couldn\'t be refunded to your original payment method: the receiving account is abnormal (a closed bank card, say), so the provider cannot pay into it.',
    '未能原路退回：支付渠道拒绝了这笔退款。' :
        'Couldn\'t be refunded to your original payment method: the payment provider refused this refund.',
    '渠道原话：{r}' : 'The provider\'s words: {r}',
    '退款率' : 'Refund rate',
    '{n} / {m} 单' : '{n} of {m} orders',
    '申请到退款到账（中位数）' : 'Request to money back (median)',
    '{n} 笔退款' : '{n} refunds',
    '按公开规则自动处理' : 'Decided automatically by the published rules',
    '{n} / {m} 个申请，同意 {a}' : '{n} of {m} requests; {a} approved',
    '，{k} 笔已超过承诺时间仍未到账' : '; {k} late past the promised date',
    '客服按时处理' : 'Decided by staff in time',
    '{n} / {m} 个' : '{n} of {m}',
    '还没有已付款的订单，暂无记录。' : 'No paid orders yet, so nothing to show.',
    '本店近 {n} 天的退款记录' : 'This shop\'s refunds, last {n} days',
    '由订单、退款和处理记录自动计算，每分钟更新；规则见' :
        'Computed from the orders, refunds and decisions, every minute; the rules are in the',
    '。' : '.',
    '卖家 {s} 近 {n} 天的记录' : 'Seller {s}, last {n} days',
    '{d} 天' : '{d} d',
    '已超过承诺的到账时间 {t}，店铺已收到逾期提醒。' :
        'Past the promised date, {t}; the shop has been alerted.',
    '改退至店铺余额' : 'Move to shop balance',
    '改退 {a} 至店铺余额' : 'Move {a} to shop balance',
    '其中 {b} 已由同一笔付款的另一笔退款退回，改退只退其余的 {a}。' :
        '{b} of it has reached you by another refund of the same payment; a move pays the other {a}.',
    '退到本店余额，立即到账，可用于下次购买' :
        'Paid into your balance with this shop at once, to spend on your next order',
    '已完成' : 'Completed',
    '已过期（未付款）' : 'Expired (unpaid)',
    '发货失败，待退款' : 'Delivery failed, refund due',
    '已退款' : 'Refunded',
    '待支付' : 'Awaiting payment',
    '支付成功' : 'Paid',
    '支付失败' : 'Payment failed',
    '重复支付，待退回' : 'Duplicate payment, to be returned',
    '订单过期后到账，待退回' : 'Arrived after expiry, to be returned',
    '无法发货，待退回' : 'Undeliverable, to be returned',
    '排队中' : 'Queued',
    '已提交，等待运营商结果' : 'Submitted, waiting for the carrier',
    '处理中' : 'Processing',
    '充值成功' : 'Top-up succeeded',
    '充值失败' : 'Top-up failed',
    '充值到了错误的区服' : 'Credited to the wrong region',
    '购买数量' : 'Quantity',
    '充值账号' : 'Account to top up',
    '区服' : 'Region',
    '联系方式' : 'Contact',
    '查询密码' : 'Lookup password',
    '订单号' : 'Order id',
    '支付方式' : 'Payment method',
    '说明' : 'Details',
    '退款原因' : 'Reason',
    '回复内容' : 'Reply',
    '证据' : 'Evidence',
    '库存不足，请减少数量或稍后再试' : 'Not enough stock: order fewer or try later',
    '订单号或查询密码不正确' : 'Wrong order id or lookup password',
    '尝试次数过多，请一分钟后再试' : 'Too many attempts; try again in a minute',
    '查询密码至少需要 6 位' : 'The lookup password needs at least 6 characters',
    '订单已超过付款时限，请重新下单' : 'The order expired; please order again',
    '订单当前状态不能付款' : 'This order cannot be paid now',
    '确认的账号与订单中的账号不一致' : 'The confirmed account differs from the order\'s',
    '支付尝试次数过多，请重新下单' : 'Too many payment attempts; please order again',
    '购买凭证无效，请用订单号 + 查询密码重新查询' :
        'Invalid buyer token; open the order with its id and lookup password',
    '卡密尚未发放' : 'The card key is not delivered yet',
    '卖家尚未发货' : 'The seller has not delivered yet',
    '请填写充值账号' : 'Enter the account to top up',
    '请选择区服' : 'Choose a region',
    '证据只能是 PNG、JPEG、WebP 图片或 PDF' : 'Evidence must be a PNG, JPEG or WebP image or a PDF',
    '文件内容与类型不符，请换一个文件' :
        'The file\'s content does not match its type; try another file',
    '文件太大（最大 4 MB）' : 'File too large (4 MB at most)',
    '请填写说明' : 'Please write a message',
    '请填写回复内容' : 'Please write a reply',
    '付款后 {h} 小时内可申请退款' : 'Refund requests within {h} hours of payment',
    '未提取的卡密 {d} 天无理由退款' : 'Unrevealed keys: {d}-day no-reason refund',
    '直充 {m} 分钟未到账自动退款' : 'Automatic refund if not credited within {m} minutes',
    '担保 {d} 天：确认收货后货款才付给卖家' :
        '{d}-day escrow: the seller is paid only after you confirm',
    '；' : '; ',
    '虚拟商品售出后不支持退款' : 'No refunds once sold',
    '出错了，请重试' : 'Something went wrong; please retry',
    '暂时缺货' : 'Out of stock',
    '购买' : 'Buy',
    '暂无商品' : 'No products yet',
    '缺货' : 'Out of stock',
    '库存 {n}' : '{n} in stock',
    '面值 {v}' : 'face value {v}',
    '游戏账号 (account)' : 'Game account',
    '充值手机号' : 'Phone number to top up',
    '4–32 位字母、数字或 _ . @ -' : '4–32 letters, digits or _ . @ -',
    '如 138 0013 8000' : 'e.g. 138 0013 8000',
    '核对充值账号' : 'Check the account',
    '提交订单' : 'Place order',
    '账号无误，提交订单' : 'Account is right, place order',
    '加载中…' : 'Loading…',
    '用查询密码重新打开' : 'Reopen with the lookup password',
    '充值中' : 'Topping up',
    '等待卖家发货' : 'Waiting for the seller',
    '卡密已发放' : 'Keys delivered',
    '已到账' : 'Credited',
    '卖家已发货，待确认收货' : 'Delivered, please confirm receipt',
    '充值失败，待退款' : 'Top-up failed, refund due',
    '订单详情' : 'Order',
    '请立即保存订单号与购买凭证' : 'Save the order id and buyer token now',
    '购买凭证 (buyer_token) 只显示这一次。关闭此标签页后，需凭它或「订单号 + 查询密码」才能再次打开订单。' :
        'The buyer token is shown only this once. After closing this tab you need it, or the order id and lookup password, to open the order again.',
    '购买凭证' : 'Buyer token',
    '我已保存' : 'I saved it',
    '金额' : 'Amount',
    '充值进度' : 'Top-up',
    '状态' : 'Status',
    '实际到账区服' : 'Credited region',
    '提交时间' : 'Submitted',
    '结果时间' : 'Result',
    '退款' : 'Refunds',
    '刷新订单' : 'Refresh',
    '原路退回 · {m} {a}' : 'Back to {m} · {a}',
    '到账时间 {t}' : 'arrived {t}',
    '预计 {t} 前到账' : 'expected by {t}',
    '支付' : 'Payment',
    '应付' : 'To pay',
    '请在 {t} 前完成支付' : 'pay before {t}',
    '去支付' : 'Pay',
    '正在确认支付结果…' : 'Confirming the payment…',
    '沙箱收银台 (sandbox checkout)' : 'Sandbox checkout',
    '支付单' : 'payment',
    '确认支付' : 'Confirm payment',
    '模拟失败' : 'Simulate failure',
    '更换支付方式' : 'Change payment method',
    '支付失败（模拟），可重新选择支付方式再试。' :
        'Payment failed (simulated); choose a method and try again.',
    '支付成功，但发货失败，已自动发起原路退款。' :
        'Paid, but delivery failed: a refund back to your payment route has started.',
    '支付成功，但发货失败，款项将退回。' : 'Paid, but delivery failed: the money will be returned.',
    '支付成功，正在发货…' : 'Paid, delivering…',
    '支付成功。' : 'Paid.',
    '仍在处理中，请稍后点击「刷新订单」。' : 'Still processing; press Refresh in a moment.',
    '已提取 · {t}' : 'revealed · {t}',
    '未提取' : 'not revealed',
    '查看' : 'Show',
    '提取' : 'Reveal',
    '提取后，这张卡密将不再享受 {d} 天无理由退款。确定提取吗？' :
        'Once revealed, this key loses its {d}-day no-reason refund. Reveal it?',
    '提取后，这张卡密将不再享受无理由退款。确定提取吗？' :
        'Once revealed, this key loses its no-reason refund. Reveal it?',
    '确定提取' : 'Reveal',
    '取消' : 'Cancel',
    '卡号' : 'Number',
    '密码' : 'Password',
    '提取后即视为已使用，不再适用无理由退款；每次提取都记录时间和 IP。' :
        'A revealed key counts as used for no-reason refunds; every reveal is recorded with time and IP.',
    '已确认收货，交易完成。' : 'Receipt confirmed; the order is complete.',
    '未确认将于 {t} 自动确认。' : ' Confirmed automatically at {t} otherwise.',
    '账号商品' : 'Account goods',
    '查看账号' : 'Show account',
    '请登录核对无误后再确认收货，确认后担保款将付给卖家。' :
        'Log in and check before confirming; confirming pays the seller from escrow.',
    '确认收货' : 'Confirm receipt',
    '下单' : 'Ordered',
    '付款' : 'Paid',
    '发货' : 'Delivered',
    '完成' : 'Completed',
    '超时关闭' : 'Expired',
    '担保到期自动确认' : 'Escrow ends',
    '时间线' : 'Timeline',
    '支付记录' : 'Payments',
    '有 {a} 未用于本订单（重复或逾期支付），将原路退回。' :
        '{a} was not used for this order (duplicate or late payment) and goes back the way it came.',
    '提取记录' : 'Reveals',
    '账号信息' : 'account details',
    '已确认放弃无理由退款' : 'no-reason refund waived',
    '退款申请' : 'Refund requests',
    '提交前会先告诉您适用哪条规则、结果如何、钱何时到账。' :
        'Before you submit we show which rule applies, what will happen and when the money is back.',
    '申请退款' : 'Request a refund',
    '交易凭证' : 'Receipt',
    '付款、发货、提取和退款决定都记入防篡改的证据日志 (Merkle 透明日志，带签名检查点)。下载凭证后，任何人都可以离线核验：' :
        'Payments, deliveries, reveals and refund decisions are written to a tamper-evident evidence log (a Merkle transparency log with signed checkpoints). Anyone can check the downloaded receipt offline:',
    'verifier_key 就在凭证文件里，也可向商家索取其公布的公钥进行比对。' :
        'The verifier_key is in the receipt; compare it with the key the shop publishes.',
    '下载凭证 (JSON)' : 'Download receipt (JSON)',
    '补充说明（选填，客服会看到）' : 'Message (optional, the agent reads it)',
    '例如：充值后游戏里没有到账；附上截图更快处理' :
        'e.g. the top-up never showed up in the game; a screenshot speeds things up',
    '提交退款申请' : 'Submit refund request',
    '← 返回订单' : '← Back to the order',
    '1. 选择原因' : '1. Choose a reason',
    '2. 提交前先看结果' : '2. What will happen (before you submit)',
    '3. 说明与证据' : '3. Message and evidence',
    '退款规则全文' : 'The full refund policy',
    '正在按退款规则核对…' : 'Checking against the refund policy…',
    '系统自动处理' : 'decided automatically',
    '客服人工审核' : 'an agent decides',
    '退款金额' : 'Refund',
    '系统结果最迟' : 'System result by',
    '预计到账' : 'Money back',
    '{t} 前原路退回' : 'by {t}, the way you paid',
    '审核时限' : 'Review',
    '客服 24 小时内处理' : 'an agent decides within 24 hours',
    '规则版本' : 'Policy version',
    '移除' : 'Remove',
    '上传证据（截图或 PDF，单个最大 4 MB）' : 'Evidence (screenshots or PDFs, 4 MB each)',
    '我' : 'Me',
    '系统' : 'System',
    '客服' : 'Agent',
    '客服请您补充材料：请在 {t} 前回复（{left}），逾期将按现有材料处理。' :
        'The agent asked you for evidence: reply before {t} ({left}); after that the case is decided on what is there.',
    '客服将在 {t} 前处理（{left}）。' : 'An agent decides before {t} ({left}).',
    '系统将在 {t} 前确认结果，未到账会自动退款。' :
        'The system knows by {t}; if not credited, it refunds automatically.',
    '已提出申诉' : 'Appealed',
    '退款已到账 {a}' : 'Refund arrived: {a}',
    '申诉决定' : 'Appeal decision',
    '处理决定' : 'Decision',
    '系统自动' : 'automatic',
    '回复客服' : 'Reply to the agent',
    '发送' : 'Send',
    '不服这个决定？申诉一次' : 'Disagree? Appeal once',
    '提交申诉' : 'Submit appeal',
    '申诉只能提出一次，截止 {t}，由另一位客服处理；请附上新的证据。' :
        'You can appeal once, until {t}; a different agent decides. Please add new evidence.',
    '向支付机构发起交易纠纷（支付宝交易纠纷 / 微信支付投诉），通常 7–15 个工作日处理；商家会用本案证据答复。' :
        'Open a dispute with your payment provider (Alipay / WeChat Pay); they usually decide in 7–15 working days, and the shop answers with this case\'s evidence.',
    '带上本案记录向 12315 或黑猫投诉反映。' :
        'Complain to 12315 or 黑猫投诉 with this case\'s record.',
    '金额较大（如超过 2000 元）可向小额诉讼法庭起诉。' :
        'For larger sums (e.g. over 2000 CNY), a small-claims court.',
    '退款进度' : 'Refund case',
    '原因' : 'Reason',
    '提交时的预判' : 'Preview when submitted',
    '当前结果' : 'Decision',
    '处理记录' : 'Timeline',
    '平台内已是最终结果，您还可以：' : 'Final on the platform. What you can still do:',
    '刷新' : 'Refresh',
    '内容' : 'Message',
    '请填写订单号' : 'Enter the order id',
    '附件' : 'File',
    '这是员工 API 密钥，不能在买家页面使用。' :
        'That is a staff API key; it is not used on the buyer\'s page.',
    '重复支付，退回中' : 'Duplicate payment, being returned',
    '订单过期后到账，退回中' : 'Arrived after expiry, being returned',
    '无法发货，退回中' : 'Undeliverable, being returned',
    '重复支付，已退回' : 'Duplicate payment, returned',
    '订单过期后到账，已退回' : 'Arrived after expiry, returned',
    '无法发货，已退回' : 'Undeliverable, returned',
    '有 {a} 未用于本订单（重复或逾期支付），已原路退回。' :
        '{a} was not used for this order (a duplicate or late payment) and has been returned the way it came.',
    '有 {a} 未用于本订单（重复或逾期支付），正在原路退回，预计 {t} 前到账。' :
        '{a} was not used for this order (a duplicate or late payment); it is on its way back, expected by {t}.',
    '有 {a} 未用于本订单（重复或逾期支付），正在原路退回。' :
        '{a} was not used for this order (a duplicate or late payment); it is on its way back.',
    '付款到账时订单已超过付款时限，没有发货；这笔款项将原路退回。' :
        'The payment arrived after the order had expired: nothing was delivered, and the money goes back the way it came.',
    '这笔是重复支付，订单不会因此重复发货；这笔款项将原路退回。' :
        'This payment was a duplicate: the order is not delivered twice, and the money goes back the way it came.',
    '超时未到账，已转退款' : 'Not credited in time: refunded',
    '购买数量须为 1–{n} 的整数' : 'The quantity must be a whole number from 1 to {n}',
    '请填写 11 位中国大陆手机号（以 13–19 开头）' : 'Enter an 11-digit mainland China mobile number (starting 13 to 19)',
    '游戏账号为 4–32 位，只能包含字母、数字和 _ . @ -' : 'A game account has 4 to 32 characters: letters, digits and _ . @ -',
    '请填写{f}' : 'Enter the {f}',
    '已过期（逾期付款，原路退回）' : 'Expired (paid too late: the money goes back)',
    '重复支付，未能原路退回' : 'Duplicate payment, could not be returned the way it came',
    '订单过期后到账，未能原路退回' : 'Arrived after expiry, could not be returned the way it came',
    '无法发货，未能原路退回' : 'Undeliverable, could not be returned the way it came',
    '有 {a} 未用于本订单（重复或逾期支付），已退回（部分或全部退至店铺余额）。' :
        '{a} was not used for this order (a duplicate or late payment) and has been returned, some or all of it to the shop balance.',
    '有 {a} 未用于本订单（重复或逾期支付），未能原路退回，请在下方「退款」中选择处理方式。' :
        '{a} was not used for this order (a duplicate or late payment) and could not be returned the way it came: choose what to do under Refunds below.',
    '本订单已退款，卡密已收回，不能再提取。' : 'This order was refunded: its card keys were taken back and can no longer be revealed.',
});

// app.js is loaded with defer: the document is parsed by now.
translatePage();
$('#buy-form').addEventListener('submit', submitBuy);
$('#buy-form').elements.quantity.addEventListener('input', updateTotal);
$('#buy-form').elements.target_account.addEventListener('input', resetCheck);
$('#buy-form').elements.target_region.addEventListener('change', resetCheck);
$('#lookup-form').addEventListener('submit', submitLookup);
window.addEventListener('hashchange', route);
route();
