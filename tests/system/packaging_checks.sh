#!/usr/bin/env bash
# Checks of packaging/ that need neither root nor a container:
#  - the man pages render without a single warning (`man --warnings`, and all
#    of groff's warnings, at 80 columns), and whatis/apropos can index them;
#  - packaging/epolld.yaml is config/epolld.yaml with only the header comment
#    and log.file changed, so the two cannot drift apart;
#  - the logrotate rule reopens with USR1 and never uses copytruncate.
#   tests/system/packaging_checks.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

failed=0
ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; failed=1; }

if command -v man >/dev/null && command -v groff >/dev/null && command -v lexgrog >/dev/null; then
  for page in packaging/man/epolld.8 packaging/man/epolld.yaml.5; do
    # stderr only: the rendered page itself goes nowhere.
    warnings=$( { MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >/dev/null; } 2>&1 || echo "man failed: $?")
    warnings+=$( { groff -man -ww -z -Tutf8 "$page"; } 2>&1 || echo "groff failed: $?")
    lexgrog "$page" >/dev/null 2>&1 || warnings+=$'\n'"lexgrog cannot parse the NAME section"
    if [[ -z $warnings ]]; then
      ok "$page renders without warnings"
    else
      fail "$page renders without warnings:"
      sed 's/^/    /' <<<"$warnings"
    fi
  done
else
  echo "skip - man pages: man-db and groff are not installed"
fi

# Everything but comment-only lines, the log file's line and the packaged
# admin listener (the last one) must be the same.
normalize() {
  grep -vE '^[[:space:]]*#|^  file: ' "$1" | sed '/^  - address: 127\.0\.0\.1$/,/^    protocol: admin$/d'
}
if diff <(normalize config/epolld.yaml) <(normalize packaging/epolld.yaml); then
  ok "packaging/epolld.yaml differs from config/epolld.yaml only in comments, log.file and the admin listener"
else
  fail "packaging/epolld.yaml differs from config/epolld.yaml only in comments, log.file and the admin listener (diff above)"
fi
if grep -qE '^    protocol: admin$' packaging/epolld.yaml; then
  ok "packaging/epolld.yaml has an admin listener"
else
  fail "packaging/epolld.yaml has an admin listener"
fi
if grep -qE '^  file: /var/log/epolld/network-server\.log( |$)' packaging/epolld.yaml; then
  ok "packaging/epolld.yaml logs to /var/log/epolld/network-server.log"
else
  fail "packaging/epolld.yaml logs to /var/log/epolld/network-server.log"
fi

rotate=packaging/debian/epolld.logrotate
if ! grep -qE '^[^#]*copytruncate' "$rotate" &&
  grep -q 'systemctl kill --kill-whom=main --signal=USR1 epolld.service' "$rotate" &&
  grep -qE '^[[:space:]]*create 0640 epolld adm$' "$rotate"; then
  ok "$rotate: create 0640 epolld adm, USR1 to reopen, no copytruncate"
else
  fail "$rotate: create 0640 epolld adm, USR1 to reopen, no copytruncate"
fi
exit "$failed"
