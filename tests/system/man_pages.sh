#!/usr/bin/env bash
# The package's man pages render without a single warning: as `man --warnings`
# shows them, and with all of groff's warnings on, at 80 columns; and their
# NAME line is one that whatis/apropos can index.
#   tests/system/man_pages.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v man >/dev/null && command -v groff >/dev/null ||
  { echo "man_pages: SKIP: man-db and groff are not installed"; exit 77; }

failed=0
for page in packaging/man/epolld.8 packaging/man/epolld.yaml.5; do
  # stderr only: the rendered page itself goes nowhere.
  warnings=$( { MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >/dev/null; } 2>&1 || echo "man failed: $?")
  warnings+=$( { groff -man -ww -z -Tutf8 "$page"; } 2>&1 || echo "groff failed: $?")
  # mandb must find its NAME line for whatis and apropos.
  lexgrog "$page" >/dev/null 2>&1 || warnings+=$'\n'"lexgrog cannot parse the NAME section"
  if [[ -n $warnings ]]; then
    echo "FAIL $page:"
    sed 's/^/  /' <<<"$warnings"
    failed=1
  else
    echo "ok $page renders without warnings"
  fi
done
exit "$failed"
