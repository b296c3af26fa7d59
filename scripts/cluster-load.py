#!/usr/bin/env python3
"""Open-loop HTTP load for the cluster benchmarks: requests arrive at a fixed mean
rate (Poisson, seeded) whatever the answers do, so a slow node shows in the tail
instead of slowing the client. Each request's body is a work size drawn from --mix.
Latency is taken from the request's planned arrival, so time spent waiting for a
free client connection counts too. Prints one line of name=value pairs.

  scripts/cluster-load.py URL --rate 100 --requests 2000 --mix 1:0.9,20:0.1
"""
import argparse
import http.client
import queue
import random
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--rate", type=float, required=True, help="mean requests per second")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--mix", default="1:1", help="WORK:SHARE,... the bodies and how often each is sent")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    mix = [(w, float(p)) for w, p in (x.split(":") for x in a.mix.split(","))]
    rng = random.Random(a.seed)
    plan, t = [], 0.0
    for _ in range(a.requests):
        t += rng.expovariate(a.rate)
        plan.append((t, rng.choices([w for w, _ in mix], [p for _, p in mix])[0]))
    u = urllib.parse.urlsplit(a.url)
    work = queue.Queue()
    results, lock = [], threading.Lock()

    def client():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        while True:
            item = work.get()
            if item is None:
                return
            due, body = item
            status, node = 0, "-"
            try:
                conn.request("POST", u.path, body=body.encode())
                r = conn.getresponse()
                r.read()
                status, node = r.status, r.getheader("X-Kumo-Node", "-")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            with lock:
                results.append((time.monotonic() - due, status, node))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(a.connections)]
    for th in threads:
        th.start()
    start = time.monotonic()
    for offset, body in plan:
        delay = start + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        work.put((start + offset, body))
    for _ in threads:
        work.put(None)
    for th in threads:
        th.join()
    wall = time.monotonic() - start
    ok = sorted(r[0] * 1000 for r in results if r[1] == 200)
    at = lambda q: ok[min(len(ok) - 1, int(q * (len(ok) - 1)))] if ok else float("nan")
    nodes = {}
    for took, status, node in results:
        nodes.setdefault(node, []).append(took * 1000)
    # Requests per node, and each node's own p99: which node makes the tail.
    share = ",".join(f"{n}:{len(t)}" for n, t in sorted(nodes.items()))
    tails = ",".join(f"{n}:{sorted(t)[int(0.99 * (len(t) - 1))]:.1f}" for n, t in sorted(nodes.items()))
    print(f"{a.label} requests={len(results)} failed={len(results) - len(ok)} p50_ms={at(0.5):.2f} "
          f"p99_ms={at(0.99):.2f} p999_ms={at(0.999):.2f} max_ms={at(1):.2f} rps={len(results) / wall:.0f} nodes={share} node_p99_ms={tails}")


if __name__ == "__main__":
    main()
