#!/usr/bin/env bash
# The main job: a chair and two delegations negotiate through exported records, as air-gapped
# delegations would, then an outsider verifies the record. Everything happens in a temporary
# directory that is kept at the end so that you can look around (the script prints where).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p entente-node
entente="$PWD/target/release/entente"
work="$(mktemp -d "${TMPDIR:-/tmp}/entente-demo.XXXXXX")"
chair=(--home "$work/chair")
fr=(--home "$work/france")
eg=(--home "$work/egypt")

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

step "Three delegations create their identities"
"$entente" "${chair[@]}" init --name "Chair (Switzerland)" >/dev/null
"$entente" "${fr[@]}" init --name "France" >/dev/null
"$entente" "${eg[@]}" init --name "Egypt" >/dev/null
FR=$("$entente" "${fr[@]}" id --json | field delegation)
EG=$("$entente" "${eg[@]}" id --json | field delegation)
"$entente" "${fr[@]}" id | head -4

step "The chair convenes a negotiation and accredits France and Egypt"
NEG=$("$entente" "${chair[@]}" negotiation create --title "Joint statement on the Nile basin" \
      --mandate "A short joint statement on water sharing" --language en --language fr --language ar --json | field negotiation)
"$entente" "${chair[@]}" invite "$NEG" --delegation "$FR" --role delegation --name France
"$entente" "${chair[@]}" invite "$NEG" --delegation "$EG" --role delegation --name Egypt
"$entente" "${chair[@]}" say "$NEG" "Welcome. The zero draft follows."
"$entente" "${chair[@]}" export "$NEG" --out "$work/record-1.ent"

step "France and Egypt import the record and join"
for d in fr eg; do
  declare -n h=$d
  "$entente" "${h[@]}" import "$work/record-1.ent"
  "$entente" "${h[@]}" join "$NEG"
done
"$entente" "${fr[@]}" say "$NEG" "La France souhaite une référence au droit international."
"$entente" "${eg[@]}" say "$NEG" "مصر تؤيد البيان مع تعديل الفقرة الثانية"
"$entente" "${fr[@]}" export "$NEG" --out "$work/france.ent"
"$entente" "${eg[@]}" export "$NEG" --out "$work/egypt.ent"

step "The chair merges both records (the branches were concurrent)"
"$entente" "${chair[@]}" import "$work/france.ent"
"$entente" "${chair[@]}" import "$work/egypt.ent"
"$entente" "${chair[@]}" say "$NEG" "Thank you both; I will circulate Rev.1."
"$entente" "${chair[@]}" log "$NEG"
"$entente" "${chair[@]}" members "$NEG"
"$entente" "${chair[@]}" export "$NEG" --out "$work/record.ent"

step "An independent monitor verifies the record offline (no identity needed)"
"$entente" verify "$work/record.ent"

step "A tampered copy is caught"
cp "$work/record.ent" "$work/tampered.ent"
python3 - "$work/tampered.ent" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
i = b.find("Rev.1".encode()); b[i] ^= 0x01          # "Rev.1" becomes "Sev.1"
open(p, 'wb').write(b)
PY
if "$entente" verify "$work/tampered.ent"; then echo "tampering went unnoticed!" >&2; exit 1; fi

step "Done"
echo "Homes and records are in $work"
echo "Try: $entente --home $work/chair log $NEG"
