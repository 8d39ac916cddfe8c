// SPDX-License-Identifier: MIT
// The dashboard's Customers tab: the RFM segment grid with counts (GET /api/intel/segments), a
// paged customer list (GET /api/customers, searched on the server by e-mail, name, phone or id) and a customer's
// page: the seed's decision-trace view (GET /api/campaigns/decision-trace/{id}: budget gauge,
// loyalty progress, category chart, replenishment list, variety badge, climate card), RFM and
// predictions (GET /api/profiles/{id}) and the customer's campaigns from the planner's decision
// log (GET /api/campaigns?customerId=) with their uplift when sent (GET /api/campaigns/{id}/uplift).
// Every route is the signed-in tenant's own; all text goes
// in as text nodes (el()), never as HTML.
import { t, addStrings, el, $, fmtNumber, fmtTime } from '/assets/common.js';

const PAGE = 25;
const SEGMENTS = ['champions', 'loyal', 'potential_loyal', 'new', 'promising', 'need_attention',
  'about_to_sleep', 'cannot_lose', 'at_risk', 'hibernating', 'lost'];
// The RFM map: columns are recency 1..5, rows frequency 5..1 (see src/domain/intel/rfm.h).
const GRID_AREAS = [
  'cannot_lose cannot_lose loyal champions champions',
  'at_risk at_risk loyal champions champions',
  'at_risk at_risk need_attention potential_loyal potential_loyal',
  'hibernating hibernating about_to_sleep potential_loyal potential_loyal',
  'lost lost about_to_sleep promising new',
];
const SEG_COLORS = {
  champions: '#1b7f3b', loyal: '#2e9d57', potential_loyal: '#5fb37a', new: '#1f5fbf', promising: '#4a86d6',
  need_attention: '#b26a00', about_to_sleep: '#c98a2b', cannot_lose: '#9e2a2b', at_risk: '#c62828',
  hibernating: '#6b5b95', lost: '#5f6368',
};

