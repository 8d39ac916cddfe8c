// SPDX-License-Identifier: MIT
// End-to-end test of the web pages in headless Debian Chromium (run by scripts/e2e.sh, which
// starts the server, seeds it and sets E2E_*). A plain Node script on playwright-core: each step
// prints "ok N - name" or "FAIL N - name: why" and saves a screenshot to $E2E_OUT; after a failure
// the rest are skipped (and counted as failed). Ends with "e2e: N passed, N failed".
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const require = createRequire(import.meta.url);
const BASE = process.env.E2E_BASE;
const KEY = process.env.E2E_ADMIN_KEY;
const EMAIL = process.env.E2E_EMAIL;
const PASSWORD = process.env.E2E_PASSWORD;
const OUT = process.env.E2E_OUT || path.resolve('build/e2e');
const JSQR = require.resolve('jsqr');
if (!BASE || !KEY || !EMAIL || !PASSWORD) {
  console.error('dashboard.spec.mjs: run it through scripts/e2e.sh (E2E_BASE, E2E_ADMIN_KEY, E2E_EMAIL, E2E_PASSWORD)');
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });

/* ======================== a tiny runner ======================== */

let passed = 0, failed = 0, n = 0, broken = false;
let shotPage = null; // the page a failing step's screenshot is taken of

async function step(name, fn) {
  n++;
  const label = `${String(n).padStart(2, '0')}`;
  if (broken) {
    failed++;
    console.log(`skip ${label} - ${name}`);
    return;
  }
  const t0 = Date.now();
  try {
    await fn(label);
    passed++;
    console.log(`ok   ${label} - ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (err) {
    failed++;
    broken = true;
    console.log(`FAIL ${label} - ${name}: ${String(err && err.message ? err.message : err).split('\n')[0]}`);
    if (process.env.E2E_DEBUG) console.log(err);
    if (shotPage) await shotPage.screenshot({ path: path.join(OUT, `${label}-FAIL.png`), fullPage: true }).catch(() => {});
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function shot(page, label, name, opts = {}) {
  await page.screenshot({ path: path.join(OUT, `${label}-${name}.png`), fullPage: opts.fullPage ?? false, animations: 'disabled' });
}

async function apiCall(method, p, body) {
  const res = await fetch(BASE + p, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function apiRaw(method, p, body) {
  const res = await fetch(BASE + p, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

// Empty space below the last thing a person can see (text, images, canvases, controls), in px.
async function emptyTail(page) {
  return page.evaluate(() => {
    let bottom = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim() || n.parentElement.closest('.sr-only')) continue;
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) if (r.height) bottom = Math.max(bottom, r.bottom + window.scrollY);
    }
    for (const e of document.querySelectorAll('canvas, img, svg, input, select, button, textarea, .leaflet-container')) {
      const r = e.getBoundingClientRect();
      if (r.height) bottom = Math.max(bottom, r.bottom + window.scrollY);
    }
    return document.documentElement.scrollHeight - Math.max(bottom + 48, window.innerHeight);
  });
}

// The element drawn at the centre of `sel` is `sel` itself (or inside it): nothing covers it.
async function uncovered(page, sel) {
  return page.evaluate((s) => {
    const e = document.querySelector(s);
    const r = e.getBoundingClientRect();
    if (r.bottom <= 0 || r.top >= window.innerHeight) return false;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 8));
    return !!hit && (hit === e || e.contains(hit));
  }, sel);
}

async function waitFor(fn, what, timeoutMs = 10000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
}

/* ======================== the browser ======================== */

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

const problems = []; // script errors and requests that leave this server
function watch(page, who) {
  page.on('pageerror', (e) => problems.push(`${who}: uncaught ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`${who}: console ${m.text()}`);
  });
}
async function offline(ctx) {
  // pages must work with nothing but this server: anything else is refused and reported
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(BASE) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    problems.push(`external request: ${url}`);
    return route.abort();
  });
}

// the browser's zone (London, UTC+0 in winter) differs from the city's (+03:00): the page must
// still show every window time in one zone, the city's
const desk = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'tr-TR', timezoneId: 'Europe/London' });
await offline(desk);
const admin = await desk.newPage();
watch(admin, 'admin');
shotPage = admin;

const phone = await browser.newContext({
  viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  locale: 'en-US', timezoneId: 'Europe/Istanbul',
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36',
});
await offline(phone);
const buyer = await phone.newPage();
watch(buyer, 'buyer');
const seller = await phone.newPage();
watch(seller, 'seller');

let windowId = 0, buyerLink = '', sellerLink = '', code = '';

/* ======================== the steps ======================== */

