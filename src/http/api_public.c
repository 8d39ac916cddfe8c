/* SPDX-License-Identifier: MIT */
/*
 * The endpoints behind the signed-link pages (no login: the token in the path is the
 * credential): a buyer's view of one offer with join and cancel, and a seller's live counts with
 * code redemption. A token opens one window for one person; anything else is 401.
 * Tests: tests/integration/0008-pages.c, tests/e2e/.
 */
#include "core/clock.h"
#include "core/money.h"
#include "core/str.h"
#include "domain/flash/flash_service.h"
#include "domain/flash/links.h"
#include "http/handlers.h"
#include "jobs/worker.h"
#include "pdf/pdf.h"

#include <math.h>
#include <string.h>

static json_t *window_view(const struct flash_window *w)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:{s:f, s:f}, s:i}", "id",
                     (json_int_t)w->pk, "title", w->title, "description", w->description,
                     "seller_name", w->seller_name ? w->seller_name : "", "discount_percent",
                     w->discount_percent ? json_integer(w->discount_percent) : json_null(),
                     "start_time", http_json_time(w->start_ms), "end_time",
                     http_json_time(w->end_ms), "status", flash_status_names[w->status], "location",
                     "lat", w->seller_loc.lat, "lng", w->seller_loc.lng, "capacity", w->capacity);
}

static int open_link(struct http_req *r, enum flash_link_kind kind, struct flash_link *l,
                     struct db_conn **c, struct flash_window *w, struct err *e)
{
    int64_t now = clock_now_ms(r->app->clock);
    int rc = flash_link_verify(http_req_param(r, "token"), kind, now, &r->arena, l, e);
    if (!rc)
        rc = http_req_db(r, c, e);
    if (!rc)
        rc = flash_store_window_get(*c, l->tenant, l->window, &r->arena, w, e);
    if (rc == ERR_NOT_FOUND) {
        err_init(e);
        rc = err_set(e, ERR_NOT_FOUND, "this window no longer exists");
    }
    return rc;
}

/* A prepaid window's order of the buyer: what to pay, and where (the provider's page). */
static json_t *order_view(const struct flash_prepay_view *pv)
{
    const struct money_currency *cur = NULL;
    char amount[MONEY_TEXT_MAX] = "";
    struct err ignored = {0};
    if (!money_currency_find(pv->currency, &cur, &ignored)) {
        struct money m = {pv->amount, cur};
        if (money_format(&m, amount, sizeof(amount), &ignored))
            amount[0] = '\0';
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", pv->order_id, "amount", amount, "currency",
                     pv->currency, "status", pv->status, "pay_url",
                     pv->pay_url ? json_string(pv->pay_url) : json_null());
}

static int buyer_view(struct http_req *r, const struct flash_link *l, struct db_conn *c,
                      const struct flash_window *w, int status, struct err *e)
{
    struct flash_buyer b = {0};
    int rc = flash_store_buyer_get_pk(c, l->tenant, l->buyer_pk, &r->arena, &b, e);
    struct flash_window_target *t = NULL;
    size_t n = 0;
    if (!rc)
        rc = flash_store_window_targets(c, l->tenant, l->window, &r->arena, &t, &n, e);
    bool committed = false, redeemed = false;
    const char *code = "";
    if (!rc)
        rc = flash_store_buyer_state(c, l->tenant, l->window, l->buyer_pk, &r->arena, &committed,
                                     &code, &redeemed, e);
    struct flash_prepay_view pv;
    bool prepaid = false;
    if (!rc && w->prepay)
        rc = flash_prepay_view(c, l->tenant, l->window, l->buyer_pk, &r->arena, &pv, &prepaid, e);
    if (rc)
        return rc;
    double distance = -1;
    int discount = w->discount_percent;
    for (size_t i = 0; i < n; i++) {
        if (t[i].buyer_pk == l->buyer_pk) {
            distance = t[i].distance_m;
            discount = t[i].discount ? t[i].discount : discount;
        }
    }
    bool open = w->status == FLASH_WINDOW_PROPOSED || w->status == FLASH_WINDOW_SCHEDULED ||
                w->status == FLASH_WINDOW_ACTIVE;
    const char *state = redeemed    ? "redeemed"
                        : *code     ? "joined"
                        : committed ? "committed"
                        : open      ? "offered"
                                    : "closed";
    json_t *body =
        json_pack("{s:o, s:{s:s, s:s?, s:s, s:{s:f, s:f}, s:o, s:i}, s:s, s:o, s:o}", "window",
                  window_view(w), "buyer", "id", b.id, "name", b.name, "language", b.language,
                  "location", "lat", b.loc.lat, "lng", b.loc.lng, "distance_m",
                  distance >= 0 ? json_integer(lround(distance)) : json_null(), "discount",
                  discount, "state", state, "code", *code ? json_string(code) : json_null(), "now",
                  http_json_time(clock_now_ms(r->app->clock)));
    json_object_set_new(body, "prepay", json_boolean(w->prepay));
    json_object_set_new(body, "order", prepaid ? order_view(&pv) : json_null());
    return http_reply_json(r, status, body);
}