addStrings({
  tr: {
    'nav.customers': 'Müşteriler',
    'cust.segments': 'RFM segmentleri',
    'cust.segments_note': 'Son profil hesaplamasında her segmentteki müşteri sayısı; sütunlar yenilik (R), satırlar sıklık (F).',
    'cust.no_batch': 'Profiller henüz hesaplanmadı.',
    'cust.as_of': 'Hesaplama: {t}',
    'cust.recency': 'Yenilik (R) →',
    'cust.frequency': 'Sıklık (F) ↑',
    'cust.list': 'Müşteriler',
    'cust.search': 'E-posta, ad, telefon veya kimlikle ara',
    'cust.open_id': 'Kimlikle aç',
    'cust.col_id': 'Kimlik',
    'cust.col_email': 'E-posta',
    'cust.col_external': 'Dış kimlik',
    'cust.col_since': 'Kayıt',
    'cust.more': 'Sonraki sayfa',
    'cust.first': 'İlk sayfa',
    'cust.back': 'Listeye dön',
    'cust.page_title': 'Müşteri {id}',
    'cust.budget': 'Bütçe göstergesi',
    'cust.budget_month': 'Aylık tahmini bütçe',
    'cust.avg_order': 'Ortalama sipariş',
    'cust.loyalty': 'Sadakat',
    'cust.loyalty_next': 'Sonraki kademe: {tier}',
    'cust.loyalty_top': 'En üst kademe',
    'cust.multiplier': 'Ödül çarpanı ×{m}',
    'cust.categories': 'Kategori ilgisi',
    'cust.affinity': 'İlgi puanı',
    'cust.replenishment': 'Yenileme listesi',
    'cust.replenishment_none': 'Geciken düzenli ürün yok.',
    'cust.repl_row': '{cycle} günde bir; beklenenden {late} gün geçti',
    'cust.variety': 'Çeşitlilik',
    'cust.variety_row': 'çeşitlilik endeksi {v} · tekrar oranı {r}',
    'cust.climate': 'İklim',
    'cust.climate_none': 'Müşterinin şehri veya şehrin iklimi bilinmiyor.',
    'cust.climate_row': '{month}. ay: ortalama {temp} °C, {rain} mm yağış',
    'cust.rfm': 'RFM segmenti',
    'cust.rfm_scores': 'R {r} · F {f} · M {m}',
    'cust.predictions': 'Tahminler',
    'cust.p_alive': 'Aktif olma olasılığı',
    'cust.clv': 'Müşteri yaşam boyu değeri (365 gün)',
    'cust.next_order': 'Beklenen sonraki sipariş',
    'cust.expected_90': '90 günde beklenen sipariş',
    'cust.no_profile': 'Bu müşterinin profili henüz yok.',
    'cust.campaigns': 'Kampanyalar',
    'cust.campaigns_none': 'Bu müşteri için planlanmış kampanya yok.',
    'cust.uplift': 'Etki (uplift)',
    'cust.uplift_pending': 'Ölçülmedi',
    'cust.uplift_not_sent': 'Gönderilmedi',
    'cust.uplift_row': 'dönüşüm farkı {d} puan (%95: {lo} … {hi})',
    'cust.uplift_none': 'henüz karşılaştırılacak sipariş yok',
    'cust.uplift_open': 'pencere açık',
    'cust.col_when': 'Zaman',
    'cust.col_type': 'Tür',
    'cust.col_title': 'Başlık',
    'cust.col_discount': 'İndirim',
    'cust.col_planner': 'Planlayan',
    'tier.LOW': 'Düşük', 'tier.MEDIUM': 'Orta', 'tier.HIGH': 'Yüksek', 'tier.PREMIUM': 'Premium',
    'loyal.BRONZE': 'Bronz', 'loyal.SILVER': 'Gümüş', 'loyal.GOLD': 'Altın', 'loyal.PLATINUM': 'Platin',
    'variety.EXPLORER': 'Kaşif', 'variety.BALANCED': 'Dengeli', 'variety.LOYALIST': 'Sadık',
    'season.winter': 'kış', 'season.spring': 'ilkbahar', 'season.summer': 'yaz', 'season.autumn': 'sonbahar',
    'seg.champions': 'Şampiyonlar', 'seg.loyal': 'Sadık', 'seg.potential_loyal': 'Sadık adayı',
    'seg.new': 'Yeni', 'seg.promising': 'Umut vadeden', 'seg.need_attention': 'İlgi bekleyen',
    'seg.about_to_sleep': 'Uykuya dalmak üzere', 'seg.cannot_lose': 'Kaybedilmemeli', 'seg.at_risk': 'Risk altında',
    'seg.hibernating': 'Kış uykusunda', 'seg.lost': 'Kaybedilmiş',
  },
  en: {
    'nav.customers': 'Customers',
    'cust.segments': 'RFM segments',
    'cust.segments_note': 'Customers in each segment in the latest profile batch; columns are recency (R), rows frequency (F).',
    'cust.no_batch': 'No profiles computed yet.',
    'cust.as_of': 'Computed {t}',
    'cust.recency': 'Recency (R) →',
    'cust.frequency': 'Frequency (F) ↑',
    'cust.list': 'Customers',
    'cust.search': 'Search by e-mail, name, phone or id',
    'cust.open_id': 'Open by id',
    'cust.col_id': 'Id',
    'cust.col_email': 'E-mail',
    'cust.col_external': 'External id',
    'cust.col_since': 'Since',
    'cust.more': 'Next page',
    'cust.first': 'First page',
    'cust.back': 'Back to the list',
    'cust.page_title': 'Customer {id}',
    'cust.budget': 'Budget gauge',
    'cust.budget_month': 'Predicted monthly budget',
    'cust.avg_order': 'Average order',
    'cust.loyalty': 'Loyalty',
    'cust.loyalty_next': 'Next tier: {tier}',
    'cust.loyalty_top': 'Top tier',
    'cust.multiplier': 'Reward multiplier ×{m}',
    'cust.categories': 'Category affinity',
    'cust.affinity': 'Affinity score',
    'cust.replenishment': 'Replenishment list',
    'cust.replenishment_none': 'No regular product is overdue.',
    'cust.repl_row': 'every {cycle} days; {late} days past expected',
    'cust.variety': 'Variety',
    'cust.variety_row': 'variety index {v} · repeat ratio {r}',
    'cust.climate': 'Climate',
    'cust.climate_none': "The customer's city or its climate is not known.",
    'cust.climate_row': 'month {month}: {temp} °C on average, {rain} mm of rain',
    'cust.rfm': 'RFM segment',
    'cust.rfm_scores': 'R {r} · F {f} · M {m}',
    'cust.predictions': 'Predictions',
    'cust.p_alive': 'P(alive)',
    'cust.clv': 'Customer lifetime value (365 days)',
    'cust.next_order': 'Expected next order',
    'cust.expected_90': 'Expected orders in 90 days',
    'cust.no_profile': 'No profile of this customer yet.',
    'cust.campaigns': 'Campaigns',
    'cust.campaigns_none': 'No campaign planned for this customer.',
    'cust.uplift': 'Uplift',
    'cust.uplift_pending': 'Not measured',
    'cust.uplift_not_sent': 'Not sent',
    'cust.uplift_row': 'conversion {d} points (95%: {lo} … {hi})',
    'cust.uplift_none': 'no orders to compare yet',
    'cust.uplift_open': 'window open',
    'cust.col_when': 'When',
    'cust.col_type': 'Type',
    'cust.col_title': 'Title',
    'cust.col_discount': 'Discount',
    'cust.col_planner': 'Planner',
    'tier.LOW': 'Low', 'tier.MEDIUM': 'Medium', 'tier.HIGH': 'High', 'tier.PREMIUM': 'Premium',
    'loyal.BRONZE': 'Bronze', 'loyal.SILVER': 'Silver', 'loyal.GOLD': 'Gold', 'loyal.PLATINUM': 'Platinum',
    'variety.EXPLORER': 'Explorer', 'variety.BALANCED': 'Balanced', 'variety.LOYALIST': 'Loyalist',
    'season.winter': 'winter', 'season.spring': 'spring', 'season.summer': 'summer', 'season.autumn': 'autumn',
    'seg.champions': 'Champions', 'seg.loyal': 'Loyal', 'seg.potential_loyal': 'Potential loyal',
    'seg.new': 'New', 'seg.promising': 'Promising', 'seg.need_attention': 'Need attention',
    'seg.about_to_sleep': 'About to sleep', 'seg.cannot_lose': 'Cannot lose', 'seg.at_risk': 'At risk',
    'seg.hibernating': 'Hibernating', 'seg.lost': 'Lost',
  },
});