await step('sign in with email and password (Turkish by browser language)', async (l) => {
  await admin.goto(`${BASE}/admin`);
  await admin.locator('#signin-form').waitFor();
  check((await admin.getAttribute('html', 'lang')) === 'tr', 'the page is not in Turkish for a tr-TR browser');
  await admin.getByLabel('E-posta', { exact: true }).fill(EMAIL);
  await admin.getByLabel('Parola', { exact: true }).fill(PASSWORD);
  await shot(admin, l, 'signin');
  await admin.getByRole('button', { name: 'Giriş yap' }).click();
  await admin.locator('#app').waitFor({ state: 'visible' });
  await admin.locator('#live[data-state="on"]').waitFor({ timeout: 10000 });
  check((await admin.locator('#who').textContent()).includes('admin'), 'the signed-in role is not shown');
  await admin.evaluate(() => { window.__e2eNoReload = true; });
});

await step('see sellers and demand on the map (no tiles: plain background)', async (l) => {
  await waitFor(async () => (await admin.locator('path.mk-seller').count()) === 7, '7 seller markers');
  const demand = await admin.locator('path.mk-demand').count();
  check(demand >= 20, `only ${demand} demand circles`);
  check((await admin.locator('#map').getAttribute('class')).includes('offline'), 'the map is not in offline mode');
  check((await admin.locator('.leaflet-tile').count()) === 0, 'tiles were requested');
  await admin.locator('path.mk-seller').first().hover();
  await admin.locator('.leaflet-tooltip').first().waitFor();
  const tail = await emptyTail(admin);
  check(tail <= 0, `the page scrolls ${tail}px past its content`);
  await shot(admin, l, 'map');
});

await step('watch a window appear without reloading', async (l) => {
  const before = await admin.locator('#windows tbody tr[data-window-id]').count();
  check(before === 0, `${before} windows before the scan`);
  // start a minute after the scan, as asked (left alone, the engine waits for the farthest walk)
  const res = await apiCall('POST', '/api/campaigns/generate', { lead_seconds: 60 });
  const s1 = res.windows.find((w) => w.seller_id === 'S1');
  check(s1 && s1.window_id, 'generate opened no window for S1');
  windowId = s1.window_id;
  const row = admin.locator(`#windows tr[data-window-id="${windowId}"]`);
  await row.waitFor({ timeout: 10000 });
  check((await row.getAttribute('data-status')) === 'SCHEDULED', 'the window is not SCHEDULED');
  check(/\d\d:\d\d/.test(await row.locator('.countdown .val').textContent()), 'no countdown');
  await waitFor(async () => (await admin.locator('path.mk-window').count()) >= 1, 'the window radius on the map');
  // a busy city: 150 rows in the windows table scroll inside it, the page does not grow
  await admin.evaluate(() => {
    const tb = document.querySelector('#windows tbody');
    const row = tb.querySelector('tr[data-window-id]');
    for (let i = 0; i < 150; i++) { const c = row.cloneNode(true); c.dataset.clone = '1'; c.removeAttribute('data-window-id'); tb.append(c); }
  });
  const tail = await emptyTail(admin);
  await admin.evaluate(() => { for (const c of document.querySelectorAll('#windows tr[data-clone]')) c.remove(); });
  check(tail <= 0, `with a long windows table the page scrolls ${tail}px past its content`);
  check(await admin.evaluate(() => window.__e2eNoReload === true), 'the page was reloaded');
  await shot(admin, l, 'window-live');
});

await step('open the decision trace of the window', async (l) => {
  await admin.locator(`button[data-trace="${windowId}"]`).click();
  const d = admin.locator('dialog#trace');
  await d.locator('.trace-components').waitFor();
  check((await d.locator('.trace-components tbody tr').count()) === 5, 'not five score components');
  const targets = await d.locator('.trace-targets tbody tr').count();
  check(targets > 0, 'no targets listed');
  check(/m/.test(await d.locator('.trace-targets tbody tr').first().textContent()), 'no why for a buyer');
  check(/%/.test(await d.locator('.trace-discount').textContent()), 'no why for the discount');
  // in Turkish the reasons are Turkish
  const why = await d.locator('.trace-targets tbody tr td:last-child').first().textContent();
  check(/uzakta/.test(why) && !/away|gives/.test(why), `the buyer reason is not Turkish: ${why}`);
  check(!/gives|largest|seller max/.test(await d.locator('.trace-discount').textContent()), 'the discount reason is not Turkish');
  const timing = await d.locator('.trace-timing').textContent();
  check(!/local|busy|now \+/.test(timing), `the timing reason is not Turkish: ${timing}`);
  // one time zone: the start in the reason is the start on the card
  const at = (timing.match(/\d\d:\d\d/) || [])[0];
  const card = await d.locator('#trace-body').textContent();
  check(at && card.includes(`${at}–`), `the reason says ${at}, the card ${card.match(/\d\d:\d\d–\d\d:\d\d/)}`);
  const row = await admin.locator(`#windows tr[data-window-id="${windowId}"] .win-sub`).textContent();
  check(row.includes(`${at}–`), `the window list says ${row}, the reason ${at}`);
  // the head never covers the title or the close button, also scrolled and on a narrow screen
  check(await uncovered(admin, '#trace-h') && await uncovered(admin, '#trace-close'), 'the dialog head is covered');
  await admin.locator('#trace-body').evaluate((b) => { b.scrollTop = b.scrollHeight; });
  check(await uncovered(admin, '#trace-h') && await uncovered(admin, '#trace-close'), 'the title or Close is covered once scrolled');
  await admin.setViewportSize({ width: 390, height: 700 });
  await admin.locator('#trace-body').evaluate((b) => { b.scrollTop = b.scrollHeight / 2; });
  check(await uncovered(admin, '#trace-h') && await uncovered(admin, '#trace-close'), 'the title or Close is covered on a narrow screen');
  await shot(admin, l, 'trace-narrow');
  await admin.setViewportSize({ width: 1440, height: 900 });
  await admin.locator('#trace-body').evaluate((b) => { b.scrollTop = 0; });
  await shot(admin, l, 'trace');
  await admin.keyboard.press('Escape');
  await d.waitFor({ state: 'hidden' });
  check(await admin.evaluate(() => document.activeElement && document.activeElement.dataset.trace !== undefined), 'focus did not return to the trace button');
});

