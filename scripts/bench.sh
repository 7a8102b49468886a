#!/usr/bin/env bash
# Measures Entente and writes bench/report.md and bench/report.json (see README.md,
# "Performance"). A release build, then about 10-15 minutes on a 2-core machine.
#
#   scripts/bench.sh                          every section
#   scripts/bench.sh --only protocol,storage  some sections (protocol, storage, crypto, sync,
#                                             network, relay, memory)
#   scripts/bench.sh --quick --out /tmp/b     a smoke run with small sizes
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo build --release (entente, entente-bench)"
cargo build --release --locked -q -p entente-node --bin entente -p entente-tests --bin entente-bench
exec target/release/entente-bench --entente "$PWD/target/release/entente" "$@"
