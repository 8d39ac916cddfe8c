// SPDX-License-Identifier: MIT
// The dashboard at /admin: sign-in, a live city map (Leaflet, tiles optional), windows with
// counts, countdowns and decision traces, messages, jobs, engine settings and charts (Chart.js).
// Live: Server-Sent Events from /api/events re-fetch the panel an event concerns.
import {
  t, applyI18n, langSwitch, onLangChange, getLang, el, $, $$, debounce, api, ApiError, clock,
  windowCountdown, fmtTime, fmtClock, serverText, setTzOffset, fmtNumber, fmtMeters, fmtPercent, session, categoryColor,
  DENSITY_COLORS, STATUS_COLORS,
} from '/assets/common.js';
import { customersSetup, customersShow, customersRerender, customersIsRoute } from '/assets/customers.js';
import { recoverySetup, recoveryShow, recoveryRerender } from '/assets/recovery.js';

const OPEN = new Set(['PROPOSED', 'SCHEDULED', 'ACTIVE']);
const COMPONENTS = ['demand', 'density', 'precommit', 'category', 'distance'];
const VIEWS = ['live', 'messages', 'jobs', 'settings', 'charts', 'billing', 'customers', 'recovery'];

const S = {
  cred: '',
  me: null,
  config: null,
  sellers: [],
  buyers: [],
  windows: [], // the list (newest first)
  active: [], // every ACTIVE window, for the map
  messages: [],
  jobs: [],
  health: null,
  view: 'live',
  traceId: 0,
  trace: null,
  traceMessages: [],
  es: null,
  timers: [],
  seen: new Map(), // window id → counts signature, to flash changed rows
  requestSamples: [], // [{t, byClass:{2xx,4xx,5xx}}]
};

/* ======================== API with the session's credential ======================== */

async function authed(path, opts = {}) {
  try {
    return await api(path, { ...opts, token: S.cred });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && S.cred) signOut(t('signin.expired'));
    throw err;
  }
}

function banner(msg) {
  const b = $('#banner');
  b.textContent = msg || '';
  b.hidden = !msg;
}

/* ======================== sign-in ======================== */

function showSignin(msg) {
  $('#app').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = msg || '';
  const mode = $('input[name=mode]:checked').value;
  (mode === 'key' ? $('#si-key') : $('#si-email')).focus();
}

function setupSignin() {
  for (const r of $$('input[name=mode]')) {
    r.addEventListener('change', () => {
      const key = $('input[name=mode]:checked').value === 'key';
      $('.mode-user').hidden = key;
      $('.mode-key').hidden = !key;
      $('#signin-error').textContent = '';
    });
  }
  $('#signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = $('#signin-form button[type=submit]');
    const errEl = $('#signin-error');
    errEl.textContent = '';
    btn.disabled = true;
    try {
      let cred, who = '';
      if ($('input[name=mode]:checked').value === 'key') {
        cred = $('#si-key').value.trim();
      } else {
        who = $('#si-email').value.trim();
        const res = await api('/api/auth/login', { method: 'POST', body: { email: who, password: $('#si-password').value } });
        cred = res.token;
      }
      const me = await api('/api/me', { token: cred });
      session.set(cred);
      try { sessionStorage.setItem('iceshop.who', who); } catch (_) { /* ignore */ }
      $('#si-password').value = '';
      $('#si-key').value = '';
      start(cred, me);
    } catch (err) {
      errEl.textContent = `${t('signin.failed')}: ${err.message}`;
    } finally {
      btn.disabled = false;
    }
  });
  $('#signout').addEventListener('click', () => signOut());
}

function signOut(msg) {
  S.cred = '';
  session.clear();
  if (S.es) S.es.close();
  S.es = null;
  for (const id of S.timers) clearInterval(id);
  S.timers = [];
  if ($('#trace').open) $('#trace').close();
  showSignin(msg);
}

/* ======================== shell: views, live indicator, ticking clocks ======================== */

function route() {
  const h = location.hash.slice(1);
  const v = customersIsRoute(h) ? 'customers' : h;
  S.view = VIEWS.includes(v) ? v : 'live';
  for (const name of VIEWS) {
    const tab = $(`#tab-${name}`);
    const sel = name === S.view;
    tab.setAttribute('aria-selected', String(sel));
    tab.tabIndex = sel ? 0 : -1;
    $(`#view-${name}`).hidden = !sel;
  }
  if (S.view === 'live' && S.map) setTimeout(() => S.map.invalidateSize(), 0);
  if (S.view === 'messages') loadMessages();
  if (S.view === 'jobs') loadJobs();
  if (S.view === 'settings') loadSettings();
  if (S.view === 'charts') loadCharts();
  if (S.view === 'billing') loadBilling();
  if (S.view === 'customers') customersShow();
  if (S.view === 'recovery') recoveryShow();
}

function setupTabs() {
  window.addEventListener('hashchange', route);
  const tabs = $$('.tabs [role=tab]');
  tabs.forEach((tab, i) => {
    tab.addEventListener('keydown', (e) => {
      let j = -1;
      if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
      if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
      if (e.key === 'Home') j = 0;
      if (e.key === 'End') j = tabs.length - 1;
      if (j >= 0) {
        e.preventDefault();
        tabs[j].focus();
        tabs[j].click();
      }
    });
  });
}

