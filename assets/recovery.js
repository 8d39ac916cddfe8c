// SPDX-License-Identifier: MIT
// The dashboard's Cart recovery tab: the poller's state and interval with start, stop and one
// cycle now (POST /polling/start-abandoned-cart, /polling/stop, /polling/abandoned-cart/test-once;
// GET /polling/status), the last 20 cycles with their figures, recovered revenue per currency
// (the status's recovered.by_currency) and the carts in recovery with their state (GET
// /api/recovery/carts, filtered by state, paged). Every route is the signed-in tenant's own; all
// text goes in as text nodes (el()), never as HTML.
import { t, addStrings, el, $, fmtNumber, fmtTime } from '/assets/common.js';

const PAGE = 50;
const STATES = ['open', 'abandoned', 'sent', 'completed', 'skipped'];

addStrings({
  tr: {
    'nav.recovery': 'Sepet kurtarma',
    'rec.poller': 'Yoklayıcı',
    'rec.state': 'Durum',
    'rec.running': 'Çalışıyor',
    'rec.stopped': 'Durdu',
    'rec.interval': 'Aralık (saniye)',
    'rec.last_cycle': 'Son döngü',
    'rec.start': 'Başlat',
    'rec.stop': 'Durdur',
    'rec.test_once': 'Bir kez çalıştır',
    'rec.refresh': 'Yenile',
    'rec.started': 'Yoklama her {s} saniyede bir çalışıyor.',
    'rec.stopped_msg': 'Yoklama durduruldu.',
    'rec.cycle_queued': 'Döngü {id} başladı: {jobs} entegrasyon yoklanıyor.',
    'rec.recovered': 'Kurtarılan gelir',
    'rec.recovered_none': 'Henüz kurtarılan sepet yok.',
    'rec.recovered_row': 'kurtarılan sepet: {n}',
    'rec.cycles': 'Son 20 döngü',
    'rec.col_started': 'Başlangıç',
    'rec.col_kind': 'Tür',
    'rec.col_agents': 'Ajan',
    'rec.col_platforms': 'Platform',
    'rec.col_carts': 'Sepet',
    'rec.col_value': 'Değer',
    'rec.col_ok': 'Teslim (başarılı)',
    'rec.col_failed': 'Teslim (başarısız)',
    'rec.col_duration': 'Süre',
    'rec.col_error': 'Son hata',
    'rec.running_cycle': 'sürüyor',
    'rec.kind.schedule': 'zamanlı',
    'rec.kind.test': 'deneme',
    'rec.value_note': 'Değer: döngüde çekilen sepetlerin toplamı, para birimleri toplanmış küçük birimlerle.',
    'rec.carts': 'Sepetler',
    'rec.filter': 'Durum',
    'rec.all': 'Tümü',
    'rec.col_cart': 'Sepet',
    'rec.col_platform_id': 'Platform kimliği',
    'rec.col_total': 'Tutar',
    'rec.col_messages': 'Mesaj',
    'rec.col_updated': 'Son değişiklik',
    'rec.col_recovered': 'Kurtarılan',
    'rec.more': 'Sonraki sayfa',
    'rec.first': 'İlk sayfa',
    'rec.st.open': 'Açık',
    'rec.st.abandoned': 'Terk edildi',
    'rec.st.sent': 'Gönderildi',
    'rec.st.completed': 'Tamamlandı',
    'rec.st.skipped': 'Atlandı',
  },
  en: {
    'nav.recovery': 'Cart recovery',
    'rec.poller': 'Poller',
    'rec.state': 'State',
    'rec.running': 'Running',
    'rec.stopped': 'Stopped',
    'rec.interval': 'Interval (seconds)',
    'rec.last_cycle': 'Last cycle',
    'rec.start': 'Start',
    'rec.stop': 'Stop',
    'rec.test_once': 'Run once',
    'rec.refresh': 'Refresh',
    'rec.started': 'Polling every {s} seconds.',
    'rec.stopped_msg': 'Polling stopped.',
    'rec.cycle_queued': 'Cycle {id} started: polling {jobs} integration(s).',
    'rec.recovered': 'Recovered revenue',
    'rec.recovered_none': 'No cart recovered yet.',
    'rec.recovered_row': 'recovered carts: {n}',
    'rec.cycles': 'Last 20 cycles',
    'rec.col_started': 'Started',
    'rec.col_kind': 'Kind',
    'rec.col_agents': 'Agents',
    'rec.col_platforms': 'Platforms',
    'rec.col_carts': 'Carts',
    'rec.col_value': 'Value',
    'rec.col_ok': 'Deliveries ok',
    'rec.col_failed': 'Deliveries failed',
    'rec.col_duration': 'Duration',
    'rec.col_error': 'Last error',
    'rec.running_cycle': 'running',
    'rec.kind.schedule': 'scheduled',
    'rec.kind.test': 'test',
    'rec.value_note': 'Value: the carts fetched in the cycle, minor units summed over currencies.',
    'rec.carts': 'Carts',
    'rec.filter': 'State',
    'rec.all': 'All',
    'rec.col_cart': 'Cart',
    'rec.col_platform_id': 'Platform id',
    'rec.col_total': 'Total',
    'rec.col_messages': 'Messages',
    'rec.col_updated': 'Last change',
    'rec.col_recovered': 'Recovered',
    'rec.more': 'Next page',
    'rec.first': 'First page',
    'rec.st.open': 'Open',
    'rec.st.abandoned': 'Abandoned',
    'rec.st.sent': 'Sent',
    'rec.st.completed': 'Completed',
    'rec.st.skipped': 'Skipped',
  },
});

