#!/usr/bin/env bash
# The main job: a mediator relay, a chair and three delegations on this machine (loopback), each
# in its own temporary home, negotiating through the real network. It invites the delegations
# with tokens, runs a short scripted exchange, shows what every node holds, then keeps running
# until Ctrl-C so that you can join with your own `entente` (it prints how).
#
# Set DEMO_EXIT=1 to stop after the scripted part (for scripts).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p entente-node
entente="$PWD/target/release/entente"
work="$(mktemp -d "${TMPDIR:-/tmp}/entente-demo.XXXXXX")"
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  echo "Stopped. Homes, logs and records are kept in $work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# Waits until a daemon has printed its addresses; prints the first non-relayed one.
address_of() {
  local out=$1
  for _ in $(seq 1 100); do
    if grep -q '^  /' "$out" 2>/dev/null; then
      grep '^  /' "$out" | grep -v p2p-circuit | head -1 | tr -d ' '
      return 0
    fi
    sleep 0.1
  done
  echo "no address in $out; see ${out%.out}.log" >&2
  return 1
}
daemon() { # NAME ARGS...: runs `entente --home $work/NAME ARGS` in the background
  local name=$1; shift
  "$entente" --home "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
}

step "A mediator hosts a relay with a mailbox"
daemon relay relay --listen /ip4/127.0.0.1/tcp/0 --mailbox
RELAY=$(address_of "$work/relay.out")
echo "relay: $RELAY"

step "The chair convenes a negotiation and goes online"
"$entente" --home "$work/chair" init --name "Chair (Switzerland)" >/dev/null
NEG=$("$entente" --home "$work/chair" negotiation create --title "Joint statement on the Nile basin" \
      --mandate "A short joint statement on water sharing" --language en --language fr --language ar --json | field negotiation)
"$entente" --home "$work/chair" export "$NEG" --out "$work/charter.ent" >/dev/null
"$entente" --home "$work/relay" import "$work/charter.ent"     # the relay serves this negotiation
daemon chair up --listen /ip4/127.0.0.1/tcp/0 --relay "$RELAY" --no-mdns
address_of "$work/chair.out" >/dev/null
echo "negotiation $NEG"

step "Three delegations are invited with tokens, join over the network and go online"
for d in France Egypt Brazil; do
  "$entente" --home "$work/$d" init --name "$d" >/dev/null
  ID=$("$entente" --home "$work/$d" id --json | field delegation)
  [ "$d" = France ] && FRANCE_ID=$ID
  TOKEN=$("$entente" --home "$work/chair" invite "$NEG" --delegation "$ID" --name "$d" --json | field token)
  echo "$d's token: ${TOKEN:0:40}..."
  "$entente" --home "$work/$d" join "$TOKEN"
  daemon "$d" up --listen /ip4/127.0.0.1/tcp/0 --relay "$RELAY" --no-mdns
  address_of "$work/$d.out" >/dev/null
done

step "A short exchange, each delegation on its own node"
"$entente" --home "$work/chair" say "$NEG" "Welcome. The zero draft will follow."
sleep 0.5
"$entente" --home "$work/France" say "$NEG" "La France souhaite une référence au droit international."
"$entente" --home "$work/Egypt" say "$NEG" "مصر تؤيد البيان مع تعديل الفقرة الثانية"
"$entente" --home "$work/Brazil" say "$NEG" "O Brasil apoia a proposta."
sleep 2

step "The chair and France confer in a restricted channel (end-to-end encrypted)"
"$entente" --home "$work/chair" channel create "$NEG" --name caucus-north --member "$FRANCE_ID"
sleep 0.5
"$entente" --home "$work/chair" say "$NEG" --channel caucus-north "Could France accept 'equitable use' in OP2?"
"$entente" --home "$work/France" say "$NEG" --channel caucus-north "Yes, if 'reasonable' stays."
sleep 1.5
"$entente" --home "$work/France" log "$NEG" | tail -2
caucus_at() { "$entente" --home "$work/$1" log "$NEG" --json | python3 -c 'import json,sys; print(sum(e["channel"] == "caucus-north" for e in json.load(sys.stdin)))'; }
echo "caucus events held: France $(caucus_at France), Egypt $(caucus_at Egypt), Brazil $(caucus_at Brazil), relay $(caucus_at relay) (sealed)"
if grep -rqa "equitable use" "$work/relay"; then echo "the relay holds plaintext!" >&2; exit 1; fi
echo "the relay's files do not contain the words said in the caucus"

step "What Brazil's node holds (everything arrived over the network)"
"$entente" --home "$work/Brazil" log "$NEG"
"$entente" --home "$work/Brazil" members "$NEG"

step "Every node, and the relay's mailbox, computed the same state"
for h in chair France Egypt Brazil relay; do
  printf '  %-8s %s\n' "$h" "$("$entente" --home "$work/$h" negotiation list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state_hash"])')"
done

step "An independent monitor verifies the exported record offline"
"$entente" --home "$work/chair" export "$NEG" --out "$work/record.ent" >/dev/null
"$entente" verify "$work/record.ent"

if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi

step "The negotiation keeps running. Join it yourself, in another terminal:"
cat <<TXT
  E=$entente
  \$E --home /tmp/newcomer init --name "Your delegation"
  ID=\$(\$E --home /tmp/newcomer id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["delegation"])')
  TOKEN=\$(\$E --home $work/chair invite $NEG --delegation \$ID --name "Your delegation" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  \$E --home /tmp/newcomer join \$TOKEN
  \$E --home /tmp/newcomer up --listen /ip4/127.0.0.1/tcp/0 --relay $RELAY --no-mdns &
  \$E --home /tmp/newcomer say $NEG "Hello from a newcomer"
  \$E --home $work/France log $NEG      # France sees you

Logs of each node are in $work/*.log. Press Ctrl-C to stop everything.
TXT
while true; do sleep 3600; done