await step('approve a proposed window on the seller page', async (l) => {
  // every seller but S1 is asked; the question carries the seller's page link
  const res = await apiCall('GET', '/api/flash-windows?status=PROPOSED&limit=50');
  const proposed = res.windows.filter((w) => w.status === 'PROPOSED');
  check(proposed.length >= 2, `only ${proposed.length} proposed windows`);
  const linkOf = async (w) => {
    const m = await waitFor(async () => {
      const r = await apiCall('GET', `/api/messages?window_id=${w.id}&kind=question&limit=10`);
      return r.messages.find((x) => /\/s\/\S+/.test(x.body));
    }, `the question for window ${w.id}`);
    return m.body.match(/https?:\/\/\S+\/s\/[\w.-]+/)[0];
  };
  shotPage = seller;
  await seller.goto(await linkOf(proposed[0]));
  await seller.locator('#decide-card').waitFor();
  check(await seller.locator('#redeem-card').isHidden(), 'a code field for a window that is not open');
  await shot(seller, l, 'seller-proposed', { fullPage: true });
  await seller.getByRole('button', { name: 'Approve and open' }).click();
  await seller.locator('#decide-msg', { hasText: 'Approved' }).waitFor();
  await waitFor(async () => (await seller.locator('#status').textContent()) === 'Scheduled', 'the window scheduled');
  check(await seller.locator('#decide-card').isHidden(), 'the buttons stay after approving');
  check((await apiCall('GET', `/api/flash-windows/${proposed[0].id}`)).status === 'SCHEDULED', 'the window is not SCHEDULED');
  await shot(seller, l, 'seller-approved', { fullPage: true });
  await seller.goto(await linkOf(proposed[1]));
  await seller.getByRole('button', { name: 'Reject' }).click();
  await seller.locator('#decide-msg', { hasText: 'Rejected' }).waitFor();
  check((await apiCall('GET', `/api/flash-windows/${proposed[1].id}`)).status === 'CANCELLED', 'the window is not CANCELLED');
  // a second answer is refused with the server's reason
  const again = await fetch(`${(await linkOf(proposed[1])).replace('/s/', '/api/public/s/')}/approve`, { method: 'POST' });
  check(again.status === 409, `approving a rejected window answers ${again.status}`);
  shotPage = admin;
});

await step('switch the dashboard to English', async (l) => {
  await admin.locator('header .lang-switch button[data-lang="en"]').click();
  await waitFor(async () => (await admin.locator('#win-h').textContent()) === 'Windows', 'English headings');
  check((await admin.getAttribute('html', 'lang')) === 'en', 'html lang is not en');
  await shot(admin, l, 'dashboard-en');
});