const R = {
  api: null,
  status: null,
  carts: null, // the page shown
  after: 0, // its cursor
  next: null,
  history: [],
};

function msg(text, ok) {
  const s = $('#rec-status');
  s.textContent = text || '';
  s.className = ok ? 'ok-msg' : 'form-error';
}

/* ======================== data ======================== */

async function loadStatus() {
  R.status = await R.api('/polling/status');
  renderStatus();
}

async function loadCarts(after) {
  const state = $('#rec-filter').value;
  const q = `limit=${PAGE}${after ? `&after=${after}` : ''}${state ? `&state=${encodeURIComponent(state)}` : ''}`;
  const res = await R.api(`/api/recovery/carts?${q}`);
  R.carts = res.carts;
  R.after = after || 0;
  R.next = res.next_after;
  renderCarts();
}

/* ======================== render ======================== */

function duration(ms) {
  return ms < 1000 ? `${fmtNumber(ms)} ms` : `${fmtNumber(ms / 1000, 1)} s`;
}

function renderStatus() {
  const st = R.status;
  if (!st) return;
  const state = $('#rec-state');
  state.textContent = st.running ? t('rec.running') : t('rec.stopped');
  state.dataset.state = st.state;
  const iv = $('#rec-interval');
  if (document.activeElement !== iv) iv.value = st.interval_s || 30;
  // the newest cycle, scheduled or run by hand (last_cycle_at counts scheduled ones only)
  const last = (st.cycles && st.cycles.length && st.cycles[0].started_at) || st.last_cycle_at;
  $('#rec-last').textContent = last ? fmtTime(last) : '—';
  $('#rec-start').disabled = st.running;
  $('#rec-stop').disabled = !st.running;

  const by = (st.recovered && st.recovered.by_currency) || [];
  $('#rec-recovered').replaceChildren(...(by.length
    ? by.map((x) => el('li', { 'data-currency': x.currency },
      el('span', { class: 'rec-amount' }, `${x.amount ?? fmtNumber(x.value)} ${x.currency}`),
      el('span', { class: 'muted small' }, t('rec.recovered_row', { n: fmtNumber(x.carts) }))))
    : [el('li', { class: 'muted' }, t('rec.recovered_none'))]));

  const rows = (st.cycles || []).map((c) => el('tr', { 'data-cycle-id': c.id },
    el('td', {}, fmtTime(c.started_at)),
    el('td', {}, t(`rec.kind.${c.kind}`)),
    el('td', { class: 'num c-agents' }, fmtNumber(c.agents_found)),
    el('td', { class: 'num c-platforms' }, fmtNumber(c.platforms_processed)),
    el('td', { class: 'num c-carts' }, fmtNumber(c.carts_fetched)),
    el('td', { class: 'num c-value' }, fmtNumber(c.total_value)),
    el('td', { class: 'num c-ok' }, fmtNumber(c.deliveries_succeeded)),
    el('td', { class: 'num c-failed' }, fmtNumber(c.deliveries_failed)),
    el('td', { class: 'num c-duration' }, c.finished ? duration(c.duration_ms) : t('rec.running_cycle')),
    el('td', { class: 'small' }, c.last_error || '')));
  $('#rec-cycles tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 10, class: 'muted' }, t('common.none')))]));
}

function renderCarts() {
  if (!R.carts) return;
  const rows = R.carts.map((c) => el('tr', { 'data-recovery-id': c.id, 'data-state': c.state },
    el('td', {}, c.cart_id),
    el('td', {}, `${c.platform} · ${c.platform_id}`),
    el('td', {}, el('span', { class: 'rec-badge', 'data-state': c.state }, t(`rec.st.${c.state}`))),
    el('td', { class: 'num c-total' }, `${c.total ?? '—'} ${c.currency}`),
    el('td', { class: 'num c-recovered' }, c.completed_at && c.recovered_value && Number(c.recovered_value) > 0 ? `${c.recovered_value} ${c.currency}` : '—'),
    el('td', { class: 'num' }, fmtNumber(c.messages_sent)),
    el('td', {}, c.cart_updated_at ? fmtTime(c.cart_updated_at) : '—')));
  $('#rec-carts tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 7, class: 'muted' }, t('common.none')))]));
  $('#rec-next').disabled = !R.next;
  $('#rec-first').disabled = !R.after;
}

/* ======================== actions ======================== */

async function act(fn) {
  msg('');
  try {
    await fn();
  } catch (err) {
    const field = err.field ? ` (${err.field})` : '';
    msg(`${t('common.error')}: ${err.message}${field}`, false);
  }
}

/* ======================== the tab ======================== */

/* Called by the dashboard when the tab is shown. */
export async function recoveryShow() {
  msg('');
  try {
    await Promise.all([loadStatus(), loadCarts(R.after)]);
  } catch (err) {
    msg(`${t('common.error')}: ${err.message}`, false);
  }
}

/* The page in the new language. */
export function recoveryRerender() {
  renderStatus();
  renderCarts();
}

export function recoverySetup(authed) {
  R.api = authed;
  $('#rec-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(async () => {
      const s = Number($('#rec-interval').value);
      R.status = await R.api(`/polling/start-abandoned-cart?interval=${encodeURIComponent($('#rec-interval').value)}`, { method: 'POST' });
      renderStatus();
      msg(t('rec.started', { s }), true);
    });
  });
  $('#rec-stop').addEventListener('click', () => act(async () => {
    R.status = await R.api('/polling/stop', { method: 'POST' });
    renderStatus();
    msg(t('rec.stopped_msg'), true);
  }));
  $('#rec-test').addEventListener('click', () => act(async () => {
    const r = await R.api('/polling/abandoned-cart/test-once', { method: 'POST' });
    msg(t('rec.cycle_queued', { id: r.cycle_id, jobs: r.jobs }), true);
    await loadStatus();
  }));
  $('#rec-refresh').addEventListener('click', () => act(() => Promise.all([loadStatus(), loadCarts(R.after)])));
  $('#rec-filter').addEventListener('change', () => {
    R.history = [];
    act(() => loadCarts(0));
  });
  $('#rec-next').addEventListener('click', () => {
    if (!R.next) return;
    R.history.push(R.after);
    act(() => loadCarts(R.next));
  });
  $('#rec-first').addEventListener('click', () => {
    R.history = [];
    act(() => loadCarts(0));
  });
}
