#!/usr/bin/env python3
"""A burst against a running Kumo: a steady open-loop load on one function, then BURST requests
more within one second, then the steady load again. Prints how the steady requests' p99 did
before, during and after, how long until it recovered (every later 1 s window's p99 within
1.5 times the one before the burst), and how the burst's requests were answered.

  KUMO_GATEWAY=URL scripts/burst.py FUNCTION [--burst 200] [--steady-rps 20] [--work-ms 50]
"""
import argparse
import concurrent.futures
import os
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("function")
    parser.add_argument("--burst", type=int, default=200, help="requests within one second")
    parser.add_argument("--steady-rps", type=float, default=20.0)
    parser.add_argument("--work-ms", type=int, default=50, help="the body: milliseconds the function works")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of steady load before the burst")
    parser.add_argument("--after", type=float, default=20.0, help="seconds of steady load after it")
    args = parser.parse_args()
    gateway = os.environ.get("KUMO_GATEWAY")
    if not gateway:
        sys.exit("burst: set KUMO_GATEWAY to the gateway's URL")
    if not (1 <= args.burst <= 5000 and 0.1 <= args.steady_rps <= 1000 and 0 <= args.work_ms <= 60000):
        sys.exit("burst: --burst 1..5000, --steady-rps 0.1..1000, --work-ms 0..60000")
    url = f"{gateway}/function/{args.function}"
    results = []  # (kind, sent at s, latency ms, status)
    lock = threading.Lock()
    start = time.perf_counter()

    def call(kind):
        sent = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=str(args.work_ms).encode(), method="POST"),
                                        timeout=60) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError:
            status = 599
        with lock:
            results.append((kind, sent - start, (time.perf_counter() - sent) * 1000, status))

    total = args.before + args.after
    arrivals = [("steady", i / args.steady_rps) for i in range(int(total * args.steady_rps))]
    arrivals += [("burst", args.before + i / args.burst) for i in range(args.burst)]
    arrivals.sort(key=lambda a: a[1])
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.burst + 64) as pool:
        for kind, at in arrivals:
            delay = start + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(call, kind)

    def p99(latencies):
        latencies = sorted(latencies)
        return latencies[min(len(latencies) - 1, int(0.99 * (len(latencies) - 1)))] if latencies else float("nan")

    steady = [r for r in results if r[0] == "steady" and r[3] == 200]
    before = p99([r[2] for r in steady if r[1] < args.before])
    windows = []  # (start, p99) of 1 s windows of steady requests from the burst on
    t = args.before
    while t + 1 <= total:
        windows.append((t, p99([r[2] for r in steady if t <= r[1] < t + 1])))
        t += 0.5
    recovered = next((w for i, (w, _) in enumerate(windows) if all(p <= 1.5 * before for _, p in windows[i:])), None)
    burst = [r for r in results if r[0] == "burst"]
    count = lambda rows, code: sum(1 for r in rows if r[3] == code)
    print(f"steady p99 before the burst: {before:.1f} ms; worst 1 s window after: {max(p for _, p in windows):.1f} ms")
    print(f"burst of {args.burst} in 1 s: ok={count(burst, 200)} refused_429={count(burst, 429)} "
          f"unavailable_503={count(burst, 503)} other={len(burst) - count(burst, 200) - count(burst, 429) - count(burst, 503)} "
          f"p99_ok={p99([r[2] for r in burst if r[3] == 200]):.1f} ms")
    steady_refused = sum(1 for r in results if r[0] == "steady" and r[3] != 200)
    print(f"recovery: {'%.1f s' % (recovered - args.before) if recovered is not None else 'not within the run'} "
          f"after the burst began (steady requests not answered 200: {steady_refused})")


if __name__ == "__main__":
    main()
