#!/usr/bin/env python3
"""`make loadtest`: mixed, seed-shaped traffic against a running Iceshop for a while.

    loadtest.py BASE_URL --key KEY --vapi-secret S [--pid PID] [--seconds 60] [--threads 16]
                [--sellers 200] [--buyers 2000]

Registers sellers and buyers, then for --seconds runs a weighted mix from --threads threads, each
with its own keep-alive connection: demand and supply signals, scans, generates, pre-commits and
a window's page and pre-commits by its invited buyers, VAPI-shaped chat webhooks, and dashboard reads (the active-window list,
jobs, messages, /health/detailed). Prints per route: requests, errors (transport or 5xx; 4xx a
client could cause, such as a pre-commit on a full window, are counted apart), throughput, p50
and p99; and, with --pid, the server's resident memory and open file descriptors before and
after. Stdlib only. Exit status 1 when any request failed with a transport error or a 5xx.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
from urllib.parse import urlsplit

NEIGHBOURHOODS = [(40.9870, 29.0250), (40.9900, 29.0290), (41.0430, 29.0050),
                  (41.0260, 29.0150), (41.0600, 28.9870), (40.9630, 29.0630)]
CATEGORIES = [("coffee", ["Latte istiyorum", "filtre kahve lazım", "Türk kahvesi içmek istiyorum"]),
              ("bakery", ["simit istiyorum", "poğaça arıyorum"]),
              ("dessert", ["dondurma arıyorum", "künefe yiyelim"])]


def near(rng, lat, lng, metres=400):
    d = metres / 111000.0
    return {"lat": lat + rng.uniform(-d, d), "lng": lng + rng.uniform(-d, d)}


class Client:
    """A keep-alive HTTP/1.1 connection per thread."""

    def __init__(self, base, key):
        u = urlsplit(base)
        self.host, self.port, self.key = u.hostname, u.port or 80, key
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None):
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        h = {"Authorization": "Bearer " + self.key} if self.key else {}
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in (0, 1):
            c = getattr(self.local, "conn", None)
            if c is None:
                c = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            t0 = time.perf_counter()
            try:
                c.request(method, path, body=data, headers=h)
                r = c.getresponse()
                payload = r.read()
                return r.status, payload, time.perf_counter() - t0
            except (OSError, http.client.HTTPException):
                c.close()
                self.local.conn = None
                if attempt:
                    return 0, b"", time.perf_counter() - t0
        return 0, b"", 0.0


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.routes = {}

    def add(self, route, status, secs):
        with self.lock:
            r = self.routes.setdefault(route, {"lat": [], "errors": 0, "refused": 0})
            r["lat"].append(secs)
            if status == 0 or status >= 500:
                r["errors"] += 1
            elif status >= 400:
                r["refused"] += 1


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def proc_figures(pid):
    if not pid:
        return None
    rss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) // 1024
        import os
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    return {"rss_mb": rss, "fds": fds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--key", required=True)
    ap.add_argument("--vapi-secret", required=True)
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--sellers", type=int, default=200)
    ap.add_argument("--buyers", type=int, default=2000)
    a = ap.parse_args()
    rng = random.Random(42)
    cl = Client(a.base, a.key)
    stats = Stats()

    # the city: sellers (auto-approving, so windows open) and buyers around six neighbourhoods
    sellers, buyers = [], []
    for i in range(a.sellers):
        lat, lng = NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)]
        cat = CATEGORIES[i % len(CATEGORIES)][0]
        sid = f"LS{i:05d}"
        st, _, dt = cl.request("POST", "/api/sellers/register", {
            "id": sid, "phone_number": f"+90212555{i:04d}", "name": f"Load shop {i}",
            "category": cat, "location": near(rng, lat, lng), "auto_approve": True,
            "capacity": 20, "max_discount": 25})
        stats.add("POST /api/sellers/register", st, dt)
        sellers.append((sid, cat))
    for i in range(a.buyers):
        lat, lng = NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)]
        bid = f"LB{i:06d}"
        st, _, dt = cl.request("POST", "/api/buyers/register", {
            "id": bid, "phone_number": f"+90533555{i:04d}", "name": f"Buyer {i}",
            "location": near(rng, lat, lng), "consent": True})
        stats.add("POST /api/buyers/register", st, dt)
        buyers.append(bid)
    before = proc_figures(a.pid)
    windows = []  # open window ids seen in generate answers
    wlock = threading.Lock()
    stop = time.monotonic() + a.seconds

    def demand(r):
        cat, texts = r.choice(CATEGORIES)
        b = r.choice(buyers)
        st, _, dt = cl.request("POST", "/api/buyers/signal", {"buyer_id": b, "text": r.choice(texts)})
        stats.add("POST /api/buyers/signal", st, dt)

    def supply(r):
        sid, _ = r.choice(sellers)
        st, _, dt = cl.request("POST", "/api/sellers/signal",
                               {"seller_id": sid, "signal_type": "idle", "text": "Şu an boşum"})
        stats.add("POST /api/sellers/signal", st, dt)

    def scan(r):
        st, _, dt = cl.request("POST", "/api/campaigns/scan?limit=50")
        stats.add("POST /api/campaigns/scan", st, dt)

    def generate(r):
        st, payload, dt = cl.request("POST", "/api/campaigns/generate", {"lead_seconds": 600})
        stats.add("POST /api/campaigns/generate", st, dt)
        if st == 200:
            try:
                got = [w.get("window_id") for w in json.loads(payload).get("windows", [])
                       if w.get("window_id")]
            except ValueError:
                got = []
            with wlock:
                windows.extend(got)
                del windows[:-200]

    def precommit(r):
        with wlock:
            w = r.choice(windows) if windows else None
        if not w:
            return
        # the window as a dashboard reads it, then one of its invited buyers says "katıl"
        st, payload, dt = cl.request("GET", f"/api/flash-windows/{w}")
        stats.add("GET /api/flash-windows/{id}", st, dt)
        try:
            targets = json.loads(payload).get("targets", []) if st == 200 else []
        except ValueError:
            targets = []
        ids = [t.get("buyer_id") for t in targets if t.get("buyer_id")]
        if not ids:
            return
        st, _, dt = cl.request("POST", f"/api/flash-windows/{w}/precommit",
                               {"buyer_id": r.choice(ids)})
        stats.add("POST /api/flash-windows/{id}/precommit", st, dt)

    def chat(r):
        cat, texts = r.choice(CATEGORIES)
        st, _, dt = cl.request("POST", "/api/whatsapp/webhook", {
            "event_type": "message", "channel": "whatsapp",
            "from": f"+90533555{r.randrange(a.buyers):04d}", "text": r.choice(texts),
            "metadata": {}}, {"x-vapi-secret": a.vapi_secret})
        stats.add("POST /api/whatsapp/webhook", st, dt)

    def active(r):
        st, _, dt = cl.request("GET", "/api/flash-windows/active", None,
                               {"Accept-Encoding": "gzip"})
        stats.add("GET /api/flash-windows/active", st, dt)

    def jobs(r):
        st, _, dt = cl.request("GET", "/api/jobs?limit=10")
        stats.add("GET /api/jobs", st, dt)

    def messages(r):
        st, _, dt = cl.request("GET", "/api/messages?limit=20")
        stats.add("GET /api/messages", st, dt)

    def health(r):
        st, _, dt = cl.request("GET", "/health/detailed")
        stats.add("GET /health/detailed", st, dt)

    mix = [(demand, 30), (supply, 6), (scan, 3), (generate, 2), (precommit, 10), (chat, 15),
           (active, 20), (jobs, 6), (messages, 5), (health, 3)]
    actions = [f for f, w in mix for _ in range(w)]

    def worker(seed):
        r = random.Random(seed)
        while time.monotonic() < stop:
            r.choice(actions)(r)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    time.sleep(2)  # let queued work settle before the after figures
    after = proc_figures(a.pid)

    total = errors = 0
    print(f"{a.threads} threads, {elapsed:.0f} s of mixed traffic; {a.sellers} sellers, "
          f"{a.buyers} buyers registered first")
    print(f"{'route':44} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7} {'4xx':>6}")
    for route in sorted(stats.routes):
        r = stats.routes[route]
        n = len(r["lat"])
        reg = "register" in route
        rate = n / elapsed if not reg else 0
        total += n
        errors += r["errors"]
        print(f"{route:44} {n:9d} {rate:8.0f} {pct(r['lat'], 50) * 1000:8.1f} "
              f"{pct(r['lat'], 99) * 1000:8.1f} {r['errors']:7d} {r['refused']:6d}")
    print(f"total {total} requests, {errors} errors (transport or 5xx)")
    if before and after:
        print(f"server: resident {before['rss_mb']} MB -> {after['rss_mb']} MB, "
              f"open files {before['fds']} -> {after['fds']}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
