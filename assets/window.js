// SPDX-License-Identifier: MIT
// The buyer's page at /w/{token} (a signed, expiring link from a WhatsApp offer; no login): the
// offer, the seller on a map with the walking distance, a countdown, join / cancel, and after
// joining the redemption code as text and QR; a prepaid offer's "pay" goes to the payment
// provider's hosted page. Polls /api/public/w/{token} every few seconds.
import { t, applyI18n, langSwitch, onLangChange, $, api, clock, windowCountdown, fmtMeters, fmtClock, walkMinutes, pathToken } from '/assets/common.js';

const token = pathToken();
const base = `/api/public/w/${encodeURIComponent(token)}`;
let data = null;
let map = null;
let shownCode = '';
let busy = false;
let lastPhase = '';

let fatalKey = '';

/* A dead end (bad or expired link, window gone): say so and stop polling. */
function fatal(msg, key = '') {
  fatalKey = key;
  $('#loading').hidden = true;
  for (const id of ['offer', 'clock', 'where', 'act', 'code-card']) $(`#${id}`).hidden = true;
  const f = $('#fatal');
  f.textContent = msg;
  f.hidden = false;
}

async function load() {
  try {
    const d = await api(base);
    accept(d);
  } catch (err) {
    handle(err, true);
  }
}

function accept(d) {
  data = d;
  clock.sync(d.now);
  $('#fatal').hidden = true;
  render();
}

function handle(err, loading) {
  if (err.status === 401) return fatal(t('buyer.bad_link'), 'buyer.bad_link');
  if (err.status === 404) return fatal(t('buyer.gone'), 'buyer.gone');
  if (loading && !data) return fatal(err.message);
  $('#act-error').textContent = err.message;
  return null;
}

function tileUrl() {
  const q = new URLSearchParams(location.search).get('tiles');
  if (q !== null) return q;
  try { return localStorage.getItem('iceshop.tiles') || ''; } catch (_) { return ''; }
}

function drawMap() {
  const L = window.L;
  if (!L || map) return;
  const w = data.window, b = data.buyer;
  const seller = [w.location.lat, w.location.lng];
  map = L.map('map', { zoomControl: false, attributionControl: false, keyboard: true, scrollWheelZoom: false });
  const tiles = tileUrl();
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    $('#map').classList.add('tiles');
  }
  const pts = [seller];
  if (b.location && (b.location.lat || b.location.lng)) {
    const me = [b.location.lat, b.location.lng];
    pts.push(me);
    L.polyline([me, seller], { color: '#0b5cad', weight: 3, dashArray: '4 8' }).addTo(map);
    L.circleMarker(me, { radius: 8, color: '#fff', weight: 3, fillColor: '#0b5cad', fillOpacity: 1, className: 'mk-buyer' })
      .bindTooltip(t('buyer.you'), { permanent: true, direction: 'bottom', offset: [0, 8], className: 'tt-you' }).addTo(map);
  }
  L.circleMarker(seller, { radius: 11, color: '#fff', weight: 3, fillColor: '#b8401c', fillOpacity: 1, className: 'mk-seller' })
    .bindTooltip(w.seller_name || '', { permanent: true, direction: 'top', offset: [0, -10] }).addTo(map);
  if (pts.length > 1) map.fitBounds(L.latLngBounds(pts).pad(0.35), { maxZoom: 17 });
  else map.setView(seller, 16);
}

