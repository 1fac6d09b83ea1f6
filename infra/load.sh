#!/usr/bin/env bash
# Load test (not a test of the suite), through the local gateway: the mixed request trace in
# open loop at a fixed offered rate (default 2,000 req/s) over 100 connections for 60 s, caches
# on, from a flushed cache; then an expensive uncached query at 800 connections, to measure how
# much load the pool sheds. Writes the results into README.md (Reliability).
#   ./infra/load.sh [--rate N]      (the offered rate of the mixed-trace run)
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
ensure_postgres
export DATABASE_URL="$PG_SERVER_URL/kgdb_bench"
port="${KGDB_BENCH_PORT:-3902}"
token="load-$(date +%s)-$RANDOM-admin-token"
gateway=""

step "Building (release)"
cargo build --release --locked -p kgdb-local --bins
step "Loading the benchmark database"
target/release/kgdb-local setup

rows=$(mktemp)
trap '[ -n "$gateway" ] && kill "$gateway" 2>/dev/null || true; rm -f "$rows"' EXIT
start_gateway() { # env assignments...
    env RUST_LOG=warn KGDB_PORT="$port" KGDB_ADMIN_TOKEN="$token" "$@" target/release/kgdb-local serve &
    gateway=$!
    for _ in $(seq 1 100); do http_ok "http://127.0.0.1:$port/health" && return; sleep 0.1; done
    die "gateway did not start"
}
stop_gateway() { kill "$gateway"; wait "$gateway" 2>/dev/null || true; gateway=""; }
load() { target/release/kgdb-bench load --url "http://127.0.0.1:$port" --admin-token "$token" --out "$rows" "$@"; }

step "Mixed trace, caches on: 100 connections, 60 s"
start_gateway
load --connections 100 --seconds 60 "$@"
step "Compression: gzip size and time on real answers"
target/release/kgdb-bench compression --url "http://127.0.0.1:$port" --readme README.md \
    --note "Measured $(date -u +%Y-%m-%d) with \`./infra/load.sh\` (\`kgdb-bench compression\`): best of 50 runs of flate2 on this machine. The gateway uses level 1 above 1 KiB; deployed, API Gateway compresses (\`MinimumCompressionSize: 1024\`)."
stop_gateway

# The expensive uncached query at 8x the connections: the pool (8 connections) cannot keep up,
# and requests that wait longer than KGDB_DB_WAIT_TIMEOUT_MS are shed with a fast 503 rather
# than queueing without bound. The share shed is the number to watch.
step "Overload, cache off: the filtered + sorted list at 800 connections, 20 s"
ulimit -n 4096 2>/dev/null || note "could not raise the open-file limit"
start_gateway KGDB_CACHE=off
load --connections 800 --seconds 20 --rate 2000 --label "cache off, expensive query" \
    --path "/api/genes/?filter%5Btier%5D=comprehensive_support,multi_source_support&filter%5Bmin_score%5D=30&filter%5Bsource%5D=ClinGen&sort=-evidence_count,approved_symbol&page%5Bsize%5D=50"
stop_gateway

step "Writing README.md"
target/release/kgdb-bench load-readme --from "$rows" --readme README.md \
    --note "Measured $(date -u +%Y-%m-%d) with \`./infra/load.sh $*\` on this machine ($(nproc) cores shared by the gateway, Postgres and the load generator). Open loop: latency counts from each request's scheduled send time, so queueing is included. 503 = shed by the pool's wait timeout (fast, with \`Retry-After\`)."
