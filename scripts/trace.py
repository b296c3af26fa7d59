#!/usr/bin/env python3
"""Serverless workload traces shaped like the Azure Functions 2019 trace (Shahrad et al.,
"Serverless in the Wild", USENIX ATC'20): generated deterministically from a seed, written
as CSV, and checked line by line.

  scripts/trace.py generate --seed 7 --functions 120 --minutes 30 --out trace.csv
  scripts/trace.py check trace.csv
  scripts/trace.py replay trace.csv --policy fixed-10m --speedup 3   (against $KUMO_GATEWAY)

The CSV has two kinds of rows, functions first:
  f,NAME,KIND,BITSTREAM,MEMORY_MB     KIND: run | persistent | fpga; BITSTREAM: empty unless fpga
  i,TIME_MS,NAME,DURATION_MS          an invocation, in time order

The published shape it follows: daily invocation rates spread over eight orders of magnitude
with a heavy skew (the busiest few functions take most invocations, ~45% are invoked at most
once an hour); timer-triggered functions at fixed periods; inter-arrival times with a
coefficient of variation mostly at or under 1 and a heavy tail; execution times log-normal
with a median around a second. Durations are the trace's own: a replayer scales them.
"""
import argparse
import concurrent.futures
import csv
import json
import math
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

KINDS = ("run", "persistent", "fpga")
BITSTREAMS = ("vadd", "matmul", "sobel")  # fewer than FPGA functions, more than a node's cards
TIMER_PERIODS_S = (60, 300, 600, 1800, 3600)


class TraceError(Exception):
    pass


def daily_rate(rng, busiest):
    """Invocations per day: ~45% at most hourly (<= 24/day, down to one in ten days), the
    rest log-uniform up to `busiest` (the real trace reaches 10^8; a 2-core replay cannot)."""
    if rng.random() < 0.45:
        return 10 ** rng.uniform(-1.0, math.log10(24))
    return 10 ** rng.uniform(math.log10(24), math.log10(busiest))


def arrivals(rng, kind_of_trigger, rate_per_s, horizon_s):
    """Arrival times in seconds: timers periodic with a little jitter; others renewal
    processes with gamma inter-arrivals (CV <= 1), a few with a heavy log-normal tail."""
    times = []
    if kind_of_trigger == "timer":
        period = rng.choice(TIMER_PERIODS_S)
        t = rng.uniform(0, period)
        while t < horizon_s:
            times.append(t + rng.uniform(0, 0.05))
            t += period
        return times
    mean = 1.0 / rate_per_s
    heavy = kind_of_trigger == "bursty"
    t = rng.expovariate(1.0 / mean) if mean < horizon_s * 10 else rng.uniform(0, horizon_s * 10)
    while t < horizon_s:
        times.append(t)
        if heavy:  # CV > 1: log-normal with the same mean
            sigma = 1.5
            gap = rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)
        else:      # CV = 1/sqrt(k) <= 1
            k = rng.choice((1.0, 2.0, 4.0))
            gap = rng.gammavariate(k, mean / k)
        t += gap
    return times


def generate(seed, functions, minutes, busiest=1e5):
    rng = random.Random(seed)
    horizon_s = minutes * 60.0
    table = []
    for n in range(functions):
        kind = rng.choices(KINDS, weights=(0.6, 0.25, 0.15))[0]
        bitstream = rng.choice(BITSTREAMS) if kind == "fpga" else ""
        memory = rng.choice((16, 32, 64, 128))
        table.append((f"fn-{n:03d}", kind, bitstream, memory))
    rows = []
    for name, kind, _, _ in table:
        trigger = rng.choices(("timer", "steady", "bursty"), weights=(0.2, 0.65, 0.15))[0]
        rate = daily_rate(rng, busiest) / 86400.0
        median_ms = 10 ** rng.gauss(math.log10(1000), 0.6)  # per function; median of medians ~1 s
        for t in arrivals(rng, trigger, rate, horizon_s):
            duration = max(1.0, rng.lognormvariate(math.log(median_ms), 0.5))
            rows.append((t * 1000.0, name, duration))
    rows.sort(key=lambda r: (r[0], r[1]))
    return table, rows


