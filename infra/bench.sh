#!/usr/bin/env bash
# Benchmark (not a test): starts the local gateway on a dedicated database loaded with the
# bundled data, drives it with kgdb-bench, and writes the numbers into README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
ensure_postgres
export DATABASE_URL="$PG_SERVER_URL/kgdb_bench"
port="${KGDB_BENCH_PORT:-3901}"
step "Building (release)"
cargo build --release --locked -p kgdb-local --bins
step "Loading the benchmark database"
target/release/kgdb-local setup
step "Starting the gateway on 127.0.0.1:$port"
RUST_LOG=warn KGDB_PORT="$port" target/release/kgdb-local serve &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do http_ok "http://127.0.0.1:$port/health" && break; sleep 0.2; done
step "Driving it"
target/release/kgdb-bench --url "http://127.0.0.1:$port" --readme README.md --gateway-pid "$gateway" \
    --note "Measured $(date -u +%Y-%m-%d) on this machine ($(nproc) cores): gateway, Postgres and load generator share it. Uncached: every request reads Postgres." "$@"
