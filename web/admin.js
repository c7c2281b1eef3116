// kameng admin: products with their refund terms and stock, card-key import with a per-line
// report, the published policy, API keys (shown once), and a dashboard of refunds plotted with
// uPlot (served from web/, no network): volume per day, share decided automatically, time to
// decision and time to money, computed here from the orders, their refunds and their cases.
// The admin key lives in this tab's sessionStorage only; this page never reads a buyer's token.
'use strict';

const KEY_SLOT = 'km.staff.admin';
const adminKey = () => sessionStorage.getItem(KEY_SLOT);
const aapi = (method, path, body, opts) => api(method, path, body, adminKey(), opts);

async function signIn(ev) {
  ev.preventDefault();
  const form = ev.target, err = $('.err', form), key = form.elements.key.value.trim();
  err.textContent = '';
  if (!key.startsWith('sk_')) { err.textContent = t('请粘贴管理员 API 密钥 (sk_…)；买家的购买凭证不能登录后台。'); return; }
  try {
    await api('GET', '/v1/ledger/check', undefined, key); // admin only
  } catch (e) {
    err.textContent = e.code === 'forbidden' ? t('这个密钥不是管理员密钥。') : t('密钥无效：{m}', { m: e.message });
    return;
  }
  sessionStorage.setItem(KEY_SLOT, key);
  form.reset();
  start();
}

function signOut() {
  sessionStorage.removeItem(KEY_SLOT);
  location.reload();
}

function start() {
  const ok = !!adminKey();
  $('#signin').hidden = ok;
  $('#admin').hidden = !ok;
  $('#signout').hidden = !ok;
  if (ok) route(); else $('#signin input').focus();
}

const TABS = { dashboard: dashboard, products: products, import: importKeys, policy: policy, keys: apiKeys };
let charts = [], shown = 0;

// Fills the tab, unless the admin has moved to another tab meanwhile (a slow dashboard must not
// paint over the products page).
function paint(me, ...nodes) {
  if (me !== shown) throw { stale: true };
  $('#tab').replaceChildren(...nodes.filter(Boolean));
}

function route() {
  const name = location.hash.split('/')[1] || 'dashboard';
  const tab = TABS[name] ? name : 'dashboard';
  const me = ++shown;
  for (const a of $$('[data-tab]')) a.classList.toggle('on', a.dataset.tab === tab);
  for (const c of charts) c.destroy();
  charts = [];
  $('#tab').replaceChildren(h('p', { class: 'muted' }, t('加载中…')));
  TABS[tab](me).catch((e) => {
    if (e.stale) return;
    if (e.code === 'invalid_api_key') { signOut(); return; }
    if (me === shown) $('#tab').replaceChildren(h('p', { class: 'err' }, e.message || String(e)));
  });
}

const tbl = (head, rows, cls = '') => (rows.length
  ? h('div', { class: 'scroll' }, h('table', { class: `tbl ${cls}` }, h('thead', null, h('tr', null, head.map((x) => h('th', null, x)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((x) => h('td', null, x)))))))
  : h('p', { class: 'small muted' }, t('暂无数据')));

async function allPages(path, max = 50) {
  const out = [];
  let after = '';
  for (let i = 0; i < max; i++) {
    const r = await aapi('GET', `${path}${path.includes('?') ? '&' : '?'}limit=100${after ? `&starting_after=${encodeURIComponent(after)}` : ''}`);
    out.push(...r.data);
    if (!r.has_more || !r.data.length) break;
    after = r.data[r.data.length - 1].id;
  }
  return out;
}

// ---- products and stock ----
function termsText(p) {
  const r = p.refund_terms;
  return t('窗口 {w} 小时 · 无理由 {d} 天 · 直充超时 {m} 分钟 · 担保 {e} 天',
    { w: r.refund_window_hours, d: r.no_reason_days, m: r.topup_timeout_minutes, e: r.escrow_days });
}

