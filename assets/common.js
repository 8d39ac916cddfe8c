// SPDX-License-Identifier: MIT
// Shared by the dashboard (/admin), the buyer page (/w/{token}) and the seller page (/s/{token}):
// Turkish/English strings with a switch, fetch helpers that turn error replies into exceptions,
// a server-synchronised clock with countdowns, small DOM and formatting helpers.
// Plain ES module, no build step, no network requests beyond this server.

const STRINGS = {
  tr: {
    'lang.name': 'Türkçe',
    'lang.switch': 'Dil',
    'common.loading': 'Yükleniyor…',
    'common.error': 'Bir hata oluştu',
    'common.retry': 'Tekrar dene',
    'common.close': 'Kapat',
    'common.save': 'Kaydet',
    'common.saved': 'Kaydedildi',
    'common.cancel': 'Vazgeç',
    'common.none': 'Kayıt yok',
    'common.network': 'Sunucuya ulaşılamadı. Bağlantınızı kontrol edin.',
    'time.starts_in': 'Başlamasına',
    'time.ends_in': 'Bitmesine',
    'time.ended': 'Sona erdi',
    'time.now': 'şimdi',
    'time.h': 'sa',
    'time.d': 'g',
    'status.PROPOSED': 'Önerildi',
    'status.SCHEDULED': 'Planlandı',
    'status.ACTIVE': 'Aktif',
    'status.EXPIRED': 'Bitti',
    'status.CANCELLED': 'İptal',
    'cat.coffee': 'Kahve',
    'cat.bakery': 'Fırın',
    'cat.restaurant': 'Restoran',
    'cat.grocery': 'Market',
    'cat.butcher': 'Kasap',
    'cat.barber': 'Berber',
    'cat.dessert': 'Tatlı',
    'density.low': 'sakin',
    'density.medium': 'orta',
    'density.high': 'yoğun',
    'msg.pending': 'bekliyor',
    'msg.sent': 'gönderildi',
    'msg.delivered': 'iletildi',
    'msg.read': 'okundu',
    'msg.failed': 'başarısız',
    'msg.received': 'alındı',
    'msg.processed': 'işlendi',
    'job.pending': 'bekleyen',
    'job.running': 'çalışan',
    'job.done': 'biten',
    'job.all': 'tümü',
    'job.dead': 'ölü',

    // dashboard
    'admin.title': 'Iceshop yönetim paneli',
    'admin.skip': 'İçeriğe geç',
    'signin.title': 'Giriş yap',
    'signin.intro': 'Bir kullanıcı ve parola ya da yönetici anahtarı ile giriş yapın.',
    'signin.mode_user': 'E-posta ve parola',
    'signin.mode_key': 'Yönetici anahtarı',
    'signin.email': 'E-posta',
    'signin.password': 'Parola',
    'signin.key': 'Yönetici anahtarı veya API anahtarı',
    'signin.submit': 'Giriş yap',
    'signin.failed': 'Giriş başarısız',
    'signin.expired': 'Oturumunuz sona erdi; lütfen yeniden giriş yapın.',
    'signout': 'Çıkış',
    'live.on': 'Canlı',
    'live.off': 'Yeniden bağlanıyor…',
    'nav.live': 'Harita ve pencereler',
    'nav.messages': 'Mesajlar',
    'nav.jobs': 'İşler',
    'nav.settings': 'Motor ayarları',
    'nav.charts': 'Grafikler',
    'nav.billing': 'Satıcı hesapları',
    'bill.title': 'Satıcı hesap özetleri',
    'bill.month': 'Ay',
    'bill.note': 'Kullanılan her kod, o anki trafik ücretiyle (traffic_fee) satıcının hesabına yazılır; ay, şehrin yerel saatine göredir.',
    'bill.col_seller': 'Satıcı',
    'bill.col_category': 'Kategori',
    'bill.col_windows': 'Pencere',
    'bill.col_visits': 'Ziyaret',
    'bill.col_fees': 'Ücret',
    'map.title': 'Canlı şehir haritası',
    'map.legend': 'Açıklama',
    'map.sellers': 'Satıcılar (renk: kategori, kenar: yoğunluk)',
    'map.demand': 'Talep yoğunluğu (alıcılar)',
    'map.windows_active': 'Aktif pencereler (düz çizgi, yarıçap)',
    'map.windows': 'Planlı pencereler (kesikli, yarıçap)',
    'map.tiles': 'Harita altlığı (tile) adresi',
    'map.tiles_hint': 'Boş = çevrimdışı (düz arka plan). Örnek: https://tile.example.org/{z}/{x}/{y}.png',
    'map.tiles_apply': 'Uygula',
    'map.summary': '{sellers} satıcı, {buyers} alıcı, {windows} açık pencere',
    'map.seller_popup': '{name} · {cat} · {density}',
    'map.window_popup': '{title} · {status} · {r} m',
    'win.title': 'Pencereler',
    'win.filter': 'Durum',
    'win.all': 'Tümü',
    'win.open': 'Açık olanlar',
    'win.col_window': 'Pencere',
    'win.col_status': 'Durum',
    'win.col_counts': 'Hedef / Taahhüt / Katılım / Kullanım',
    'win.col_time': 'Süre',
    'win.col_trace': 'Karar',
    'win.targeted': 'hedef',
    'win.committed': 'taahhüt',
    'win.joined': 'katılım',
    'win.redeemed': 'kullanım',
    'win.trace': 'Karar izi',
    'win.trace_of': '#{id} numaralı pencere için karar izi',
    'win.empty': 'Henüz pencere yok.',
    'trace.score': 'Puan',
    'trace.threshold': 'eşik',
    'trace.components': 'Puan bileşenleri',
    'trace.component': 'Bileşen',
    'trace.value': 'Değer',
    'trace.weight': 'Ağırlık',
    'trace.contribution': 'Katkı',
    'trace.c.demand': 'Talep',
    'trace.c.density': 'Yoğunluk',
    'trace.c.precommit': 'Ön taahhüt',
    'trace.c.category': 'Kategori uyumu',
    'trace.c.distance': 'Mesafe',
    'trace.counts': 'Yakındaki {nearby} alıcıdan {matching} tanesi uyuyor; {targets} hedef, ortalama {mean} m.',
    'trace.buyers': 'Neden bu alıcılar',
    'trace.buyer': 'Alıcı',
    'trace.distance': 'Mesafe',
    'trace.discount': 'İndirim',
    'trace.why': 'Neden',
    'trace.discount_why': 'Neden bu indirim',
    'trace.timing_why': 'Neden bu saat',
    'trace.approval': 'Onay',
    'trace.approval.standing': 'satıcının kalıcı onayı var',
    'trace.approval.ask-first': 'önce satıcıya soruldu',
    'trace.approval.signal': 'satıcı müşteri istediğini bildirmişti (boş / stok fazlası / promosyon); tekrar sorulmadı',
    'trace.approval.operator': 'operatör oluşturdu',
    'trace.manual': 'Bu pencereyi bir operatör oluşturdu.',
    'trace.none': 'Bu pencere için karar izi yok.',
    'trace.messages': 'Bu pencerenin mesajları',
    'trace.links': 'Bağlantılar',
    'trace.seller_link': 'Satıcı sayfası',
    'msgs.title': 'Mesajlar',
    'msgs.col_time': 'Zaman',
    'msgs.col_dir': 'Yön',
    'msgs.col_who': 'Kime / kimden',
    'msgs.col_kind': 'Tür',
    'msgs.col_body': 'Metin',
    'msgs.col_status': 'Teslim',
    'msgs.in': 'gelen',
    'msgs.out': 'giden',
    'msgs.filter_status': 'Teslim durumu',
    'msgs.note': 'Giden mesajlar teslim durumlarıyla; sunucu gelen mesajları listelediğinde burada görünürler.',
    'jobs.title': 'İş kuyruğu',
    'jobs.backlog': 'Duruma göre iş sayısı',
    'jobs.workers': '{threads} çalışan iş parçacığı, şu an {running} iş çalışıyor; {succeeded} başarılı, {retried} yeniden denendi, {dead} öldü.',
    'jobs.list': 'İşler',
    'jobs.state': 'Durum',
    'jobs.col_id': 'No',
    'jobs.col_name': 'Ad',
    'jobs.col_attempts': 'Deneme',
    'jobs.col_error': 'Son hata',
    'jobs.col_when': 'Zaman',
    'jobs.retry': 'Yeniden dene',
    'jobs.retried': '#{id} yeniden kuyruğa alındı',
    'set.title': 'Motor ayarları',
    'set.intro': 'Değişiklikler API üzerinden kaydedilir; sunucu hatalı alanı işaretler.',
    'set.weights': 'Ağırlıklar',
    'set.threshold': 'Eşik (0–1)',
    'set.radius_m': 'Yarıçap (m)',
    'set.tiers': 'Mesafe kademeleri',
    'set.tier_max': 'Kademe {n}: en fazla (m)',
    'set.tier_discount': 'Kademe {n}: indirim (%)',
    'set.tier_add': 'Kademe ekle',
    'set.tier_remove': 'Kademe {n} sil',
    'set.window_minutes': 'Pencere süresi (dk)',
    'set.lead_minutes': 'Başlangıç öncesi süre (dk)',
    'set.min_participants': 'En az katılımcı',
    'set.demand_target': 'Talep hedefi',
    'set.scan_interval_s': 'Tarama aralığı (sn, 0 = kapalı)',
    'set.max_offers': 'Alıcı başına günlük en fazla teklif',
    'set.timing': 'Zamanlama ve katılım',
    'set.failed': 'Kaydedilemedi: {msg}',
    'charts.title': 'Grafikler',
    'charts.windows': 'Zaman içinde pencereler ve dönüşüm',
    'charts.windows_count': 'Pencere',
    'charts.conversion': 'Dönüşüm (%)',
    'charts.requests': 'İstekler (saniyede)',
    'charts.messages': 'Mesaj teslimi',

    // buyer page
    'buyer.title': 'Fırsat',
    'buyer.hello': 'Merhaba {name}',
    'buyer.discount': '%{n} indirim',
    'buyer.distance': '{m} uzaklıkta · yürüyerek yaklaşık {min} dk',
    'buyer.map': 'Satıcının konumu ve sizin konumunuz',
    'buyer.you': 'Siz',
    'buyer.join': 'Katıl',
    'buyer.get_code': 'Kodumu al',
    'buyer.pay': 'Öde ve katıl',
    'buyer.prepaid': 'Bu fırsat ön ödemeli: yeriniz ödeyince ayrılır.',
    'buyer.to_pay': 'Yeriniz {amount} ödeyince ayrılır. Ödeme, ödeme sağlayıcısının güvenli sayfasında yapılır.',
    'buyer.cancel': 'Katılımı iptal et',
    'buyer.committed': 'Yerinizi ayırdık. Fırsat başlayınca kodunuzu buradan alabilirsiniz.',
    'buyer.active_committed': 'Fırsat başladı! Kodunuzu alın ve satıcıya gösterin.',
    'buyer.offered': 'Katılmak için düğmeye basın.',
    'buyer.code': 'Kodunuz',
    'buyer.code_hint': 'Bu kodu kasada gösterin ya da söyleyin.',
    'buyer.qr': 'Kodun karekodu: {code}',
    'buyer.redeemed': 'Kodunuz kullanıldı. Afiyet olsun!',
    'buyer.closed': 'Bu fırsat artık geçerli değil.',
    'buyer.bad_link': 'Bu bağlantı geçersiz ya da süresi dolmuş.',
    'buyer.gone': 'Bu fırsat artık yok.',
    'buyer.capacity': 'En fazla {n} kişi',

    // seller page
    'seller.title': 'Satıcı paneli',
    'seller.precommits': 'Ön taahhüt',
    'seller.expected': 'Beklenen gelen',
    'seller.joined': 'Katılımcı',
    'seller.redeemed': 'Kullanılan kod',
    'seller.targeted': 'Teklif gönderilen',
    'seller.redeem': 'Kodu doğrula',
    'seller.decide_h': 'Bu pencere önerildi',
    'seller.decide_hint': 'Onaylarsanız pencere açılır ve yakındaki alıcılara teklif gider.',
    'seller.approve': 'Onayla ve aç',
    'seller.reject': 'Reddet',
    'seller.approved': 'Onaylandı: pencere planlandı.',
    'seller.rejected': 'Reddedildi: pencere açılmayacak.',
    'seller.code': 'Müşterinin kodu',
    'seller.code_hint': 'Müşterinin gösterdiği 6 karakterlik kod',
    'seller.ok': '{code} kodu onaylandı.',
    'seller.bad_link': 'Bu bağlantı geçersiz ya da süresi dolmuş.',
  },
  en: {
    'lang.name': 'English',
    'lang.switch': 'Language',
    'common.loading': 'Loading…',
    'common.error': 'Something went wrong',
    'common.retry': 'Try again',
    'common.close': 'Close',
    'common.save': 'Save',
    'common.saved': 'Saved',
    'common.cancel': 'Cancel',
    'common.none': 'Nothing yet',
    'common.network': 'Cannot reach the server. Check your connection.',
    'time.starts_in': 'Starts in',
    'time.ends_in': 'Ends in',
    'time.ended': 'Ended',
    'time.now': 'now',
    'time.h': 'h',
    'time.d': 'd',
    'status.PROPOSED': 'Proposed',
    'status.SCHEDULED': 'Scheduled',
    'status.ACTIVE': 'Active',
    'status.EXPIRED': 'Expired',
    'status.CANCELLED': 'Cancelled',
    'cat.coffee': 'Coffee',
    'cat.bakery': 'Bakery',
    'cat.restaurant': 'Restaurant',
    'cat.grocery': 'Grocery',
    'cat.butcher': 'Butcher',
    'cat.barber': 'Barber',
    'cat.dessert': 'Dessert',
    'density.low': 'quiet',
    'density.medium': 'medium',
    'density.high': 'busy',
    'msg.pending': 'pending',
    'msg.sent': 'sent',
    'msg.delivered': 'delivered',
    'msg.read': 'read',
    'msg.failed': 'failed',
    'msg.received': 'received',
    'msg.processed': 'handled',
    'job.pending': 'pending',
    'job.running': 'running',
    'job.done': 'done',
    'job.all': 'all',
    'job.dead': 'dead',

    'admin.title': 'Iceshop dashboard',
    'admin.skip': 'Skip to content',
    'signin.title': 'Sign in',
    'signin.intro': 'Sign in with a user and password, or with an admin key.',
    'signin.mode_user': 'Email and password',
    'signin.mode_key': 'Admin key',
    'signin.email': 'Email',
    'signin.password': 'Password',
    'signin.key': 'Admin key or API key',
    'signin.submit': 'Sign in',
    'signin.failed': 'Sign-in failed',
    'signin.expired': 'Your session has ended; please sign in again.',
    'signout': 'Sign out',
    'live.on': 'Live',
    'live.off': 'Reconnecting…',
    'nav.live': 'Map and windows',
    'nav.messages': 'Messages',
    'nav.jobs': 'Jobs',
    'nav.settings': 'Engine settings',
    'nav.charts': 'Charts',
    'nav.billing': 'Seller statements',
    'bill.title': 'Seller statements',
    'bill.month': 'Month',
    'bill.note': "Every redeemed code is billed to the seller at the traffic fee (traffic_fee) of that moment; the month is in the city's local time.",
    'bill.col_seller': 'Seller',
    'bill.col_category': 'Category',
    'bill.col_windows': 'Windows',
    'bill.col_visits': 'Visits',
    'bill.col_fees': 'Fees',
    'map.title': 'Live city map',
    'map.legend': 'Legend',
    'map.sellers': 'Sellers (fill: category, ring: density)',
    'map.demand': 'Demand density (buyers)',
    'map.windows_active': 'Active windows (solid line, radius)',
    'map.windows': 'Scheduled windows (dashed, radius)',
    'map.tiles': 'Tile server URL',
    'map.tiles_hint': 'Empty = offline (plain background). Example: https://tile.example.org/{z}/{x}/{y}.png',
    'map.tiles_apply': 'Apply',
    'map.summary': '{sellers} sellers, {buyers} buyers, {windows} open windows',
    'map.seller_popup': '{name} · {cat} · {density}',
    'map.window_popup': '{title} · {status} · {r} m',
    'win.title': 'Windows',
    'win.filter': 'Status',
    'win.all': 'All',
    'win.open': 'Open ones',
    'win.col_window': 'Window',
    'win.col_status': 'Status',
    'win.col_counts': 'Targeted / Committed / Joined / Redeemed',
    'win.col_time': 'Time',
    'win.col_trace': 'Decision',
    'win.targeted': 'targeted',
    'win.committed': 'committed',
    'win.joined': 'joined',
    'win.redeemed': 'redeemed',
    'win.trace': 'Decision trace',
    'win.trace_of': 'Decision trace of window #{id}',
    'win.empty': 'No windows yet.',
    'trace.score': 'Score',
    'trace.threshold': 'threshold',
    'trace.components': 'Score components',
    'trace.component': 'Component',
    'trace.value': 'Value',
    'trace.weight': 'Weight',
    'trace.contribution': 'Contribution',
    'trace.c.demand': 'Demand',
    'trace.c.density': 'Density',
    'trace.c.precommit': 'Pre-commits',
    'trace.c.category': 'Category fit',
    'trace.c.distance': 'Distance',
    'trace.counts': '{matching} of {nearby} nearby buyers match; {targets} targeted, {mean} m on average.',
    'trace.buyers': 'Why these buyers',
    'trace.buyer': 'Buyer',
    'trace.distance': 'Distance',
    'trace.discount': 'Discount',
    'trace.why': 'Why',
    'trace.discount_why': 'Why this discount',
    'trace.timing_why': 'Why this time',
    'trace.approval': 'Approval',
    'trace.approval.standing': 'the seller has standing approval',
    'trace.approval.ask-first': 'the seller was asked first',
    'trace.approval.signal': 'the seller had asked for customers (idle / surplus / promotion); not asked again',
    'trace.approval.operator': 'created by an operator',
    'trace.manual': 'An operator created this window.',
    'trace.none': 'This window has no decision trace.',
    'trace.messages': 'Messages of this window',
    'trace.links': 'Links',
    'trace.seller_link': 'Seller page',
    'msgs.title': 'Messages',
    'msgs.col_time': 'Time',
    'msgs.col_dir': 'Direction',
    'msgs.col_who': 'To / from',
    'msgs.col_kind': 'Kind',
    'msgs.col_body': 'Text',
    'msgs.col_status': 'Delivery',
    'msgs.in': 'in',
    'msgs.out': 'out',
    'msgs.filter_status': 'Delivery status',
    'msgs.note': 'Outbound messages with their delivery status; inbound ones appear here once the server lists them.',
    'jobs.title': 'Job queue',
    'jobs.backlog': 'Jobs by state',
    'jobs.workers': '{threads} worker threads, {running} running now; {succeeded} succeeded, {retried} retried, {dead} dead.',
    'jobs.list': 'Jobs',
    'jobs.state': 'State',
    'jobs.col_id': 'ID',
    'jobs.col_name': 'Name',
    'jobs.col_attempts': 'Attempts',
    'jobs.col_error': 'Last error',
    'jobs.col_when': 'When',
    'jobs.retry': 'Retry',
    'jobs.retried': 'Job #{id} is queued again',
    'set.title': 'Engine settings',
    'set.intro': 'Changes are saved through the API; the server marks the field it rejects.',
    'set.weights': 'Weights',
    'set.threshold': 'Threshold (0–1)',
    'set.radius_m': 'Radius (m)',
    'set.tiers': 'Distance tiers',
    'set.tier_max': 'Tier {n}: up to (m)',
    'set.tier_discount': 'Tier {n}: discount (%)',
    'set.tier_add': 'Add a tier',
    'set.tier_remove': 'Remove tier {n}',
    'set.window_minutes': 'Window length (min)',
    'set.lead_minutes': 'Lead time (min)',
    'set.min_participants': 'Minimum participants',
    'set.demand_target': 'Demand target',
    'set.scan_interval_s': 'Scan interval (s, 0 = off)',
    'set.max_offers': 'Most offers per buyer per day',
    'set.timing': 'Timing and participation',
    'set.failed': 'Not saved: {msg}',
    'charts.title': 'Charts',
    'charts.windows': 'Windows and conversion over time',
    'charts.windows_count': 'Windows',
    'charts.conversion': 'Conversion (%)',
    'charts.requests': 'Requests (per second)',
    'charts.messages': 'Message delivery',

    'buyer.title': 'Offer',
    'buyer.hello': 'Hello {name}',
    'buyer.discount': '{n}% off',
    'buyer.distance': '{m} away · about {min} min on foot',
    'buyer.map': 'Where the seller is, and where you are',
    'buyer.you': 'You',
    'buyer.join': 'Join',
    'buyer.get_code': 'Get my code',
    'buyer.pay': 'Pay and join',
    'buyer.prepaid': 'This offer is prepaid: your place is held once you have paid.',
    'buyer.to_pay': 'Your place is held once you have paid {amount}. You pay on the payment provider\'s secure page.',
    'buyer.cancel': 'Cancel my place',
    'buyer.committed': 'Your place is held. Get your code here once the offer starts.',
    'buyer.active_committed': 'It has started! Get your code and show it to the seller.',
    'buyer.offered': 'Press the button to join.',
    'buyer.code': 'Your code',
    'buyer.code_hint': 'Show or say this code at the counter.',
    'buyer.qr': 'QR code of the code {code}',
    'buyer.redeemed': 'Your code has been used. Enjoy!',
    'buyer.closed': 'This offer is no longer open.',
    'buyer.bad_link': 'This link is not valid or has expired.',
    'buyer.gone': 'This offer no longer exists.',
    'buyer.capacity': 'Up to {n} people',

    'seller.title': 'Seller page',
    'seller.precommits': 'Pre-commits',
    'seller.expected': 'Expected arrivals',
    'seller.joined': 'Participants',
    'seller.redeemed': 'Codes redeemed',
    'seller.targeted': 'Offers sent',
    'seller.redeem': 'Redeem code',
    'seller.decide_h': 'This window is proposed',
    'seller.decide_hint': 'If you approve, the window opens and nearby buyers get the offer.',
    'seller.approve': 'Approve and open',
    'seller.reject': 'Reject',
    'seller.approved': 'Approved: the window is scheduled.',
    'seller.rejected': 'Rejected: the window will not open.',
    'seller.code': 'Customer\'s code',
    'seller.code_hint': 'The 6-character code the customer shows you',
    'seller.ok': 'Code {code} confirmed.',
    'seller.bad_link': 'This link is not valid or has expired.',
  },
};

