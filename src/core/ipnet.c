/* SPDX-License-Identifier: MIT */
/*
 * Addresses, CIDR lists and X-Forwarded-For (see ipnet.h). Tests: tests/unit/core/test_ipnet.c.
 */
#include "core/ipnet.h"
#include "core/str.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Text of one address (already stripped of brackets and port) → family and bytes. */
static bool parse_addr(const char *s, int *family, unsigned char addr[16])
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, s, &v4) == 1) {
        *family = AF_INET;
        memcpy(addr, &v4, 4);
        return true;
    }
    if (inet_pton(AF_INET6, s, &v6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&v6)) {
            *family = AF_INET;
            memcpy(addr, v6.s6_addr + 12, 4);
        } else {
            *family = AF_INET6;
            memcpy(addr, v6.s6_addr, 16);
        }
        return true;
    }
    return false;
}

/* Copy (s, len) without surrounding spaces, brackets and port into out; false if too long. */
static bool strip(const char *s, size_t len, char *out, size_t n)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return false;
        s++;
        len = (size_t)(close - s);
    } else {
        /* "a.b.c.d:port": one colon after a dotted address */
        const char *colon = memchr(s, ':', len);
        if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) &&
            memchr(s, '.', (size_t)(colon - s)))
            len = (size_t)(colon - s);
    }
    if (len >= n)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

static bool addr_of(const char *s, size_t len, int *family, unsigned char addr[16])
{
    char buf[64];
    return strip(s, len, buf, sizeof(buf)) && parse_addr(buf, family, addr);
}

static bool in_net(const struct ipnet *net, int family, const unsigned char addr[16])
{
    if (net->family != family)
        return false;
    int full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, addr, (size_t)full) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (addr[full] & mask);
}

static int parse_one(struct ipnet *net, const char *s, size_t len, const char *field, struct err *e)
{
    char buf[80];
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return err_set_field(e, ERR_INVALID, field, "%s: empty or overlong entry", field);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(net, 0, sizeof(*net));
    if (!parse_addr(buf, &net->family, net->addr))
        return err_set_field(e, ERR_INVALID, field, "%s: \"%s\" is not an IP address", field, buf);
    int max = net->family == AF_INET ? 32 : 128;
    net->bits = max;
    if (slash) {
        int64_t bits;
        if (str_to_i64_range(slash + 1, 0, max, &bits))
            return err_set_field(e, ERR_INVALID, field, "%s: prefix of %s must be 0..%d", field,
                                 buf, max);
        net->bits = (int)bits;
    }
    unsigned char host[16];
    memcpy(host, net->addr, sizeof(host));
    struct ipnet masked = *net;
    memset(masked.addr, 0, sizeof(masked.addr));
    for (int i = 0; i < net->bits; i++)
        masked.addr[i / 8] |= (unsigned char)(host[i / 8] & (0x80 >> (i % 8)));
    if (memcmp(masked.addr, host, 16) != 0)
        return err_set_field(e, ERR_INVALID, field,
                             "%s: %s/%d has bits set beyond its prefix (host bits)", field, buf,
                             net->bits);
    return 0;
}

int ipnet_list_parse(struct ipnet_list *l, const char *text, const char *field, struct err *e)
{
    memset(l, 0, sizeof(*l));
    if (!text)
        return 0;
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (l->n == IPNET_LIST_MAX)
            return err_set_field(e, ERR_INVALID, field, "%s: more than %d entries", field,
                                 IPNET_LIST_MAX);
        int rc = parse_one(&l->items[l->n], p, len, field, e);
        if (rc)
            return rc;
        l->n++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static bool contains(const struct ipnet_list *l, int family, const unsigned char addr[16])
{
    for (size_t i = 0; i < l->n; i++) {
        if (in_net(&l->items[i], family, addr))
            return true;
    }
    return false;
}

bool ipnet_list_contains(const struct ipnet_list *l, const char *ip)
{
    int family;
    unsigned char addr[16];
    return ip && addr_of(ip, strlen(ip), &family, addr) && contains(l, family, addr);
}

static void format_addr(int family, const unsigned char addr[16], char *out, size_t n)
{
    if (!inet_ntop(family, addr, out, (socklen_t)n) && n)
        out[0] = '\0';
}

bool ipnet_canonical(const char *ip, char *out, size_t n)
{
    int family;
    unsigned char addr[16];
    if (!ip || !addr_of(ip, strlen(ip), &family, addr))
        return false;
    format_addr(family, addr, out, n);
    return true;
}

void ipnet_forwarded_client(const struct ipnet_list *trusted, const char *peer, const char *xff,
                            char *out, size_t n)
{
    int family;
    unsigned char addr[16];
    if (!addr_of(peer, strlen(peer), &family, addr)) {
        str_copy(out, n, peer);
        return;
    }
    if (!xff || !contains(trusted, family, addr)) {
        format_addr(family, addr, out, n);
        return;
    }
    /* from the right: each trusted hop vouches for the entry to its left */
    size_t end = strlen(xff);
    for (;;) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        int f2;
        unsigned char a2[16];
        bool blank = true;
        for (size_t i = start; i < end; i++)
            blank = blank && (xff[i] == ' ' || xff[i] == '\t');
        if (!blank) {
            if (!addr_of(xff + start, end - start, &f2, a2))
                break; /* garbage: keep the last address a trusted proxy gave */
            family = f2;
            memcpy(addr, a2, sizeof(addr));
            if (!contains(trusted, family, addr))
                break;
        }
        if (start == 0)
            break;
        end = start - 1;
    }
    format_addr(family, addr, out, n);
}
