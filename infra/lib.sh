# Shared helpers of infra/run.sh, infra/test.sh and infra/bench.sh (sourced, not run).

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

require_rust() {
    command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
    note "$(cargo --version)"
}

# True when GET url answers 2xx (python3, so curl is not required).
http_ok() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1
}

pg_ok() { # url
    command -v psql >/dev/null && psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

# Makes sure a Postgres server is reachable and exports PG_SERVER_URL (no database name).
# DATABASE_URL wins when set; otherwise the local server on 127.0.0.1:5432, installed from apt
# and started only when missing.
ensure_postgres() {
    step "Postgres"
    if [ -n "${DATABASE_URL:-}" ]; then
        PG_SERVER_URL="${DATABASE_URL%/*}"
        export PG_SERVER_URL
        pg_ok "$PG_SERVER_URL/postgres" || die "DATABASE_URL is set but its server does not answer"
        note "using DATABASE_URL's server"
        return
    fi
    PG_SERVER_URL="postgres://postgres@127.0.0.1:5432"
    if ! command -v pg_ctlcluster >/dev/null && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        note "installing PostgreSQL from apt"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        local version
        version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
        [ -n "$version" ] || die "no PostgreSQL cluster found in /etc/postgresql"
        note "starting PostgreSQL $version"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
        pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start"
    fi
    if ! pg_ok "$PG_SERVER_URL/postgres"; then
        # A fresh apt install asks for a password over TCP; give the postgres role one.
        note "setting a password for the local postgres role (TCP access)"
        as_root runuser -u postgres -- psql -qc "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
        PG_SERVER_URL="postgres://postgres:postgres@127.0.0.1:5432"
        pg_ok "$PG_SERVER_URL/postgres" || die "cannot connect to PostgreSQL at 127.0.0.1:5432"
    fi
    export PG_SERVER_URL
    note "PostgreSQL is answering on 127.0.0.1:5432"
}

# Headless Chromium for the docs-page check; best effort (the check skips, loudly, without it).
ensure_chromium() {
    command -v chromium >/dev/null && return 0
    step "Chromium (headless check of /docs)"
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
        || note "could not install chromium: the /docs browser check will be skipped"
}

# The fuzzer of infra/fuzz.sh, pinned: its checks and CLI flags change between releases.
SCHEMATHESIS_REQ="schemathesis==4.32.5"

# A project-local Python venv with the tools the tests need (cfn-lint, moto, schemathesis).
# Arguments are pip requirements; `name==version` reinstalls when another version is there.
ensure_venv() {
    step "Python tools (.venv: $*)"
    command -v python3 >/dev/null || die "python3 not found"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv 2>/dev/null || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && python3 -m venv .venv; }
    fi
    local missing=()
    local pkg name want have
    for pkg in "$@"; do
        name="${pkg%%[[=]*}"
        want=""
        case "$pkg" in *==*) want="${pkg##*==}" ;; esac
        have=$(.venv/bin/python -c 'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' "$name" 2>/dev/null) || have=""
        if [ -z "$have" ] || { [ -n "$want" ] && [ "$have" != "$want" ]; }; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        note "installing ${missing[*]}"
        .venv/bin/python -m pip install -q --disable-pip-version-check "${missing[@]}"
    fi
}

# Starts moto_server (DynamoDB/SQS emulator) on a free loopback port and exports
# KGDB_TEST_DYNAMODB_URL; the caller's EXIT trap stops it (MOTO_PID).
start_moto() {
    step "moto_server (DynamoDB emulator on 127.0.0.1)"
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    .venv/bin/moto_server -H 127.0.0.1 -p "$port" >.venv/moto.log 2>&1 &
    MOTO_PID=$!
    for _ in $(seq 1 100); do
        http_ok "http://127.0.0.1:$port/" && break
        kill -0 "$MOTO_PID" 2>/dev/null || die "moto_server exited: $(tail -5 .venv/moto.log)"
        sleep 0.1
    done
    http_ok "http://127.0.0.1:$port/" || die "moto_server did not answer on port $port"
    export KGDB_TEST_DYNAMODB_URL="http://127.0.0.1:$port"
    note "listening on $KGDB_TEST_DYNAMODB_URL"
}
