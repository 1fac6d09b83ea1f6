#!/usr/bin/env bash
# The test command: formatting, lints, unit tests and integration tests against a real Postgres
# (every run in its own fresh database), then the API fuzzed against its OpenAPI document.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
ensure_postgres
export KGDB_TEST_ADMIN_URL="$PG_SERVER_URL/postgres"
ensure_venv cfn-lint "moto[server]" "$SCHEMATHESIS_REQ"
ensure_chromium
step "cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
start_moto
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (warnings are errors)"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "cargo test (unit + integration)"
cargo test --locked --workspace
step "Fuzzing the API against its OpenAPI document (schemathesis)"
./infra/fuzz.sh