await step('change a setting and see the validation error beside the field', async (l) => {
  await admin.getByRole('tab', { name: 'Engine settings' }).click();
  const threshold = admin.getByLabel('Threshold (0–1)', { exact: true });
  await waitFor(async () => (await threshold.inputValue()) !== '', 'the settings to load');
  // in Turkish the validation message is Turkish
  await admin.locator('header .lang-switch button[data-lang="tr"]').click();
  await admin.locator('#f-threshold').fill('1.5');
  await admin.locator('#settings button[type="submit"]').click();
  const trErr = admin.locator('.field-error[data-error-for="threshold"]');
  await trErr.waitFor();
  check(/arasında olmalı/.test(await trErr.textContent()), `the message is not Turkish: ${await trErr.textContent()}`);
  await admin.locator('header .lang-switch button[data-lang="en"]').click();
  await admin.locator('#f-threshold').fill('0.5');
  await threshold.fill('1.5');
  await admin.getByRole('button', { name: 'Save' }).click();
  const err = admin.locator('.field-error[data-error-for="threshold"]');
  await err.waitFor();
  check(/threshold/i.test(await err.textContent()), `unexpected message: ${await err.textContent()}`);
  check((await threshold.getAttribute('aria-invalid')) === 'true', 'the field is not marked invalid');
  check((await threshold.getAttribute('aria-describedby')) === (await err.getAttribute('id')), 'the error is not tied to the field');
  await shot(admin, l, 'settings-error', { fullPage: true });
  // a tier error lands beside the tier's own field
  await threshold.fill('0.5');
  await admin.getByLabel('Tier 2: up to (m)', { exact: true }).fill('100');
  await admin.getByRole('button', { name: 'Save' }).click();
  await waitFor(async () => (await admin.locator('#settings .field-error:not(:empty)').count()) > 0, 'the tier error');
  const tierErr = await admin.locator('#settings .field-error:not(:empty)').first().getAttribute('data-error-for');
  check(tierErr === 'tiers[1].max_m', `the error is shown at ${tierErr}`);
  await shot(admin, l, 'settings-tier-error', { fullPage: true });
  await admin.getByLabel('Tier 2: up to (m)', { exact: true }).fill('600');
  await admin.getByRole('button', { name: 'Save' }).click();
  await admin.locator('#settings-ok', { hasText: 'Saved' }).waitFor();
  const cfg = await apiCall('GET', '/api/campaigns/config');
  check(cfg.threshold === 0.5 && cfg.tiers[1].max_m === 600, 'the saved configuration differs');
  // numbers are rounded on output: 0.7 is written 0.7, not 0.69999999999999996
  await apiCall('PUT', '/api/campaigns/config', { threshold: 0.7 });
  const raw = await apiRaw('GET', '/api/campaigns/config');
  check(/"threshold":0\.7[,}]/.test(raw.text) && !/\d\.\d{13,}/.test(raw.text), `unrounded numbers: ${raw.text.match(/\d\.\d{13,}/)}`);
  await apiCall('PUT', '/api/campaigns/config', { threshold: 0.5 });
  // an error in a list names the element: categories[0], not an internal name
  const bad = await apiRaw('POST', '/api/buyers/register', { phone_number: '+905551112233', location: { lat: 40.98, lng: 29.03 }, categories: ['no_such_thing'] });
  const prob = JSON.parse(bad.text).error || {};
  check(bad.status === 400 && prob.field === 'categories[0]' && /^categories\[0\] /.test(prob.message), `the error names ${prob.field}: ${prob.message}`);
});

await step('see the job backlog and retry a dead job', async (l) => {
  await admin.getByRole('tab', { name: 'Jobs' }).click();
  // the list opens on every state, and "all" can be chosen again
  check((await admin.locator('#job-filter').inputValue()) === '', 'the jobs list does not open on all states');
  check((await admin.locator('#job-filter option[value=""]').textContent()) === 'all', 'no "all" choice');
  await admin.locator('#jobs .badge.done').first().waitFor({ timeout: 15000 });
  const jobsTail = await emptyTail(admin);
  check(jobsTail <= 0, `the jobs page scrolls ${jobsTail}px past its content`);
  await admin.locator('#job-filter').selectOption('dead');
  const retry = admin.locator('#jobs button', { hasText: 'Retry' }).first();
  await retry.waitFor({ timeout: 15000 });
  check(Number(await admin.locator('#backlog li[data-state="done"] .n').textContent()) > 0, 'no done jobs counted');
  await shot(admin, l, 'jobs');
  await retry.click();
  await admin.locator('#jobs-status', { hasText: 'queued again' }).waitFor();
});

await step('see messages with delivery status, and the charts', async (l) => {
  await admin.getByRole('tab', { name: 'Messages' }).click();
  await waitFor(async () => (await admin.locator('#messages tbody tr[data-message-id]').count()) > 0, 'messages');
  check((await admin.locator('#messages .badge.delivered').count()) > 0, 'no delivered message');
  await shot(admin, l, 'messages');
  await admin.getByRole('tab', { name: 'Charts' }).click();
  await waitFor(() => admin.evaluate(() => ['windows', 'requests', 'messages'].every((k) => {
    const c = document.getElementById(`chart-${k}`);
    return c && c.width > 0 && window.Chart && window.Chart.getChart(c);
  })), 'three charts');
  await admin.waitForTimeout(5500); // a second /metrics sample for the request rate
  const chartsTail = await emptyTail(admin);
  check(chartsTail <= 0, `the charts page scrolls ${chartsTail}px past its content`);
  await shot(admin, l, 'charts');
  await admin.getByRole('tab', { name: 'Map and windows' }).click();
});

