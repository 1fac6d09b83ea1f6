#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document (functions/system/openapi.json) with
# schemathesis: a fresh database loaded with the bundled data, the local gateway on a free
# loopback port, then generated requests, valid and invalid, each checked for a 5xx, a body that
# is not JSON, a status code or header the document does not declare, and a body that breaks
# the documented schema.
#
#   ./infra/fuzz.sh           the test command's budget: a few thousand requests, about a minute
#   ./infra/fuzz.sh --long    at least 100,000 requests (about 25 minutes on 2 cores)
#
# KGDB_FUZZ_SEED overrides the fixed seed, KGDB_FUZZ_MAX_EXAMPLES the examples per operation
# (and drops the request floor), KGDB_FUZZ_CHECKS the schemathesis checks.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

SCHEMA=functions/system/openapi.json
# Beyond 5xx, content types, status codes and schemas: declared headers, invalid input refused
# and valid input accepted as documented, 405 + Allow for other methods, admin auth enforced.
CHECKS=${KGDB_FUZZ_CHECKS:-not_a_server_error,content_type_conformance,status_code_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,positive_data_acceptance,unsupported_method,ignored_auth}

mode=default
case "${1:-}" in
    "") ;;
    --long) mode=long ;;
    -h | --help)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument ${1} (usage: infra/fuzz.sh [--long])" ;;
esac
seed="${KGDB_FUZZ_SEED:-20261201}"
# Operations without parameters stop after a handful of distinct examples; the others take the
# full count: with the 46 operations of the document these give about 6,000 and 105,000
# requests (the floors, 2,000 and 100,000, are checked below).
if [ "$mode" = long ]; then
    max_examples="${KGDB_FUZZ_MAX_EXAMPLES:-3500}"
    min_requests=100000
else
    max_examples="${KGDB_FUZZ_MAX_EXAMPLES:-200}"
    min_requests=2000
fi
[ -n "${KGDB_FUZZ_MAX_EXAMPLES:-}" ] && min_requests=1

step "Rust toolchain"
require_rust
ensure_postgres
ensure_venv "$SCHEMATHESIS_REQ"

bin="${CARGO_TARGET_DIR:-target}/debug/kgdb-local"
step "Building kgdb-local (debug)"
cargo build --locked -p kgdb-local --bin kgdb-local

