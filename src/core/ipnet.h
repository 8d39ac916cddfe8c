/* SPDX-License-Identifier: MIT */
/*
 * IP addresses and networks as text: a list of addresses and CIDR blocks, IPv4 and IPv6
 * ("10.0.0.0/8, 127.0.0.1, ::1, fd00::/8"), membership, and the client address behind trusted
 * reverse proxies from X-Forwarded-For. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a
 * dual-stack socket reports for IPv4 peers) count as their IPv4 address. Pure; no globals.
 * Tests: tests/unit/core/test_ipnet.c.
 */
#ifndef ICESHOP_CORE_IPNET_H
#define ICESHOP_CORE_IPNET_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define IPNET_LIST_MAX 32 /* networks in one list */
#define IPNET_TEXT_MAX 46 /* INET6_ADDRSTRLEN: the longest address text, with its NUL */

struct ipnet {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network address, 4 or 16 bytes used, host bits cleared */
    int bits;               /* prefix length */
};

struct ipnet_list {
    size_t n;
    struct ipnet items[IPNET_LIST_MAX];
};

/*
 * Parse a comma-separated list of addresses and CIDR blocks (spaces allowed around entries;
 * empty text gives an empty list). ERR_INVALID with field `field` naming the bad entry: not an
 * address, a prefix beyond 32/128, host bits set ("10.0.0.1/8"), more than IPNET_LIST_MAX.
 */
int ipnet_list_parse(struct ipnet_list *l, const char *text, const char *field, struct err *e);
/* Does one network of `l` hold address `ip` (text)? False for text that is no address. */
bool ipnet_list_contains(const struct ipnet_list *l, const char *ip);

/*
 * The canonical text of address `ip` into out (n >= IPNET_TEXT_MAX): inet_ntop's form, an
 * IPv4-mapped IPv6 address as IPv4, "[v6]:port", "[v6]" and "v4:port" without the port.
 * False (out untouched) when `ip` is no address.
 */
bool ipnet_canonical(const char *ip, char *out, size_t n);

/*
 * The client address of a request that reached us from `peer` with X-Forwarded-For `xff`
 * (may be NULL; several headers joined with commas, in order), into out (n >= IPNET_TEXT_MAX).
 * The header is believed only as far as it was written by trusted proxies: when `peer` is not in
 * `trusted` the answer is `peer`; otherwise the entries are read from the right, skipping
 * trusted ones, and the first untrusted entry is the client (the right-most untrusted address).
 * When every entry is trusted, the left-most is the client; when an entry is not an address,
 * the answer is the last address passed before it (the nearest one a trusted proxy wrote).
 * The result is canonical (ipnet_canonical) when it is an address; `peer` is copied as is when
 * it is not.
 */
void ipnet_forwarded_client(const struct ipnet_list *trusted, const char *peer, const char *xff,
                            char *out, size_t n);

#endif
