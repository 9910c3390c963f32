#!/usr/bin/env bash
# The reference scenario (../shared/scenario.md): a leaked White House memo alleging that
# Alibaba helped the PLA, the Financial Times' review of it, and the denials.
#
# Usage: examples/alibaba-memo.sh [DIR]   (default: a new temporary directory)
# Records everything into DIR/ledger.db, then verifies the ledger and exports it.
set -euo pipefail

dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
export CLAIMLEDGER_DB="$dir/ledger.db"
# The demo keeps its signing key beside its ledger, not in your own key directory.
export CLAIMLEDGER_HOME="${CLAIMLEDGER_HOME:-$dir/home}"
export CLAIMLEDGER_PASSPHRASE="${CLAIMLEDGER_PASSPHRASE:-demo passphrase}"

# Record an entry and print its seq (the third word of "recorded KIND SEQ HASH").
rec() { claimledger "$@" | awk '{print $3}'; }

claimledger init --origin claimledger.example/alibaba-memo --key desk

memo=$(rec source add "White House memo on Alibaba and the PLA" --type leaked-document \
  --publisher "The White House" --date 2025-11-01 \
  --grade F --grade-reason "leaked anonymously; nobody outside government has seen the original")
# Who leaked the memo is known to one editor and nobody else: the ledger logs only a
# salted commitment to the name and contact, and keeps the values beside the log.
leaker_name="Pat Example, a government official"
leaker=$(rec source add "$leaker_name" --type person --contact "met in person; no electronic contact" \
  --confidential name,contact --note "the anonymous source who leaked the memo")
ft=$(rec source add "Financial Times report on the White House memo" --type news-report \
  --publisher "Financial Times" \
  --grade B --grade-reason "established news organisation that reviewed the memo itself")
rec link "$ft" "$memo" --relation derived-from \
  --note "the FT reviewed the memo and reported its contents: one chain of reporting" >/dev/null
alibaba=$(rec source add "Alibaba Group statement on the memo" --type corporate-statement \
  --publisher "Alibaba Group" --interest subject \
  --interest-reason "Alibaba is the subject of the allegations")
embassy=$(rec source add "Chinese embassy in Washington statement on the memo" --type government-statement \
  --publisher "Embassy of the People's Republic of China in the United States" --interest interested-party \
  --interest-reason "a government with a stake: the memo alleges help to its army")

c3=$(rec claim add "Alibaba helped the PLA conduct cyber operations against the United States" \
  --subject "Alibaba Group" --asserted-by "$memo" --reported-by "$ft" --date 2025-11-01 \
  --note "the memo names no US sites or systems that were targeted")
c1=$(rec claim add "Alibaba gave the PLA access to its customer data" \
  --subject "Alibaba Group" --asserted-by "$memo" --reported-by "$ft" --part-of "$c3" --date 2025-11-01)
c2=$(rec claim add "Alibaba shared information about critical software vulnerabilities with the PLA" \
  --subject "Alibaba Group" --asserted-by "$memo" --reported-by "$ft" --part-of "$c3" --date 2025-11-01)

for claim in "$c1" "$c2" "$c3"; do
  rec assess "$claim" --by "Financial Times" --source "$ft" --stance unconfirmed \
    --finding "reviewed the memo; could not independently confirm whether the allegations are true" >/dev/null
  rec assess "$claim" --by "Alibaba Group" --source "$alibaba" --stance denies \
    --finding "called the allegations \"complete nonsense\" meant to manipulate public opinion, and asked why the memo was leaked anonymously" >/dev/null
  rec assess "$claim" --by "Chinese embassy in Washington" --source "$embassy" --stance denies \
    --finding "called the memo's claims a \"complete distortion of facts\"" >/dev/null
done

claimledger log
claimledger status "$c1"
claimledger verify
claimledger export --format jsonl -o "$dir/alibaba-memo.jsonl"
claimledger export --bundle "$dir/c1.bundle.json" --claim "$c1"
claimledger verify-bundle "$dir/c1.bundle.json" --key "$(claimledger key verifier)"
if grep -q "$leaker_name" "$dir/alibaba-memo.jsonl" "$dir/c1.bundle.json"; then
  echo "the leaker's name leaked into an export" >&2
  exit 1
fi
echo "the export and the bundle carry no trace of the leaker's name (source $leaker)" >&2
echo "ledger: $CLAIMLEDGER_DB; export: $dir/alibaba-memo.jsonl; bundle: $dir/c1.bundle.json" >&2
