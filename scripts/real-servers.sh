#!/usr/bin/env bash
# Run the built-in suite against real third-party SCIM servers and compare the failures with
# tests/real-servers/expected.yaml. Opt-in (not part of .ci/run): it installs packages from PyPI
# and npm into a temporary folder.
#
#   scripts/real-servers.sh [--keep] [SERVER...]     SERVER: scim2-server scimmy django-scim2
#
# Needs the Rust toolchain, python3 (with venv and pip) and node/npm. Everything goes into a temp
# folder (kept with --keep, for reading the reports); the servers listen on 127.0.0.1 only and are
# stopped on exit. Exit 0: every failure and warning is the expected one; 1: they differ (the
# difference is printed); 2: a server could not be installed or started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/tests/real-servers"
KEEP=0
SERVERS=()
for arg in "$@"; do
    case "$arg" in
        --keep) KEEP=1 ;;
        scim2-server | scimmy | django-scim2) SERVERS+=("$arg") ;;
        -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "real-servers: unknown argument '$arg' (servers: scim2-server scimmy django-scim2)" >&2; exit 2 ;;
    esac
done
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=(scim2-server scimmy django-scim2)

# Pinned so that the expectation file stays true; bump them together with expected.yaml.
PY_PACKAGES=(scim2-server==0.8.3 django-scim2==0.23.0 "Django==5.2.*" "PyYAML==6.*")
NPM_PACKAGES=(scimmy@1.3.5 scimmy-routers@1.3.2 express@5.3.0)
INSTALL_TIMEOUT=600   # seconds for each pip / npm install
START_TIMEOUT=60      # seconds for a server to answer
RUN_TIMEOUT=600       # seconds for one scimcheck run
SERVER_LIFETIME=1800  # a server is killed after this long whatever happens

WORK="$(mktemp -d "${TMPDIR:-/tmp}/scimcheck-real-servers.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$KEEP" = 1 ]; then
        echo "real-servers: kept $WORK (reports: $WORK/*.json, terminal output: $WORK/*.txt)"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
die() { echo "real-servers: $*" >&2; exit 2; }

TOKEN="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Start "$@" in the background (bounded by SERVER_LIFETIME), its output in $WORK/NAME.log.
start() {
    local name="$1"
    shift
    timeout "$SERVER_LIFETIME" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
}

# Wait until URL answers any HTTP status (with the token), or fail with the server's log.
wait_ready() {
    local name="$1" url="$2"
    if ! python3 - "$url" "$TOKEN" "$START_TIMEOUT" <<'EOF'; then
import sys, time, urllib.error, urllib.request
url, token, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + token}), timeout=5)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        time.sleep(0.3)
sys.exit(1)
EOF
        tail -n 20 "$WORK/$name.log" >&2
        die "$name did not answer on $url within ${START_TIMEOUT}s"
    fi
}

step "building scimcheck (cargo build --release)"
(cd "$ROOT" && cargo build --release --quiet)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/scimcheck"
[ -x "$BIN" ] || die "no binary at $BIN"

needs_python=0
needs_node=0
for s in "${SERVERS[@]}"; do
    case "$s" in
        scimmy) needs_node=1 ;;
        *) needs_python=1 ;;
    esac
done

step "installing into $WORK"
python3 -m venv "$WORK/venv" || die "python3 -m venv failed (install python3-venv)"
VPY="$WORK/venv/bin/python"
pip_packages=("PyYAML==6.*")
[ "$needs_python" = 0 ] || pip_packages=("${PY_PACKAGES[@]}")
timeout "$INSTALL_TIMEOUT" "$VPY" -m pip install --quiet --disable-pip-version-check "${pip_packages[@]}" \
    || die "pip install ${pip_packages[*]} failed"
if [ "$needs_node" = 1 ]; then
    mkdir -p "$WORK/node"
    cp "$HERE/scimmy/server.mjs" "$WORK/node/"
    (cd "$WORK/node" && printf '{"name":"scimcheck-real-servers","private":true,"type":"module"}\n' >package.json \
        && timeout "$INSTALL_TIMEOUT" npm install --silent --no-audit --no-fund "${NPM_PACKAGES[@]}") \
        || die "npm install ${NPM_PACKAGES[*]} failed"
fi

REPORTS=()
run_suite() {
    local name="$1" url="$2" rc=0
    step "$name: scimcheck run --url $url --dialect both"
    SCIMCHECK_TOKEN="$TOKEN" timeout "$RUN_TIMEOUT" "$BIN" run --url "$url" --dialect both --color never \
        --report "json=$WORK/$name.json" >"$WORK/$name.txt" 2>&1 || rc=$?
    tail -n 1 "$WORK/$name.txt"
    echo "(exit $rc, $(wc -l <"$WORK/$name.txt") lines of output)"
    case "$rc" in
        0 | 1) REPORTS+=("$name=$WORK/$name.json") ;;
        *) tail -n 30 "$WORK/$name.txt" >&2; die "$name: scimcheck exited $rc (see above)" ;;
    esac
}

for s in "${SERVERS[@]}"; do
    port="$(free_port)"
    case "$s" in
        scim2-server)
            start "$s" "$WORK/venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$TOKEN"
            url="http://127.0.0.1:$port/v2"
            ;;
        scimmy)
            start "$s" node "$WORK/node/server.mjs" "$port" "$TOKEN"
            url="http://127.0.0.1:$port/scim/v2"
            ;;
        django-scim2)
            cp -r "$HERE/django" "$WORK/django"
            export SCIM_DB="$WORK/django/db.sqlite3" SCIM_TOKEN="$TOKEN" SCIM_NETLOC="127.0.0.1:$port"
            { "$VPY" "$WORK/django/manage.py" makemigrations scimapp -v 0 && "$VPY" "$WORK/django/manage.py" migrate -v 0; } \
                >"$WORK/$s-setup.log" 2>&1 || { cat "$WORK/$s-setup.log" >&2; die "django-scim2: migrate failed"; }
            start "$s" "$VPY" "$WORK/django/manage.py" runserver --noreload "127.0.0.1:$port"
            url="http://127.0.0.1:$port/scim/v2"
            ;;
    esac
    wait_ready "$s" "$url/ServiceProviderConfig"
    run_suite "$s" "$url"
done

step "comparing with tests/real-servers/expected.yaml"
"$VPY" "$HERE/compare.py" "$HERE/expected.yaml" "${REPORTS[@]}"