export const LANGS = ['tr', 'en'];
const LANG_KEY = 'iceshop.lang';
let lang = detectLang();
const listeners = [];

function detectLang() {
  try {
    const q = new URLSearchParams(location.search).get('lang');
    if (LANGS.includes(q)) return q;
    const saved = localStorage.getItem(LANG_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch (_) { /* storage may be off */ }
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const p of prefs) {
    const base = String(p).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export function getLang() { return lang; }

export function setLang(l) {
  if (!LANGS.includes(l) || l === lang) return;
  lang = l;
  try { localStorage.setItem(LANG_KEY, l); } catch (_) { /* ignore */ }
  applyI18n(document);
  for (const fn of listeners) fn(l);
}

export function onLangChange(fn) { listeners.push(fn); }

/* Strings of a page module, by language ({tr: {...}, en: {...}}), added to the shared ones. */
export function addStrings(more) {
  for (const l of LANGS) Object.assign(STRINGS[l], more[l] || {});
}

/* t('buyer.hello', {name: 'Ayşe'}) */
export function t(key, vars) {
  let s = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/*
 * The server writes decision reasons and validation messages in English with their numbers in
 * them; in Turkish the page says them in Turkish by their pattern (unknown text is shown as is).
 */
const SERVER_TEXT_TR = [
  [/^(\d+) m away, (\d+) min walk; window starts in (\d+) min: tier < (\d+) m gives (\d+)%, capped at seller max (\d+)%$/,
    '$1 m uzakta, $2 dk yürüme; pencere $3 dk sonra başlıyor: $4 m altı kademe %$5 indirim verir, satıcının üst sınırı %$6'],
  [/^(\d+) m away, (\d+) min walk; window starts in (\d+) min: tier < (\d+) m gives (\d+)%$/,
    '$1 m uzakta, $2 dk yürüme; pencere $3 dk sonra başlıyor: $4 m altı kademe %$5 indirim verir'],
  [/^(\d+) m away, (\d+) min walk; window starts in (\d+) min: the window's learned discount (\d+)%$/,
    '$1 m uzakta, $2 dk yürüme; pencere $3 dk sonra başlıyor: pencerenin öğrenilmiş indirimi %$4'],
  [/^(\d+)% chosen: posterior mean visit rate ([\d.]+) vs ([\d.]+) at (\d+)%$/,
    '%$1 seçildi: beklenen gelme oranı $2, %$4 için $3'],
  [/^(\d+)% chosen \(exploring\): posterior mean visit rate ([\d.]+) vs ([\d.]+) at (\d+)%$/,
    '%$1 seçildi (deneme): beklenen gelme oranı $2, %$4 için $3'],
  [/^(\d+)% chosen: posterior mean visit rate ([\d.]+), the only arm$/,
    '%$1 seçildi: beklenen gelme oranı $2, tek seçenek'],
  [/^(\d+) m away, (\d+) min walk; window starts in (\d+) min: beyond the tiers, no discount$/,
    '$1 m uzakta, $2 dk yürüme; pencere $3 dk sonra başlıyor: kademelerin dışında, indirim yok'],
  [/^expected arrivals ([\d.]+) \(sum of (\d+) targets' reliability\); minimum (\d+) \(config (\d+)\)$/,
    'beklenen gelen $1 ($2 hedefin güvenilirlik toplamı); en az $3 (ayar $4)'],
  [/^(\d+) m away: tier < (\d+) m gives (\d+)%$/, '$1 m uzakta: $2 m altı kademe %$3 indirim verir'],
  [/^(\d+) m away: beyond the tiers, no discount$/, '$1 m uzakta: kademelerin dışında, indirim yok'],
  [/^largest target discount (\d+)% \(seller max (\d+)%\)$/, 'hedeflerin en büyük indirimi %$1 (satıcının üst sınırı %$2)'],
  [/^no targets, no discount$/, 'hedef yok, indirim yok'],
  [/^now \+ (\d+) min \((\d\d:\d\d) local\), not a busy hour$/, 'şimdi + $1 dk (yerel $2), yoğun bir saat değil'],
  [/^now \+ (\d+) min \((\d\d:\d\d) local\), no busy profile$/, 'şimdi + $1 dk (yerel $2), yoğunluk profili yok'],
  [/^now \+ (\d+) s \((\d\d:\d\d) local\), as asked$/, 'istendiği gibi şimdi + $1 sn (yerel $2)'],
  [/^(\d\d:\d\d) local is busy \(([\d.]+) over (\d+) reports\); moved (\d+) min to (\d\d:\d\d), a quiet hour$/,
    'yerel $1 yoğun ($3 bildirimde $2); $4 dk kaydırıldı: $5, sakin bir saat'],
  [/^(\d\d:\d\d) local is busy \(([\d.]+) over (\d+) reports\) and no 10-minute step within (\d+) min is quiet; kept now \+ (\d+) min$/,
    'yerel $1 yoğun ($3 bildirimde $2) ve $4 dk içinde sakin bir 10 dakikalık adım yok; şimdi + $5 dk kaldı'],
  [/^(\S+) must be between (\S+) and (\S+)$/, '$1 $2 ile $3 arasında olmalı'],
  [/^(\S+) must be greater than (\S+)$/, '$1, $2 değerinden büyük olmalı'],
  [/^(\S+) must be an integer$/, '$1 tam sayı olmalı'],
  [/^(\S+) must be a number$/, '$1 bir sayı olmalı'],
  [/^(\S+) must be a string$/, '$1 metin olmalı'],
  [/^(\S+) must not be empty$/, '$1 boş olamaz'],
  [/^(\S+) must be true or false$/, '$1 true ya da false olmalı'],
  [/^(\S+) must be one of: (.+)$/, '$1 şunlardan biri olmalı: $2'],
  [/^(\S+) must be an array$/, '$1 bir dizi olmalı'],
  [/^(\S+) must be an object$/, '$1 bir nesne olmalı'],
  [/^weights must not all be 0$/, 'ağırlıkların hepsi 0 olamaz'],
];

/* A server message (a decision reason, a validation error) in the page's language. */
/* Endings the engine adds to a reason: translated apart from the reason they follow. */
const SERVER_SUFFIX_TR = [
  [/; moved to now \+ (\d+) min so the farthest target can walk there$/,
    '; en uzaktaki hedef yürüyebilsin diye şimdi + $1 dk sonraya alındı'],
];

export function serverText(s) {
  if (!s || lang !== 'tr') return s || '';
  let tail = '';
  for (const [re, tr] of SERVER_SUFFIX_TR) {
    const m = s.match(re);
    if (m) { tail = m[0].replace(re, tr); s = s.slice(0, m.index); break; }
  }
  for (const [re, tr] of SERVER_TEXT_TR) if (re.test(s)) return s.replace(re, tr) + tail;
  return s + tail;
}

/* Fills [data-i18n] text, [data-i18n-placeholder], [data-i18n-aria-label], [data-i18n-title]. */
export function applyI18n(root) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('.lang-switch button')) el.setAttribute('aria-pressed', String(el.dataset.lang === lang));
}

/* A TR | EN switch: two toggle buttons in a labelled group. */
export function langSwitch() {
  const group = el('div', { class: 'lang-switch', role: 'group', 'data-i18n-aria-label': 'lang.switch', 'aria-label': t('lang.switch') });
  for (const l of LANGS) {
    const b = el('button', { type: 'button', 'data-lang': l, lang: l, title: STRINGS[l]['lang.name'], 'aria-pressed': String(l === lang) }, l.toUpperCase());
    b.addEventListener('click', () => setLang(l));
    group.append(b);
  }
  return group;
}

/* ======================== DOM ======================== */

/* el('button', {class: 'x', onclick: fn}, 'text', child) — text is never parsed as HTML. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/* ======================== fetch ======================== */

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || (status ? `HTTP ${status}` : t('common.network')));
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
  }
}