await step('open a buyer link on a phone-sized screen', async (l) => {
  const msgs = await apiCall('GET', `/api/messages?window_id=${windowId}&kind=offer&limit=100`);
  const m = msgs.messages.find((x) => /\/w\/\S+/.test(x.body));
  check(m, 'no offer with a link');
  buyerLink = m.body.match(/https?:\/\/\S+\/w\/[\w.-]+/)[0];
  shotPage = buyer;
  await buyer.goto(buyerLink);
  await buyer.locator('#offer').waitFor();
  check((await buyer.getAttribute('html', 'lang')) === 'en', 'not English for an en-US phone');
  check(/Moda Kahve/.test(await buyer.locator('#seller').textContent()), 'no seller name');
  check(/% off/.test(await buyer.locator('#discount').textContent()), 'no discount');
  check(/\d+ m away · about \d+ min on foot/.test(await buyer.locator('#distance').textContent()), 'no walking distance');
  check(/Starts in/.test(await buyer.locator('#clock-lbl').textContent()), 'no countdown to the start');
  check((await buyer.locator('path.mk-seller').count()) === 1, 'the seller is not on the map');
  const width = await buyer.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the page is ${width}px wide on a 390px screen`);
  await shot(buyer, l, 'buyer-offer', { fullPage: true });
});

await step('join before the start (a pre-commit), in Turkish', async (l) => {
  await buyer.getByRole('button', { name: 'Join' }).click();
  await buyer.locator('#act[data-state="committed"]').waitFor();
  await buyer.locator('.lang-switch button[data-lang="tr"]').click();
  await waitFor(async () => /Başlamasına/.test(await buyer.locator('#clock-lbl').textContent()), 'Turkish');
  check(await buyer.locator('#cancel').isVisible(), 'no cancel button');
  await shot(buyer, l, 'buyer-committed-tr', { fullPage: true });
  // the dashboard counts the pre-commit live
  await waitFor(async () => (await admin.locator(`#windows tr[data-window-id="${windowId}"] .c-committed`).textContent()) === '1', 'committed 1 on the dashboard');
});

await step('the window starts: get the code as text and QR', async (l) => {
  // the window opens a minute after the scan; the page notices on its own
  await buyer.locator('#join', { hasText: 'Kodumu al' }).waitFor({ state: 'visible', timeout: 120000 });
  check(/Aktif/.test(await buyer.locator('#status').textContent()), 'not shown as active');
  await buyer.locator('#join').click();
  await buyer.locator('#code-card').waitFor();
  code = (await buyer.locator('#code').textContent()).trim();
  check(/^[A-Z0-9]{6}$/.test(code), `odd code "${code}"`);
  await buyer.addScriptTag({ path: JSQR });
  // the QR code is the server's SVG: rasterise it in the page, then read it back
  const decoded = await buyer.evaluate(async () => {
    const img = document.querySelector('#qr img');
    if (!img.complete || !img.naturalWidth) await new Promise((ok) => img.addEventListener('load', ok, { once: true }));
    const c = document.createElement('canvas');
    c.width = c.height = 330;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, c.width, c.height);
    g.drawImage(img, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height);
    const r = window.jsQR(d.data, d.width, d.height);
    return r && r.data;
  });
  check(decoded === code, `the QR code reads "${decoded}", not "${code}"`);
  await buyer.locator('#code-card').scrollIntoViewIfNeeded();
  await shot(buyer, l, 'buyer-code', { fullPage: true });
});

await step('redeem the code on the seller page', async (l) => {
  const msgs = await waitFor(async () => {
    const r = await apiCall('GET', `/api/messages?window_id=${windowId}&kind=seller_summary&limit=10`);
    return r.messages.find((x) => /\/s\/\S+/.test(x.body));
  }, 'the seller summary with its link');
  sellerLink = msgs.body.match(/https?:\/\/\S+\/s\/[\w.-]+/)[0];
  shotPage = seller;
  await seller.goto(sellerLink);
  await seller.locator('#stats').waitFor();
  // the buyer page's choice of Turkish is remembered on this phone: back to English
  check((await seller.getAttribute('html', 'lang')) === 'tr', 'the language choice was not remembered');
  await seller.locator('.lang-switch button[data-lang="en"]').click();
  const width = await seller.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the seller page is ${width}px wide on a 390px screen`);
  check((await seller.locator('#n-committed').textContent()) === '1', 'pre-commits are not 1');
  check((await seller.locator('#n-joined').textContent()) === '1', 'participants are not 1');
  check(/^\d+$/.test(await seller.locator('#n-expected').textContent()), 'no expected arrivals');
  await shot(seller, l, 'seller-before', { fullPage: true });
  await seller.getByLabel("Customer's code", { exact: true }).fill(code.toLowerCase());
  await seller.getByRole('button', { name: 'Redeem code' }).click();
  await seller.locator('#redeem-msg', { hasText: code }).waitFor();
  check((await seller.locator('#n-redeemed').textContent()) === '1', 'redeemed is not 1');
  // a second try is refused with the server's reason
  await seller.getByLabel("Customer's code", { exact: true }).fill(code);
  await seller.getByRole('button', { name: 'Redeem code' }).click();
  await seller.locator('#redeem-msg.error').waitFor();
  await seller.getByLabel("Customer's code", { exact: true }).fill('');
  await seller.locator('.lang-switch button[data-lang="tr"]').click();
  await seller.locator('#redeem-msg').evaluate((e) => { e.textContent = ''; });
  await shot(seller, l, 'seller-redeemed-tr', { fullPage: true });
});

await step('watch the dashboard count move (no reload)', async (l) => {
  shotPage = admin;
  const row = admin.locator(`#windows tr[data-window-id="${windowId}"]`);
  await waitFor(async () => (await row.locator('.c-redeemed').textContent()) === '1', 'redeemed 1 on the dashboard');
  check((await row.getAttribute('data-status')) === 'ACTIVE', 'the row is not ACTIVE');
  check((await row.locator('.c-joined').textContent()) === '1', 'joined is not 1');
  check(/Ends in/.test(await row.locator('.countdown .lbl').textContent()), 'no countdown to the end');
  // the map legend names every kind of window drawn, the active one included
  await waitFor(async () => (await admin.locator('path.mk-window-ACTIVE').count()) >= 1, 'the active window on the map');
  for (const st of ['ACTIVE', 'SCHEDULED']) {
    check(await admin.locator(`.legend li[data-legend="${st}"]`).isVisible(), `no legend entry for ${st} windows`);
  }
  check(/Active/.test(await admin.locator('.legend li[data-legend="ACTIVE"]').textContent()), 'the legend does not name active windows');
  const liveTail = await emptyTail(admin);
  check(liveTail <= 0, `the page scrolls ${liveTail}px past its content`);
  check(await admin.evaluate(() => window.__e2eNoReload === true), 'the page was reloaded');
  await shot(admin, l, 'dashboard-redeemed');
  await buyer.reload();
  await buyer.locator('#act[data-state="redeemed"]').waitFor();
  await shot(buyer, l, 'buyer-redeemed', { fullPage: true });
});