async function products(me) {
  const list = await allPages('/v1/products');
  const err = h('p', { class: 'err', role: 'alert' });
  const num = (name, value, min, max) => h('input', { name, type: 'number', value, min, max, inputMode: 'numeric' });
  const form = h('form', { class: 'form', id: 'product-form', novalidate: true },
    h('div', { class: 'cols' },
      h('label', null, h('span', null, t('类型')), h('select', { name: 'kind' },
        Object.entries(KIND()).map(([v, l]) => h('option', { value: v }, l)))),
      h('label', null, h('span', null, t('充值账号格式')), h('select', { name: 'target_format' },
        [['none', t('无')], ['phone_cn', t('手机号')], ['game_account', t('游戏账号 + 区服')]].map(([v, l]) => h('option', { value: v }, l))))),
    h('label', null, h('span', null, t('名称')), h('input', { name: 'name', maxLength: 200, required: true })),
    h('div', { class: 'cols' },
      h('label', null, h('span', null, t('售价（元）')), h('input', { name: 'price', inputMode: 'decimal', placeholder: '10.00' })),
      h('label', null, h('span', null, t('面值（元）')), h('input', { name: 'face', inputMode: 'decimal', placeholder: t('同售价') }))),
    h('div', { class: 'cols' },
      h('label', null, h('span', null, t('退款窗口（小时，24–72）')), num('refund_window_hours', 48, 24, 72)),
      h('label', null, h('span', null, t('无理由天数（0 或 7）')), h('select', { name: 'no_reason_days' }, h('option', { value: '0' }, '0'), h('option', { value: '7' }, '7')))),
    h('div', { class: 'cols' },
      h('label', null, h('span', null, t('直充超时（分钟）')), num('topup_timeout_minutes', 30, 1, 100000)),
      h('label', null, h('span', null, t('担保天数')), num('escrow_days', 0, 0, 1000))),
    h('div', { class: 'cols' },
      h('label', null, h('span', null, t('区服（逗号分隔，游戏账号）')), h('input', { name: 'regions', maxLength: 512 })),
      h('label', null, h('span', null, t('卖家 id（账号商品必填）')), h('input', { name: 'seller_id', placeholder: 'sel_…' }))),
    err, h('button', { type: 'submit', class: 'primary', id: 'product-submit' }, t('创建商品')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = form.elements, price = fenOf(f.price.value), face = f.face.value.trim() ? fenOf(f.face.value) : price;
    if (!(price > 0) || !(face > 0)) { err.textContent = t('请填写正确的金额，例如 10.00'); return; }
    const body = { kind: f.kind.value, name: f.name.value.trim(), price_fen: price, face_value_fen: face,
      refund_window_hours: Number(f.refund_window_hours.value), no_reason_days: Number(f.no_reason_days.value),
      topup_timeout_minutes: Number(f.topup_timeout_minutes.value), escrow_days: Number(f.escrow_days.value) };
    if (f.target_format.value !== 'none') body.target_format = f.target_format.value;
    if (f.regions.value.trim()) body.regions = f.regions.value.trim();
    if (f.seller_id.value.trim()) body.seller_id = f.seller_id.value.trim();
    const btn = $('#product-submit', form);
    btn.disabled = true;
    try {
      await aapi('POST', '/v1/products', body);
      route();
    } catch (e) { err.textContent = e.param ? `${e.param}: ${e.message}` : e.message; } finally { btn.disabled = false; }
  });
  paint(me,
    section(t('商品 ({n})', { n: list.length }), tbl([t('名称'), t('类型'), t('售价 / 面值'), t('退款条款'), t('库存 可售 / 占用 / 已发'), t('状态')],
      list.map((p) => [h('span', { class: 'pname' }, p.name), KIND()[p.kind] || p.kind, `${yuan(p.price_fen)} / ${yuan(p.face_value_fen)}`, termsText(p),
        p.stock ? `${p.stock.available} / ${p.stock.reserved ?? '—'} / ${p.stock.delivered ?? '—'}` : '—',
        p.active ? t('上架') : t('下架')]), 'products-table')),
    section(t('新建商品'), form));
}