int h_public_window(struct http_req *r, struct err *e)
{
    struct flash_link l = {0};
    struct db_conn *c = NULL;
    struct flash_window w = {0};
    int rc = open_link(r, FLASH_LINK_BUYER, &l, &c, &w, e);
    return rc ? rc : buyer_view(r, &l, c, &w, 200, e);
}

/*
 * The buyer's redemption code as a QR code (SVG, drawn by pdf/ from libqrencode): only the
 * link's own buyer's code, and only once they have one (404 before).
 */
int h_public_window_qr(struct http_req *r, struct err *e)
{
    struct flash_link l = {0};
    struct db_conn *c = NULL;
    struct flash_window w = {0};
    int rc = open_link(r, FLASH_LINK_BUYER, &l, &c, &w, e);
    bool committed = false, redeemed = false;
    const char *code = "";
    if (!rc)
        rc = flash_store_buyer_state(c, l.tenant, l.window, l.buyer_pk, &r->arena, &committed,
                                     &code, &redeemed, e);
    if (!rc && !*code)
        rc = err_set(e, ERR_NOT_FOUND, "no code yet: join the window first");
    if (rc)
        return rc;
    struct buf svg;
    buf_init(&svg, BUF_MAX_SVG);
    rc = pdf_qr_svg(code, &svg, e);
    if (!rc) {
        /* the code never changes once given, but the link may be shared: keep it private */
        http_reply_header(r, "Cache-Control", "private, max-age=300");
        rc = http_reply_bytes(r, 200, "image/svg+xml", buf_str(&svg), svg.len);
    }
    buf_release(&svg);
    return rc;
}

/* "Katıl" on the page: a pre-commit before the start, a join (with a code) once it is on. */
int h_public_window_join(struct http_req *r, struct err *e)
{
    struct flash_link l = {0};
    struct db_conn *c = NULL;
    struct flash_window w = {0};
    struct flash_buyer b = {0};
    int rc = open_link(r, FLASH_LINK_BUYER, &l, &c, &w, e);
    if (!rc)
        rc = flash_store_buyer_get_pk(c, l.tenant, l.buyer_pk, &r->arena, &b, e);
    if (rc)
        return rc;
    int64_t now = clock_now_ms(r->app->clock);
    if (w.prepay) {
        /*
         * A prepaid window is joined by paying: the order is placed (committed), then its payment
         * is started at the provider's hosted page with no transaction and no connection of this
         * request held, and the view carries the page's address.
         */
        struct flash_joined j;
        rc = flash_prepay_join(c, l.tenant, l.window, b.id, false, now, &r->arena, &j, e);
        if (!rc && str_eq(j.prepay_status, "pending")) {
            const char *url = NULL;
            db_conn_release(r->db);
            r->db = NULL;
            rc = flash_prepay_pay_url(r->app->db, l.tenant, j.prepay_pk, now, &r->arena, &url, e);
            if (!rc)
                rc = http_req_db(r, &c, e);
        }
        if (!rc)
            rc = flash_store_window_get(c, l.tenant, l.window, &r->arena, &w, e);
        return rc ? rc : buyer_view(r, &l, c, &w, 200, e);
    }
    bool created = false;
    if (w.status == FLASH_WINDOW_ACTIVE) {
        const char *code;
        rc = flash_join(c, l.tenant, l.window, b.id, now, &r->arena, &code, &created, e);
    } else {
        rc = flash_precommit(c, l.tenant, l.window, b.id, now, &created, e);
    }
    if (rc)
        return rc;
    rc = flash_store_window_get(c, l.tenant, l.window, &r->arena, &w, e);
    return rc ? rc : buyer_view(r, &l, c, &w, 200, e);
}