db="kgdb_fuzz_$$"
work=$(mktemp -d)
gateway=""
cleanup() {
    # KGDB_FUZZ_KEEP=FILE keeps the full schemathesis log.
    if [ -n "${KGDB_FUZZ_KEEP:-}" ]; then cp "$work/schemathesis.log" "$KGDB_FUZZ_KEEP" || true; fi
    if [ -n "$gateway" ]; then
        kill "$gateway" 2>/dev/null || true
        wait "$gateway" 2>/dev/null || true
    fi
    psql "$PG_SERVER_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Databases of earlier runs that died before their trap could drop them.
for stale in $(psql "$PG_SERVER_URL/postgres" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'kgdb\\_fuzz\\_%'"); do
    pid="${stale#kgdb_fuzz_}"
    if [ "$pid" != "$$" ] && ! kill -0 "$pid" 2>/dev/null; then
        psql "$PG_SERVER_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$stale\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
done

step "Fresh database $db with the bundled data"
export DATABASE_URL="$PG_SERVER_URL/$db"
"$bin" setup 2>"$work/setup.log" || { cat "$work/setup.log" >&2; die "kgdb-local setup failed"; }

step "Gateway on a free loopback port"
token="fuzz-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# Port 0: the kernel picks a free port and the gateway prints the address it bound.
# Started through a link of its own name: on a shared machine, a `pkill kgdb-local` meant for
# another gateway must not end this one mid-run (a long run was lost that way once).
ln -s "$(realpath "$bin")" "$work/fuzz-gateway"
# Annotation runs the fuzzer starts must not look up real providers: a refused local port.
RUST_LOG=warn KGDB_FETCH_ORIGIN=http://127.0.0.1:9 KGDB_ADMIN_TOKEN="$token" "$work/fuzz-gateway" serve --host 127.0.0.1 --port 0 >"$work/gateway.log" 2>&1 &
gateway=$!
base=""
for _ in $(seq 1 100); do
    base=$(sed -n 's/^==> kgdb API on \(http:\/\/127\.0\.0\.1:[0-9]*\) .*/\1/p' "$work/gateway.log")
    [ -n "$base" ] && http_ok "$base/health" && break
    kill -0 "$gateway" 2>/dev/null || { cat "$work/gateway.log" >&2; die "the gateway exited"; }
    sleep 0.1
done
[ -n "$base" ] && http_ok "$base/health" || { cat "$work/gateway.log" >&2; die "the gateway did not answer"; }
note "$base"

step "schemathesis ($mode: up to $max_examples examples per operation, seed $seed)"
started=$(date +%s)
status=0
repo=$(pwd)
# Run from the scratch directory: schemathesis keeps state in the working directory.
(
    cd "$work"
    "$repo/.venv/bin/schemathesis" run "$repo/$SCHEMA" \
        --url "$base" \
        --header "Authorization: Bearer $token" \
        --checks "$CHECKS" \
        --mode all \
        --max-examples "$max_examples" \
        --seed "$seed" \
        --generation-database none \
        --request-timeout 10 \
        --report ndjson --report-ndjson-path "$work/events.ndjson" \
        --no-color
) >"$work/schemathesis.log" 2>&1 || status=$?
elapsed=$(($(date +%s) - started))
if ! kill -0 "$gateway" 2>/dev/null; then
    # 101: a panic; 134/139: abort or crash; 137/143: killed from outside (SIGKILL/SIGTERM).
    gateway_status=0
    wait "$gateway" || gateway_status=$?
    gateway=""
    tail -20 "$work/gateway.log" >&2
    note "the gateway exited during the run with status $gateway_status"
fi
# The summary and any failures (the progress lines before them say little).
sed -n '/^===/,$p' "$work/schemathesis.log" >&2
[ -s "$work/events.ndjson" ] || { tail -40 "$work/schemathesis.log" >&2; die "schemathesis wrote no report (exit $status)"; }

# Counts what really ran, from the recorded request/response pairs: a check of our own that
# every body is JSON (HTML for the docs page), independent of schemathesis's checks.
summary_status=0
.venv/bin/python - "$work/events.ndjson" "$seed" "$elapsed" "$min_requests" <<'PY' || summary_status=$?
import base64, collections, json, sys

path, seed, elapsed, floor = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
requests = server_errors = non_json = 0
failed = collections.Counter()
failing = set()  # (scenario, case) of every request that failed anything
examples = []
with open(path) as events:
    for line in events:
        scenario = json.loads(line).get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        for case, interaction in (recorder.get("interactions") or {}).items():
            requests += 1
            response = interaction.get("response")
            if response is None:
                continue
            if response["status_code"] >= 500:
                server_errors += 1
                failing.add((scenario["id"], case))
            content = response.get("content") or {}
            body = base64.b64decode(content["$base64"]) if "$base64" in content else content.get("text", "").encode()
            # No body by definition: 204 (OPTIONS), 304, and answers to HEAD.
            if response["status_code"] in (204, 304) or interaction["request"]["method"] == "HEAD":
                continue
            ctype = (response["headers"].get("content-type") or [""])[0].split(";")[0].strip()
            docs = (interaction["request"]["uri"].split("?")[0].rstrip("/").endswith("/docs")
                    and response["status_code"] == 200)
            if docs:
                ok = ctype == "text/html" and body.strip() != b""
            else:
                try:
                    ok = ctype == "application/json" and (json.loads(body) or True)
                except ValueError:
                    ok = False
            if not ok:
                non_json += 1
                failing.add((scenario["id"], case))
                if len(examples) < 5:
                    examples.append(f"{response['status_code']} {ctype!r} {interaction['request']['uri']}")
        for case, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check["status"] == "failure":
                    failed[check["name"]] += 1
                    failing.add((scenario["id"], case))
schema = failed.pop("response_schema_conformance", 0)
others = ", ".join(f"{n} {name}" for name, n in sorted(failed.items())) or "0 other check failures"
print(f"fuzz: {requests} requests in {elapsed} s (seed {seed}): {server_errors} 5xx, "
      f"{non_json} non-JSON, {schema} schema violations, {others}")
for e in examples:
    print(f"    non-JSON: {e}", file=sys.stderr)
# The plain closing line test runners print.
print(f"fuzz: {requests - len(failing)} passed, {len(failing)} failed")
if requests < floor:
    print(f"fuzz: only {requests} requests ran; this mode needs at least {floor}", file=sys.stderr)
sys.exit(1 if requests < floor or server_errors or non_json or schema or failed else 0)
PY

if [ "$status" -ne 0 ] || [ "$summary_status" -ne 0 ]; then
    tail -20 "$work/gateway.log" >&2
    die "fuzzing failed (schemathesis exit $status); reproduce with: KGDB_FUZZ_SEED=$seed ./infra/fuzz.sh${1:+ $1}"
fi