function render() {
  if (!data) return;
  const w = data.window, b = data.buyer;
  $('#loading').hidden = true;
  document.title = `${w.seller_name || t('buyer.title')} · Iceshop`;

  $('#offer').hidden = false;
  $('#seller').textContent = b.name ? `${t('buyer.hello', { name: b.name })} · ${w.seller_name}` : w.seller_name;
  $('#title').textContent = w.title;
  const disc = b.discount || w.discount_percent;
  $('#discount').textContent = disc ? t('buyer.discount', { n: disc }) : '';
  $('#discount').hidden = !disc;
  $('#desc').textContent = w.description;
  $('#meta').textContent = `${fmtClock(w.start_time)}–${fmtClock(w.end_time)} · ${t('buyer.capacity', { n: w.capacity })}`;

  $('#clock').hidden = false;
  $('#status').className = `badge ${w.status}`;
  $('#status').textContent = t(`status.${w.status}`);
  tick();

  $('#where').hidden = false;
  drawMap();
  $('#distance').textContent = b.distance_m != null ? t('buyer.distance', { m: fmtMeters(b.distance_m), min: walkMinutes(b.distance_m) }) : '';

  const active = w.status === 'ACTIVE';
  const open = active || w.status === 'SCHEDULED' || w.status === 'PROPOSED';
  const st = data.state;
  const join = $('#join'), cancel = $('#cancel'), msg = $('#state');
  $('#act').hidden = false;
  $('#act').dataset.state = st;
  msg.className = 'state';
  const pay = $('#pay');
  join.hidden = true;
  cancel.hidden = true;
  pay.hidden = true;
  // a prepaid offer is joined by paying on the payment provider's own page
  const order = data.prepay ? data.order : null;
  if (data.prepay && st === 'offered' && open && order && order.status === 'pending') {
    msg.textContent = t('buyer.to_pay', { amount: `${order.amount} ${order.currency}` });
    if (order.pay_url) {
      pay.href = order.pay_url;
      pay.hidden = false;
    } else {
      join.hidden = false;
      join.textContent = t('buyer.pay');
    }
  } else if (data.prepay && st === 'offered' && open) {
    msg.textContent = t('buyer.prepaid');
    join.hidden = false;
    join.textContent = t('buyer.pay');
  } else if (st === 'offered' && open) {
    msg.textContent = t('buyer.offered');
    join.hidden = false;
    join.textContent = active ? t('buyer.get_code') : t('buyer.join');
  } else if (st === 'committed') {
    msg.textContent = active ? t('buyer.active_committed') : t('buyer.committed');
    msg.classList.add('ok');
    join.hidden = !active;
    join.textContent = t('buyer.get_code');
    cancel.hidden = active;
  } else if (st === 'joined') {
    msg.textContent = '';
    $('#act').hidden = true; // the code card says it all
  } else if (st === 'redeemed') {
    msg.textContent = t('buyer.redeemed');
    msg.classList.add('ok');
  } else {
    msg.textContent = t('buyer.closed');
  }

  const code = data.code || '';
  $('#code-card').hidden = !code;
  $('#code-card').classList.toggle('used', st === 'redeemed');
  if (code && code !== shownCode) {
    $('#code').textContent = code;
    // the server draws the code (an SVG from libqrencode) for this link's own buyer only
    const img = document.createElement('img');
    img.src = `${base}/qr.svg?c=${encodeURIComponent(code)}`;
    img.width = 220;
    img.height = 220;
    $('#qr').replaceChildren(img);
    shownCode = code;
  }
  if (code) $('#qr img').alt = t('buyer.qr', { code });
}

function tick() {
  if (!data) return;
  const c = windowCountdown(data.window);
  $('#clock-lbl').textContent = c.label;
  $('#clock-val').textContent = c.value;
  // the moment it starts or ends, ask for the new state rather than wait for the next poll
  if (lastPhase && c.phase !== lastPhase) setTimeout(load, 1500);
  lastPhase = c.phase;
}

async function act(path, btn) {
  if (busy) return;
  busy = true;
  btn.disabled = true;
  $('#act-error').textContent = '';
  try {
    accept(await api(`${base}/${path}`, { method: 'POST' }));
    if (data.code) $('#code').focus?.();
    // a prepaid offer: on to the provider's page (card data never passes through here)
    else if (path === 'join' && data.order && data.order.status === 'pending' && data.order.pay_url) window.location.assign(data.order.pay_url);
  } catch (err) {
    handle(err, false);
  } finally {
    busy = false;
    btn.disabled = false;
  }
}

function boot() {
  $('.lang-slot').append(langSwitch());
  applyI18n(document);
  onLangChange(() => {
    if (fatalKey) $('#fatal').textContent = t(fatalKey);
    render();
    if (map) map.eachLayer((l) => { if (l.getTooltip && l.getTooltip() && l.options.className === 'mk-buyer') l.setTooltipContent(t('buyer.you')); });
  });
  $('#join').addEventListener('click', (e) => act('join', e.currentTarget));
  $('#cancel').addEventListener('click', (e) => act('cancel', e.currentTarget));
  $('#code').tabIndex = -1;
  if (!token) {
    fatal(t('buyer.bad_link'), 'buyer.bad_link');
    return;
  }
  load();
  setInterval(tick, 1000);
  setInterval(() => { if (!document.hidden && !busy && !fatalKey) load(); }, 4000);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && !fatalKey) load(); });
}

boot();