def write(path, table, rows):
    with open(path, "w", newline="") as out:
        w = csv.writer(out)
        for name, kind, bitstream, memory in table:
            w.writerow(["f", name, kind, bitstream, memory])
        for t, name, duration in rows:
            w.writerow(["i", f"{t:.3f}", name, f"{duration:.3f}"])


def read(path):
    """The trace's functions and invocations; TraceError naming the line for anything wrong."""
    functions, invocations = {}, []
    last = -1.0
    with open(path, newline="") as f:
        for number, row in enumerate(csv.reader(f), start=1):
            def fail(why):
                raise TraceError(f"{path}:{number}: {why}")
            if not row or row[0].startswith("#"):
                continue
            if row[0] == "f":
                if invocations:
                    fail("a function row after the invocations began: list functions first")
                if len(row) != 5:
                    fail("a function row has 5 fields: f,NAME,KIND,BITSTREAM,MEMORY_MB")
                _, name, kind, bitstream, memory = row
                if not name or name in functions:
                    fail(f"function '{name}' is empty or declared twice")
                if kind not in KINDS:
                    fail(f"kind '{kind}' is not one of {', '.join(KINDS)}")
                if (kind == "fpga") != bool(bitstream):
                    fail("a bitstream goes with kind fpga, and only with it")
                if not memory.isdigit() or not 8 <= int(memory) <= 2048:
                    fail(f"memory '{memory}' is not a number of MB in 8..2048")
                functions[name] = (kind, bitstream, int(memory))
            elif row[0] == "i":
                if len(row) != 4:
                    fail("an invocation row has 4 fields: i,TIME_MS,NAME,DURATION_MS")
                _, time_text, name, duration_text = row
                try:
                    t, duration = float(time_text), float(duration_text)
                except ValueError:
                    fail("time and duration must be numbers of milliseconds")
                if not (math.isfinite(t) and math.isfinite(duration)):
                    fail("time and duration must be finite")
                if t < 0:
                    fail(f"negative time {time_text}")
                if duration < 0:
                    fail(f"negative duration {duration_text}")
                if t < last:
                    fail(f"time {time_text} comes before the previous row's {last:.3f}: the trace must be sorted")
                if name not in functions:
                    fail(f"unknown function '{name}' (not declared by an f row)")
                last = t
                invocations.append((t, name, duration))
            else:
                fail(f"a row starts with 'f' (a function) or 'i' (an invocation), not '{row[0]}'")
    if not invocations:
        raise TraceError(f"{path}: no invocations")
    return functions, invocations


def describe(functions, invocations):
    """The shape, as the paper reports it: share of functions at most hourly, the busiest
    1%'s share of invocations, median duration, inter-arrival CVs."""
    per = {}
    for t, name, _ in invocations:
        per.setdefault(name, []).append(t)
    horizon_h = max(t for t, _, _ in invocations) / 3_600_000.0 or 1.0
    # At most hourly: no more invocations than whole hours in the trace (at least one).
    hourly = sum(1 for name in functions if len(per.get(name, [])) <= max(1.0, horizon_h))
    counts = sorted((len(v) for v in per.values()), reverse=True)
    top = max(1, len(functions) // 5)
    durations = sorted(d for _, _, d in invocations)
    cvs = []
    for times in per.values():
        gaps = [b - a for a, b in zip(times, times[1:])]
        if len(gaps) >= 10:
            mean = sum(gaps) / len(gaps)
            sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps))
            cvs.append(sd / mean if mean else 0.0)
    kinds = {k: sum(1 for v in functions.values() if v[0] == k) for k in KINDS}
    bitstreams = len({v[1] for v in functions.values() if v[1]})
    return (f"functions={len(functions)} invocations={len(invocations)} "
            f"at_most_hourly={hourly / len(functions):.2f} top20pct_share={sum(counts[:top]) / len(invocations):.2f} "
            f"median_duration_ms={durations[len(durations) // 2]:.0f} "
            f"cv_le_1={(sum(1 for c in cvs if c <= 1.0) / len(cvs)) if cvs else 0:.2f} "
            f"run={kinds['run']} persistent={kinds['persistent']} fpga={kinds['fpga']} bitstreams={bitstreams}")