function setLive(on) {
  const l = $('#live');
  l.classList.toggle('on', on);
  l.querySelector('.live-text').textContent = on ? t('live.on') : t('live.off');
  l.dataset.state = on ? 'on' : 'off';
}

function tick() {
  for (const node of $$('[data-countdown]')) {
    const w = S.windowsById?.get(Number(node.dataset.countdown)) || S.trace;
    if (!w) continue;
    const c = windowCountdown(w);
    node.querySelector('.lbl').textContent = c.label;
    node.querySelector('.val').textContent = c.value;
  }
}

/* ======================== live events ======================== */

const refreshWindowsSoon = debounce(() => loadWindows(), 250);
const refreshMessagesSoon = debounce(() => { if (S.view === 'messages') loadMessages(); }, 300);
const refreshJobsSoon = debounce(() => { if (S.view === 'jobs') loadJobs(); }, 300);
const refreshTraceSoon = debounce(() => { if (S.traceId) loadTrace(S.traceId); }, 300);
const refreshChartsSoon = debounce(() => { if (S.view === 'charts') loadCharts(); }, 500);

function connect() {
  if (S.es) S.es.close();
  const es = new EventSource(`/api/events?access_token=${encodeURIComponent(S.cred)}`);
  S.es = es;
  es.onopen = () => setLive(true);
  es.onerror = async () => {
    setLive(false);
    if (es.readyState !== EventSource.CLOSED || S.es !== es) return; // the browser retries by itself
    // refused (e.g. 401): find out whether the credential is still good, then try again
    try {
      await authed('/api/me');
      setTimeout(() => { if (S.es === es && S.cred) connect(); }, 3000);
    } catch (_) { /* signed out by authed() on 401 */ }
  };
  es.addEventListener('window', (e) => {
    let d = {};
    try { d = JSON.parse(e.data); } catch (_) { /* ignore */ }
    refreshWindowsSoon();
    if (d.id && d.id === S.traceId) refreshTraceSoon();
    refreshJobsSoon();
    refreshChartsSoon();
  });
  es.addEventListener('message', () => {
    refreshMessagesSoon();
    if (S.traceId) refreshTraceSoon();
    refreshJobsSoon();
    refreshChartsSoon();
  });
  es.addEventListener('job.retried', () => refreshJobsSoon());
}

/* ======================== start ======================== */

async function start(cred, me) {
  S.cred = cred;
  S.me = me;
  $('#signin').hidden = true;
  $('#app').hidden = false;
  let who = '';
  try { who = sessionStorage.getItem('iceshop.who') || ''; } catch (_) { /* ignore */ }
  $('#who').textContent = `${who || me.subject} · ${me.role}`;
  banner('');
  route();
  connect();
  initMap();
  await Promise.allSettled([loadConfig(), loadMapData()]);
  await loadWindows();
  fitMap();
  S.timers.push(setInterval(tick, 1000));
  S.timers.push(setInterval(() => loadMapData(), 30000)); // sellers and buyers send no events
  S.timers.push(setInterval(() => { if (S.view === 'jobs') loadJobs(); }, 5000)); // the backlog moves without events
  S.timers.push(setInterval(sampleRequests, 5000));
  // countdowns that pass zero: the next state arrives as an event; this catches a missed one
  S.timers.push(setInterval(() => loadWindows(), 60000));
  sampleRequests();
}

/* ======================== the map ======================== */

function tileUrl() {
  const q = new URLSearchParams(location.search).get('tiles');
  if (q !== null) {
    try { localStorage.setItem('iceshop.tiles', q); } catch (_) { /* ignore */ }
    return q;
  }
  try { return localStorage.getItem('iceshop.tiles') || ''; } catch (_) { return ''; }
}

function applyTiles(url) {
  if (!S.map) return;
  if (S.tiles) S.map.removeLayer(S.tiles);
  S.tiles = null;
  if (url) {
    S.tiles = window.L.tileLayer(url, { maxZoom: 19, attribution: '&copy; map tiles' }).addTo(S.map);
  }
  $('#map').classList.toggle('offline', !url);
  $('#map').dataset.tiles = url ? 'on' : 'off';
}

function initMap() {
  if (S.map) return;
  const L = window.L;
  if (!L) {
    $('#map').textContent = 'Leaflet (libjs-leaflet) is not available.';
    return;
  }
  S.map = L.map('map', { zoomControl: true, attributionControl: true, keyboard: true }).setView([41.0082, 28.9784], 13);
  S.map.attributionControl.setPrefix('Leaflet');
  S.layers = {
    demand: L.layerGroup().addTo(S.map),
    windows: L.layerGroup().addTo(S.map),
    sellers: L.layerGroup().addTo(S.map),
  };
  const url = tileUrl();
  $('#tiles-url').value = url;
  applyTiles(url);
  $('#tiles-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $('#tiles-url').value.trim();
    try { localStorage.setItem('iceshop.tiles', v); } catch (_) { /* ignore */ }
    applyTiles(v);
  });
}

async function loadMapData() {
  const [s, b] = await Promise.allSettled([authed('/api/sellers?limit=2000'), authed('/api/buyers?limit=2000')]);
  if (s.status === 'fulfilled') S.sellers = s.value.sellers || [];
  if (b.status === 'fulfilled') S.buyers = b.value.buyers || [];
  drawSellers();
  drawDemand();
  drawCategoryLegend();
  mapSummary();
}