// ---- card-key import: paste or pick a CSV / JSON file; the report names every bad line ----
async function importKeys(me) {
  const list = (await allPages('/v1/products')).filter((p) => p.kind === 'card_key');
  const report = h('div', { id: 'import-report', 'aria-live': 'polite' });
  const text = h('textarea', { name: 'data', id: 'import-data', class: 'mono', rows: 10, spellcheck: false,
    placeholder: 'number,password\nQB2026000001,8F3K-29XQ-77LM\n…' });
  const file = h('input', { type: 'file', id: 'import-file', accept: '.csv,.json,text/csv,application/json' });
  file.addEventListener('change', async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  const sel = h('select', { name: 'product', id: 'import-product' }, list.map((p) =>
    h('option', { value: p.id }, `${p.name} · ${t('库存 {n}', { n: p.stock ? p.stock.available : 0 })}`)));
  const btn = h('button', { type: 'submit', class: 'primary', id: 'import-submit' }, t('导入'));
  const form = h('form', { class: 'form', id: 'import-form', novalidate: true },
    h('label', null, h('span', null, t('商品')), sel),
    h('label', null, h('span', null, t('选择文件（CSV 或 JSON）')), file),
    h('label', null, h('span', null, t('或直接粘贴')), text),
    h('p', { class: 'small muted' }, t('CSV 第一行为 number,password（卡号可空）；JSON 为 [{"number": …, "password": …}] 或 {"card_keys": […]}。全部无误才导入，有问题的行会逐行列出。')),
    btn, report);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const raw = text.value.trim();
    if (!raw) { report.replaceChildren(h('p', { class: 'err' }, t('请粘贴内容或选择文件'))); return; }
    let opts;
    if (raw.startsWith('[') || raw.startsWith('{')) {
      let parsed;
      try { parsed = JSON.parse(raw); } catch (e) { report.replaceChildren(h('p', { class: 'err' }, t('JSON 格式错误：{m}', { m: e.message }))); return; }
      opts = { raw: JSON.stringify(Array.isArray(parsed) ? { card_keys: parsed } : parsed), type: 'application/json' };
    } else {
      opts = { raw: `${raw}\n`, type: 'text/csv' };
    }
    btn.disabled = true;
    try {
      const id = sel.value; // the product the keys went to, whatever is chosen meanwhile
      const r = await aapi('POST', `/v1/products/${encodeURIComponent(id)}/card_keys`, undefined, opts);
      report.replaceChildren(h('p', { class: 'note', id: 'import-ok' }, t('已导入 {n} 条。库存：可售 {a}，占用 {r}，已发 {d}。',
        { n: r.imported, a: r.stock.available, r: r.stock.reserved, d: r.stock.delivered })));
      text.value = '';
      file.value = '';
      // The product's line in the list says its stock; it does so as of now.
      const opt = [...sel.options].find((o) => o.value === id);
      const p = list.find((x) => x.id === id);
      if (opt && p) opt.textContent = `${p.name} · ${t('库存 {n}', { n: r.stock.available })}`;
    } catch (e) {
      const why = { malformed: t('格式错误'), empty_secret: t('密码为空'), too_long: t('过长'), duplicate_in_file: t('文件内重复'),
        invalid_utf8: t('编码不是 UTF-8'), duplicate_in_stock: t('与库存重复'), already_imported: t('与库存重复') };
      const count = e.problem_count || (e.problems || []).length;
      report.replaceChildren(...[h('p', { class: 'err' }, count
        ? t('文件中有 {n} 处问题，没有导入任何卡密。', { n: count }) : t('没有导入任何卡密：{m}', { m: e.message })),
        e.problems && tbl([t('行'), t('问题'), t('说明')], e.problems.map((p) => [String(p.line), why[p.reason] ? `${why[p.reason]} (${p.reason})` : p.reason, p.message]), 'problems'),
        e.problem_count > (e.problems || []).length && h('p', { class: 'small muted' }, t('共 {n} 个问题，仅列出前 {k} 个。', { n: e.problem_count, k: e.problems.length }))].filter(Boolean));
    } finally { btn.disabled = false; }
  });
  paint(me, section(t('导入卡密'), list.length ? form : h('p', { class: 'muted' }, t('还没有卡密类商品。'))));
}

// ---- the policy ----
async function policy(me) {
  paint(me, await policyView());
}

