/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/ipnet.c: parsing address/CIDR lists (IPv4 and IPv6) and their errors,
 * membership (IPv4-mapped IPv6 counting as IPv4), canonical text, and the right-most untrusted
 * X-Forwarded-For address.
 */
#include "core/ipnet.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define FIELD "ICESHOP_TRUSTED_PROXIES"

static void test_parse_and_contains(void **state)
{
    (void)state;
    struct ipnet_list l;
    struct err e;
    err_init(&e);
    assert_int_equal(
        ipnet_list_parse(&l, " 10.0.0.0/8, 192.168.1.7 ,::1, fd00::/8,172.16.0.0/12", FIELD, &e),
        0);
    assert_int_equal(l.n, 5);
    struct {
        const char *ip;
        bool in;
    } cases[] = {
        {"10.0.0.1", true},
        {"10.255.255.255", true},
        {"11.0.0.1", false},
        {"192.168.1.7", true},
        {"192.168.1.8", false},
        {"::1", true},
        {"::2", false},
        {"fd12:3456::1", true},
        {"fe80::1", false},
        {"172.31.255.1", true},
        {"172.32.0.1", false},
        {"::ffff:10.1.2.3", true},
        {"::ffff:11.1.2.3", false},
        {"[::1]:443", true},
        {"10.0.0.1:8080", true},
        {"not-an-ip", false},
        {"", false},
        {"10.0.0", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (ipnet_list_contains(&l, cases[i].ip) != cases[i].in)
            fail_msg("%s: want %s", cases[i].ip, cases[i].in ? "in" : "out");
    }
    /* empty text: empty list, nothing is trusted */
    assert_int_equal(ipnet_list_parse(&l, "  ", FIELD, &e), 0);
    assert_int_equal(l.n, 0);
    assert_false(ipnet_list_contains(&l, "127.0.0.1"));
    /* /0 holds everything of its family */
    assert_int_equal(ipnet_list_parse(&l, "0.0.0.0/0", FIELD, &e), 0);
    assert_true(ipnet_list_contains(&l, "203.0.113.9"));
    assert_false(ipnet_list_contains(&l, "2001:db8::1"));
}

static void test_parse_errors(void **state)
{
    (void)state;
    const char *bad[] = {"10.0.0.0/33", "::/129",    "10.0.0.1/8",   "fd00::1/8",
                         "10.0.0.0/x",  "10.0.0.0/", "host.example", "10.0.0.1,,10.0.0.2",
                         "10.0.0.1,",   "1.2.3.4.5", "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ipnet_list l;
        struct err e;
        err_init(&e);
        if (ipnet_list_parse(&l, bad[i], FIELD, &e) != ERR_INVALID)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_string_equal(e.field, FIELD);
        assert_non_null(strstr(e.msg, FIELD));
    }
    /* too many entries */
    char many[2048] = "";
    size_t used = 0;
    for (int i = 0; i <= IPNET_LIST_MAX; i++)
        used += (size_t)snprintf(many + used, sizeof(many) - used, "%s10.0.0.%d", i ? "," : "", i);
    struct ipnet_list l;
    struct err e;
    err_init(&e);
    assert_int_equal(ipnet_list_parse(&l, many, FIELD, &e), ERR_INVALID);
}

static void test_canonical(void **state)
{
    (void)state;
    char out[IPNET_TEXT_MAX];
    assert_true(ipnet_canonical("::ffff:127.0.0.1", out, sizeof(out)));
    assert_string_equal(out, "127.0.0.1");
    assert_true(ipnet_canonical("2001:DB8:0:0::1", out, sizeof(out)));
    assert_string_equal(out, "2001:db8::1");
    assert_true(ipnet_canonical("[::1]:8080", out, sizeof(out)));
    assert_string_equal(out, "::1");
    assert_true(ipnet_canonical(" 10.1.2.3:443 ", out, sizeof(out)));
    assert_string_equal(out, "10.1.2.3");
    assert_false(ipnet_canonical("unknown", out, sizeof(out)));
}

static void test_forwarded_client(void **state)
{
    (void)state;
    struct ipnet_list trusted;
    struct err e;
    err_init(&e);
    assert_int_equal(ipnet_list_parse(&trusted, "127.0.0.1, 10.0.0.0/8, ::1", FIELD, &e), 0);
    struct {
        const char *peer, *xff, *want;
    } cases[] = {
        /* an untrusted peer: its header is ignored, whatever it says */
        {"198.51.100.4", "203.0.113.7", "198.51.100.4"},
        {"198.51.100.4", NULL, "198.51.100.4"},
        /* a trusted peer: the right-most untrusted entry */
        {"127.0.0.1", "203.0.113.7", "203.0.113.7"},
        {"127.0.0.1", "1.1.1.1, 203.0.113.7", "203.0.113.7"},
        {"127.0.0.1", "1.1.1.1, 203.0.113.7, 10.2.3.4", "203.0.113.7"},
        {"::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"},
        {"::1", "2001:db8::5", "2001:db8::5"},
        {"127.0.0.1", "[2001:db8::5]:1234", "2001:db8::5"},
        {"127.0.0.1", "203.0.113.7:5555", "203.0.113.7"},
        /* every entry trusted: the left-most */
        {"127.0.0.1", "10.0.0.9, 10.0.0.8", "10.0.0.9"},
        /* garbage: the nearest address a trusted proxy gave */
        {"127.0.0.1", "203.0.113.7, garbage", "127.0.0.1"},
        {"127.0.0.1", "garbage, 10.0.0.8", "10.0.0.8"},
        /* a trusted peer without the header, or an empty one */
        {"127.0.0.1", NULL, "127.0.0.1"},
        {"127.0.0.1", "", "127.0.0.1"},
        {"127.0.0.1", " , 203.0.113.7", "203.0.113.7"},
        /* a peer that is no address is kept as is */
        {"unknown", "203.0.113.7", "unknown"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[IPNET_TEXT_MAX];
        ipnet_forwarded_client(&trusted, cases[i].peer, cases[i].xff, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("peer %s xff \"%s\": got %s, want %s", cases[i].peer,
                     cases[i].xff ? cases[i].xff : "(none)", out, cases[i].want);
    }
    /* nothing trusted: never the header */
    struct ipnet_list none;
    assert_int_equal(ipnet_list_parse(&none, "", FIELD, &e), 0);
    char out[IPNET_TEXT_MAX];
    ipnet_forwarded_client(&none, "127.0.0.1", "203.0.113.7", out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_contains),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_forwarded_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
