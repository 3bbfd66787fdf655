#!/usr/bin/env bash
# Installs, at pinned versions, every toolchain that building the guests in
# Rust, Go, JavaScript and Python needs. Safe to rerun: it skips what is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

rustup target add wasm32-wasip2

if [ "$(componentize-py --version 2>/dev/null)" != "componentize-py 0.25.1" ]; then
    python3 -m pip install --quiet --disable-pip-version-check componentize-py==0.25.1
    if command -v pyenv >/dev/null; then pyenv rehash; fi
fi

# The JS SDK carries componentize-js and the bundler; examples link to it.
npm_ci() {
    if [ ! -f "$1/node_modules/.package-lock.json" ] ||
        [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
        (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
npm_ci "$root/guest-sdk-js"
npm_ci "$root/tests/guests/js"
for example in "$root"/guest-examples/js/*/; do
    npm_ci "${example%/}"
done

# Go modules, verified against the committed go.sum files.
for module in "$root/guest-sdk-go" "$root"/guest-examples/go/*/; do
    (cd "$module" && go mod download)
done

# A real scheduler for the sharding test: Debian's Slurm and munge (the test
# starts its own daemons on 127.0.0.1 and stops them).
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    packages=(slurmctld='22.05.8*' slurmd='22.05.8*' slurm-client='22.05.8*' munge)
    apt-get install -y -q "${packages[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q "${packages[@]}" >/dev/null; }
fi

# A real browser for the HTML report and the dashboard, and a real Prometheus
# for remote write (the tests start and stop their own, on 127.0.0.1).
if [ ! -x /usr/lib/chromium/chromium ] || ! command -v prometheus >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    packages=(chromium='156.0.8078.114-1~deb12u1' prometheus='2.42.0+ds-5+deb12u1')
    apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; }
fi
