// SPDX-License-Identifier: MIT
// The seller's page at /s/{token} (a signed link from the seller's WhatsApp messages; no login):
// the window's live pre-commits, expected arrivals and participants, and a field to redeem a
// customer's code; while the window is only proposed, buttons to approve or reject it. Polls
// /api/public/s/{token} every few seconds.
import { t, applyI18n, langSwitch, onLangChange, $, api, clock, windowCountdown, fmtClock, pathToken } from '/assets/common.js';

const token = pathToken();
const base = `/api/public/s/${encodeURIComponent(token)}`;
let data = null;
let lastPhase = '';
let lastOk = '';
let decided = ''; // 'approve' | 'reject' once the seller answered here

let fatalKey = '';

/* A dead end (bad or expired link, window gone): say so and stop polling. */
function fatal(msg, key = '') {
  fatalKey = key;
  $('#loading').hidden = true;
  for (const id of ['offer', 'clock', 'stats', 'redeem-card', 'decide-card']) $(`#${id}`).hidden = true;
  $('#fatal').textContent = msg;
  $('#fatal').hidden = false;
}

async function load() {
  try {
    accept(await api(base));
  } catch (err) {
    if (err.status === 401 || err.status === 404) fatal(t('seller.bad_link'), 'seller.bad_link');
    else if (!data) fatal(err.message);
  }
}

function accept(d) {
  data = d;
  clock.sync(d.now);
  render();
}

function render() {
  if (!data) return;
  const w = data.window;
  $('#loading').hidden = true;
  $('#fatal').hidden = true;
  document.title = `${w.seller_name || t('seller.title')} · Iceshop`;
  $('#offer').hidden = false;
  $('#seller').textContent = w.seller_name;
  $('#title').textContent = w.title;
  $('#meta').textContent = `${fmtClock(w.start_time)}–${fmtClock(w.end_time)}`;
  $('#clock').hidden = false;
  $('#status').className = `badge ${w.status}`;
  $('#status').textContent = t(`status.${w.status}`);
  tick();
  $('#stats').hidden = false;
  const c = data.counts;
  $('#n-committed').textContent = c.committed;
  $('#n-expected').textContent = data.expected;
  $('#n-joined').textContent = c.joined;
  $('#n-redeemed').textContent = c.redeemed;
  $('#n-targeted').textContent = c.targeted;
  $('#decide-card').hidden = w.status !== 'PROPOSED';
  $('#redeem-card').hidden = w.status === 'PROPOSED' || w.status === 'CANCELLED';
  if (decided) $('#decide-msg').textContent = t(decided === 'approve' ? 'seller.approved' : 'seller.rejected');
  if (lastOk) $('#redeem-msg').textContent = t('seller.ok', { code: lastOk });
}

function tick() {
  if (!data) return;
  const c = windowCountdown(data.window);
  $('#clock-lbl').textContent = c.label;
  $('#clock-val').textContent = c.value;
  if (lastPhase && c.phase !== lastPhase) setTimeout(load, 1500);
  lastPhase = c.phase;
}

function boot() {
  $('.lang-slot').append(langSwitch());
  applyI18n(document);
  onLangChange(() => {
    if (fatalKey) $('#fatal').textContent = t(fatalKey);
    render();
  });
  for (const verb of ['approve', 'reject']) {
    $(`#${verb}`).addEventListener('click', async (e) => {
      const btns = [$('#approve'), $('#reject')];
      for (const b of btns) b.disabled = true;
      const msg = $('#decide-msg');
      msg.className = '';
      msg.textContent = '';
      try {
        const d = await api(`${base}/${verb}`, { method: 'POST' });
        decided = verb;
        msg.className = 'ok';
        accept(d);
      } catch (err) {
        if (err.status === 401) { fatal(t('seller.bad_link'), 'seller.bad_link'); return; }
        msg.className = 'error';
        msg.textContent = err.message;
        e.currentTarget.focus();
      } finally {
        for (const b of btns) b.disabled = false;
      }
    });
  }
  const input = $('#code');
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
  $('#redeem').addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = input.value.trim().toUpperCase();
    const msg = $('#redeem-msg');
    const btn = $('#redeem button[type=submit]');
    lastOk = '';
    msg.className = '';
    msg.textContent = '';
    if (!code) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    btn.disabled = true;
    try {
      const d = await api(`${base}/redeem`, { method: 'POST', body: { code } });
      lastOk = code;
      msg.className = 'ok';
      input.value = '';
      accept(d);
    } catch (err) {
      if (err.status === 401) { fatal(t('seller.bad_link'), 'seller.bad_link'); return; }
      msg.className = 'error';
      msg.textContent = err.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } finally {
      btn.disabled = false;
    }
  });
  if (!token) {
    fatal(t('seller.bad_link'), 'seller.bad_link');
    return;
  }
  load();
  setInterval(tick, 1000);
  setInterval(() => { if (!document.hidden && !fatalKey) load(); }, 4000);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && !fatalKey) load(); });
}

boot();
