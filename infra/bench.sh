#!/usr/bin/env bash
# Benchmark (not a test): the local gateway on a dedicated database loaded with the bundled data,
# driven by kgdb-bench in three configurations — no cache, the in-process L1, and the DynamoDB L2
# alone (moto, L1 switched off) — plus a mixed request trace for the hit rate. Writes README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
ensure_postgres
ensure_venv "moto[server]"
export DATABASE_URL="$PG_SERVER_URL/kgdb_bench"
port="${KGDB_BENCH_PORT:-3901}"
results=$(mktemp)
token="bench-$(date +%s)-$RANDOM-admin-token"
gateway=""
MOTO_PID=""
cleanup() {
    [ -n "$gateway" ] && kill "$gateway" 2>/dev/null || true
    [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null || true
    rm -f "$results"
}
trap cleanup EXIT

step "Building (release)"
cargo build --release --locked -p kgdb-local --bins
step "Loading the benchmark database"
target/release/kgdb-local setup

start_gateway() { # env assignments...
    env RUST_LOG=warn KGDB_PORT="$port" KGDB_ADMIN_TOKEN="$token" "$@" target/release/kgdb-local serve &
    gateway=$!
    for _ in $(seq 1 100); do http_ok "http://127.0.0.1:$port/health" && return; sleep 0.1; done
    die "gateway did not start"
}
stop_gateway() { kill "$gateway"; wait "$gateway" 2>/dev/null || true; gateway=""; }
bench() { target/release/kgdb-bench "$@" --url "http://127.0.0.1:$port" --out "$results"; }

step "Uncached: every request reads Postgres"
start_gateway KGDB_CACHE=off
bench run --mode uncached --gateway-pid "$gateway" "$@"
stop_gateway

step "L1: in-process cache"
start_gateway
bench run --mode L1 --gateway-pid "$gateway" "$@"
step "Mixed trace (hit rate)"
bench trace --admin-token "$token"
stop_gateway

start_moto
step "L2 only: DynamoDB (moto) with the L1 switched off"
start_gateway AWS_ENDPOINT_URL="$KGDB_TEST_DYNAMODB_URL" KGDB_CACHE_TABLE=kgdb-bench-cache KGDB_CACHE_L1_MB=0 KGDB_CACHE_L2_TIMEOUT_MS=200
# moto is one Python process: at 50 connections it, not kgdb, is measured. One connection and a
# low offered rate show what an L2 hit costs next to the emulator's bare round trip.
bench run --mode "L2 (moto), 1 conn, 100 req/s" --scenarios genes,detail --connections 1 --rate 100 "$@"
target/release/kgdb-bench dynamo-rtt --endpoint "$KGDB_TEST_DYNAMODB_URL" --table kgdb-bench-cache --out "$results"
stop_gateway

step "Writing README.md"
target/release/kgdb-bench readme --from "$results" --readme README.md \
    --note "Measured $(date -u +%Y-%m-%d) on this machine ($(nproc) cores, shared by gateway, Postgres, moto and the load generator) with \`./infra/bench.sh\`."