// ---- API keys: created here, shown once ----
async function apiKeys(me) {
  const out = h('div', { id: 'key-out', 'aria-live': 'polite' });
  const err = h('p', { class: 'err', role: 'alert' });
  const form = h('form', { class: 'form', id: 'key-form', novalidate: true },
    h('div', { class: 'cols' },
      h('label', null, h('span', null, t('角色')), h('select', { name: 'role' },
        [['agent', t('客服 (agent)')], ['admin', t('管理员 (admin)')], ['seller', t('卖家 (seller)')]].map(([v, l]) => h('option', { value: v }, l)))),
      h('label', null, h('span', null, t('备注')), h('input', { name: 'label', maxLength: 63, placeholder: t('例如：客服小王') }))),
    h('label', null, h('span', null, t('卖家 id（仅卖家密钥）')), h('input', { name: 'seller_id', placeholder: 'sel_…' })),
    err, h('button', { type: 'submit', class: 'primary', id: 'key-submit' }, t('创建密钥')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = form.elements, body = { role: f.role.value };
    if (f.label.value.trim()) body.label = f.label.value.trim();
    if (f.seller_id.value.trim()) body.seller_id = f.seller_id.value.trim();
    err.textContent = '';
    try {
      const k = await aapi('POST', '/v1/api_keys', body);
      form.reset();
      out.replaceChildren(h('section', { class: 'card warn' }, h('h2', null, t('新密钥只显示这一次')),
        kv([[t('角色'), k.role], [t('备注'), k.label || '—'], ['id', h('code', null, k.id)], [t('密钥'), copyable(k.key, 'newkey secret')]]),
        h('p', { class: 'small' }, t('请立即交给使用者并妥善保存；服务器只保存其哈希，丢失后只能新建。')),
        h('button', { type: 'button', onclick: () => out.replaceChildren() }, t('我已保存'))));
    } catch (e) { err.textContent = e.param ? `${e.param}: ${e.message}` : e.message; return; }
    await draw().catch(() => {}); // the list below gains the new key
  });
  const listed = h('div', { id: 'key-list' });
  const ROLE = { admin: t('管理员'), agent: t('客服'), seller: t('卖家') };
  // Every key with its state; a revoke asks once more before it acts, and stops the key at once.
  const draw = async () => {
    const keys = await allPages('/v1/api_keys', 10);
    const fail = h('p', { class: 'err', role: 'alert' });
    const revoke = (k) => async (ev) => {
      const btn = ev.target;
      if (btn.dataset.armed !== '1') {
        btn.dataset.armed = '1';
        btn.textContent = t('确认吊销');
        return;
      }
      btn.disabled = true;
      fail.textContent = '';
      try {
        await aapi('POST', `/v1/api_keys/${encodeURIComponent(k.id)}/revoke`, {});
      } catch (e) {
        if (e.code !== 'already_revoked') { // revoked meanwhile elsewhere: the list shows it
          fail.textContent = e.code === 'revoking_own_key' ? t('不能吊销当前登录所用的密钥，请用另一个管理员密钥操作。') : e.message;
          btn.disabled = false;
          return;
        }
      }
      await draw().catch((e) => { fail.textContent = e.message; });
    };
    // A list, not a table: ids are long and the page is used on phones too.
    listed.replaceChildren(section(t('已有密钥（{n}）', { n: keys.length }),
      h('ul', { class: 'plain keys' }, keys.map((k) => h('li', { 'data-key': k.id },
        h('div', { class: 'row' }, h('strong', null, ROLE[k.role] || k.role), h('span', null, k.label || '—'),
          k.revoked_at ? h('span', { class: 'tag muted' }, t('已吊销 {t}', { t: when(k.revoked_at) })) : h('span', { class: 'tag okish' }, t('有效')),
          !k.revoked_at && h('button', { type: 'button', class: 'small-btn', 'data-revoke': k.id, onclick: revoke(k) }, t('吊销'))),
        h('div', { class: 'small muted' }, h('code', { class: 'id' }, k.id),
          k.seller_id && [' · ', t('卖家'), ' ', h('code', { class: 'id' }, k.seller_id)], ' · ', t('创建于 {t}', { t: when(k.created_at) }))))),
      fail));
  };
  await draw();
  paint(me, section(t('新建 API 密钥'), form), out, listed,
    h('p', { class: 'small muted' }, t('客服台：/web/agent.html（客服或管理员密钥）· 管理后台：/web/admin.html（管理员密钥）')));
}

