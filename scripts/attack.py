#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The attack set of the hardening review, run by scripts/attack.sh against a fresh server:
# framing (request smuggling shapes), hostile bodies, password guessing and slow clients.
# Prints one line per family: tried / refused / errors (an error is a 5xx other than 501, a
# hang, or an attack that got through). Exits 1 when any family has errors.
#   attack.py PORT ADMIN_KEY USER_EMAIL
import socket
import sys
import threading
import time

PORT, ADMIN, EMAIL = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def exchange(data, timeout=5.0, src="127.0.0.1"):
    """Send raw bytes; return (status or 0, closed_by_server)."""
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", PORT))
        s.sendall(data)
        out = b""
        closed = False
        while True:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            out += b
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        closed = False
    finally:
        s.close()
    status = int(out[9:12]) if out.startswith(b"HTTP/1.") and len(out) >= 12 else 0
    return status, closed


def post(path, body, ctype="application/json", auth=None, extra=b""):
    h = b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: %s\r\n" % (
        path.encode(), ctype.encode())
    if auth:
        h += b"Authorization: Bearer %s\r\n" % auth.encode()
    return h + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


results = []


def family(name, tried, refused, errors):
    results.append((name, tried, refused, errors))


def framing():
    L = b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    cases = [
        L + b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
        L + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        L + b"Transfer-Encoding: gzip\r\n\r\n{}",
        L + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
        L + b"Content-Length: 2, 2\r\n\r\n{}",
        L + b"Content-Length: -1\r\n\r\n{}",
        b"GET /health HTTP/1.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET /api/jobs/%FF HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN.encode() +
        b"\r\n\r\n",
        b"\x16\x03\x01 GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n",
    ]
    refused = errors = 0
    for c in cases:
        st, closed = exchange(c)
        if (400 <= st < 500 or st == 501) and closed or (st == 0 and closed):
            refused += 1
        else:
            errors += 1
            print("  framing: status %d closed=%s for %r" % (st, closed, c[:60]))
    family("framing", len(cases), refused, errors)


def bodies():
    cases = [
        post("/api/auth/login", b"{"),
        post("/api/auth/login", b"[" * 5000 + b"]" * 5000),
        post("/api/auth/login", b'{"email":"\xff\xfe","password":"x"}'),
        post("/api/auth/login", b'{"email":1e999,"password":null}'),
        post("/api/auth/login", b"{}", ctype="text/plain"),
        post("/api/auth/login", b'{"a":"' + b"x" * 200000 + b'"}'),
        post("/api/jobs", b'{"name":"' + b"\\u0000" * 100 + b'"}', auth=ADMIN),
        post("/api/flash-windows/create",
             b'{"seller_id":"S1","discount_percent":10,"start_time":"9999-12-31T23:59:00Z"}',
             auth=ADMIN),
        post("/api/webhooks/meta", b'{"object":"whatsapp_business_account","entry":[]}',
             extra=b"X-Hub-Signature-256: sha256=\r\n"),
        post("/api/webhooks/vapi", b'{"message":{}}', extra=b"x-vapi-secret: \r\n"),
    ]
    refused = errors = 0
    for c in cases:
        st, _ = exchange(c)
        if 400 <= st < 500:
            refused += 1
        else:
            errors += 1
            print("  bodies: status %d for %r" % (st, c[:80]))
    family("hostile bodies", len(cases), refused, errors)


def guessing():
    tried, limited, errors = 60, 0, 0
    for i in range(tried):
        body = b'{"email":"%s","password":"guess number %d"}' % (EMAIL.encode(), i)
        st, _ = exchange(post("/api/auth/login", body))
        if st == 429:
            limited += 1
        elif st != 401:
            errors += 1
    if limited < tried - 10:  # the free failures, then waits
        errors += 1
        print("  guessing: only %d of %d refused with 429" % (limited, tried))
    family("login guessing", tried, limited, errors)


def slow_clients():
    stop = threading.Event()
    cut = [0]
    opened = [0]

    def trickler(src):
        while not stop.is_set():
            s = socket.socket()
            try:
                s.bind((src, 0))
                s.connect(("127.0.0.1", PORT))
                opened[0] += 1
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                s.settimeout(0.5)
                while not stop.is_set():
                    try:
                        if s.recv(512) == b"":
                            cut[0] += 1
                            break
                    except socket.timeout:
                        s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass
            finally:
                s.close()
            time.sleep(0.2)  # then come back, as an attacker would

    threads = [threading.Thread(target=trickler, args=("127.0.0.%d" % (2 + i % 20),), daemon=True)
               for i in range(120)]
    for t in threads:
        t.start()
    time.sleep(2)
    ok = failed = 0
    end = time.time() + 8
    while time.time() < end:
        st, _ = exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 3.0)
        if st == 200:
            ok += 1
        else:
            failed += 1
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(2)
    family("slow clients (connections / closed by server)", opened[0], cut[0], failed)
    print("  slow clients: light-address requests served %d, failed %d" % (ok, failed))


framing()
bodies()
guessing()
slow_clients()
print("%-48s %7s %8s %7s" % ("family", "tried", "refused", "errors"))
bad = 0
for name, tried, refused, errors in results:
    print("%-48s %7d %8d %7d" % (name, tried, refused, errors))
    bad += errors
sys.exit(1 if bad else 0)