/* JSON in and out; throws ApiError. opts: {method, body, token, text} */
export async function api(path, opts = {}) {
  const headers = { Accept: opts.text ? 'text/plain' : 'application/json' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(path, { method: opts.method || 'GET', headers, body, cache: 'no-store' });
  } catch (_) {
    throw new ApiError(0, null);
  }
  clock.fromResponse(res);
  if (opts.text && res.ok) return res.text();
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/* ======================== time ======================== */

/* The server's clock: countdowns follow it, not the phone's (which may be off by minutes). */
export const clock = {
  offset: 0,
  now() { return Date.now() + this.offset; },
  sync(serverIso) {
    const ms = Date.parse(serverIso);
    if (!Number.isNaN(ms)) this.offset = ms - Date.now();
  },
  fromResponse(res) {
    const d = res.headers.get('Date');
    const ms = d ? Date.parse(d) : NaN;
    // the Date header has whole seconds: only use it when we are off by more than that
    if (!Number.isNaN(ms) && Math.abs(ms - Date.now() - this.offset) > 1500) this.offset = ms - Date.now();
  },
};

/* 75 s → "01:15", 2 h → "2 sa 00:00" */
export function fmtDuration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  if (d) return `${d} ${t('time.d')} ${h} ${t('time.h')}`;
  if (h) return `${h} ${t('time.h')} ${mmss}`;
  return mmss;
}