let fitted = false;
function fitMap() {
  if (!S.map || fitted) return;
  const pts = [...S.sellers, ...S.buyers].map((x) => [x.location.lat, x.location.lng]);
  if (!pts.length) return;
  S.map.fitBounds(window.L.latLngBounds(pts).pad(0.1), { maxZoom: 16 });
  fitted = true;
}

function sellerStatus(s) {
  const sup = s.supply && s.supply.signal_type ? ` · ${s.supply.signal_type}` : '';
  return `${t(`density.${s.density_status}`)}${sup}`;
}

function drawSellers() {
  if (!S.map) return;
  const L = window.L;
  S.layers.sellers.clearLayers();
  for (const s of S.sellers) {
    const m = L.circleMarker([s.location.lat, s.location.lng], {
      radius: 9,
      color: DENSITY_COLORS[s.density_status] || '#333',
      weight: 3,
      fillColor: categoryColor(s.category),
      fillOpacity: 0.95,
      className: `mk-seller mk-cat-${s.category} mk-density-${s.density_status}`,
    });
    m.bindTooltip(t('map.seller_popup', { name: s.name, cat: t(`cat.${s.category}`), density: sellerStatus(s) }));
    m.addTo(S.layers.sellers);
  }
}

function hasDemand(b) {
  if (Array.isArray(b.active_demand)) return b.active_demand.length > 0;
  if (typeof b.active_demand === 'number') return b.active_demand > 0;
  if (typeof b.has_demand === 'boolean') return b.has_demand;
  return true; // the list does not say: every buyer counts
}

function drawDemand() {
  if (!S.map) return;
  const L = window.L;
  S.layers.demand.clearLayers();
  for (const b of S.buyers) {
    if (!hasDemand(b)) continue;
    L.circle([b.location.lat, b.location.lng], {
      radius: 70,
      stroke: false,
      fillColor: '#d64541',
      fillOpacity: 0.22,
      interactive: false,
      className: 'mk-demand',
    }).addTo(S.layers.demand);
  }
}

function drawWindows() {
  if (!S.map) return;
  const L = window.L;
  S.layers.windows.clearLayers();
  const radius = (S.config && S.config.radius_m) || 1000;
  const byId = new Map();
  for (const w of S.active) byId.set(w.id, w);
  for (const w of S.windows) if (w.status === 'ACTIVE' || w.status === 'SCHEDULED') byId.set(w.id, w);
  for (const w of byId.values()) {
    const active = w.status === 'ACTIVE';
    const c = L.circle([w.location.lat, w.location.lng], {
      radius,
      color: STATUS_COLORS[w.status],
      weight: active ? 2.5 : 2,
      dashArray: active ? null : '6 6',
      fillColor: STATUS_COLORS[w.status],
      fillOpacity: active ? 0.12 : 0.05,
      className: `mk-window mk-window-${w.status}`,
    });
    const pop = el('div', {},
      el('strong', {}, w.title), el('br'),
      `${t(`status.${w.status}`)} · ${fmtMeters(radius)} · ${w.counts.committed}/${w.counts.targeted}`, el('br'),
      el('button', { type: 'button', class: 'small', onclick: () => openTrace(w.id) }, t('win.trace')));
    c.bindPopup(pop);
    c.addTo(S.layers.windows);
  }
  mapSummary();
}

function mapSummary() {
  const open = new Set([...S.active.map((w) => w.id), ...S.windows.filter((w) => w.status === 'ACTIVE' || w.status === 'SCHEDULED').map((w) => w.id)]);
  $('#map-summary').textContent = t('map.summary', { sellers: S.sellers.length, buyers: S.buyers.length, windows: open.size });
}

function drawCategoryLegend() {
  const cats = [...new Set(S.sellers.map((s) => s.category))].sort();
  const ul = $('#cat-legend');
  ul.replaceChildren(...cats.map((c) => el('li', {},
    el('span', { class: 'sw', style: `background:${categoryColor(c)}`, 'aria-hidden': 'true' }), t(`cat.${c}`))),
  ...['low', 'medium', 'high'].map((d) => el('li', {},
    el('span', { class: 'sw', style: `border:3px solid ${DENSITY_COLORS[d]}`, 'aria-hidden': 'true' }), t(`density.${d}`))));
}

/* ======================== windows ======================== */

async function loadWindows() {
  const f = $('#win-filter').value;
  const qs = f && f !== 'open' ? `&status=${f}` : '';
  const [list, active] = await Promise.allSettled([
    authed(`/api/flash-windows?limit=500${qs}`),
    authed('/api/flash-windows/active'),
  ]);
  if (list.status === 'fulfilled') {
    S.windows = list.value.windows || [];
    banner('');
  } else if (!(list.reason instanceof ApiError && list.reason.status === 401)) {
    banner(list.reason.message);
  }
  if (active.status === 'fulfilled') S.active = active.value.windows || [];
  S.windowsById = new Map([...S.active, ...S.windows].map((w) => [w.id, w]));
  renderWindows();
  drawWindows();
}

function countsCell(c) {
  return el('div', { class: 'counts' },
    el('span', { class: 'c-targeted', title: t('win.targeted') }, c.targeted),
    el('span', { class: 'c-committed', title: t('win.committed') }, c.committed),
    el('span', { class: 'c-joined', title: t('win.joined') }, c.joined),
    el('span', { class: 'c-redeemed', title: t('win.redeemed') }, c.redeemed),
    el('span', { class: 'sr-only' }, `${t('win.targeted')} ${c.targeted}, ${t('win.committed')} ${c.committed}, ${t('win.joined')} ${c.joined}, ${t('win.redeemed')} ${c.redeemed}`));
}