// ---- the dashboard ----
const HOUR = 3600e3;
const hrs = (ms) => (ms == null ? '—' : ms < HOUR ? t('{m} 分钟', { m: Math.round(ms / 60000) }) : t('{h} 小时', { h: (ms / HOUR).toFixed(1) }));

// Runs fn over items, n at a time.
// The refund dashboard's figures for the last 90 days, which the shop computes from its books per
// day of the viewer's clock (GET /v1/stats/refunds): refunds made and their amount, decisions
// and the machine's share, time to a decision and time to the money.
const STATS_DAYS = 90;
const statsOf = () => aapi('GET', `/v1/stats/refunds?days=${STATS_DAYS}&tz_offset_minutes=${-new Date().getTimezoneOffset()}`);

// What a person must act on, as the shop reads it from its books (GET /v1/attention), in three
// groups, each oldest first: money to recover (a buyer paid twice, a top-up that arrived after a
// refund of it was paid, a refund the shop paid after the escrow went to the seller), refunds
// past their promised date, and refunds not paid out that are still owed.
const ATTENTION = () => ({
  paid_twice: [0, t('重复到账'), () => t('渠道在店铺结清后仍然付了款，买家收到两次，需人工追回')],
  topup_credited_after_refund: [0, t('退款后充值到账'), () => t('买家同时得到了充值和退款，需人工与买家结清')],
  seller_recovery_due: [0, t('向卖家追回'), (r, x) => t('担保款已给卖家后的退款由店铺垫付 {a}，需向卖家追回', { a: yuan(x.amount_fen || 0) })],
  overdue: [1, t('逾期未到账'), (r) => r.failure_reason || t('渠道尚未给出结果')],
  unpaid_refund: [2, t('原路未退回，待改退'), (r) => r.failure_reason || ''],
});

async function attention() {
  const list = await aapi('GET', '/v1/attention');
  return list.data.map((x) => {
    const [rank, kind, note] = ATTENTION()[x.kind] || [2, x.kind, () => ''];
    return { id: x.id, rank, kind, o: { id: x.order_id }, r: x.refund, at: x.since, note: note(x.refund || {}, x) };
  });
}

// Money to recover is settled outside the shop; the admin records how, and it leaves the list.
function settleForm(id) {
  const err = h('p', { class: 'err small', role: 'alert' });
  // The same key for every try of this form: a retry after a lost answer replays it. (Not
  // crypto.randomUUID, which a page served over plain HTTP, outside localhost, does not have.)
  const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const input = h('input', { name: 'note', maxlength: '500', required: true, 'aria-label': t('如何结清'),
    placeholder: t('如何结清，例如：买家已退回到店铺余额') });
  const submit = async (ev) => {
    ev.preventDefault();
    const btn = ev.target.querySelector('button');
    btn.disabled = true;
    try {
      await aapi('POST', `/v1/attention/${encodeURIComponent(id)}/settle`, { note: input.value.trim() }, { key });
      route();
    } catch (e) {
      err.textContent = e.message;
      btn.disabled = false;
    }
  };
  return h('form', { class: 'settle', onsubmit: submit }, input,
    h('button', { type: 'submit', class: 'small-btn' }, t('标记已结清')), err);
}

function attentionSection(rows) {
  return h('section', { class: 'card', id: 'attention' }, h('h2', null, t('需要人工处理（{n}）', { n: rows.length })),
    rows.length === 0 ? h('p', { class: 'small muted' }, t('没有需要人工处理的退款。')) : tbl(
      [t('情况'), t('订单'), t('退款'), t('时间'), t('说明')],
      rows.map((x) => [h('span', { class: x.rank === 0 ? 'flag' : 'late' }, x.kind), h('code', { class: 'id' }, x.o.id),
        x.r ? [`${yuan(x.r.amount_fen)} · ${METHOD()[x.r.method] || x.r.method} `, h('code', { class: 'small id' }, x.r.id)] : '—',
        when(x.at), x.id ? [x.note, settleForm(x.id)] : x.note])));
}