await step('the seller statements tab counts the redeemed visit', async (l) => {
  shotPage = admin;
  await admin.locator('#tab-billing').click();
  await waitFor(async () => !(await admin.locator('#view-billing').isHidden()), 'the statements tab');
  const row = admin.locator('#billing tbody tr', { hasText: 'Moda Kahve' }).first();
  await waitFor(async () => (await row.count()) > 0 && (await row.locator('.c-visits').textContent()) === '1', 'one visit on the statement');
  check(/TRY/.test(await row.locator('.c-fees').textContent()), `no fee total: ${await row.locator('.c-fees').textContent()}`);
  check(/Seller statements/.test(await admin.locator('#tab-billing').textContent()), 'the tab is not named');
  await shot(admin, l, 'billing');
  await admin.locator('#tab-live').click();
  await waitFor(async () => !(await admin.locator('#view-live').isHidden()), 'back to the live view');
});

await step('customers: the RFM grid with counts, a customer\'s decision trace in both languages', async (l) => {
  const segs = await apiCall('GET', '/api/intel/segments');
  check(segs.batch_id && segs.segments.length > 0, 'the seeded shop has no profile batch');
  await admin.locator('#tab-customers').click();
  await waitFor(async () => (await admin.locator('#cust-segments .rfm-cell').count()) === 11, 'the RFM grid');
  for (const x of segs.segments) {
    const cell = admin.locator(`#cust-segments .rfm-cell[data-segment="${x.segment}"] .rfm-count`);
    const shown = (await cell.textContent()).replace(/[^0-9]/g, '');
    check(shown === String(x.customers), `segment ${x.segment} shows ${shown}, not ${x.customers}`);
  }
  check(/Champions/.test(await admin.locator('#cust-segments').textContent()), 'the grid is not in English');
  // the search asks the server: a customer far past the first page is found by a piece of its email
  await admin.locator('#cust-table tbody tr[data-customer-id]').first().waitFor();
  const far = (await apiCall('GET', '/api/customers?limit=500')).customers.filter((c) => c.email).pop();
  check(far, 'the seeded shop has no customer with an email');
  await admin.locator('#cust-search').fill(far.email.toUpperCase());
  await waitFor(async () => (await admin.locator(`#cust-table tr[data-customer-id="${far.id}"]`).count()) === 1,
    `searching finds ${far.id}`);
  await admin.locator('#cust-search').fill('');
  await waitFor(async () => (await admin.locator('#cust-table tbody tr[data-customer-id]').count()) > 1, 'the list again');
  // one customer of the first page, one with an overdue staple when there is one
  const page = await apiCall('GET', '/api/customers?limit=25');
  let id = page.customers[0].id, trace = null;
  for (const c of page.customers) {
    const tr = await apiCall('GET', `/api/campaigns/decision-trace/${encodeURIComponent(c.id)}`);
    if (!trace) trace = tr;
    if (tr.visualizations.replenishmentList.length) { id = c.id; trace = tr; break; }
  }
  if (trace.customerId !== id) trace = await apiCall('GET', `/api/campaigns/decision-trace/${encodeURIComponent(id)}`);
  await shot(admin, l, 'customers-segments', { fullPage: true });
  await admin.locator(`#cust-table tr[data-customer-id="${id}"] a`).click();
  const cards = admin.locator('#cust-cards');
  await cards.locator('.c-budget .gauge').waitFor();
  const v = trace.visualizations;
  const expectTier = { LOW: 'Low', MEDIUM: 'Medium', HIGH: 'High', PREMIUM: 'Premium' }[v.budgetGauge.tier];
  check((await cards.locator('.gauge-tier').textContent()) === expectTier, 'the gauge names another tier');
  check(await cards.locator('.c-loyalty progress').count() === 1, 'no loyalty progress');
  check(await cards.locator('#cust-chart').count() === 1, 'no category chart');
  await waitFor(() => admin.evaluate(() => !!(window.Chart && window.Chart.getChart(document.querySelector('#cust-chart')))), 'the category chart drawn');
  for (const c of v.categoryChart) check((await cards.locator('.c-categories').textContent()).includes(c.categoryName), `category ${c.categoryName} missing`);
  const repl = await cards.locator('.c-replenishment').textContent();
  if (v.replenishmentList.length) check(repl.includes(v.replenishmentList[0].productName), 'the overdue staple is missing');
  else check(repl.includes('No regular product is overdue'), 'the empty replenishment list says nothing');
  check(await cards.locator('.c-variety .variety-badge').count() === 1, 'no variety badge');
  check(v.climateInfo && (await cards.locator('.c-climate').textContent()).includes(v.climateInfo.name), 'the climate card lacks the city');
  check(/P\(alive\)/.test(await cards.locator('.c-predictions').textContent()), 'no P(alive)');
  check(await cards.locator('.c-rfm .seg-badge').count() === 1, 'no RFM segment');
  await shot(admin, l, 'customer-en', { fullPage: true });
  // the same page in Turkish
  await admin.locator('header .lang-switch button[data-lang="tr"]').click();
  await waitFor(async () => (await cards.locator('.c-budget h3').textContent()) === 'Bütçe göstergesi', 'the Turkish page');
  check((await cards.locator('.c-climate h3').textContent()) === 'İklim', 'the climate card is not in Turkish');
  check((await cards.locator('.c-replenishment h3').textContent()) === 'Yenileme listesi', 'the replenishment list is not in Turkish');
  check(/Aktif olma olasılığı/.test(await cards.locator('.c-predictions').textContent()), 'the predictions are not in Turkish');
  check(await admin.locator('#cust-chart').count() === 1, 'the category chart is gone in Turkish');
  await shot(admin, l, 'customer-tr', { fullPage: true });
  await admin.locator('header .lang-switch button[data-lang="en"]').click();
  await admin.locator('#tab-live').click();
  await waitFor(async () => !(await admin.locator('#view-live').isHidden()), 'back to the live view');
});