function countdownNode(w) {
  const c = windowCountdown(w);
  return el('div', { class: 'countdown', 'data-countdown': w.id },
    el('span', { class: 'lbl' }, c.label), el('span', { class: 'val' }, c.value));
}

function renderWindows() {
  const f = $('#win-filter').value;
  const rows = S.windows.filter((w) => (f === 'open' ? OPEN.has(w.status) : true));
  const tbody = $('#windows tbody');
  const out = [];
  for (const w of rows) {
    const sig = `${w.status}|${w.counts.targeted}|${w.counts.committed}|${w.counts.joined}|${w.counts.redeemed}`;
    const before = S.seen.get(w.id);
    S.seen.set(w.id, sig);
    const tr = el('tr', { 'data-window-id': w.id, 'data-status': w.status, class: before && before !== sig ? 'flash' : before ? '' : S.seenAny ? 'flash' : '' },
      el('td', {},
        el('div', { class: 'win-title' }, w.title || `#${w.id}`),
        el('div', { class: 'win-sub' }, `#${w.id} · ${w.seller_name || w.seller_id} · ${fmtClock(w.start_time)}–${fmtClock(w.end_time)}`),
        w.cancel_reason ? el('div', { class: 'win-sub' }, w.cancel_reason) : null),
      el('td', {}, el('span', { class: `badge ${w.status}` }, t(`status.${w.status}`))),
      el('td', {}, countsCell(w.counts)),
      el('td', {}, countdownNode(w)),
      el('td', {}, el('button', { type: 'button', class: 'small trace-btn', 'data-trace': w.id, 'aria-label': t('win.trace_of', { id: w.id }), onclick: () => openTrace(w.id) }, t('win.trace'))));
    out.push(tr);
  }
  S.seenAny = true;
  tbody.replaceChildren(...out);
  $('#windows-empty').hidden = rows.length > 0;
}

/* ======================== decision trace ======================== */

async function openTrace(id) {
  S.traceId = id;
  S.trace = null;
  const d = $('#trace');
  $('#trace-h').textContent = t('win.trace_of', { id });
  $('#trace-body').replaceChildren(el('p', { class: 'muted' }, t('common.loading')));
  if (!d.open) d.showModal();
  await loadTrace(id);
}

async function loadTrace(id) {
  try {
    const [w, m] = await Promise.all([
      authed(`/api/flash-windows/${id}`),
      authed(`/api/messages?window_id=${id}&limit=100`).catch(() => ({ messages: [] })),
    ]);
    if (S.traceId !== id) return;
    S.trace = w;
    S.traceMessages = m.messages || [];
    renderTrace();
  } catch (err) {
    if (S.traceId === id) $('#trace-body').replaceChildren(el('p', { class: 'form-error' }, err.message));
  }
}

function pct(x) { return `${fmtNumber(x * 100, 0)}%`; }

function bar(x, color) {
  return el('div', { class: 'bar', role: 'presentation' }, el('span', { style: `width:${Math.max(0, Math.min(1, x)) * 100}%;${color ? `background:${color}` : ''}` }));
}

