#!/usr/bin/env python3
"""Reads KUMO_TRACE=1 marks (TRACE pid ns label) and prints, per step between
consecutive marks of one request (from "gw head" to "gw flushed"), the median
and p90 in microseconds, then the slowest requests' steps over 200 us."""
import collections
import sys


def main():
    marks = []
    with open(sys.argv[1], errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) == 4 and parts[0] == "TRACE":
                marks.append((int(parts[2]), parts[1], parts[3]))
    marks.sort()
    requests, current = [], None
    for mark in marks:
        if mark[2] == "gw head":
            current = [mark]
            requests.append(current)
        elif current is not None:
            current.append(mark)
    steps, order, totals, slow = collections.defaultdict(list), [], [], []
    for request in requests:
        seen, listed = collections.Counter(), []
        for (before, _, _), (at, _, label) in zip(request, request[1:]):
            seen[label] += 1
            key = label if seen[label] == 1 else f"{label} #{seen[label]}"
            if key not in order:
                order.append(key)
            steps[key].append((at - before) / 1000)
            listed.append((key, (at - before) / 1000))
            if label == "gw flushed":
                totals.append((at - request[0][0]) / 1000)
                slow.append((totals[-1], listed))
                break
    pick = lambda v, q: sorted(v)[min(len(v) - 1, int(q * len(v)))]
    for key in order:
        v = steps[key]
        print(f"{key:28s} n={len(v):4d} p50={pick(v, .5):8.1f} p90={pick(v, .9):8.1f} us")
    if totals:
        print(f"gateway first byte to flush: p50 {pick(totals, .5):.0f} p90 {pick(totals, .9):.0f} "
              f"p99 {pick(totals, .99):.0f} max {max(totals):.0f} us")
    for total, listed in sorted(slow, key=lambda s: -s[0])[:3]:
        print(f"slow request {total:.0f} us: " + ", ".join(f"{k}={d:.0f}" for k, d in listed if d > 200))


if __name__ == "__main__":
    main()