int h_public_window_cancel(struct http_req *r, struct err *e)
{
    struct flash_link l = {0};
    struct db_conn *c = NULL;
    struct flash_window w = {0};
    struct flash_buyer b = {0};
    int rc = open_link(r, FLASH_LINK_BUYER, &l, &c, &w, e);
    if (!rc)
        rc = flash_store_buyer_get_pk(c, l.tenant, l.buyer_pk, &r->arena, &b, e);
    if (!rc)
        rc = flash_precommit_cancel(c, l.tenant, l.window, b.id, clock_now_ms(r->app->clock), e);
    if (!rc)
        rc = flash_store_window_get(c, l.tenant, l.window, &r->arena, &w, e);
    return rc ? rc : buyer_view(r, &l, c, &w, 200, e);
}

static int seller_view(struct http_req *r, const struct flash_link *l, struct db_conn *c,
                       const struct flash_window *w, struct err *e)
{
    int64_t *pks;
    size_t n;
    int rc = flash_store_precommit_buyers(c, l->tenant, l->window, &r->arena, &pks, &n, e);
    double expected = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        struct flash_buyer b = {0};
        rc = flash_store_buyer_get_pk(c, l->tenant, pks[i], &r->arena, &b, e);
        if (!rc)
            expected += flash_buyer_reliability(&b);
    }
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:o, s:{s:i, s:i, s:i, s:i}, s:i, s:o}", "window",
                                     window_view(w), "counts", "targeted", w->targeted, "committed",
                                     w->committed, "joined", w->joined, "redeemed", w->redeemed,
                                     "expected", (int)lround(expected), "now",
                                     http_json_time(clock_now_ms(r->app->clock))));
}

int h_public_seller(struct http_req *r, struct err *e)
{
    struct flash_link l = {0};
    struct db_conn *c = NULL;
    struct flash_window w = {0};
    int rc = open_link(r, FLASH_LINK_SELLER, &l, &c, &w, e);
    return rc ? rc : seller_view(r, &l, c, &w, e);
}

int h_public_seller_redeem(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"code", "amount", NULL};
    const char *code = NULL, *amount = NULL;
    struct flash_redemption out;
    struct flash_link l = {0};
    struct db_conn *c = NULL;
    struct flash_window w = {0};
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "code", true, 16, &code, e);
    if (!rc)
        rc = json_get_strn(r->json, "amount", false, 32, &amount, e);
    if (!rc)
        rc = open_link(r, FLASH_LINK_SELLER, &l, &c, &w, e);
    if (!rc)
        rc = flash_redeem_visit(c, l.tenant, l.window, code, amount, clock_now_ms(r->app->clock),
                                &r->arena, &out, e);
    if (rc)
        return rc;
    rc = flash_store_window_get(c, l.tenant, l.window, &r->arena, &w, e);
    return rc ? rc : seller_view(r, &l, c, &w, e);
}

/* The seller answers a proposed window from its page: approve (it opens) or reject. */
static int seller_decide(struct http_req *r, bool approve, struct err *e)
{
    struct flash_link l = {0};
    struct db_conn *c = NULL;
    struct flash_window w = {0};
    int64_t now = clock_now_ms(r->app->clock);
    int rc = open_link(r, FLASH_LINK_SELLER, &l, &c, &w, e);
    if (!rc)
        rc = approve ? flash_seller_approve(c, l.tenant, l.window, now, e)
                     : flash_seller_reject(c, l.tenant, l.window, now, e);
    if (!rc)
        rc = flash_store_window_get(c, l.tenant, l.window, &r->arena, &w, e);
    return rc ? rc : seller_view(r, &l, c, &w, e);
}

int h_public_seller_approve(struct http_req *r, struct err *e)
{
    return seller_decide(r, true, e);
}

int h_public_seller_reject(struct http_req *r, struct err *e)
{
    return seller_decide(r, false, e);
}
