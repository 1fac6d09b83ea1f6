#!/usr/bin/env bash
# Builds every function for Lambda (arm64, provided.al2023) with cargo-lambda, as `sam build`
# does, into target/lambda/<binary>/bootstrap. cargo-lambda and zig come from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
ensure_venv cargo-lambda ziglang
if ! rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$'; then
    note "adding the aarch64-unknown-linux-gnu standard library"
    rustup target add aarch64-unknown-linux-gnu
fi
bins=$(python3 - <<'PY'
import re
text = open("template.yaml").read()
print(" ".join(f"--bin {b}" for b in re.findall(r"Binary:\s*(\S+)", text)))
PY
)
step "cargo lambda build --release --arm64 ($bins)"
PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 $bins
ls -l target/lambda/*/bootstrap >&2