await step('cart recovery: run a cycle, see its figures, the carts\' states and recovered revenue, in both languages', async (l) => {
  shotPage = admin;
  // a shop's custom JSON feed and the agent's recovery API, on loopback beside the server
  const ago = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
  const cart = (id, email, total, completedAt) => ({
    id, updated_at: completedAt || ago, ...(completedAt ? { completed_at: completedAt } : {}),
    checkout_url: `https://shop.example/checkout/${id}`, currency: 'TRY', total,
    customer: { email }, items: [{ title: 'Filtre kahve', sku: 'FK-1', quantity: 1, unit_price: total }],
  });
  let feed = [cart('R-1', 'ece@example.com', '49.90'), cart('R-2', 'mert@example.com', '120.00')];
  let deliveries = 0;
  const shop = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (req.method === 'POST' && req.url.startsWith('/hook')) deliveries++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url.startsWith('/feed') ? JSON.stringify({ carts: feed }) : '{}');
    });
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  const shopUrl = `http://127.0.0.1:${shop.address().port}`;
  try {
    const agent = await apiCall('POST', '/api/agents', { name: 'Kurtarma', company: 'Moda Kahve', settings: { recovery_url: `${shopUrl}/hook`, cutoff_minutes: 60, sequence: [] } });
    const integ = await apiCall('POST', `/api/agents/${agent.id}/integrations`, { platform: 'custom', feed_url: `${shopUrl}/feed` });
    await admin.locator('#tab-recovery').click();
    await waitFor(async () => !(await admin.locator('#view-recovery').isHidden()), 'the recovery tab');
    check(/Cart recovery/.test(await admin.locator('#tab-recovery').textContent()), 'the tab is not named');
    await waitFor(async () => (await admin.locator('#rec-state').textContent()) === 'Stopped', 'the stopped poller');
    check(/No cart recovered yet/.test(await admin.locator('#rec-recovered').textContent()), 'recovered revenue before any');

    // one cycle now: two carts fetched, 169.90 TRY, one delivery that succeeds
    await admin.locator('#rec-test').click();
    await waitFor(async () => /Cycle \d+ started: polling 1 integration/.test(await admin.locator('#rec-status').textContent()), 'the cycle started');
    const first = admin.locator('#rec-cycles tbody tr[data-cycle-id]').first();
    await waitFor(async () => {
      await admin.locator('#rec-refresh').click();
      await admin.waitForTimeout(200);
      return (await first.locator('.c-ok').textContent()) === '1';
    }, 'the cycle\'s delivery to succeed', 20000, 500);
    check(deliveries === 1, `the recovery API got ${deliveries} deliveries`);
    check((await first.locator('.c-agents').textContent()) === '1', 'agents found');
    check((await first.locator('.c-platforms').textContent()) === '1', 'platforms processed');
    check((await first.locator('.c-carts').textContent()) === '2', 'carts fetched');
    check((await first.locator('.c-value').textContent()).replace(/[^0-9]/g, '') === '16990', `value ${await first.locator('.c-value').textContent()}`);
    check((await first.locator('.c-failed').textContent()) === '0', 'failed deliveries');
    check(/^[0-9.,]+ m?s$/.test(await first.locator('.c-duration').textContent()), 'no duration');
    check((await admin.locator('#rec-last').textContent()) !== '—', 'no last cycle');
    const sent = admin.locator('#rec-carts tbody tr[data-state="sent"]');
    await waitFor(async () => (await sent.count()) === 2, 'both carts sent');
    check(/Sent/.test(await sent.first().textContent()), 'the state is not named');
    check(/R-1/.test(await admin.locator('#rec-carts').textContent()), 'the platform id is missing');
    await shot(admin, l, 'recovery-sent', { fullPage: true });

    // the customer finishes R-1: the next cycle counts it as recovered revenue
    feed = [cart('R-1', 'ece@example.com', '49.90', new Date().toISOString())];
    await admin.locator('#rec-test').click();
    await waitFor(async () => {
      await admin.locator('#rec-refresh').click();
      await admin.waitForTimeout(200);
      return /49\.90 TRY/.test(await admin.locator('#rec-recovered li[data-currency="TRY"]').textContent());
    }, 'the recovered revenue', 20000, 500);
    check(/recovered carts: 1/.test(await admin.locator('#rec-recovered').textContent()), 'the recovered cart count');
    await admin.locator('#rec-filter').selectOption('completed');
    const done = admin.locator('#rec-carts tbody tr[data-recovery-id]');
    await waitFor(async () => (await done.count()) === 1 && (await done.first().getAttribute('data-state')) === 'completed', 'the completed cart alone');
    check(/49\.90 TRY/.test(await done.first().locator('.c-recovered').textContent()), 'the recovered value of the cart');

    // start and stop the poller
    await admin.locator('#rec-interval').fill('0');
    await admin.locator('#rec-start').click();
    await waitFor(async () => /interval/.test(await admin.locator('#rec-status').textContent()), 'the refused interval named');
    await admin.locator('#rec-interval').fill('600');
    await admin.locator('#rec-start').click();
    await waitFor(async () => (await admin.locator('#rec-state').textContent()) === 'Running', 'the running poller');
    check((await apiCall('GET', '/polling/status')).interval_s === 600, 'the interval was not stored');
    await shot(admin, l, 'recovery-en', { fullPage: true });

    // the same tab in Turkish
    await admin.locator('header .lang-switch button[data-lang="tr"]').click();
    await waitFor(async () => (await admin.locator('#tab-recovery').textContent()) === 'Sepet kurtarma', 'the Turkish tab');
    check((await admin.locator('#rec-state').textContent()) === 'Çalışıyor', 'the state is not in Turkish');
    check(/Tamamlandı/.test(await done.first().textContent()), 'the cart state is not in Turkish');
    check(/Kurtarılan gelir/.test(await admin.locator('#view-recovery').textContent()), 'the revenue heading is not in Turkish');
    await admin.locator('#rec-stop').click();
    await waitFor(async () => (await admin.locator('#rec-state').textContent()) === 'Durdu', 'the stopped poller in Turkish');
    check((await apiCall('GET', '/polling/status')).state === 'stopped', 'the poller still runs');
    await shot(admin, l, 'recovery-tr', { fullPage: true });
    await admin.locator('header .lang-switch button[data-lang="en"]').click();
    await admin.locator('#tab-live').click();
    await waitFor(async () => !(await admin.locator('#view-live').isHidden()), 'back to the live view');
    await apiCall('DELETE', `/api/agents/${agent.id}/integrations/${integ.id}`);
  } finally {
    shop.close();
  }
});

await step('keyboard: sign out and sign in with the admin key', async (l) => {
  await admin.locator('#signout').focus();
  await admin.keyboard.press('Enter');
  await admin.locator('#signin').waitFor();
  check(await admin.evaluate(() => !sessionStorage.getItem('iceshop.cred')), 'the credential was kept');
  await admin.getByLabel('Admin key', { exact: true }).check();
  await admin.getByLabel('Admin key or API key', { exact: true }).fill(KEY);
  await admin.keyboard.press('Enter');
  await admin.locator('#app').waitFor({ state: 'visible' });
  await admin.locator(`#windows tr[data-window-id="${windowId}"]`).waitFor();
  // the tabs answer the arrow keys
  await admin.locator('#tab-live').focus();
  await admin.keyboard.press('ArrowRight');
  await waitFor(async () => !(await admin.locator('#view-messages').isHidden()), 'the messages tab by keyboard');
  await admin.keyboard.press('ArrowLeft');
  await shot(admin, l, 'signed-in-with-key');
});

await step('no script errors and no requests outside the server', async () => {
  check(problems.length === 0, problems.slice(0, 3).join(' | '));
});

await browser.close();
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
