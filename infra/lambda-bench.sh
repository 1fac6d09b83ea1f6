#!/usr/bin/env bash
# Benchmark (not a test): every function binary as a Lambda (size, cold start, warm invoke,
# peak RSS) under the Runtime API emulator, on a dedicated database loaded with the bundled
# data; writes the numbers into README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
ensure_postgres
export DATABASE_URL="$PG_SERVER_URL/kgdb_lambda_bench"
step "Building (release, this machine)"
cargo build --release --locked --workspace --bins
# The deployed artifacts (arm64) for the size column; KGDB_BENCH_ARM64=0 skips the cross-build.
if [ "${KGDB_BENCH_ARM64:-1}" = 1 ]; then
    infra/build-lambda.sh
fi
step "Loading the benchmark database"
target/release/kgdb-local setup
step "Measuring the function binaries"
target/release/kgdb-lambda-bench --target-dir target/release --readme README.md \
    --note "Measured $(date -u +%Y-%m-%d) on this machine ($(uname -m); deployed functions are arm64)." "$@"
