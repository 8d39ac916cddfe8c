/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the inbound chat parsers of src/domain/chat/inbound.c (chat_parse_meta,
 * chat_parse_vapi): events and dedupe keys, stale and absurd timestamps (a fuzzer-found
 * overflow), and agreement of the keys with the identities src/integrations gives the same
 * bodies. Storage is covered over HTTP by tests/integration/0005-whatsapp.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/buf.h"
#include "domain/chat/inbound.h"
#include "integrations/provider.h"
#include "support/check.h"

#include <stdio.h>
#include <string.h>

#define NOW_MS 1700000000000LL

/* A Meta body with one text message from 905551112233 stamped `ts` (JSON text, quoted or not). */
static const char *meta_body(char *buf, size_t size, const char *ts)
{
    snprintf(buf, size,
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":"
             "\"messages\",\"value\":{\"contacts\":[{\"wa_id\":\"905551112233\",\"profile\":{"
             "\"name\":\"Ayşe\"}}],\"messages\":[{\"id\":\"wamid.1\",\"from\":\"905551112233\","
             "\"type\":\"text\",\"timestamp\":%s,\"text\":{\"body\":\"merhaba\"}}],\"statuses\":[{"
             "\"id\":\"wamid.out\",\"status\":\"delivered\"}]}}]}]}",
             ts);
    return buf;
}

static void test_meta_events(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char buf[1024];
    const char *body = meta_body(buf, sizeof(buf), "\"1700000000\"");
    struct chat_event *ev = NULL;
    size_t n = 0;
    OK(chat_parse_meta(body, strlen(body), NOW_MS, &a, &ev, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].key, "wamid.1");
    assert_string_equal(ev[0].from, "+905551112233");
    assert_string_equal(ev[0].name, "Ayşe");
    assert_string_equal(ev[0].text, "merhaba");
    assert_int_equal(ev[0].timestamp_ms, NOW_MS);
    assert_string_equal(ev[1].kind, "status");
    assert_string_equal(ev[1].key, "wamid.out:delivered");

    /* the ledger's identities are the chat keys */
    struct wh_headers h;
    wh_headers_init(&h);
    struct wh_event_id *ids = NULL;
    size_t ni = 0;
    OK(integrations_provider_find("meta")->identify(&h, body, strlen(body), &a, &ids, &ni, e));
    assert_int_equal(ni, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ids[i].id, ev[i].key);
    arena_release(&a);
}