# What a policy deploys with: a keep-alive in trace seconds (`kumo deploy --keep-alive` is scaled
# by the speedup), or "auto" for the learned ones (the server runs them: `kumo serve
# --learned-keep-alive hybrid|kumo`, with the histogram's minute scaled by the speedup).
POLICIES = {"fixed-10m": 600.0, "none": 0.0, "hybrid": "auto", "kumo": "auto"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def function_directory(kind, bitstream):
    return os.path.join(ROOT, "bench", "trace", f"fpga-{bitstream}" if kind == "fpga" else kind)


def image_memory_gb(directory):
    text = open(os.path.join(directory, "function.yaml")).read()
    m = re.search(r"^memory:\s*(\d+)([MG])", text, re.M)
    return (int(m.group(1)) / (1024 if m.group(2) == "M" else 1)) if m else 0.0625


def replay(path, policy, speedup, kumo, max_instances, out_dir):
    """Deploys the trace's functions with the policy's keep-alive, sends every invocation at
    its (compressed) time without waiting for earlier answers, and measures what the issue asks."""
    functions, invocations = read(path)
    gateway, token = os.environ.get("KUMO_GATEWAY"), os.environ.get("KUMO_TOKEN", "")
    if not gateway:
        raise TraceError("set KUMO_GATEWAY (and KUMO_TOKEN) to the gateway to replay against")
    keep_alive = POLICIES[policy] if POLICIES[policy] == "auto" else f"{max(0.0, POLICIES[policy] / speedup):.3f}s"
    memory = {}
    for name, (kind, bitstream, _) in functions.items():
        directory = function_directory(kind, bitstream)
        memory[name] = image_memory_gb(directory)
        done = subprocess.run([kumo, "deploy", directory, "--name", name, "--keep-alive", str(keep_alive),
                               "--max-instances", str(max_instances), "--queue", "64"], capture_output=True, text=True)
        if done.returncode != 0:
            raise TraceError(f"deploying {name} failed: {done.stderr.strip()}")

    def get(route):
        request = urllib.request.Request(gateway + route, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.read().decode()

    reconfigurations = lambda: sum(c.get("reconfigurations", 0) for c in json.loads(get("/system/accelerators"))["cards"])
    reconfigs_before = reconfigurations()
    lock = threading.Lock()
    results = []  # (latency ms, HTTP status, cold, function)

    def invoke(name, duration_ms):
        body = str(max(0, round(duration_ms / speedup))).encode()
        started = time.perf_counter()
        status, cold = 0, False
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{gateway}/function/{name}", data=body, method="POST"),
                                        timeout=120) as r:
                r.read()
                status, cold = r.status, r.headers.get("X-Kumo-Cold-Start") == "true"
        except urllib.error.HTTPError as e:
            status, cold = e.code, e.headers.get("X-Kumo-Cold-Start") == "true"
        except OSError:
            status = 599
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            results.append((elapsed, status, cold, name))

    idle_gb_s = [0.0]
    stop = threading.Event()

    def watch():  # idle instances (warm, serving no request) times their memory, from the instance listing
        last = time.perf_counter()
        while not stop.wait(0.25):
            try:
                listing = json.loads(get("/system/functions"))
            except (OSError, ValueError):
                continue
            now = time.perf_counter()
            for f in listing:
                if f["name"] in memory:
                    idle = sum(1 for i in f.get("instances") or [] if not i["busy"])
                    idle_gb_s[0] += idle * memory[f["name"]] * (now - last)
            last = now

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=512) as pool:
        for t, name, duration in invocations:
            delay = start + t / 1000.0 / speedup - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(invoke, name, duration)
    stop.set()
    watcher.join()
    latencies = sorted(r[0] for r in results)
    q = lambda p: latencies[min(len(latencies) - 1, int(p * (len(latencies) - 1)))]
    cold = sum(1 for r in results if r[2]) / len(results)
    refused = sum(1 for r in results if r[1] in (429, 503))
    failed = sum(1 for r in results if r[1] >= 500 and r[1] != 503)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{policy}.latencies.csv"), "w") as f:
        f.write("latency_ms,status,cold,function\n" + "".join(f"{l:.3f},{s},{int(c)},{n}\n" for l, s, c, n in results))
    # Cold starts of FPGA functions apart: with fewer cards than FPGA functions, most are a card taken from another function.
    fpga = [r for r in results if functions[r[3]][0] == "fpga"]
    other = [r for r in results if functions[r[3]][0] != "fpga"]
    share = lambda rows: sum(1 for r in rows if r[2]) / len(rows) if rows else 0.0
    print(f"policy={policy} cold_fraction={cold:.3f} p50_ms={q(0.5):.1f} p99_ms={q(0.99):.1f} p999_ms={q(0.999):.1f} "
          f"idle_gb_s={idle_gb_s[0] * speedup:.1f} reconfigs={reconfigurations() - reconfigs_before} refused={refused} "
          f"failed={failed} invocations={len(results)} cold_fraction_fpga={share(fpga):.3f} cold_fraction_other={share(other):.3f}")