function renderTrace() {
  const w = S.trace;
  if (!w) return;
  const tr = w.decision_trace || null;
  $('#trace-h').textContent = `${t('win.trace_of', { id: w.id })} — ${w.title}`;
  const parts = [];
  parts.push(el('div', { class: 'score-line' },
    el('span', { class: `badge ${w.status}` }, t(`status.${w.status}`)),
    el('span', {}, `${w.seller_name || w.seller_id} · ${fmtClock(w.start_time)}–${fmtClock(w.end_time)}`),
    countdownNode(w),
    countsCell(w.counts)));

  if (!tr) {
    parts.push(el('p', { class: 'muted' }, t('trace.none')));
  } else if (tr.origin === 'manual') {
    parts.push(el('p', { class: 'why' }, t('trace.manual')));
  }
  if (tr && tr.score) {
    const sc = tr.score;
    const sumW = COMPONENTS.reduce((a, k) => a + (sc.weights[k] || 0), 0) || 1;
    parts.push(el('h3', {}, t('trace.score')));
    parts.push(el('div', { class: 'score-line trace-score' },
      el('span', { class: 'big' }, fmtNumber(sc.total, 3)),
      el('span', { class: 'muted' }, `${t('trace.threshold')} ${fmtNumber(sc.threshold, 2)}`),
      el('div', { style: 'flex:1;min-width:160px' }, bar(sc.total, sc.total >= sc.threshold ? '#1b7f3b' : '#b3261e'))));
    parts.push(el('h3', {}, t('trace.components')));
    parts.push(el('table', { class: 'table trace-components' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('trace.component')), el('th', { scope: 'col' }, t('trace.value')), el('th', { scope: 'col' }),
        el('th', { scope: 'col' }, t('trace.weight')), el('th', { scope: 'col' }, t('trace.contribution')))),
      el('tbody', {}, COMPONENTS.map((k) => {
        const v = sc.components[k] ?? 0, wt = sc.weights[k] ?? 0;
        return el('tr', { 'data-component': k },
          el('th', { scope: 'row' }, t(`trace.c.${k}`)),
          el('td', {}, fmtNumber(v, 2)),
          el('td', { style: 'width:30%' }, bar(v)),
          el('td', {}, fmtNumber(wt, 2)),
          el('td', {}, fmtNumber((v * wt) / sumW, 3)));
      }))));
  }
  if (tr && tr.counts) {
    parts.push(el('p', {}, t('trace.counts', { nearby: tr.counts.nearby, matching: tr.counts.matching, targets: tr.counts.targets, mean: Math.round(tr.counts.mean_distance_m) })));
  }
  const targets = tr && Array.isArray(tr.targets) ? tr.targets : (w.targets || []);
  parts.push(el('h3', {}, t('trace.buyers')));
  parts.push(el('table', { class: 'table trace-targets' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('trace.buyer')), el('th', { scope: 'col' }, t('trace.distance')),
      el('th', { scope: 'col' }, t('trace.discount')), el('th', { scope: 'col' }, t('trace.why')))),
    el('tbody', {}, targets.map((x) => el('tr', {},
      el('td', {}, x.buyer_id), el('td', {}, fmtMeters(x.distance_m)), el('td', {}, fmtPercent(x.discount)), el('td', {}, serverText(x.why)))))));
  if (tr && tr.discount) {
    parts.push(el('h3', {}, t('trace.discount_why')));
    parts.push(el('p', { class: 'why trace-discount' }, `${fmtPercent(tr.discount.percent)} — ${serverText(tr.discount.why)}`));
  }
  if (tr && tr.timing) {
    parts.push(el('h3', {}, t('trace.timing_why')));
    parts.push(el('p', { class: 'why trace-timing' }, serverText(tr.timing.why)));
  }
  if (tr && tr.approval) {
    parts.push(el('p', {}, el('strong', {}, `${t('trace.approval')}: `), t(`trace.approval.${tr.approval}`)));
  }
  if (tr && tr.why && tr.origin !== 'manual') parts.push(el('p', { class: 'why' }, serverText(tr.why)));

  // the window's messages, with the signed links they carry
  const msgs = S.traceMessages;
  if (msgs.length) {
    const sellerLink = msgs.map((m) => (m.body.match(/https?:\/\/\S+\/s\/[\w.-]+/) || [])[0]).find(Boolean);
    parts.push(el('h3', {}, t('trace.messages')));
    if (sellerLink) parts.push(el('p', { class: 'links' }, el('a', { href: sellerLink, target: '_blank', rel: 'noopener', class: 'seller-link' }, t('trace.seller_link'))));
    parts.push(el('table', { class: 'table' }, el('tbody', {}, msgs.map((m) => el('tr', {},
      el('td', {}, fmtClock(m.created_at)),
      el('td', {}, `${m.recipient_kind} ${m.recipient_id}`),
      el('td', {}, m.kind),
      el('td', {}, el('span', { class: `badge ${m.status}` }, t(`msg.${m.status}`))))))));
  }
  $('#trace-body').replaceChildren(...parts);
}

function setupTrace() {
  const d = $('#trace');
  $('#trace-close').addEventListener('click', () => d.close());
  d.addEventListener('close', () => {
    const id = S.traceId;
    S.traceId = 0;
    S.trace = null;
    const back = $(`[data-trace="${id}"]`);
    if (back) back.focus();
  });
  d.addEventListener('click', (e) => { if (e.target === d) d.close(); }); // the backdrop
}

/* ======================== messages ======================== */

async function loadMessages() {
  const f = $('#msg-filter').value;
  try {
    /* outbound from the outbox; inbound (what people wrote) from the webhook's event log */
    const [out, inb] = await Promise.all([
      authed(`/api/messages?limit=200${f ? `&status=${f}` : ''}`),
      f ? Promise.resolve({ events: [] }) : authed('/api/chat/events?limit=100').catch(() => ({ events: [] })),
    ]);
    const inbound = (inb.events || []).filter((ev) => ev.kind !== 'status').map((ev) => ({
      id: `in-${ev.id}`,
      direction: 'in',
      from: ev.from,
      kind: ev.type,
      text: ev.text || `(${ev.type})`,
      created_at: ev.received_at,
      status: ev.processed_at ? 'processed' : 'received',
    }));
    S.messages = [...(out.messages || []), ...inbound]
      .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  } catch (err) {
    banner(err.message);
    return;
  }
  renderMessages();
}

