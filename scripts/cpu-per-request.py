#!/usr/bin/env python3
"""Runs one wrk load and prints, beside wrk's figures, the CPU time each kind of
thread spent per request: the node's event loops, its other threads (instance
readers, Swift's pool), the instance processes, wrk itself. Reads
/proc/PID/task/TID/stat before and after, so it measures whole runs, not samples.

  scripts/cpu-per-request.py URL CONNECTIONS DURATION [WRK_SCRIPT]
"""
import collections
import os
import re
import subprocess
import sys


def threads():
    """(pid, tid) -> (role, thread name, utime+stime ticks) for kumo and wrk processes."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        program = os.path.basename(argv[0]).decode(errors="replace") if argv and argv[0] else ""
        if program not in ("kumo", "kumo-local", "kumo-control", "wrk"):  # kumo-local: instance processes
            continue
        role = "wrk" if program == "wrk" else (argv[1].decode() if len(argv) > 1 else "kumo")
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                stat = open(f"/proc/{pid}/task/{tid}/stat").read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            found[(pid, tid)] = (role, name, int(fields[11]) + int(fields[12]))
    return found


def kind(role, name):
    if role == "serve":
        return "node: event loops" if name.startswith("NIO-") else "node: other threads"
    if role == "instance":
        return "instance processes"
    return role


def main():
    args = sys.argv[1:]
    url, connections, duration = args[0], int(args[1]), args[2]
    script = args[3] if len(args) > 3 else None
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}", "--latency"]
    if script:
        command += ["-s", script]
    command.append(url)
    before = threads()
    run = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = run.communicate()[0]
    after = threads()
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latency = dict(re.findall(r"^\s+(50%|99%)\s+(\S+)", output, re.M))
    rate = re.search(r"Requests/sec:\s+(\S+)", output).group(1)
    print(f"  connections={connections} requests/s={rate} p50={latency.get('50%')} p99={latency.get('99%')}"
          f" non2xx={errors.group(1) if errors else 0}")
    ticks = collections.Counter()
    for key, (role, name, spent) in after.items():
        ticks[kind(role, name)] += spent - before.get(key, (role, name, 0))[2]
    hz = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for what, spent in ticks.most_common():
        us = spent * 1e6 / hz / max(requests, 1)
        if what == "wrk":
            continue  # wrk started after the first reading: its share is not comparable
        total += us
        print(f"    {what:24s} {us:7.1f} µs of CPU per request")
    print(f"    {'kumo in all':24s} {total:7.1f} µs of CPU per request")


if __name__ == "__main__":
    main()