def ccdf(out_dir, policies):
    """One PNG with each policy's latency CCDF (needs matplotlib: pip install matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("trace: matplotlib is not installed (pip install matplotlib); no CCDF plot", file=sys.stderr)
        return
    for policy in policies:
        with open(os.path.join(out_dir, f"{policy}.latencies.csv")) as f:
            values = sorted(float(line.split(",")[0]) for line in list(f)[1:])
        n = len(values)
        plt.loglog(values, [1 - i / n for i in range(n)], label=policy)
    plt.xlabel("latency (ms)")
    plt.ylabel("P(latency > x)")
    plt.legend()
    plt.grid(True, which="both", alpha=0.3)
    plt.savefig(os.path.join(out_dir, "ccdf.png"), dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write a trace")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--functions", type=int, default=120)
    g.add_argument("--minutes", type=float, default=30.0)
    g.add_argument("--busiest", type=float, default=1e5, help="the busiest function's invocations per day")
    g.add_argument("--out", required=True)
    c = sub.add_parser("check", help="validate a trace and print its shape")
    c.add_argument("trace")
    r = sub.add_parser("replay", help="replay a trace against $KUMO_GATEWAY under one policy")
    r.add_argument("trace")
    r.add_argument("--policy", choices=sorted(POLICIES), required=True)
    r.add_argument("--speedup", type=float, default=3.0, help="trace seconds per second of replay")
    r.add_argument("--kumo", default=os.path.join(ROOT, ".build", "release", "kumo"))
    r.add_argument("--max-instances", type=int, default=8)
    r.add_argument("--out", default="trace-results")
    p = sub.add_parser("plot", help="draw the latency CCDF of replayed policies")
    p.add_argument("--out", default="trace-results")
    p.add_argument("policies", nargs="+")
    args = parser.parse_args()
    try:
        if args.command == "replay":
            if not 0.1 <= args.speedup <= 1000 or not 1 <= args.max_instances <= 1000:
                raise TraceError("--speedup must be 0.1..1000 and --max-instances 1..1000")
            replay(args.trace, args.policy, args.speedup, args.kumo, args.max_instances, args.out)
            return
        if args.command == "plot":
            ccdf(args.out, args.policies)
            return
        if args.command == "generate":
            if not 1 <= args.functions <= 100_000 or not 0 < args.minutes <= 24 * 60 or not 24 < args.busiest <= 1e9:
                raise TraceError("--functions must be 1..100000, --minutes in (0, 1440], --busiest in (24, 1e9]")
            table, rows = generate(args.seed, args.functions, args.minutes, args.busiest)
            write(args.out, table, rows)
            functions, invocations = read(args.out)
        else:
            functions, invocations = read(args.trace)
        print(describe(functions, invocations))
    except (TraceError, OSError) as e:
        print(f"trace: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