const TIERS = ['LOW', 'MEDIUM', 'HIGH', 'PREMIUM'];
const LOYALTY = ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM'];

const C = {
  api: null, // the dashboard's authenticated fetch
  segments: null,
  rows: [],
  after: null, // cursor of the shown page
  next: null,
  history: [], // cursors of earlier pages
  current: null, // {id, trace, profile, campaigns}
  chart: null,
};

function text(key, fallback) {
  const s = t(key);
  return s === key ? (fallback ?? key) : s;
}

/* ======================== segments ======================== */

async function loadSegments() {
  C.segments = await C.api('/api/intel/segments');
  renderSegments();
}

function renderSegments() {
  const box = $('#cust-segments');
  const s = C.segments;
  if (!s) return;
  if (!s.batch_id) {
    box.replaceChildren(el('p', { class: 'muted' }, t('cust.no_batch')));
    $('#cust-asof').textContent = '';
    return;
  }
  $('#cust-asof').textContent = t('cust.as_of', { t: fmtTime(s.as_of) });
  const counts = new Map(s.segments.map((x) => [x.segment, x.customers]));
  const total = [...counts.values()].reduce((a, b) => a + b, 0) || 1;
  const grid = el('div', { class: 'rfm-grid', role: 'list', style: `grid-template-areas: ${GRID_AREAS.map((r) => `"${r}"`).join(' ')}` });
  for (const seg of SEGMENTS) {
    const n = counts.get(seg) || 0;
    grid.append(el('div', {
      class: 'rfm-cell', role: 'listitem', 'data-segment': seg,
      style: `grid-area: ${seg}; background: ${SEG_COLORS[seg]}; opacity: ${0.55 + 0.45 * Math.min(1, (n / total) * 5)}`,
    },
    el('span', { class: 'rfm-name' }, text(`seg.${seg}`, seg)),
    el('span', { class: 'rfm-count' }, fmtNumber(n)),
    el('span', { class: 'rfm-share' }, `${fmtNumber((n / total) * 100, 1)}%`)));
  }
  box.replaceChildren(
    el('div', { class: 'rfm-wrap' },
      el('span', { class: 'rfm-axis-y' }, t('cust.frequency')),
      grid,
      el('span', { class: 'rfm-axis-x' }, t('cust.recency'))));
}

/* ======================== the list ======================== */

async function loadList(after) {
  // the search box asks the server (GET /api/customers?q=), so it finds customers on any page
  const term = $('#cust-search').value.trim();
  const q = (after ? `&after=${encodeURIComponent(after)}` : '') + (term ? `&q=${encodeURIComponent(term)}` : '');
  const res = await C.api(`/api/customers?limit=${PAGE}${q}`);
  C.after = after || null;
  C.rows = res.customers || [];
  C.next = res.next_after;
  renderList();
}