function chart(el, title, series, xs, ys, { bars = false, yLabel = '', fmt = (v) => v } = {}) {
  const width = Math.max(280, el.clientWidth || 600);
  const opts = {
    title, width, height: 240,
    scales: { x: { time: true, range: (u, min, max) => [min - 86400 * 0.75, max + 86400 * 0.75] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] } },
    axes: [{ space: 50, incrs: [86400, 7 * 86400, 30 * 86400], values: (u, v) => v.map((x) => day(x * 1000)) }, { label: yLabel, values: (u, v) => v.map(fmt), size: 60 }],
    series: [{ label: t('日期'), value: (u, v) => (v == null ? '—' : day(v * 1000)) }, ...series.map((s, i) => ({
      label: s, stroke: ['#c2410c', '#1d4ed8'][i], width: 2, fill: bars ? 'rgba(194,65,12,.35)' : undefined,
      points: { show: true, size: 7 }, value: (u, v) => (v == null ? '—' : fmt(v)),
      paths: bars ? uPlot.paths.bars({ size: [0.6, 48] }) : undefined,
    }))],
  };
  const u = new uPlot(opts, [xs, ...ys], el);
  charts.push(u);
  return u;
}

async function dashboard(me) {
  paint(me, h('p', { class: 'muted' }, t('加载中…')));
  const [stats, needs] = await Promise.all([statsOf(), attention()]);
  const rows = stats.days, all = stats.total;
  const xs = rows.map((r) => Date.parse(r.day_start) / 1000);
  const pct = (a, b) => (b ? Math.round((a / b) * 100) : null);
  const plots = {
    volume: h('div', { class: 'plot', id: 'plot-volume' }), auto: h('div', { class: 'plot', id: 'plot-auto' }),
    decision: h('div', { class: 'plot', id: 'plot-decision' }), money: h('div', { class: 'plot', id: 'plot-money' }),
  };
  const dataTable = (head, fn) => h('details', null, h('summary', null, t('数据表')),
    tbl([t('日期'), ...head], rows.map((r) => [day(r.day_start), ...fn(r)])));
  paint(me,
    attentionSection(needs),
    h('div', { class: 'kpis' },
      [[String(all.refunds), t('退款笔数')], [yuan(all.refunded_fen), t('退款金额')],
        [all.decided ? `${pct(all.automatic, all.decided)}%` : '—', t('自动决定占比')],
        [hrs(all.decision_ms_median), t('决定用时（中位数）')], [hrs(all.money_ms_median), t('到账用时（中位数）')]]
        .map(([v, l]) => h('div', { class: 'kpi' }, h('b', null, v), h('span', null, l)))),
    h('p', { class: 'small muted' }, t('近 {d} 天，由店铺按账目计算；按本地日期汇总。', { d: stats.window_days })),
    rows.length === 0 ? h('p', { class: 'muted', id: 'no-data' }, t('还没有退款数据。')) : h('div', { class: 'grid2' },
      section(t('每日退款金额'), plots.volume, dataTable([t('笔数'), t('金额')], (r) => [String(r.refunds), yuan(r.refunded_fen)])),
      section(t('自动决定占比'), plots.auto, dataTable([t('自动 / 全部'), t('占比')], (r) => [`${r.automatic} / ${r.decided}`, r.decided ? `${pct(r.automatic, r.decided)}%` : '—'])),
      section(t('决定用时（小时，中位数 / 最长）'), plots.decision, dataTable([t('中位数'), t('最长')], (r) => [hrs(r.decision_ms_median), hrs(r.decision_ms_max)])),
      section(t('到账用时（小时，中位数 / 最长）'), plots.money, dataTable([t('中位数'), t('最长')], (r) => [hrs(r.money_ms_median), hrs(r.money_ms_max)]))));
  if (!rows.length) return;
  const H = (v) => (v == null ? null : +(v / HOUR).toFixed(2));
  chart(plots.volume, '', [t('退款金额（元）')], xs, [rows.map((r) => r.refunded_fen / 100)], { bars: true, fmt: (v) => `¥${v}` });
  chart(plots.auto, '', [t('自动决定占比 %')], xs, [rows.map((r) => pct(r.automatic, r.decided))], { fmt: (v) => `${v}%` });
  chart(plots.decision, '', [t('中位数'), t('最长')], xs,
    [rows.map((r) => H(r.decision_ms_median)), rows.map((r) => H(r.decision_ms_max))], { fmt: (v) => `${v}h` });
  chart(plots.money, '', [t('中位数'), t('最长')], xs,
    [rows.map((r) => H(r.money_ms_median)), rows.map((r) => H(r.money_ms_max))], { fmt: (v) => `${v}h` });
}