static void test_meta_timestamps(void **state)
{
    (void)state;
    static const struct {
        const char *ts;
        bool ok;
    } cases[] = {
        {"\"1700000000\"", true},
        {"1700000000", true},               /* an integer is read the same */
        {"\"1699913601\"", true},           /* just inside 24 hours */
        {"\"1699913599\"", false},          /* just past them */
        {"\"1700000301\"", false},          /* more than 5 minutes ahead */
        {"\"6309343304476540736\"", false}, /* found by fuzz_chat_inbound: overflowed *1000 */
        {"9223372036854775807", false},
        {"\"-9223372036854775807\"", false},
        {"-9223372036854775807", false},
        {"\"soon\"", false}, /* not a number: no staleness check possible, refused */
        {"\"\"", false},
        {"null", false},
        {"{}", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a;
        arena_init(&a);
        char buf[1024];
        const char *body = meta_body(buf, sizeof(buf), cases[i].ts);
        struct chat_event *ev = NULL;
        size_t n = 0;
        struct err e;
        err_init(&e);
        int rc = chat_parse_meta(body, strlen(body), NOW_MS, &a, &ev, &n, &e);
        if (cases[i].ok && rc)
            fail_msg("timestamp %s refused: %s", cases[i].ts, e.msg);
        if (!cases[i].ok &&
            (rc != ERR_INVALID || !strstr(e.msg, "stale") || strcmp(e.field, "timestamp") != 0))
            fail_msg("timestamp %s: want stale, got %d %s", cases[i].ts, rc, e.msg);
        arena_release(&a);
    }
}

/* One signed body with many messages must not queue a reply per message. */
static void test_meta_message_cap(void **state)
{
    (void)state;
    for (int count = CHAT_META_MAX_MESSAGES; count <= CHAT_META_MAX_MESSAGES + 1; count++) {
        struct buf b;
        buf_init(&b, 1 << 20);
        buf_appends(&b, "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{"
                        "\"field\":\"messages\",\"value\":{\"messages\":[");
        for (int i = 0; i < count; i++)
            buf_appendf(&b,
                        "%s{\"id\":\"wamid.%d\",\"from\":\"905551112233\",\"type\":\"text\","
                        "\"timestamp\":\"1700000000\",\"text\":{\"body\":\"x\"}}",
                        i ? "," : "", i);
        buf_appends(&b, "]}}]}]}");
        struct arena a;
        arena_init(&a);
        struct chat_event *ev = NULL;
        size_t n = 0;
        struct err e;
        err_init(&e);
        int rc = chat_parse_meta(buf_str(&b), b.len, NOW_MS, &a, &ev, &n, &e);
        if (count <= CHAT_META_MAX_MESSAGES) {
            assert_int_equal(rc, 0);
            assert_int_equal(n, (size_t)count);
        } else {
            assert_int_equal(rc, ERR_INVALID);
            assert_string_equal(e.field, "entry.changes.value.messages");
        }
        arena_release(&a);
        buf_release(&b);
    }
}

static void test_vapi_events(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct wh_headers h;
    wh_headers_init(&h);
    const struct integrations_provider *p = integrations_provider_find("vapi");
    static const char *const bodies[] = {
        "{\"event_type\":\"message\",\"message_id\":\"m-1\",\"from\":\"+905551112233\",\"text\":"
        "\"katıl\",\"metadata\":{\"buyer_id\":\"B1\",\"proposed_window_id\":\"P45\"}}",
        "{\"event_type\":\"message\",\"from\":\"905551112233\",\"text\":\"evet\"}",
        "{\"message\":{\"type\":\"transcript\",\"role\":\"user\",\"transcriptType\":\"final\","
        "\"transcript\":\"evet\",\"call\":{\"customer\":{\"number\":\"+905551112233\"}}}}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct chat_event *ev = NULL;
        size_t n = 0, ni = 0;
        struct wh_event_id *ids = NULL;
        OK(chat_parse_vapi(bodies[i], strlen(bodies[i]), NOW_MS, &a, &ev, &n, e));
        assert_int_equal(n, 1);
        assert_string_equal(ev[0].from, "+905551112233");
        OK(p->identify(&h, bodies[i], strlen(bodies[i]), &a, &ids, &ni, e));
        assert_string_equal(ids[0].id, ev[0].key);
        if (i == 0) {
            assert_string_equal(ev[0].key, "m-1");
            assert_int_equal(ev[0].window_id, 45);
            assert_string_equal(ev[0].buyer_id, "B1");
        } else {
            assert_int_equal(strncmp(ev[0].key, "sha256:", 7), 0);
        }
    }
    /* server messages other than final user transcripts: no event, no error */
    const char *status = "{\"message\":{\"type\":\"status-update\",\"status\":\"ended\"}}";
    struct chat_event *ev = NULL;
    size_t n = 7;
    OK(chat_parse_vapi(status, strlen(status), NOW_MS, &a, &ev, &n, e));
    assert_int_equal(n, 0);
    FAILS(ERR_INVALID, chat_parse_vapi("{\"event_type\":\"call\"}", 21, NOW_MS, &a, &ev, &n, e));
    assert_string_equal(check_last.field, "event_type");
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_events),
        cmocka_unit_test(test_meta_timestamps),
        cmocka_unit_test(test_meta_message_cap),
        cmocka_unit_test(test_vapi_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