/* What a window's clock shows: to the start before it, to the end while on. */
export function windowCountdown(w) {
  const now = clock.now();
  const start = Date.parse(w.start_time), end = Date.parse(w.end_time);
  if ((w.status === 'SCHEDULED' || w.status === 'PROPOSED') && start > now) {
    return { label: t('time.starts_in'), value: fmtDuration(start - now), phase: 'before', ms: start - now };
  }
  if ((w.status === 'ACTIVE' || w.status === 'SCHEDULED') && end > now) {
    return { label: t('time.ends_in'), value: fmtDuration(end - now), phase: 'during', ms: end - now };
  }
  return { label: t('time.ended'), value: '', phase: 'after', ms: 0 };
}

/*
 * Clock times are shown in the city's time (the tenant's tz_offset_min, which the server's
 * reasons use too) once the page knows it, else in the browser's: one zone on every card.
 */
let tzOffsetMin = null;
export function setTzOffset(min) { tzOffsetMin = Number.isFinite(min) ? min : null; }

function zoned(iso) {
  const d = new Date(iso);
  if (tzOffsetMin === null) return { d, tz: undefined };
  return { d: new Date(d.getTime() + tzOffsetMin * 60000), tz: 'UTC' };
}

export function fmtTime(iso) {
  if (!iso) return '';
  const { d, tz } = zoned(iso);
  return d.toLocaleString(lang === 'tr' ? 'tr-TR' : 'en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', day: '2-digit', month: 'short', timeZone: tz });
}