/* Message text with its signed links as short anchors (the tokens are long). */
function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/\S+/g)) {
    out.push(text.slice(last, m.index));
    const path = m[0].replace(/^https?:\/\/[^/]+/, '');
    out.push(el('a', { href: m[0], target: '_blank', rel: 'noopener', title: m[0] }, path.length > 18 ? `${path.slice(0, 15)}…` : path));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function renderMessages() {
  const rows = S.messages.map((m) => {
    const dir = m.direction === 'in' || m.direction === 'inbound' ? 'in' : 'out';
    return el('tr', { 'data-message-id': m.id },
      el('td', { class: 'countdown' }, fmtTime(m.created_at)),
      el('td', {}, el('span', { class: `badge ${dir}` }, t(`msgs.${dir}`))),
      el('td', {}, `${m.recipient_kind || ''} ${m.recipient_id || m.from || ''}`),
      el('td', {}, m.kind || ''),
      el('td', { class: 'body' }, linkify(m.body || m.text || '')),
      el('td', {}, el('span', { class: `badge ${m.status}` }, t(`msg.${m.status}`)), m.error ? el('div', { class: 'field-error' }, m.error) : null));
  });
  $('#messages tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, t('common.none')))]));
}

/* ======================== billing ======================== */

const BILL_MAX_SELLERS = 200; // statements fetched for the first sellers by name

async function loadBilling() {
  const input = $('#bill-month');
  if (!input.value) input.value = new Date().toISOString().slice(0, 7);
  const month = input.value;
  const sellers = [...S.sellers].sort((a, b) => a.name.localeCompare(b.name)).slice(0, BILL_MAX_SELLERS);
  const rows = [];
  for (let i = 0; i < sellers.length; i += 8) {
    const part = await Promise.all(sellers.slice(i, i + 8).map((s) =>
      authed(`/api/sellers/${encodeURIComponent(s.id)}/statement?month=${month}`)
        .then((st) => ({ s, st }))
        .catch(() => ({ s, st: null }))));
    rows.push(...part);
  }
  if ($('#bill-month').value !== month) return; // another month was asked for meanwhile
  S.billing = rows;
  renderBilling();
}

function renderBilling() {
  const rows = (S.billing || []).map(({ s, st }) => {
    const fees = st && st.totals.length ? st.totals.map((x) => `${x.fees} ${x.currency}`).join(', ') : '—';
    return el('tr', { 'data-seller-id': s.id },
      el('td', {}, s.name),
      el('td', {}, t(`cat.${s.category}`)),
      el('td', { class: 'num' }, st ? String(st.windows.length) : '—'),
      el('td', { class: 'num c-visits' }, st ? String(st.visits) : '—'),
      el('td', { class: 'num c-fees' }, fees));
  });
  $('#billing tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, t('common.none')))]));
}

/* ======================== jobs ======================== */

async function loadJobs() {
  const state = $('#job-filter').value;
  const [h, j] = await Promise.allSettled([authed('/health/detailed'), authed(`/api/jobs?${state ? `state=${state}&` : ''}limit=100`)]);
  if (h.status === 'fulfilled') S.health = h.value;
  else if (h.reason instanceof ApiError && h.reason.status === 503) S.health = null;
  if (j.status === 'fulfilled') S.jobs = j.value.jobs || [];
  renderJobs();
}

function renderJobs() {
  /* signed in, the answer carries this tenant's own backlog; the public one has totals only */
  const jobs = S.health ? ((S.health.tenant || S.health.checks || {}).jobs || {}) : {};
  $('#backlog').replaceChildren(...['pending', 'running', 'done', 'dead'].map((k) => el('li', { class: k, 'data-state': k },
    el('span', { class: 'n' }, jobs[k] ?? '–'), t(`job.${k}`))));
  const w = S.health && S.health.checks ? S.health.checks.workers : null;
  $('#workers').textContent = w ? t('jobs.workers', w) : '';
  const state = $('#job-filter').value;
  const rows = S.jobs.map((j) => el('tr', { 'data-job-id': j.id },
    el('td', {}, j.id),
    el('td', {}, j.name),
    el('td', {}, `${j.attempts}/${j.max_attempts}`),
    el('td', { class: 'countdown' }, fmtTime(j.finished_at || j.run_at)),
    el('td', { class: 'body' }, j.last_error || ''),
    el('td', {}, j.state === 'dead' ? el('button', { type: 'button', class: 'small', 'aria-label': `${t('jobs.retry')} #${j.id}`, onclick: (e) => retryJob(j.id, e.currentTarget) }, t('jobs.retry')) : el('span', { class: `badge ${j.state}` }, t(`job.${j.state}`)))));
  $('#jobs tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, `${t('common.none')} (${t(`job.${state || 'all'}`)})`))]));
}

async function retryJob(id, btn) {
  btn.disabled = true;
  try {
    await authed(`/api/jobs/${id}/retry`, { method: 'POST' });
    $('#jobs-status').textContent = t('jobs.retried', { id });
    loadJobs();
  } catch (err) {
    $('#jobs-status').textContent = '';
    banner(err.message);
    btn.disabled = false;
  }
}

/* ======================== settings ======================== */

async function loadConfig() {
  S.config = await authed('/api/campaigns/config');
  setTzOffset(S.config.tz_offset_min);
  return S.config;
}

async function loadSettings() {
  try {
    await loadConfig();
  } catch (err) {
    $('#settings-error').textContent = err.message;
    return;
  }
  fillSettings(S.config);
}

function fillSettings(c) {
  for (const input of $$('#settings input[data-field]')) {
    const path = input.dataset.field;
    if (path.startsWith('tiers[')) continue;
    const v = path.split('.').reduce((o, k) => (o == null ? o : o[k]), c);
    input.value = v ?? '';
  }
  renderTiers(c.tiers || []);
  clearErrors();
}

function renderTiers(tiers) {
  const box = $('#tiers');
  box.replaceChildren(...tiers.map((tier, i) => {
    const n = i + 1;
    const idM = `f-tier-${i}-max`, idD = `f-tier-${i}-disc`;
    return el('div', { class: 'tier', 'data-tier': i },
      el('div', { class: 'field' }, el('label', { for: idM }, t('set.tier_max', { n })),
        el('input', { id: idM, type: 'number', step: 'any', inputmode: 'numeric', 'data-field': `tiers[${i}].max_m`, value: tier.max_m ?? '' })),
      el('div', { class: 'field' }, el('label', { for: idD }, t('set.tier_discount', { n })),
        el('input', { id: idD, type: 'number', step: '1', inputmode: 'numeric', 'data-field': `tiers[${i}].discount`, value: tier.discount ?? '' })),
      el('button', { type: 'button', class: 'ghost small', 'aria-label': t('set.tier_remove', { n }), onclick: () => { renderTiers(readTiers().filter((_, j) => j !== i)); } }, '✕'));
  }));
}

function readTiers() {
  return $$('#tiers .tier').map((row) => ({
    max_m: num($('input[data-field$=".max_m"]', row).value),
    discount: num($('input[data-field$=".discount"]', row).value),
  }));
}

function num(v) {
  if (v === '' || v == null) return null;
  const n = Number(v);
  return Number.isNaN(n) ? v : n;
}

function clearErrors() {
  for (const e of $$('#settings .field-error[data-dyn]')) e.remove();
  $('#err-tiers').textContent = '';
  for (const i of $$('#settings [aria-invalid]')) {
    i.removeAttribute('aria-invalid');
    i.removeAttribute('aria-describedby');
  }
  $('#settings-error').textContent = '';
  $('#settings-ok').textContent = '';
}

/* The server names the field it rejects ("threshold", "tiers[1].max_m", "weights.demand"). */
function showFieldError(field, message) {
  let input = field ? $(`#settings [data-field="${CSS.escape(field)}"]`) : null;
  if (!input && field) {
    // "weights" or "tiers[2]": the first input under it
    input = $$('#settings input[data-field]').find((i) => i.dataset.field.startsWith(field));
  }
  if (field === 'tiers' || (!input && field && field.startsWith('tiers'))) {
    $('#err-tiers').textContent = serverText(message);
    return $('#err-tiers');
  }
  if (!input || input.tagName !== 'INPUT') {
    $('#settings-error').textContent = t('set.failed', { msg: serverText(message) });
    return null;
  }
  const id = `err-${input.id}`;
  const p = el('p', { class: 'field-error', id, 'data-dyn': '1', 'data-error-for': input.dataset.field, role: 'alert' }, serverText(message));
  input.closest('.field').append(p);
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', id);
  input.focus();
  return p;
}

function setupSettings() {
  $('#tier-add').addEventListener('click', () => {
    const tiers = readTiers();
    const last = tiers[tiers.length - 1] || { max_m: 0, discount: 10 };
    tiers.push({ max_m: (Number(last.max_m) || 0) + 300, discount: last.discount });
    renderTiers(tiers);
    $('#tiers .tier:last-child input').focus();
  });
  $('#settings').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const body = { weights: {} };
    for (const input of $$('#settings input[data-field]')) {
      const path = input.dataset.field;
      if (path.startsWith('tiers[')) continue;
      if (path.startsWith('weights.')) body.weights[path.slice(8)] = num(input.value);
      else body[path] = num(input.value);
    }
    body.tiers = readTiers();
    const btn = $('#settings button[type=submit]');
    btn.disabled = true;
    try {
      S.config = await authed('/api/campaigns/config', { method: 'PUT', body });
      setTzOffset(S.config.tz_offset_min);
      fillSettings(S.config);
      $('#settings-ok').textContent = t('common.saved');
      drawWindows(); // the radius may have changed
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) showFieldError(err.field, err.message);
      else $('#settings-error').textContent = t('set.failed', { msg: err.message });
    } finally {
      btn.disabled = false;
    }
  });
}

/* ======================== charts ======================== */

const charts = {};

function hourKey(iso) {
  const d = new Date(iso);
  d.setMinutes(0, 0, 0);
  return d.getTime();
}

function hourLabel(ms) {
  return new Date(ms).toLocaleTimeString(getLang() === 'tr' ? 'tr-TR' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
}

function lastHours(n) {
  const now = hourKey(new Date(clock.now()).toISOString());
  return Array.from({ length: n }, (_, i) => now - (n - 1 - i) * 3600000);
}

async function loadCharts() {
  const [w, m] = await Promise.allSettled([authed('/api/flash-windows?limit=500'), authed('/api/messages?limit=500')]);
  const windows = w.status === 'fulfilled' ? w.value.windows || [] : S.windows;
  const messages = m.status === 'fulfilled' ? m.value.messages || [] : S.messages;
  drawCharts(windows, messages);
}

function drawCharts(windows, messages) {
  const Chart = window.Chart;
  if (!Chart) return;
  Chart.defaults.animation = false;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.color = '#3c4350';
  const hours = lastHours(12);
  const labels = hours.map(hourLabel);

  // windows per hour of start, stacked by status, and the conversion (redeemed / targeted)
  const statuses = ['ACTIVE', 'SCHEDULED', 'PROPOSED', 'EXPIRED', 'CANCELLED'];
  const counts = Object.fromEntries(statuses.map((s) => [s, hours.map(() => 0)]));
  const targeted = hours.map(() => 0), redeemed = hours.map(() => 0);
  for (const x of windows) {
    const i = hours.indexOf(hourKey(x.start_time));
    if (i < 0) continue;
    counts[x.status][i]++;
    targeted[i] += x.counts.targeted;
    redeemed[i] += x.counts.redeemed;
  }
  const conv = hours.map((_, i) => (targeted[i] ? (100 * redeemed[i]) / targeted[i] : null));
  upsertChart('windows', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        ...statuses.map((s) => ({ type: 'bar', label: t(`status.${s}`), data: counts[s], backgroundColor: STATUS_COLORS[s], stack: 'w', yAxisID: 'y' })),
        { type: 'line', label: t('charts.conversion'), data: conv, borderColor: '#e4572e', backgroundColor: '#e4572e', yAxisID: 'y2', spanGaps: true, tension: 0.2 },
      ],
    },
    options: {
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: t('charts.windows_count') } },
        y2: { position: 'right', beginAtZero: true, suggestedMax: 100, grid: { drawOnChartArea: false }, title: { display: true, text: t('charts.conversion') } },
      },
    },
  });

  // requests per second by status class, from /metrics samples
  const smp = S.requestSamples;
  const rl = [], r2 = [], r4 = [], r5 = [];
  for (let i = 1; i < smp.length; i++) {
    const dt = (smp[i].t - smp[i - 1].t) / 1000 || 1;
    rl.push(new Date(smp[i].t).toLocaleTimeString(getLang() === 'tr' ? 'tr-TR' : 'en-GB'));
    r2.push(Math.max(0, (smp[i].c['2xx'] - smp[i - 1].c['2xx']) / dt));
    r4.push(Math.max(0, (smp[i].c['4xx'] - smp[i - 1].c['4xx']) / dt));
    r5.push(Math.max(0, (smp[i].c['5xx'] - smp[i - 1].c['5xx']) / dt));
  }
  upsertChart('requests', {
    type: 'line',
    data: {
      labels: rl,
      datasets: [
        { label: '2xx', data: r2, borderColor: '#1b7f3b', backgroundColor: '#1b7f3b', tension: 0.2 },
        { label: '4xx', data: r4, borderColor: '#b26a00', backgroundColor: '#b26a00', tension: 0.2 },
        { label: '5xx', data: r5, borderColor: '#b3261e', backgroundColor: '#b3261e', tension: 0.2 },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });

  // messages per hour by delivery status
  const mstat = ['pending', 'sent', 'delivered', 'read', 'failed'];
  const mcol = { pending: '#c99a00', sent: '#1f5fbf', delivered: '#1b7f3b', read: '#0f5132', failed: '#b3261e' };
  const mc = Object.fromEntries(mstat.map((s) => [s, hours.map(() => 0)]));
  for (const x of messages) {
    const i = hours.indexOf(hourKey(x.created_at));
    if (i >= 0 && mc[x.status]) mc[x.status][i]++;
  }
  upsertChart('messages', {
    type: 'bar',
    data: { labels, datasets: mstat.map((s) => ({ label: t(`msg.${s}`), data: mc[s], backgroundColor: mcol[s], stack: 'm' })) },
    options: { maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function upsertChart(name, cfg) {
  const Chart = window.Chart;
  if (charts[name]) {
    charts[name].data = cfg.data;
    charts[name].options = cfg.options;
    charts[name].update('none');
    return;
  }
  charts[name] = new Chart($(`#chart-${name}`), cfg);
}

async function sampleRequests() {
  if (!S.cred) return;
  let text;
  try {
    text = await api('/metrics', { text: true });
  } catch (_) {
    return;
  }
  const c = { '2xx': 0, '4xx': 0, '5xx': 0 };
  const re = /^iceshop_http_requests_total\{([^}]*)\}\s+([0-9.eE+]+)/gm;
  let m;
  while ((m = re.exec(text))) {
    const st = (m[1].match(/status="(\d)/) || [])[1];
    const cls = st === '2' || st === '3' ? '2xx' : st === '4' ? '4xx' : st === '5' ? '5xx' : null;
    if (cls) c[cls] += Number(m[2]);
  }
  S.requestSamples.push({ t: Date.now(), c });
  if (S.requestSamples.length > 61) S.requestSamples.shift();
  if (S.view === 'charts') refreshChartsSoon();
}

/* ======================== language ======================== */

function rerender() {
  setLive($('#live').classList.contains('on'));
  renderWindows();
  drawSellers();
  drawWindows();
  drawCategoryLegend();
  mapSummary();
  if (S.trace) renderTrace();
  if (S.view === 'messages') renderMessages();
  if (S.view === 'jobs') renderJobs();
  if (S.view === 'billing') renderBilling();
  if (S.view === 'customers') customersRerender();
  if (S.view === 'recovery') recoveryRerender();
  if (S.view === 'settings' && S.config) renderTiers(readTiers());
  if (S.view === 'charts') loadCharts();
  document.title = t('admin.title');
}

/* ======================== boot ======================== */

function boot() {
  for (const slot of $$('.lang-slot')) slot.append(langSwitch());
  applyI18n(document);
  document.title = t('admin.title');
  onLangChange(() => { if (S.cred) rerender(); else document.title = t('admin.title'); });
  setupSignin();
  setupTabs();
  setupTrace();
  setupSettings();
  $('#win-filter').addEventListener('change', () => loadWindows());
  $('#msg-filter').addEventListener('change', () => loadMessages());
  $('#bill-month').addEventListener('change', () => loadBilling());
  customersSetup(authed);
  recoverySetup(authed);
  $('#job-filter').addEventListener('change', () => loadJobs());
  const cred = session.get();
  if (!cred) {
    showSignin();
    return;
  }
  api('/api/me', { token: cred })
    .then((me) => start(cred, me))
    .catch((err) => { session.clear(); showSignin(err.status === 401 ? t('signin.expired') : err.message); });
}

// Leaflet and Chart.js are classic deferred scripts: they have run before this module.
boot();