function renderList() {
  const rows = C.rows;
  const trs = rows.map((c) => el('tr', { 'data-customer-id': c.id },
    el('td', {}, el('a', { href: `#customers/${encodeURIComponent(c.id)}` }, c.id)),
    el('td', {}, c.email || '—'),
    el('td', {}, c.external_id || '—'),
    el('td', {}, fmtTime(c.created_at))));
  $('#cust-table tbody').replaceChildren(...(trs.length ? trs : [el('tr', {}, el('td', { colspan: 4, class: 'muted' }, t('common.none')))]));
  $('#cust-next').disabled = !C.next;
  $('#cust-first').disabled = !C.after;
}

/* ======================== a customer ======================== */

async function loadCustomer(id) {
  const enc = encodeURIComponent(id);
  const [trace, profile, campaigns] = await Promise.all([
    C.api(`/api/campaigns/decision-trace/${enc}`),
    C.api(`/api/profiles/${enc}`).catch((err) => (err.status === 404 ? null : Promise.reject(err))),
    C.api(`/api/campaigns?customerId=${enc}&limit=50`).catch(() => ({ campaigns: [] })),
  ]);
  C.current = { id, trace, profile, campaigns: campaigns.campaigns || [], uplift: new Map() };
  renderCustomer();
  loadUplift(C.current);
}

/* Each campaign's uplift against its holdout (GET /api/campaigns/{id}/uplift; 404: never sent). */
async function loadUplift(cur) {
  for (const x of cur.campaigns) {
    try {
      cur.uplift.set(x.id, await C.api(`/api/campaigns/${encodeURIComponent(x.id)}/uplift`));
    } catch (err) {
      cur.uplift.set(x.id, err.status === 404 ? 'not_sent' : null);
    }
    if (C.current === cur) fillUplift(x.id);
  }
}

function upliftText(u) {
  if (u === undefined || u === null) return t('cust.uplift_pending');
  if (u === 'not_sent') return t('cust.uplift_not_sent');
  const r = (u.results || [])[0];
  const d = r && r.conversion_diff;
  const pp = (x) => fmtNumber(x * 100, 1);
  const s = d ? t('cust.uplift_row', { d: pp(d.estimate), lo: pp(d.ci95_low), hi: pp(d.ci95_high) }) : t('cust.uplift_none');
  return u.window && u.window.open ? `${s} · ${t('cust.uplift_open')}` : s;
}

function fillUplift(id) {
  for (const cell of document.querySelectorAll('#cust-cards td[data-campaign-uplift]')) {
    if (cell.dataset.campaignUplift === id) cell.textContent = upliftText(C.current.uplift.get(id));
  }
}

function card(cls, title, ...body) {
  return el('section', { class: `ccard ${cls}`, 'aria-label': title }, el('h3', {}, title), ...body);
}

function money(x, cur) {
  return `${fmtNumber(x, 2)} ${cur || ''}`.trim();
}

function gauge(tier, amount, cur) {
  const i = Math.max(0, TIERS.indexOf(tier));
  const frac = (i + 0.5) / TIERS.length;
  const ang = Math.PI * (1 - frac);
  const x = 60 + 45 * Math.cos(ang), y = 60 - 45 * Math.sin(ang);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 120 70');
  svg.setAttribute('class', 'gauge-svg');
  svg.setAttribute('aria-hidden', 'true');
  const colors = ['#9aa5b1', '#4a86d6', '#1b7f3b', '#b26a00'];
  TIERS.forEach((_, k) => {
    const a0 = Math.PI * (1 - k / TIERS.length), a1 = Math.PI * (1 - (k + 1) / TIERS.length);
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', `M ${60 + 50 * Math.cos(a0)} ${60 - 50 * Math.sin(a0)} A 50 50 0 0 1 ${60 + 50 * Math.cos(a1)} ${60 - 50 * Math.sin(a1)}`);
    p.setAttribute('stroke', colors[k]);
    p.setAttribute('stroke-width', k === i ? '12' : '8');
    p.setAttribute('fill', 'none');
    svg.append(p);
  });
  const needle = document.createElementNS('http://www.w3.org/2000/svg', 'line');
  for (const [k, v] of [['x1', 60], ['y1', 60], ['x2', x], ['y2', y], ['stroke', '#222'], ['stroke-width', 3]]) needle.setAttribute(k, v);
  svg.append(needle);
  return el('div', { class: 'gauge', role: 'img', 'aria-label': `${t('cust.budget')}: ${text(`tier.${tier}`, tier)}` },
    svg,
    el('p', { class: 'gauge-tier', 'data-tier': tier }, text(`tier.${tier}`, tier)),
    el('p', { class: 'muted small' }, `${t('cust.budget_month')}: ${money(amount, cur)}`));
}