addEN({
  '管理员': 'Admin', '客服': 'Agent', '卖家': 'Seller', '确认吊销': 'Confirm revoke', '吊销': 'Revoke', '有效': 'Active',
  '已吊销 {t}': 'Revoked {t}', '已有密钥（{n}）': 'Keys ({n})', '创建于 {t}': 'created {t}',
  '不能吊销当前登录所用的密钥，请用另一个管理员密钥操作。': 'The key you are signed in with cannot be revoked; use another admin key.',
  'kameng 管理后台': 'kameng admin', '管理后台': 'admin', '退出': 'Sign out', '管理员登录': 'Admin sign-in', '管理员 API 密钥': 'Admin API key',
  '密钥只保存在本标签页 (sessionStorage)，关闭标签页即失效。': 'The key stays in this tab only (sessionStorage) and is gone when the tab closes.',
  '登录': 'Sign in', '退款看板': 'Refund dashboard', '商品与库存': 'Products & stock', '导入卡密': 'Import card keys', '退款规则': 'Refund policy', 'API 密钥': 'API keys',
  '请粘贴管理员 API 密钥 (sk_…)；买家的购买凭证不能登录后台。': 'Paste an admin API key (sk_…); a buyer token cannot sign in here.',
  '这个密钥不是管理员密钥。': 'This is not an admin key.', '密钥无效：{m}': 'Key refused: {m}', '加载中…': 'Loading…', '暂无数据': 'No data yet',
  '窗口 {w} 小时 · 无理由 {d} 天 · 直充超时 {m} 分钟 · 担保 {e} 天': 'window {w} h · no-reason {d} d · top-up timeout {m} min · escrow {e} d',
  '类型': 'Kind', '充值账号格式': 'Target format', '无': 'none', '手机号': 'Phone number', '游戏账号 + 区服': 'Game account + region',
  '名称': 'Name', '售价（元）': 'Price (CNY)', '面值（元）': 'Face value (CNY)', '同售价': 'same as price',
  '退款窗口（小时，24–72）': 'Refund window (hours, 24–72)', '无理由天数（0 或 7）': 'No-reason days (0 or 7)', '直充超时（分钟）': 'Top-up timeout (minutes)',
  '担保天数': 'Escrow days', '区服（逗号分隔，游戏账号）': 'Regions (comma-separated, game accounts)', '卖家 id（账号商品必填）': 'Seller id (account goods)',
  '创建商品': 'Create product', '请填写正确的金额，例如 10.00': 'Enter an amount such as 10.00', '商品 ({n})': 'Products ({n})',
  '售价 / 面值': 'Price / face value', '退款条款': 'Refund terms', '库存 可售 / 占用 / 已发': 'Stock available / reserved / delivered', '状态': 'Status',
  '上架': 'active', '下架': 'inactive', '新建商品': 'New product', '库存 {n}': '{n} in stock', '导入': 'Import', '商品': 'Product',
  '选择文件（CSV 或 JSON）': 'Pick a file (CSV or JSON)', '或直接粘贴': 'or paste',
  'CSV 第一行为 number,password（卡号可空）；JSON 为 [{"number": …, "password": …}] 或 {"card_keys": […]}。全部无误才导入，有问题的行会逐行列出。': 'CSV starts with the line number,password (number may be empty); JSON is [{"number": …, "password": …}] or {"card_keys": […]}. Nothing is imported unless every line is clean; problems are listed by line.',
  '请粘贴内容或选择文件': 'Paste the keys or pick a file', 'JSON 格式错误：{m}': 'Malformed JSON: {m}',
  '已导入 {n} 条。库存：可售 {a}，占用 {r}，已发 {d}。': 'Imported {n}. Stock: {a} available, {r} reserved, {d} delivered.',
  '文件中有 {n} 处问题，没有导入任何卡密。': '{n} problem(s) in the file; nothing was imported.',
  '没有导入任何卡密：{m}': 'Nothing was imported: {m}', '行': 'Line', '问题': 'Problem', '说明': 'Detail',
  '格式错误': 'malformed', '密码为空': 'empty password', '过长': 'too long', '文件内重复': 'duplicate in the file', '编码不是 UTF-8': 'not UTF-8',
  '与库存重复': 'already in stock', '共 {n} 个问题，仅列出前 {k} 个。': '{n} problems; the first {k} are listed.', '还没有卡密类商品。': 'No card-key products yet.',
  '角色': 'Role', '客服 (agent)': 'Agent', '管理员 (admin)': 'Admin', '卖家 (seller)': 'Seller', '备注': 'Label', '例如：客服小王': 'e.g. agent Wang',
  '卖家 id（仅卖家密钥）': 'Seller id (seller keys only)', '创建密钥': 'Create key', '新密钥只显示这一次': 'The new key is shown only this once', '密钥': 'Key',
  '请立即交给使用者并妥善保存；服务器只保存其哈希，丢失后只能新建。': 'Hand it over now and keep it safe: the server stores only its hash, so a lost key can only be replaced.',
  '我已保存': 'I saved it', '新建 API 密钥': 'New API key',
  '客服台：/web/agent.html（客服或管理员密钥）· 管理后台：/web/admin.html（管理员密钥）': 'Agent console: /web/agent.html (agent or admin key) · admin: /web/admin.html (admin key)',
  '{m} 分钟': '{m} min', '{h} 小时': '{h} h',
  '日期': 'Day', '数据表': 'Data', '退款笔数': 'Refunds', '退款金额': 'Refunded', '自动决定占比': 'Decided automatically', '决定用时（中位数）': 'Time to decision (median)',
  '到账用时（中位数）': 'Time to money (median)', '近 {d} 天，由店铺按账目计算；按本地日期汇总。': 'The last {d} days, computed by the shop from its books; by local day.',
  '还没有退款数据。': 'No refunds yet.', '每日退款金额': 'Refund volume per day', '笔数': 'Count', '金额': 'Amount', '自动 / 全部': 'Automatic / all', '占比': 'Share',
  '决定用时（小时，中位数 / 最长）': 'Time to decision (hours, median / longest)', '中位数': 'median', '最长': 'longest',
  '需要人工处理（{n}）': 'Needs a person ({n})', '没有需要人工处理的退款。': 'No refund needs a person.', '情况': 'What', '订单': 'Order', '退款': 'Refund', '时间': 'Since',
  '退款后充值到账': 'Top-up after refund', '买家同时得到了充值和退款，需人工与买家结清': 'The buyer has both the top-up and the refund; settle it with them',
  '重复到账': 'Paid twice', '渠道在店铺结清后仍然付了款，买家收到两次，需人工追回': 'The provider paid after the shop had settled it another way, so the buyer got it twice; recover it',
  '如何结清': 'How it was settled', '如何结清，例如：买家已退回到店铺余额': 'How it was settled, e.g. the buyer returned it to the shop balance', '标记已结清': 'Mark settled', '向卖家追回': 'Recover from the seller', '担保款已给卖家后的退款由店铺垫付 {a}，需向卖家追回': 'The shop paid {a} of a refund after the escrow went to the seller; recover it from the seller', '逾期未到账': 'Overdue', '渠道尚未给出结果': 'No result from the provider yet', '原路未退回，待改退': 'Refused by the route, not moved yet',
  '到账用时（小时，中位数 / 最长）': 'Time to money (hours, median / longest)', '退款金额（元）': 'Refunded (CNY)', '自动决定占比 %': 'Automatic %',
});

translatePage();
$('#signin-form').addEventListener('submit', signIn);
$('#signout').addEventListener('click', signOut);
window.addEventListener('hashchange', () => adminKey() && route());
start();
