#!/usr/bin/env bash
# Installs every toolchain and program the tests need: the guest toolchains in
# Rust, Go, JavaScript and Python at pinned versions, and Debian's Slurm,
# munge, Chromium and Prometheus by major version. Safe to rerun: it skips
# what is there.
#
# Debian packages are named without a revision: security updates replace
# revisions (chromium 156.0.8078.114-1~deb12u1 vanished from the archive
# that way), so a revision pin breaks fresh machines. Each package is resolved
# against the archive before anything is installed, and the version installed
# is checked against the major version the tests were written for.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

fail() {
    echo "tests/toolchains.sh: $*" >&2
    exit 1
}

rustup target add wasm32-wasip2

if [ "$(componentize-py --version 2>/dev/null)" != "componentize-py 0.25.1" ]; then
    python3 -m pip install --quiet --disable-pip-version-check componentize-py==0.25.1
    if command -v pyenv >/dev/null; then pyenv rehash; fi
fi

# A WebSocket client no one here wrote, to check the built-in target's sockets.
if ! python3 -c 'import websockets, sys; sys.exit(websockets.__version__ != "15.0.1")' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check websockets==15.0.1
fi

# A gRPC server no one here wrote, for the gRPC tests, with its server
# reflection (whose releases trail grpcio's patch versions), and grpcio-tools
# to generate the stubs of a Molotov gRPC file (it brings the protobuf
# runtime that molotov bundles into Python scenarios).
pip_version() { python3 -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
if [ "$(pip_version grpcio)" != 1.85.4 ] || [ "$(pip_version grpcio-reflection)" != 1.85.1 ] ||
    [ "$(pip_version grpcio-tools)" != 1.85.4 ]; then
    python3 -m pip install --quiet --disable-pip-version-check \
        grpcio==1.85.4 grpcio-reflection==1.85.1 grpcio-tools==1.85.4
fi
python3 -c 'import grpc_reflection.v1alpha.reflection, grpc_tools.protoc, google.protobuf.message'

# httpbin, the server the k6 tests' scripts are written against.
if [ "$(pip_version httpbin)" != 0.10.4 ]; then
    python3 -m pip install --quiet --disable-pip-version-check httpbin==0.10.4
fi
python3 -c 'import httpbin, werkzeug.serving'

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
npm_ci "$root/bench/k6"

# A project `molotov new --lang js` makes has no lock file: `npm install`
# resolves its tree from the registry's package documents, which `npm ci`
# (lock file in hand) never fetched. One install of the template against a
# copy of the SDK caches them, so that the tests' `npm install --offline`
# works on a fresh machine as it does on one that installed before.
scratch="$(mktemp -d)"
mkdir "$scratch/molotov-sdk"
tar -C "$root/guest-sdk-js" --exclude=node_modules -cf - . | tar -C "$scratch/molotov-sdk" -xf -
sed -e 's/{{crate}}/npm-cache-warmup/' -e 's/{{sdk}}/file:molotov-sdk/' \
    "$root/host/cli/templates/new/js/package.json.in" >"$scratch/package.json"
(cd "$scratch" && npm install --prefer-offline --no-audit --no-fund --loglevel=error)
rm -rf "$scratch"

# Go modules, verified against the committed go.sum files.
for module in "$root/guest-sdk-go" "$root"/guest-examples/go/*/; do
    (cd "$module" && go mod download)
done

# Debian packages as `name:version-pattern` (iproute2's `ip` builds the
# network namespace of the egress tests; libxml2-utils' `xmllint` validates
# `--junit` reports): the pattern is an extended
# regular expression that the archive's candidate version must match at its
# start (a major version, or a major and minor where the tests depend on it).
# Chromium's major moves with every security update to Debian stable, so it
# is held to a floor instead: the headless flags the tests use need 112+.
debian_packages=(
    'slurmctld:22\.05\.'
    'slurmd:22\.05\.'
    'slurm-client:22\.05\.'
    'munge:0\.5\.'
    'chromium:(1[1-9][0-9]|[2-9][0-9][0-9])\.'
    'prometheus:2\.'
    'iproute2:6\.'
    'libxml2-utils:2\.'
)

# The candidate version of a package in the archive, or nothing.
candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2 }'
}

# The installed version of a package, or nothing.
installed() {
    dpkg-query --show --showformat='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null |
        awk '/^ii/ { print $2 }'
}

missing=()
for spec in "${debian_packages[@]}"; do
    package="${spec%%:*}"
    if [ -z "$(installed "$package")" ]; then missing+=("$spec"); fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || fail "apt-get update failed (run as root)"
    names=()
    for spec in "${missing[@]}"; do
        package="${spec%%:*}" pattern="${spec#*:}"
        version="$(candidate "$package")"
        [ -n "$version" ] || fail "Debian package '$package' is not in the archive"
        [[ "$version" =~ ^$pattern ]] ||
            fail "Debian package '$package': the archive offers $version, the tests need a version matching '$pattern'"
        names+=("$package")
    done
    apt-get install -y -q --no-install-recommends "${names[@]}" >/dev/null ||
        fail "apt-get install ${names[*]} failed"
fi

for spec in "${debian_packages[@]}"; do
    package="${spec%%:*}" pattern="${spec#*:}"
    version="$(installed "$package")"
    [[ "$version" =~ ^$pattern ]] ||
        fail "Debian package '$package' ${version:-is not installed}; the tests need a version matching '$pattern'"
done

# The JUnit schema of Jenkins' xunit plugin (junit-10.xsd, MIT), which
# `--junit` reports are validated against, as pytest's source distribution
# ships it for its own tests: pinned by version and by the schema's hash.
junit_xsd="${XDG_CACHE_HOME:-$HOME/.cache}/molotov-tests/junit-10.xsd"
junit_xsd_sha256=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6
if ! echo "$junit_xsd_sha256  $junit_xsd" | sha256sum --check --status 2>/dev/null; then
    sdist="$(mktemp -d)"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary :all: pytest==8.3.5 -d "$sdist" || fail "cannot download pytest 8.3.5's sources"
    tar -xzf "$sdist"/pytest-8.3.5.tar.gz -C "$sdist" pytest-8.3.5/testing/example_scripts/junit-10.xsd
    mkdir -p "$(dirname "$junit_xsd")"
    mv "$sdist"/pytest-8.3.5/testing/example_scripts/junit-10.xsd "$junit_xsd"
    rm -rf "$sdist"
    echo "$junit_xsd_sha256  $junit_xsd" | sha256sum --check --status ||
        fail "$junit_xsd is not the schema the tests were written for"
fi