function renderCustomer() {
  const { id, trace, profile, campaigns } = C.current;
  const v = trace.visualizations;
  const sig = trace.signals;
  const cur = sig.currency;
  $('#cust-title').textContent = t('cust.page_title', { id });

  const b = v.budgetGauge;
  const budget = card('c-budget', t('cust.budget'), gauge(b.tier, b.current, cur),
    el('p', { class: 'small' }, `${t('cust.avg_order')}: ${money(sig.avgOrderValue, cur)}`));

  const l = v.loyaltyProgress;
  const li = Math.max(0, LOYALTY.indexOf(l.current));
  const nextTier = LOYALTY[li + 1];
  const loyalty = card('c-loyalty', t('cust.loyalty'),
    el('p', { class: 'badge-tier', 'data-tier': l.current }, text(`loyal.${l.current}`, l.current)),
    el('progress', { max: 100, value: Math.max(0, Math.min(100, l.score)), 'aria-label': t('cust.loyalty') }),
    el('p', { class: 'small' }, `${fmtNumber(l.score, 0)} / 100 · ${nextTier ? t('cust.loyalty_next', { tier: text(`loyal.${nextTier}`, nextTier) }) : t('cust.loyalty_top')}`),
    el('p', { class: 'small muted' }, t('cust.multiplier', { m: fmtNumber(l.multiplier, 2) })));

  const cats = card('c-categories', t('cust.categories'),
    el('div', { class: 'chart-box small-chart' }, el('canvas', { id: 'cust-chart', role: 'img', 'aria-label': t('cust.categories') })),
    el('ul', { class: 'plain small' }, ...v.categoryChart.map((c) => el('li', {}, `${c.categoryName}: ${fmtNumber(c.affinityScore, 0)} · ${money(c.spendTotal, cur)}`))));

  const repl = card('c-replenishment', t('cust.replenishment'),
    v.replenishmentList.length
      ? el('ul', { class: 'plain' }, ...v.replenishmentList.map((g) => el('li', {},
        el('strong', {}, g.productName || g.productId), ' — ',
        t('cust.repl_row', { cycle: g.cycleDays, late: g.daysSinceExpected }))))
      : el('p', { class: 'muted' }, t('cust.replenishment_none')));

  const variety = card('c-variety', t('cust.variety'),
    el('span', { class: 'variety-badge', 'data-type': v.varietyType }, text(`variety.${v.varietyType}`, v.varietyType)),
    el('p', { class: 'small muted' }, t('cust.variety_row', { v: fmtNumber(sig.varietyIndex, 2), r: fmtNumber(sig.repeatRatio, 2) })));

  const c = v.climateInfo;
  const climate = card('c-climate', t('cust.climate'), c
    ? el('div', {},
      el('p', { class: 'climate-city' }, c.name, ' · ', text(`season.${c.seasonTag}`, c.seasonTag)),
      el('p', { class: 'small' }, t('cust.climate_row', { month: c.currentMonth, temp: fmtNumber(c.avgTempC, 1), rain: fmtNumber(c.rainfallMm, 0) })))
    : el('p', { class: 'muted' }, t('cust.climate_none')));

  let rfm, pred;
  if (profile && profile.rfm) {
    const r = profile.rfm;
    rfm = card('c-rfm', t('cust.rfm'),
      el('p', { class: 'seg-badge', 'data-segment': r.segment, style: `background: ${SEG_COLORS[r.segment] || '#5f6368'}` }, text(`seg.${r.segment}`, r.segment)),
      el('p', { class: 'small' }, t('cust.rfm_scores', { r: r.recency_score, f: r.frequency_score, m: r.monetary_score })));
  } else {
    rfm = card('c-rfm', t('cust.rfm'), el('p', { class: 'muted' }, t('cust.no_profile')));
  }
  if (profile && profile.predictions) {
    const p = profile.predictions;
    const dl = el('dl', { class: 'kv' });
    const row = (k, val) => dl.append(el('dt', {}, t(k)), el('dd', {}, val));
    if (p.p_alive !== null) {
      row('cust.p_alive', `${fmtNumber(p.p_alive * 100, 1)}%`);
      row('cust.expected_90', fmtNumber(p.expected_purchases_90, 2));
      row('cust.clv', money(p.predicted_clv, profile.currency));
      row('cust.next_order', p.expected_date_of_next_order ? fmtTime(p.expected_date_of_next_order) : '—');
    } else {
      dl.append(el('dd', { class: 'muted' }, p.reason || '—'));
    }
    pred = card('c-predictions', t('cust.predictions'), dl);
  } else {
    pred = card('c-predictions', t('cust.predictions'), el('p', { class: 'muted' }, t('cust.no_profile')));
  }

  const trs = campaigns.map((x) => el('tr', { 'data-campaign-id': x.id },
    el('td', {}, x.createdAt ? fmtTime(x.createdAt) : '—'),
    el('td', {}, x.campaign && x.campaign.campaignType ? x.campaign.campaignType : '—'),
    el('td', {}, x.campaign && x.campaign.title ? x.campaign.title : '—'),
    el('td', { class: 'num' }, x.campaign && x.campaign.discountPercent !== undefined ? `${x.campaign.discountPercent}%` : '—'),
    el('td', {}, x.planner || '—'),
    el('td', { class: 'uplift', 'data-campaign-uplift': x.id }, upliftText(C.current.uplift.get(x.id)))));
  const camps = card('c-campaigns wide', t('cust.campaigns'), campaigns.length
    ? el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
      el('thead', {}, el('tr', {}, ...['cust.col_when', 'cust.col_type', 'cust.col_title', 'cust.col_discount', 'cust.col_planner', 'cust.uplift'].map((k) => el('th', { scope: 'col' }, t(k))))),
      el('tbody', {}, ...trs)))
    : el('p', { class: 'muted' }, t('cust.campaigns_none')));

  $('#cust-cards').replaceChildren(rfm, pred, budget, loyalty, cats, repl, variety, climate, camps);
  drawCategoryChart(v.categoryChart);
}

