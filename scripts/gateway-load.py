#!/usr/bin/env python3
"""Sequential HTTP load for Kumo's gateway: one keep-alive connection, one
request at a time, latency measured around each request (client overhead
included). Prints p50/p90/p99/max in microseconds and requests per second.

  gateway-load.py URL [--requests N] [--gap-ms MS] [--body TEXT] [--expect-cold]

--gap-ms waits between requests (cold starts: let keep-alive 0 stop the
instance and the pool refill). --expect-cold counts replies whose
X-Kumo-Cold-Start is true, so a run can show every request was cold."""
import argparse
import http.client
import time
import urllib.parse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--gap-ms", type=float, default=0)
    p.add_argument("--body", default="")
    p.add_argument("--label", default="")
    args = p.parse_args()
    u = urllib.parse.urlsplit(args.url)
    path = u.path + ("?" + u.query if u.query else "")
    conn = http.client.HTTPConnection(u.hostname, u.port)
    body = args.body.encode()
    latencies, cold, errors = [], 0, 0
    started = time.perf_counter()
    for _ in range(args.requests):
        if args.gap_ms:
            time.sleep(args.gap_ms / 1000)
        t0 = time.perf_counter_ns()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        r.read()
        latencies.append((time.perf_counter_ns() - t0) / 1000)
        if r.status != 200:
            errors += 1
        if r.getheader("X-Kumo-Cold-Start") == "true":
            cold += 1
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    busy = sum(latencies) / 1e6
    print(f"{args.label or path}: n={len(latencies)} cold={cold} errors={errors} "
          f"p50={pick(0.50):.0f}us p90={pick(0.90):.0f}us p99={pick(0.99):.0f}us max={latencies[-1]:.0f}us "
          f"rps={len(latencies) / busy:.0f} (wall {elapsed:.1f}s)")


if __name__ == "__main__":
    main()
