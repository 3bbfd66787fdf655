#!/usr/bin/env python3
"""How exactly the open model (`--rate`) keeps its rate, and what it costs.

Against nginx on one core (molotov on the other), for 1k, 10k and 50k runs
a second: the runs started per second asked and achieved (started, and
started + dropped), client CPU per run, compared with the closed model at
full speed in the same run. Then a stalled server (the built-in target's
`/slow`, with too few workers): runs dropped, service time and time from
the intended start. Machines here are shared and noisy: compare within a run.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import HELLO, MOLOTOV, RESULTS, Server, build, free_port, measure  # noqa: E402


def molotov(server_url, seconds, workers, *extra, env=None):
    command = [str(MOLOTOV), "run", str(HELLO), "-w", str(workers), "-d", str(seconds),
               "--target", server_url, "-q", "--json", str(RESULTS), *extra]
    for pair in env or []:
        command += ["--env", pair]
    return command


def results():
    return json.loads(RESULTS.read_text())


def started(report):
    s = report["scenarios"]
    return s["ok"] + s["failed"] + s["cancelled"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rates", default="1000,10000,50000")
    parser.add_argument("--workers", type=int, default=200, help="pre-allocated workers of the open model")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build()
    import shutil
    import tempfile
    workdir = Path(tempfile.mkdtemp(prefix="molotov-rate-"))
    server = Server(workdir)
    rows = []
    try:
        measure(molotov(server.url, 1, 1))  # fills the compile cache
        usage = measure(molotov(server.url, args.seconds, 100))
        closed = started(results())
        rows.append(("closed, -w 100", None, closed / args.seconds, 0, 1e6 * usage.cpu / closed))
        for rate in (int(r) for r in args.rates.split(",")):
            usage = measure(molotov(server.url, args.seconds, args.workers, "--rate", str(rate)))
            report = results()
            runs, dropped = started(report), report["scenarios"]["dropped"]
            rows.append((f"--rate {rate:,}", rate, runs / args.seconds, dropped, 1e6 * usage.cpu / max(runs, 1)))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\nserver: {server.kind} on one core; molotov on the other; {args.seconds} s each; "
          f"open model with -w {args.workers}")
    print(f"{'model':<18} {'asked/s':>9} {'started/s':>10} {'achieved':>9} {'dropped':>8} {'CPU µs/run':>11}")
    closed_cpu = rows[0][4]
    for name, asked, achieved, dropped, cpu in rows:
        ratio = f"{achieved / asked:.4f}" if asked else "-"
        print(f"{name:<18} {asked or '-':>9} {achieved:>10,.1f} {ratio:>9} {dropped:>8} "
              f"{cpu:>8.2f} ({cpu / closed_cpu:.2f}x closed)")

    # A stall: each run waits 200 ms on the server, 10 workers, 100 runs/s
    # asked: at most 50/s can start, the rest are dropped and counted.
    port = free_port()
    target = subprocess.Popen([str(MOLOTOV), "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time
        time.sleep(0.5)
        url = f"http://127.0.0.1:{port}"
        measure(molotov(url, 5, 10, "--rate", "100", env=[f"SERVER_URL={url}/slow?ms=200&_="]))
        report = results()
    finally:
        target.terminate()
        target.wait()
    s = report["scenarios"]
    print(f"\nstalled server (/slow?ms=200), --rate 100 -w 10 -d 5: {started(report)} started, "
          f"{s['dropped']} dropped")
    for label, p in (("service time", s["duration_ms"]), ("from intended start", report["response_time_ms"])):
        print(f"  {label:<20} p50 {p['p50']:.1f} ms  p99 {p['p99']:.1f} ms  max {p['max']:.1f} ms")


if __name__ == "__main__":
    main()