function drawCategoryChart(rows) {
  const Chart = window.Chart;
  if (C.chart) { C.chart.destroy(); C.chart = null; }
  if (!Chart || !rows.length) return;
  C.chart = new Chart($('#cust-chart'), {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.categoryName),
      datasets: [{ label: t('cust.affinity'), data: rows.map((r) => r.affinityScore), backgroundColor: ['#1f5fbf', '#2e9d57', '#b26a00'] }],
    },
    options: { indexAxis: 'y', animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, max: 100 } } },
  });
}

/* ======================== the tab ======================== */

function customerOfHash() {
  const m = location.hash.match(/^#customers\/(.+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

/* Called by the dashboard when the tab is shown (its hash is #customers or #customers/{id}). */
export async function customersShow() {
  const id = customerOfHash();
  $('#cust-overview').hidden = !!id;
  $('#cust-detail').hidden = !id;
  const status = $('#cust-status');
  status.textContent = '';
  try {
    if (id) {
      await loadCustomer(id);
    } else {
      await Promise.all([loadSegments(), C.rows.length ? Promise.resolve(renderList()) : loadList(null)]);
    }
  } catch (err) {
    status.textContent = `${t('common.error')}: ${err.message}`;
  }
}

/* The page in the new language. */
export function customersRerender() {
  renderSegments();
  if (C.rows) renderList();
  if (C.current && !$('#cust-detail').hidden) renderCustomer();
}

export function customersSetup(authed) {
  C.api = authed;
  let searchTimer = null;
  $('#cust-search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      C.history = [];
      loadList(null).catch((err) => { $('#cust-status').textContent = err.message; });
    }, 250);
  });
  $('#cust-next').addEventListener('click', () => {
    if (!C.next) return;
    C.history.push(C.after);
    loadList(C.next).catch((err) => { $('#cust-status').textContent = err.message; });
  });
  $('#cust-first').addEventListener('click', () => {
    C.history = [];
    loadList(null).catch((err) => { $('#cust-status').textContent = err.message; });
  });
  $('#cust-open').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = $('#cust-open-id').value.trim();
    if (id) location.hash = `#customers/${encodeURIComponent(id)}`;
  });
}

export function customersIsRoute(hash) {
  return hash === 'customers' || hash.startsWith('customers/');
}
