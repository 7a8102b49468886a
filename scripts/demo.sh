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
daemon chair up --listen /ip4/127.0.0.1/tcp/0 --relay "$RELAY" --no-mdns --web 127.0.0.1:0
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
  daemon "$d" up --listen /ip4/127.0.0.1/tcp/0 --relay "$RELAY" --no-mdns --web 127.0.0.1:0
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

step "The chair circulates a zero draft in English, French and Arabic"
cat >"$work/zero.en.txt" <<'TXT'
symbol: NB/2026/L.1
title: Joint statement on the Nile basin

[PP1] Recalling the principles of international water law,

[OP1] Agree to share data on river flows every month;

[OP2] Commit to the equitable and reasonable use of the waters of the basin.
TXT
cat >"$work/zero.fr.txt" <<'TXT'
symbol: NB/2026/L.1
title: Déclaration commune sur le bassin du Nil

[PP1] Rappelant les principes du droit international de l’eau,

[OP1] Conviennent d’échanger chaque mois des données sur les débits du fleuve ;

[OP2] S’engagent à une utilisation équitable et raisonnable des eaux du bassin.
TXT
cat >"$work/zero.ar.txt" <<'TXT'
symbol: NB/2026/L.1
title: بيان مشترك بشأن حوض النيل

[PP1] إذ تشير إلى مبادئ القانون الدولي للمياه،

[OP1] تتفق على تبادل البيانات المتعلقة بتدفقات النهر كل شهر؛

[OP2] تلتزم بالانتفاع المنصف والمعقول بمياه الحوض.
TXT
texts=(--text "en=$work/zero.en.txt" --text "fr=$work/zero.fr.txt" --text "ar=$work/zero.ar.txt")
"$entente" --home "$work/chair" draft circulate "$NEG" --label "zero draft" "${texts[@]}"
# Waits (up to 30 s) until a command's JSON output satisfies a Python expression over `v`.
wait_json() { # HOME EXPR ARGS...
  local home=$1 expr=$2; shift 2
  for _ in $(seq 1 150); do
    if "$entente" --home "$work/$home" "$@" --json 2>/dev/null | python3 -c "import json,sys; v=json.load(sys.stdin); sys.exit(0 if ($expr) else 1)"; then return 0; fi
    sleep 0.2
  done
  echo "timed out waiting on $home: $*" >&2; return 1
}
for d in France Egypt Brazil; do wait_json "$d" 'len(v) == 1' draft list "$NEG"; done

step "France and Egypt propose conflicting amendments to OP2; Brazil supports France's"
A_FR=$("$entente" --home "$work/France" amend "$NEG" OP2 --replace "Commit to the equitable, reasonable and sustainable use of the waters of the basin." --justification "sustainability" --json | field amendment)
"$entente" --home "$work/Egypt" amend "$NEG" OP2 --replace "Commit to the equitable use of the waters of the basin, in accordance with existing agreements." --json >/dev/null
wait_json Brazil "any(e['id'] == '$A_FR' for e in v)" log "$NEG"
"$entente" --home "$work/Brazil" position "$NEG" "${A_FR:0:16}" support --json >/dev/null
wait_json chair "[p['status'] for p in v['paragraphs'] if p['id'] == 'OP2'] == ['bracketed']" draft show "$NEG"
"$entente" --home "$work/chair" draft show "$NEG"
"$entente" --home "$work/chair" draft positions "$NEG" || true

step "Rev.1 consolidates OP2; a silence procedure of 8 seconds; every node confirms receipt"
sed 's/equitable and reasonable use/equitable, reasonable and sustainable use/' "$work/zero.en.txt" >"$work/rev1.en.txt"
sed 's/utilisation équitable et raisonnable/utilisation équitable, raisonnable et durable/' "$work/zero.fr.txt" >"$work/rev1.fr.txt"
sed 's/بالانتفاع المنصف والمعقول/بالانتفاع المنصف والمعقول والمستدام/' "$work/zero.ar.txt" >"$work/rev1.ar.txt"
"$entente" --home "$work/chair" draft circulate "$NEG" --label "Rev.1" \
  --text "en=$work/rev1.en.txt" --text "fr=$work/rev1.fr.txt" --text "ar=$work/rev1.ar.txt"
"$entente" --home "$work/chair" draft diff "$NEG" "zero draft" "Rev.1" --lang fr
for d in France Egypt Brazil; do wait_json "$d" 'len(v) == 2' draft list "$NEG"; done
"$entente" --home "$work/chair" silence open "$NEG" --period 8s
wait_json chair "v[-1]['not_received_by'] == []" silence status "$NEG"
"$entente" --home "$work/chair" silence status "$NEG"
wait_json chair "v[-1]['remaining_ms'] == 0" silence status "$NEG"
"$entente" --home "$work/chair" silence close "$NEG"

step "Adoption, and every delegation signs the text in each language"
"$entente" --home "$work/chair" adopt "$NEG"
for d in France Egypt Brazil; do wait_json "$d" "v[-1]['adoption'] is not None" draft list "$NEG"; done
for h in chair France Egypt Brazil; do "$entente" --home "$work/$h" sign "$NEG" >/dev/null; done
for _ in $(seq 1 50); do
  "$entente" --home "$work/chair" export "$NEG" --out "$work/record.ent" >/dev/null
  n=$("$entente" verify "$work/record.ent" --json | python3 -c 'import json,sys; print(sum(len(a["signed_by"]) for a in json.load(sys.stdin)["authentication"]))')
  [ "$n" = 12 ] && break
  sleep 0.2
done
"$entente" --home "$work/chair" export "$NEG" --adopted --out "$work/statement.public.ent"
echo "The public signed text, checked on its own (what a ministry publishes):"
"$entente" verify "$work/statement.public.ent"
"$entente" --home "$work/chair" draft show "$NEG" --lang ar --format html --out "$work/statement.ar.html"
"$entente" --home "$work/chair" draft show "$NEG" --format akn --out "$work/statement.akn.xml"
echo "HTML (Arabic) and Akoma Ntoso exports: $work/statement.ar.html $work/statement.akn.xml"

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

step "Each delegation's web workspace (local to its node; one-time login addresses)"
for h in chair France Egypt Brazil; do
  printf '  %-8s %s\n' "$h" "$(grep '^Web UI: ' "$work/$h.out" | head -1 | cut -d' ' -f3)"
done
echo "  (a used address can be renewed with: $entente --home $work/NAME web)"

if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi

step "The negotiation keeps running. Watch it in a delegation's web UI above, or join it yourself:"
cat <<TXT
  E=$entente
  \$E --home /tmp/newcomer init --name "Your delegation"
  \$E --home /tmp/newcomer up --listen /ip4/127.0.0.1/tcp/0 --relay $RELAY --no-mdns --web 127.0.0.1:0 &
      # it prints "Web UI: http://127.0.0.1:PORT/#login=..." -- open it
  ID=\$(\$E --home /tmp/newcomer id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["delegation"])')
  \$E --home $work/chair invite $NEG --delegation \$ID --name "Your delegation" --json   # prints a token
      # paste the token into "Join with an invitation token" in your web UI
      # (or: \$E --home /tmp/newcomer join TOKEN, with your node stopped)
  \$E --home /tmp/newcomer say $NEG "Hello from a newcomer"
  \$E --home $work/France log $NEG      # France sees you

Logs of each node are in $work/*.log. Press Ctrl-C to stop everything.
TXT
while true; do sleep 3600; done
