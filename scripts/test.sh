#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test of the workspace (the
# benchmark's smoke run included), time-boxed fuzzing, then the NAT lab (network namespaces;
# needs root, iproute2, iptables and jq: .ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked

# Every decoder under libFuzzer for a few seconds each (scripts/fuzz.sh; a crash fails the run
# and names its input). Longer runs: FUZZ_SECONDS=600 scripts/fuzz.sh.
echo "== fuzzing, ${FUZZ_SECONDS:-8} s per target"
FUZZ_SECONDS=${FUZZ_SECONDS:-8} scripts/fuzz.sh

echo "== NAT lab"
missing=()
[ "$(id -u)" = 0 ] || missing+=("root")
for tool in ip iptables jq timeout; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
  cargo build --locked -q -p entente-node
  ENTENTE_BIN="$PWD/target/debug/entente" scripts/nat-lab.sh test
elif [ "${CI:-}" = true ]; then
  echo "NAT lab cannot run on CI: missing ${missing[*]}" >&2
  exit 1
else
  echo "NAT lab SKIPPED: it needs ${missing[*]} (as root: apt-get install iproute2 iptables jq)"
fi
