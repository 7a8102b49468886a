#!/usr/bin/env bash
# Fuzzes every decoder of entente-protocol for a short, fixed time (the targets are in fuzz/,
# their seed corpus in fuzz/corpus/<target>/). Fails, naming the crashing input, if any target
# panics, hangs (FUZZ_TIMEOUT seconds on one input) or allocates more than FUZZ_MALLOC_MB at once.
#
#   scripts/fuzz.sh                      every target, FUZZ_SECONDS each, FUZZ_JOBS at a time
#   scripts/fuzz.sh record event         only these targets
#   FUZZ_SECONDS=600 scripts/fuzz.sh     a longer run
#
# cargo-fuzz (libFuzzer) needs nightly compiler flags (-Zsanitizer=address and friends); stable
# rustc accepts them with RUSTC_BOOTSTRAP=1, which this script sets for its own cargo calls only.
# Inputs found beyond the seeds go to fuzz/corpus-work/ (not committed); crashes to
# fuzz/artifacts/<target>/. Reproduce one with:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz <target> <file>
# and add its bytes to protocol/tests/fuzz_regressions.rs.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_MALLOC_MB=${FUZZ_MALLOC_MB:-256}
export RUSTC_BOOTSTRAP=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

all_targets=$(cargo fuzz list --fuzz-dir fuzz)
if [ $# -gt 0 ]; then
  targets="$*"
else
  targets=$all_targets
fi
for t in $targets; do
  grep -qx "$t" <<<"$all_targets" || { echo "no fuzz target $t (have: $(echo $all_targets))" >&2; exit 2; }
done

echo "== cargo fuzz build"
build_start=$SECONDS
cargo fuzz build --fuzz-dir fuzz
echo "built in $((SECONDS - build_start)) s"

bin_dir=fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_target() {
  local t=$1 extra=()
  # negotiation remembers the events it signed (a bounded cache): more memory after a run than
  # before, which libFuzzer's leak check would answer by running every input twice.
  [ "$t" = negotiation ] && extra=(-detect_leaks=0)
  # Tokens the mutations insert: CBOR heads in long forms, and the plain-text convention.
  case $t in
    text) extra+=(-dict=fuzz/dict/text.dict) ;;
    invitation | negotiation) ;;
    *) extra+=(-dict=fuzz/dict/cbor.dict) ;;
  esac
  mkdir -p "fuzz/corpus-work/$t" "fuzz/artifacts/$t"
  # The first directory receives new inputs; the committed seeds are only read.
  if "$bin_dir/$t" "fuzz/corpus-work/$t" "fuzz/corpus/$t" \
    -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" \
    -malloc_limit_mb="$FUZZ_MALLOC_MB" -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 "${extra[@]}" \
    >"$logs/$t.log" 2>&1; then
    echo ok >"$logs/$t.status"
  else
    local code=$?
    if grep -q 'run interrupted' "$logs/$t.log" && ! grep -q 'Test unit written' "$logs/$t.log"; then
      echo "interrupted by a signal ($code)" >"$logs/$t.status"
    else
      echo "failed ($code)" >"$logs/$t.status"
    fi
  fi
}

echo "== fuzzing $(wc -w <<<"$targets") targets, ${FUZZ_SECONDS} s each, $FUZZ_JOBS at a time"
fuzz_start=$SECONDS
running=0
for t in $targets; do
  if [ "$running" -ge "$FUZZ_JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait

failed=()
printf '%-15s %12s %10s %8s  %s\n' target execs exec/s corpus status
for t in $targets; do
  log=$logs/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' "$log" | tail -1)
  status=$(cat "$logs/$t.status" 2>/dev/null || echo "did not run")
  printf '%-15s %12s %10s %8s  %s\n' "$t" "${execs:--}" "${speed:--}" "${corpus:--}" "$status"
  [ "$status" = ok ] || failed+=("$t")
done
echo "fuzzed in $((SECONDS - fuzz_start)) s"

if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo
    echo "== $t failed; the end of its log:"
    grep -v '^stat::' "$logs/$t.log" | tail -40
    grep -o 'Test unit written to .*' "$logs/$t.log" | sed 's/^/crashing input: /' || true
  done
  echo
  echo "FUZZING FOUND ${#failed[@]} FAILING TARGET(S): ${failed[*]}" >&2
  echo "Reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz <target> <crashing input>" >&2
  exit 1
fi
echo "no crashes"