export function fmtClock(iso) {
  if (!iso) return '';
  const { d, tz } = zoned(iso);
  return d.toLocaleTimeString(lang === 'tr' ? 'tr-TR' : 'en-GB', { hour: '2-digit', minute: '2-digit', timeZone: tz });
}

export function fmtNumber(n, digits = 0) {
  return Number(n).toLocaleString(lang === 'tr' ? 'tr-TR' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/* Turkish writes the sign first: %20 / 20% */
export function fmtPercent(n) {
  return lang === 'tr' ? `%${n}` : `${n}%`;
}

export function fmtMeters(m) {
  if (m == null) return '';
  return m >= 1000 ? `${fmtNumber(m / 1000, 1)} km` : `${Math.round(m)} m`;
}

/* Walking minutes: streets are ~25 % longer than the straight line, 80 m a minute. */
export function walkMinutes(m) {
  return Math.max(1, Math.round((m * 1.25) / 80));
}

/* Credentials live for the browser tab only. */
export const session = {
  get() { try { return sessionStorage.getItem('iceshop.cred') || ''; } catch (_) { return ''; } },
  set(v) { try { sessionStorage.setItem('iceshop.cred', v); } catch (_) { /* ignore */ } },
  clear() { try { sessionStorage.removeItem('iceshop.cred'); } catch (_) { /* ignore */ } },
};

/* The token of a signed-link page: the last path segment. */
export function pathToken() {
  const parts = location.pathname.split('/').filter(Boolean);
  return parts.length >= 2 ? decodeURIComponent(parts[parts.length - 1]) : '';
}

export const CATEGORY_COLORS = {
  coffee: '#7b4a1e',
  bakery: '#c77700',
  restaurant: '#b3261e',
  grocery: '#2e7d32',
  butcher: '#8e244d',
  barber: '#1565c0',
  dessert: '#d81b60',
};
export function categoryColor(c) {
  if (CATEGORY_COLORS[c]) return CATEGORY_COLORS[c];
  let h = 0;
  for (const ch of String(c)) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 55% 38%)`;
}
export const DENSITY_COLORS = { low: '#1b8a3a', medium: '#b26a00', high: '#c62828' };
export const STATUS_COLORS = { ACTIVE: '#1b7f3b', SCHEDULED: '#1f5fbf', PROPOSED: '#6b5b95', EXPIRED: '#5f6368', CANCELLED: '#9e2a2b' };
