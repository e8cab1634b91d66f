#!/usr/bin/env bash
# The Debian package of epolld, run as an operator would, in a real booted
# systemd (252, Debian 12) inside systemd-nspawn:
#   `systemd-analyze verify` of the units; dpkg -i (user, conffile mode,
#   enabled, started, Type=notify, STATUS=); echo and HTTP answer and the log
#   has the tutorial's three lines; an edit + reload applied while a connection
#   opened before it still echoes; a broken edit refused by reload (and by the
#   daemon on a bare SIGHUP) with its line:column, the old configuration
#   serving; logrotate -f, new lines in the new file; restart under a
#   connection hammer refusing and losing nothing (fd store); an upgrade
#   restarts it and keeps the edited conffile; the watchdog restarts a stalled
#   daemon; stop exits 0; a broken file fails start with line:column; socket
#   activation with epolld.socket, and a restart under it; purge.
#
#   tests/system/systemd_e2e.sh [--deb FILE] [--fail-fast]
#     --deb FILE    test this package instead of building one (scripts/build-deb)
#     --fail-fast   stop at the first failed check (default: run them all)
#   EPOLLD_E2E_RESTART_ROUNDS=N   repeat the restart-under-load check N times
#   EPOLLD_E2E_BUDGET=S           bound for the whole run (default 600 s)
#
# Needs root, debootstrap, systemd-container (installed when missing) and a
# Debian mirror for the first run. The rootfs is cached under
# /var/tmp/epolld-rootfs-<hash of its package list> and booted with
# --volatile=overlay, so every run starts from the same tree. Every command has
# a timeout, and the whole run is bounded by EPOLLD_E2E_BUDGET seconds (600).
# Cleans up after itself, and at its start after a run that was killed
# (recorded PIDs with their start times, the cgroup it made).
# Exit: 0 all checks passed; 1 a check failed; 77 cannot run here (not root).
#
# Why the nspawn details (see NOTES.md section 5): this host's PID 1 is not
# systemd, so nspawn needs --register=no --keep-unit, runs in a cgroup of its
# own (which we remove afterwards), and we drive the container with nsenter
# into its PID 1 instead of machinectl.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/system
budget=${EPOLLD_E2E_BUDGET:-600}
deb=
keep_going=1
while (($#)); do
  case $1 in
    --deb) deb=$(realpath "$2"); shift 2 ;;
    --fail-fast) keep_going=0; shift ;;
    *) echo "usage: $0 [--deb FILE] [--fail-fast]" >&2; exit 2 ;;
  esac
done

if ((EUID != 0)); then
  echo "systemd_e2e: SKIP: needs root (debootstrap, systemd-nspawn, cgroups)"
  exit 77
fi

t0=$SECONDS
log() { printf '[%4ds] %s\n' $((SECONDS - t0)) "$*"; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Bookkeeping, and the clean-up of a run that was killed.
# Each run records what it started in $state_dir/run.<pid>: the PIDs with
# their start times (so a recycled PID is never signalled), its cgroup and
# work directory. A later run cleans up records whose script is gone.
state_dir=/var/tmp/epolld-e2e
mkdir -p "$state_dir"
run_record=$state_dir/run.$$

starttime() {  # field 22 of /proc/PID/stat; the name in (...) may hold spaces
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  set -- $stat
  # A zombie has exited (this host's PID 1 reaps orphans lazily): no start.
  [[ $1 != Z ]] || return 1
  echo "${20}"
}
alive() { [[ -n $1 && $(starttime "$1" 2>/dev/null) == "$2" ]]; }
record() { echo "$1=$2" >>"$run_record"; }

cgroup_roots() {  # the hierarchies where processes are grouped: hybrid or unified
  if [[ -d /sys/fs/cgroup/unified ]]; then
    echo /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
  elif [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    echo /sys/fs/cgroup
  else
    echo /sys/fs/cgroup/systemd
  fi
}

remove_cgroup() {  # $1: our cgroup's name; kills what is left in it, then rmdir
  local name=$1 root dir i
  [[ -n $name ]] || return 0
  for root in $(cgroup_roots); do
    dir=$root/$name
    [[ -d $dir ]] || continue
    if [[ -s $dir/cgroup.procs || -n $(find "$dir" -mindepth 2 -name cgroup.procs -size +0 2>/dev/null) ]]; then
      # cgroup v2 only; on v1 (name=systemd) the processes are the same ones.
      [[ -f $dir/cgroup.kill ]] && echo 1 >"$dir/cgroup.kill" 2>/dev/null || true
      sleep 0.5
    fi
    # Killed processes leave a cgroup only once reaped, which this host's
    # PID 1 does lazily: try for a few seconds.
    for ((i = 0; i < 50; i++)); do
      find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [[ -d $dir ]] || break
      sleep 0.2
    done
    if [[ -d $dir ]]; then log "warning: could not remove cgroup $dir"; fi
  done
  return 0
}

stop_container() {  # $1 nspawn pid, $2 its start, $3 leader pid, $4 its start, $5 timeout pid
  local nspawn=$1 nspawn_start=$2 leader=$3 leader_start=$4 wrapper=${5:-} i
  if alive "$nspawn" "$nspawn_start"; then
    kill -TERM "$nspawn" 2>/dev/null || true          # orderly halt of the container
    for ((i = 0; i < 150; i++)); do alive "$nspawn" "$nspawn_start" || break; sleep 0.1; done
  fi
  if alive "$leader" "$leader_start"; then
    # nspawn is gone (killed) or hangs: its init was reparented and keeps running.
    kill -s SIGRTMIN+4 "$leader" 2>/dev/null || true  # systemd: poweroff
    for ((i = 0; i < 50; i++)); do alive "$leader" "$leader_start" || break; sleep 0.1; done
    alive "$leader" "$leader_start" && kill -KILL "$leader" 2>/dev/null || true  # ends its PID namespace
  fi
  if alive "$nspawn" "$nspawn_start"; then
    kill -KILL "$nspawn" 2>/dev/null || true
  fi
  [[ -n $wrapper ]] && wait "$wrapper" 2>/dev/null || true
}

cleanup_record() {  # a record left by a run that did not clean up
  local file=$1 script='' script_start='' nspawn='' nspawn_start='' leader='' leader_start='' cgroup='' work='' \
    key value pid start child
  local -a clients_left=() deadline=()
  while IFS='=' read -r key value; do
    case $key in
      script) read -r script script_start <<<"$value" ;;
      nspawn) read -r nspawn nspawn_start <<<"$value" ;;
      leader) read -r leader leader_start <<<"$value" ;;
      client) clients_left+=("$value") ;;
      deadline) read -r -a deadline <<<"$value" ;;
      cgroup) cgroup=$value ;;
      work) work=$value ;;
    esac
  done <"$file"
  if alive "$script" "$script_start"; then return 0; fi  # another run, still going
  log "cleaning up after an earlier run that was killed ($file)"
  if ((${#deadline[@]} == 2)) && alive "${deadline[0]}" "${deadline[1]}"; then
    kill -TERM "${deadline[0]}" 2>/dev/null || true  # its trap ends its sleep
  fi
  # Clients before the container (see end_clients).
  for value in "${clients_left[@]}"; do
    read -r pid start <<<"$value"
    alive "$pid" "$start" || continue
    for child in $(pgrep -P "$pid" 2>/dev/null); do kill -KILL "$child" 2>/dev/null || true; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  stop_container "$nspawn" "$nspawn_start" "$leader" "$leader_start"
  remove_cgroup "$cgroup"
  if [[ -n $work && -d $work ]]; then rm -rf --one-file-system "$work"; fi
  rm -f "$file"
}

for old in "$state_dir"/run.*; do
  [[ -e $old && $old != "$run_record" ]] && cleanup_record "$old"
done
: >"$run_record"
script_start=$(starttime $$)
record script "$$ $script_start"

work=$(mktemp -d /var/tmp/epolld-e2e.XXXXXX)
record work "$work"
cgroup=epolld-e2e-$$
nspawn_pid='' nspawn_start='' leader='' leader_start='' wrapper=''
clients=()   # "pid start" of nsenter processes running clients in the container
failed=0

dump_journal() {
  [[ -n $leader ]] && alive "$leader" "$leader_start" || return 0
  echo "===== journalctl -b (container) ====="
  ct_quiet 30 journalctl -b --no-pager -o short-precise || true
  # The log as it was before the purge, if the run got that far.
  ct_quiet 10 sh -c 'cat /var/log/epolld/network-server.log.1 /var/log/epolld/network-server.log' \
    >"$work/epolld.log" 2>/dev/null || true
  [[ -s $work/epolld.log ]] || cp "$work/epolld.log.saved" "$work/epolld.log" 2>/dev/null || true
  echo "===== /var/log/epolld/network-server.log: every line above DEBUG, then the last 30 ====="
  grep -v ' - DEBUG - ' "$work/epolld.log" || true
  echo "-----"
  tail -n 30 "$work/epolld.log" || true
  echo "===== end of dumps ====="
}

end_clients() {
  local entry pid start child
  for entry in "${clients[@]}"; do
    read -r pid start <<<"$entry"
    alive "$pid" "$start" || continue
    # The in-container child first, then nsenter: the other way round leaves
    # a zombie that holds up the container's halt.
    for child in $(pgrep -P "$pid" 2>/dev/null); do kill -KILL "$child" 2>/dev/null || true; done
    sleep 0.1
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  clients=()
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  [[ -n ${deadline_pid:-} ]] && kill "$deadline_pid" 2>/dev/null  # it ends its sleep
  end_clients
  if ((status != 0 || failed)); then dump_journal; fi
  if [[ -n $nspawn_pid ]]; then
    local t=$SECONDS
    stop_container "$nspawn_pid" "$nspawn_start" "$leader" "$leader_start" "$wrapper"
    log "container halted in $((SECONDS - t)) s"
  fi
  remove_cgroup "$cgroup"
  rm -rf --one-file-system "$work"
  rm -f "$run_record"
  if ((status == 0 && failed)); then status=1; fi
  if ((status == 0)); then
    log "PASS: all checks passed in $((SECONDS - t0)) s"
  else
    log "FAIL (status $status) after $((SECONDS - t0)) s"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated (budget of $budget s spent?)"; exit 124' TERM

# The whole run's bound: TERM ourselves; the trap halts the container. Every
# command below has its own, shorter timeout, so the trap runs soon after.
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep "$budget" &
  sleeper=$!
  # Only if this script still runs: never a process that reused its PID.
  wait "$sleeper" && alive $$ "$script_start" && kill -TERM $$ 2>/dev/null
) </dev/null >/dev/null 2>&1 &
deadline_pid=$!
record deadline "$deadline_pid $(starttime "$deadline_pid")"

# ---------------------------------------------------------------------------
# Tools on the host.
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -o DPkg::Lock::Timeout=120 install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------
# The package.
if [[ -z $deb ]]; then
  log "building the package (scripts/build-deb)"
  deb=$(timeout 900 bash "$repo/scripts/build-deb" | tail -n 1)
fi
[[ -f $deb ]] || die "no package: $deb"
log "package: $deb"

# ---------------------------------------------------------------------------
# The rootfs, cached: minbase + systemd + what the operator's checks use +
# the package's dependencies (read from the .deb, so a new library makes a new
# rootfs). The name carries a hash of that list.
recipe=1  # bump when the way the rootfs is made changes
base_packages=(systemd systemd-sysv dbus procps logrotate python3-minimal curl)
mapfile -t deb_depends < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
  sed -E 's/\(.*\)//; s/\|.*//; s/:any//; s/[[:space:]]//g' | grep -v '^$')
# debootstrap takes real packages only: a virtual one (libspdlog1.10-fmt9 is
# provided by libspdlog1.10) becomes its provider, as the host's apt sees it.
real=" $(apt-cache show --no-all-versions "${deb_depends[@]}" 2>/dev/null | sed -n 's/^Package: //p' | paste -sd' ' -) "
for i in "${!deb_depends[@]}"; do
  name=${deb_depends[i]}
  if [[ $real != *" $name "* ]]; then
    provider=$(apt-cache showpkg "$name" | sed -n '/^Reverse Provides:/{n;p;q}' | cut -d' ' -f1)
    [[ -n $provider ]] || die "no package provides $name (apt-get update on the host?)"
    deb_depends[i]=$provider
  fi
done
packages=$(printf '%s\n' "${base_packages[@]}" "${deb_depends[@]}" | sort -u | paste -sd, -)
hash=$(printf 'recipe %s\nbookworm\n%s\n' "$recipe" "$packages" | sha256sum | cut -c1-12)
rootfs=/var/tmp/epolld-rootfs-$hash

make_rootfs() {
  local tmp=$rootfs.tmp.$$ mirror stale
  # Half-made trees of killed runs (a killed debootstrap may leave /proc
  # mounted in one), and the caches of older package lists: one rootfs is kept.
  for stale in /var/tmp/epolld-rootfs-*; do
    [[ -d $stale ]] || continue
    log "removing $stale"
    { findmnt -rn -o TARGET | grep -F "$stale/" || true; } | sort -r | xargs -r umount -l
    rm -rf --one-file-system "$stale"
  done
  mirror=$(apt-get indextargets --no-release-info --format '$(REPO_URI)' 'Release: bookworm' 'Identifier: Packages' |
    head -n 1)
  mirror=${mirror:-http://deb.debian.org/debian/}
  log "debootstrap bookworm from $mirror into $tmp: $packages"
  local t=$SECONDS
  if ! timeout 400 debootstrap --variant=minbase --include="$packages" bookworm "$tmp" "$mirror" \
    >"$work/debootstrap.log" 2>&1 9>&-; then
    tail -n 30 "$work/debootstrap.log"
    if [[ -f $tmp/debootstrap/debootstrap.log ]]; then tail -n 30 "$tmp/debootstrap/debootstrap.log"; fi
    { findmnt -rn -o TARGET | grep -F "$tmp/" || true; } | sort -r | xargs -r umount -l
    rm -rf --one-file-system "$tmp"
    die "debootstrap failed"
  fi
  echo epolld-e2e >"$tmp/etc/hostname"
  # apt's package lists are of no use without a network in the container.
  chroot "$tmp" apt-get clean
  rm -rf "$tmp"/var/lib/apt/lists/*
  mv "$tmp" "$rootfs"
  log "rootfs ready in $((SECONDS - t)) s ($(du -sh "$rootfs" | cut -f1))"
}
(
  # Not inherited by the container or debootstrap (9>&- above): an orphan
  # must never hold it.
  flock -w 500 9 || die "another run is building the rootfs for too long"
  [[ -d $rootfs ]] || make_rootfs
) 9>/var/tmp/epolld-rootfs.lock
log "rootfs: $rootfs"

# ---------------------------------------------------------------------------
# The payload, bind-mounted read-only at /opt/payload.
payload=$work/payload
mkdir -p "$payload"
cp "$deb" "$payload/"
deb_name=$(basename "$deb")
cp "$here/e2e_client.py" "$payload/client.py"
# The edits an operator makes to /etc/epolld.yaml, made from the packaged file
# on the host: a new body, INFO lines on the console (the journal) and a new
# echo listener on 2004; then the same with an invalid port, whose line and
# column the error must name.
packaged=$repo/packaging/epolld.yaml
new_body="Reloaded by the e2e test"
sed -e "s/body: \"Hello, World!\"/body: \"$new_body\"/" -e 's/console_level: error/console_level: info/' \
  "$packaged" >"$payload/reload.yaml"
grep -q 'console_level: info' "$payload/reload.yaml" || die "could not edit console_level in $packaged"
printf '  - address: 0.0.0.0\n    port: 2004\n    protocol: echo\n' >>"$payload/reload.yaml"
grep -q "$new_body" "$payload/reload.yaml" || die "could not edit the body in $packaged"
sed 's/port: 2004/port: 99999/' "$payload/reload.yaml" >"$payload/broken.yaml"
bad_line=$(grep -n 'port: 99999' "$payload/broken.yaml" | cut -d: -f1)
bad_column=$(awk -v n="$bad_line" 'NR == n { print index($0, "99999") }' "$payload/broken.yaml")
bad_where="/etc/epolld.yaml:$bad_line:$bad_column:"
# The upgrade: the same package with a higher version, repacked.
upgrade_version="$(dpkg-deb -f "$deb" Version)+e2e1"
upgrade_name=epolld_${upgrade_version}_$(dpkg-deb -f "$deb" Architecture).deb
dpkg-deb -R "$deb" "$work/repack"
sed -i "s/^Version: .*/Version: $upgrade_version/" "$work/repack/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/repack" "$payload/$upgrade_name" >/dev/null
# The test-only watchdog switch, as a drop-in.
cat >"$payload/watchdog.conf" <<'EOF'
[Service]
Environment=EPOLLD_TEST_HOOKS=1
WatchdogSec=2s
EOF

# ---------------------------------------------------------------------------
# Checks, each printed.
checks=0
ok() { checks=$((checks + 1)); log "ok $checks - $*"; }
fail() {
  checks=$((checks + 1))
  failed=$((failed + 1))
  log "FAIL $checks - $*"
  ((keep_going)) || exit 1
}
check() {  # check DESCRIPTION COMMAND...: passes when the command does
  local what=$1; shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
# wait_until SECONDS COMMAND...: polls, for what systemd or the async log do later.
wait_until() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------
# systemd-analyze verify against the rootfs with the package laid over it.
# It exits 0 on unknown keys and bad values, so any output is a failure.
verify_units() {
  local tree=$work/verify mnt=$work/verify-root
  mkdir -p "$tree" "$mnt"
  dpkg-deb -x "$deb" "$tree"
  # bookworm's /lib is a symlink to usr/lib; a real lib/ in the upper layer
  # would hide it.
  if [[ -L $rootfs/lib && -d $tree/lib ]]; then
    mkdir -p "$tree/usr/lib"
    cp -a "$tree/lib/." "$tree/usr/lib/"
    rm -rf "${tree:?}/lib"
  fi
  # A private mount namespace: the overlay goes away with it.
  timeout 60 unshare --mount --propagation private sh -c '
    mount -t overlay overlay -o "lowerdir=$1:$2" "$3" &&
    MANPATH="$3/usr/share/man" SYSTEMD_LOG_COLOR=0 \
      systemd-analyze verify --root="$3" epolld.service epolld.socket 2>&1' \
    sh "$tree" "$rootfs" "$mnt" >"$work/verify.out" 2>&1 || echo "(exit status $?)" >>"$work/verify.out"
  if [[ -s $work/verify.out ]]; then
    cat "$work/verify.out"
    return 1
  fi
}
check "systemd-analyze verify epolld.service epolld.socket: no output" verify_units

# ---------------------------------------------------------------------------
# Boot.
mkdir -p "$work/console"
record cgroup "$cgroup"
(
  # A cgroup of our own: --keep-unit makes nspawn create payload/ and
  # supervisor/ beside its own cgroup, which we remove afterwards.
  for root in $(cgroup_roots); do
    mkdir -p "$root/$cgroup"
    echo "$BASHPID" >"$root/$cgroup/cgroup.procs"
  done
  exec timeout -k 15 "$budget" systemd-nspawn -D "$rootfs" -M "epolld-e2e-$$" --boot \
    --register=no --keep-unit --private-network --volatile=overlay \
    --console=read-only --link-journal=no \
    --bind-ro="$payload:/opt/payload"
) </dev/null >"$work/console/log" 2>&1 9>&- &
wrapper=$!
boot_start=$SECONDS
for ((i = 0; i < 200; i++)); do
  nspawn_pid=$(pgrep -P "$wrapper" -x systemd-nspawn || true)
  [[ -n $nspawn_pid ]] && leader=$(pgrep -P "$nspawn_pid" -x systemd || true)
  [[ -n $leader ]] && break
  kill -0 "$wrapper" 2>/dev/null || break
  sleep 0.05
done
if [[ -n $nspawn_pid ]]; then
  nspawn_start=$(starttime "$nspawn_pid")
  record nspawn "$nspawn_pid $nspawn_start"
fi
if [[ -z $leader ]]; then
  cat "$work/console/log"
  die "the container did not start"
fi
leader_start=$(starttime "$leader")
record leader "$leader $leader_start"

# ct [TIMEOUT] COMMAND...: runs a command in the container, as root there,
# with a clean environment. systemctl and journalctl talk to its PID 1 over
# /run/systemd/private; no D-Bus is needed.
ct_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
  SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb)
ct_quiet() {
  local limit=$1; shift
  timeout -k 5 "$limit" nsenter --target "$leader" --mount --uts --ipc --net --pid --cgroup -- \
    "${ct_env[@]}" "$@"
}
ct() { ct_quiet 60 "$@"; }
# ct_bg COMMAND...: a client in the background; its nsenter is recorded so that
# it is ended (child first) before the container halts.
ct_bg() {
  # No timeout(1) in between: the clients bound themselves, and nsenter's
  # child must be the client itself, so that end_clients can end it first.
  nsenter --target "$leader" --mount --uts --ipc --net --pid --cgroup -- \
    "${ct_env[@]}" "$@" </dev/null &
  local pid=$! start
  start=$(starttime "$pid" || echo gone)
  clients+=("$pid $start")
  record client "$pid $start"
  bg_pid=$pid
}

wait_until 30 ct_quiet 5 test -S /run/systemd/private || die "systemd in the container did not come up"
boot_state=$(ct_quiet 60 systemctl is-system-running --wait || true)
log "container booted to '$boot_state' in $((SECONDS - boot_start)) s"
if [[ $boot_state != running ]]; then
  ct systemctl --failed --no-pager || true
  fail "the container's systemd is running (is-system-running = $boot_state)"
fi
# The daily timer must not rotate behind the logrotate check's back.
ct systemctl stop logrotate.timer

# ---------------------------------------------------------------------------
# Helpers for the checks inside the container.
main_pid() { ct systemctl show -P MainPID epolld.service; }
prop() { ct systemctl show -P "$1" "${2:-epolld.service}"; }
is_active() { [[ $(ct systemctl is-active epolld.service) == "$1" ]]; }
echo_ok() { ct python3 /opt/payload/client.py echo "$1" "${2:-ping}" >/dev/null; }
http_body() { ct curl -sS --max-time 10 "http://127.0.0.1:8080/"; }
http_body_is() { [[ $(http_body) == "$1" ]]; }
log_has() { ct grep -qF -- "$1" /var/log/epolld/network-server.log; }
# journal_has SINCE TEXT: the unit's journal since a realtime stamp (since the
# check started, so an earlier line cannot pass it).
journal_has() { ct journalctl -u epolld.service --since "@$1" --no-pager -o cat | grep -qF -- "$2"; }
now() { ct date +%s; }
set_config() { ct sh -c "cat /opt/payload/$1 >/etc/epolld.yaml"; }  # keeps mode and owner

# ---------------------------------------------------------------------------
log "dpkg -i $deb_name"
if ct_quiet 120 sh -c "DEBIAN_FRONTEND=noninteractive dpkg -i /opt/payload/$deb_name" >"$work/dpkg.out" 2>&1; then
  ok "dpkg -i $deb_name exits 0"
else
  cat "$work/dpkg.out"
  fail "dpkg -i $deb_name exits 0"
fi
# dpkg -i exits 0 even when the service fails to start: look ourselves.
check "epolld.service is active after dpkg -i" wait_until 10 is_active active
check "epolld.service is enabled" test "$(ct systemctl is-enabled epolld.service)" = enabled
check "epolld.socket is installed but not enabled" test "$(ct systemctl is-enabled epolld.socket || true)" = disabled
check "Type=notify, NotifyAccess=main" test "$(prop Type)/$(prop NotifyAccess)" = notify/main
status_text=$(prop StatusText)
check "STATUS= reached systemd: '$status_text'" grep -q listeners <<<"$status_text"
check "system user epolld exists" ct getent passwd epolld
check "/etc/epolld.yaml is a conffile, 0640 root:epolld" \
  test "$(ct stat -c '%a %U:%G' /etc/epolld.yaml)" = "640 root:epolld"
check "daemon runs as epolld" test "$(ct ps -o user= -p "$(main_pid)")" = epolld
check "man pages installed" ct test -f /usr/share/man/man8/epolld.8.gz -a -f /usr/share/man/man5/epolld.yaml.5.gz
log "info: $(ct systemd-analyze security epolld.service 2>/dev/null | tail -n 1 || true)"
log "info: the daemon's $(ct grep 'open files' "/proc/$(main_pid)/limits" | tr -s ' ' || true) (LimitNOFILE=65536, clamped here)"

# ---------------------------------------------------------------------------
port=$(ct python3 /opt/payload/client.py echo 2003 hello || true)
if [[ $port =~ ^[0-9]+$ ]]; then ok "echo on 2003 answers (client port $port)"; else fail "echo on 2003 answers"; fi
check "HTTP on 8080 answers 'Hello, World!'" http_body_is "Hello, World!"
admin() { ct curl -sS --max-time 10 "http://127.0.0.1:9180$1"; }
check "the packaged admin listener answers /healthz: ok" test "$(admin /healthz)" = ok
check "its /metrics counts that request" \
  eval 'admin /metrics | grep -qE "^epolld_http_requests_total\{listener=\"0\.0\.0\.0:8080\",code=\"200\"\} [1-9]"'
# The tutorial's three lines for that connection (the log is asynchronous).
tutorial_lines() {
  local fd
  fd=$(ct sed -nE "s/.* - network-server - DEBUG - accept connection from 127\.0\.0\.1, $port, fd = ([0-9]+)\$/\1/p" \
    /var/log/epolld/network-server.log | tail -n 1)
  [[ -n $fd ]] || return 1
  ct tail -n 50 /var/log/epolld/network-server.log >"$work/tail" || return 1
  grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8},[0-9]{3} - network-server - DEBUG - accept connection from 127\.0\.0\.1, $port, fd = $fd\$" "$work/tail" &&
    grep -qE " - network-server - DEBUG - $fd receive hello\$" "$work/tail" &&
    grep -qE " - network-server - DEBUG - 127\.0\.0\.1, $port closed\$" "$work/tail"
}
if [[ $port =~ ^[0-9]+$ ]] && wait_until 5 tutorial_lines; then
  ok "tail of /var/log/epolld/network-server.log shows the tutorial's three lines"
  grep -E "127\.0\.0\.1, $port|receive hello" "$work/tail" | sed 's/^/        /'
else
  ct tail -n 20 /var/log/epolld/network-server.log || true
  fail "tail of /var/log/epolld/network-server.log shows the tutorial's three lines"
fi

# ---------------------------------------------------------------------------
# Reload: a connection opened before it still echoes after it.
pid_before=$(main_pid)
ct rm -rf /tmp/hold && ct mkdir /tmp/hold
ct_bg python3 /opt/payload/client.py hold 2003 /tmp/hold
hold_pid=$bg_pid
wait_until 10 ct test -f /tmp/hold/held || fail "the held echo connection is open before the reload"
set_config reload.yaml
since=$(now)
check "edited /etc/epolld.yaml: 'systemctl reload epolld' exits 0" ct systemctl reload epolld.service
check "new HTTP body served after the reload" wait_until 10 http_body_is "$new_body"
check "new listener: echo on 2004 answers" wait_until 10 echo_ok 2004
check "same MainPID after the reload" test "$(main_pid)" = "$pid_before"
check "the log shows the reload" wait_until 5 log_has "reloaded: 4 listeners"
ct touch /tmp/hold/go
wait "$hold_pid" 2>/dev/null && hold_status=0 || hold_status=$?
check "the echo connection opened before the reload still echoes, byte-exact" \
  test "$hold_status" = 0 -a "$(ct cat /tmp/hold/result 2>/dev/null)" = ok

# A broken edit: the reload fails before the daemon is signalled.
set_config broken.yaml
since=$(now)
if ct systemctl reload epolld.service 2>"$work/reload.err"; then
  fail "broken /etc/epolld.yaml: 'systemctl reload' fails"
else
  ok "broken /etc/epolld.yaml: 'systemctl reload' fails"
fi
check "journalctl -u epolld shows the error at $bad_where" wait_until 5 journal_has "$since" "$bad_where"
ct journalctl -u epolld.service --since "@$since" --no-pager -o cat | grep -F "$bad_where" | sed 's/^/        /' || true
check "still active, same MainPID" test "$(ct systemctl is-active epolld.service)/$(main_pid)" = "active/$pid_before"
check "the old configuration keeps serving (body, 2004)" eval 'http_body_is "$new_body" && echo_ok 2004'
# The daemon's own check, for a SIGHUP that bypasses ExecReload.
since=$(now)
ct systemctl kill -s HUP --kill-whom=main epolld.service
check "a SIGHUP with the broken file: ERROR with $bad_where in the log, not applied" \
  wait_until 5 eval 'ct grep -F "ERROR" /var/log/epolld/network-server.log | grep -qF "$bad_where"'
check "... and the old configuration still serves" eval 'is_active active && http_body_is "$new_body" && echo_ok 2004'
# Console lines carry their syslog priority: -p err filters them.
journal_at() { ct journalctl -u epolld.service --since "@$since" -p "$1" --no-pager -o cat; }
check "journalctl -u epolld -p err shows that ERROR line" \
  wait_until 5 eval 'journal_at err | grep -F " - ERROR - " | grep -qF "$bad_where"'
check "... and no DEBUG or INFO line, though INFO lines reached the journal" \
  eval '! journal_at err | grep -qE " - (DEBUG|INFO) - " && journal_at info | grep -q " - INFO - received SIGHUP"'
set_config reload.yaml

# ---------------------------------------------------------------------------
# logrotate: rename, create, USR1; new lines go to the new file.
if ct logrotate -f /etc/logrotate.d/epolld >"$work/logrotate.out" 2>&1; then
  ok "logrotate -f /etc/logrotate.d/epolld exits 0"
else
  cat "$work/logrotate.out"
  fail "logrotate -f /etc/logrotate.d/epolld exits 0"
fi
check "rotated to network-server.log.1; the new file is 0640 epolld:adm" \
  eval '[[ "$(ct stat -c "%a %U:%G" /var/log/epolld/network-server.log)" == "640 epolld:adm" ]] &&
        ct test -s /var/log/epolld/network-server.log.1'
port=$(ct python3 /opt/payload/client.py echo 2003 after-rotate || true)
check "a new connection's lines go to the new file" \
  wait_until 5 log_has "accept connection from 127.0.0.1, $port,"
check "... and not to the rotated one" \
  eval '! ct grep -qF "accept connection from 127.0.0.1, $port," /var/log/epolld/network-server.log.1'

# ---------------------------------------------------------------------------
# Restart under load: the listening sockets wait in the fd store, connections
# queue in the kernel; none is refused.
fds=$(prop NFileDescriptorStore)
check "the four listening sockets (echo 2003, 2004, http, admin) are in systemd's fd store (NFileDescriptorStore=$fds)" test "$fds" = 4
# EPOLLD_E2E_RESTART_ROUNDS=N repeats this, to hunt for rare races.
for ((round = 1; round <= ${EPOLLD_E2E_RESTART_ROUNDS:-1}; round++)); do
  # systemd refuses a sixth start within 10 s (StartLimitBurst=5, as an
  # operator gets it too); reset-failed resets that counter for the repeats.
  ct systemctl reset-failed epolld.service
  ct rm -rf /tmp/hammer && ct mkdir /tmp/hammer
  ct_bg python3 /opt/payload/client.py hammer 2003 8080 /tmp/hammer
  hammer_pid=$bg_pid
  wait_until 10 ct test -f /tmp/hammer/started || fail "the hammering client starts"
  sleep 0.5
  pid_before=$(main_pid)
  check "systemctl restart epolld under load exits 0" ct systemctl restart epolld.service
  check "a new MainPID after the restart" eval '[[ "$(main_pid)" != "$pid_before" ]] && is_active active'
  sleep 1
  ct touch /tmp/hammer/stop
  wait "$hammer_pid" 2>/dev/null && hammer_status=0 || hammer_status=$?
  summary=$(ct cat /tmp/hammer/summary 2>/dev/null || echo "no summary")
  if [[ $hammer_status != 0 ]]; then
    sed '1d; s/^/        /' <<<"$summary"
    # What epolld logged about the lost connections, for whoever debugs it.
    # Local ports are reused within seconds: only lines of the failure's second.
    sed -nE 's/^([0-9:]{8})\.[0-9]+ .*local port ([0-9]+)\).*/\1 \2/p' <<<"$summary" | head -n 5 |
      while read -r second lost; do
        ct grep -E " $second,[0-9]+ .*127\.0\.0\.1, $lost\b" /var/log/epolld/network-server.log |
          sed 's/^/          log: /' || true
      done
  fi
  check "no connection refused or failed across the restart: ${summary%%$'\n'*}" test "$hammer_status" = 0
done

# ---------------------------------------------------------------------------
# Established connections cross a restart and an upgrade: at stop the daemon
# hands each idle one to the fd store, the next process takes them in. 200
# echo and 200 keep-alive HTTP clients ping every 0.2 s throughout; none may
# see a reset, a wrong byte or a missing answer.
handover_count=${EPOLLD_E2E_HANDOVER_CONNECTIONS:-200}
handover_total=$((2 * handover_count))
took_in_all="took in $handover_total of the $handover_total connections the previous process handed over"
took_in_count() { ct grep -cF "$took_in_all" /var/log/epolld/network-server.log || true; }
ct systemctl reset-failed epolld.service  # the start limit, as above
ct rm -rf /tmp/keep && ct mkdir /tmp/keep
ct_bg python3 /opt/payload/client.py keepalive 2003 8080 "$handover_count" /tmp/keep
keep_pid=$bg_pid
wait_until 30 ct test -f /tmp/keep/started || fail "the $handover_total pinged connections are open"
pid_before=$(main_pid)
restart_start=$EPOCHREALTIME
check "systemctl restart with $handover_total established connections exits 0" ct systemctl restart epolld.service
log "info: systemctl restart took $(awk -v a="$restart_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
check "... a new MainPID" eval '[[ "$(main_pid)" != "$pid_before" ]] && is_active active'
check "... which took in all $handover_total connections (its log)" wait_until 10 eval '(( $(took_in_count) == 1 ))'
check "... and took them out of the fd store: the four listeners are left" \
  wait_until 5 eval '[[ "$(prop NFileDescriptorStore)" == 4 ]]'
check "/metrics counts the adopted HTTP connections" \
  eval 'admin /metrics | grep -qE "^epolld_connections_adopted_total\{listener=\"0\.0\.0\.0:8080\"\} $handover_count\$"'

# An upgrade to the next version (the same package with a higher version):
# restarted, conffile kept, the same connections carried across.
pid_before=$(main_pid)
if ct_quiet 120 sh -c "DEBIAN_FRONTEND=noninteractive dpkg -i /opt/payload/$upgrade_name" >"$work/dpkg.out" 2>&1; then
  ok "upgrade: dpkg -i $upgrade_name exits 0"
else
  cat "$work/dpkg.out"
  fail "upgrade: dpkg -i $upgrade_name exits 0"
fi
check "upgraded to $upgrade_version" test "$(ct dpkg-query -W -f '${Version}' epolld)" = "$upgrade_version"
check "restarted by the upgrade: active with a new MainPID" \
  eval 'wait_until 10 is_active active && [[ "$(main_pid)" != "$pid_before" ]]'
check "... which took in all $handover_total connections again" wait_until 10 eval '(( $(took_in_count) == 2 ))'
ct systemctl reset-failed epolld.service  # the start limit, as above
check "the edited conffile is kept (body, 2004)" eval 'http_body_is "$new_body" && echo_ok 2004'
sleep 1  # a few more rounds of pings on the upgraded daemon
ct touch /tmp/keep/stop
wait "$keep_pid" 2>/dev/null && keep_status=0 || keep_status=$?
summary=$(ct cat /tmp/keep/summary 2>/dev/null || echo "no summary")
[[ $keep_status == 0 ]] || sed '1d; s/^/        /' <<<"$summary"
check "every pinged connection answered throughout, byte-exact, no reset: ${summary%%$'\n'*}" \
  test "$keep_status" = 0

# A restart that fails (a broken file) leaves the connections in the store:
# Restart=on-failure tries again, and once the file is fixed, the next
# start takes them in.
ct rm -rf /tmp/held && ct mkdir /tmp/held
ct_bg python3 /opt/payload/client.py keepalive 2003 8080 10 /tmp/held
held_pid=$bg_pid
wait_until 30 ct test -f /tmp/held/started || fail "20 pinged connections are open"
ct systemctl reset-failed epolld.service
set_config broken.yaml
if ct systemctl restart epolld.service 2>/dev/null; then
  fail "restart with a broken /etc/epolld.yaml fails"
else
  ok "restart with a broken /etc/epolld.yaml fails"
fi
set_config reload.yaml
check "... Restart=on-failure starts it again once the file is fixed" wait_until 15 is_active active
check "... and the new process took in the 20 connections kept in the store" \
  wait_until 10 log_has "took in 20 of the 20 connections the previous process handed over"
ct touch /tmp/held/stop
wait "$held_pid" 2>/dev/null && held_status=0 || held_status=$?
summary=$(ct cat /tmp/held/summary 2>/dev/null || echo "no summary")
check "... and they answered on, byte-exact: ${summary%%$'\n'*}" test "$held_status" = 0

# Left broken, the restarts fail until systemd gives up (the start limit):
# the unit fails, and systemd closes the connections its store kept.
ct rm -rf /tmp/giveup && ct mkdir /tmp/giveup
ct_bg python3 /opt/payload/client.py closing 2003 10 /tmp/giveup
giveup_pid=$bg_pid
wait_until 30 ct test -f /tmp/giveup/started || fail "10 echo connections are open"
ct systemctl reset-failed epolld.service
set_config broken.yaml
ct systemctl restart epolld.service 2>/dev/null || true
check "left broken: systemd gives up restarting (the unit is failed)" \
  wait_until 30 eval '[[ "$(ct systemctl is-failed epolld.service)" == failed ]]'
wait "$giveup_pid" 2>/dev/null && giveup_status=0 || giveup_status=$?
check "... and closes the connections it kept ($(ct cat /tmp/giveup/summary 2>/dev/null))" test "$giveup_status" = 0
set_config reload.yaml
ct systemctl reset-failed epolld.service
check "fixed, it starts again" eval 'ct systemctl start epolld.service && is_active active'

# A store with no room for them (a drop-in: FileDescriptorStoreMax= the 4
# listeners): the daemon asks systemd for its room (D-Bus), closes the
# connections and says so.
ct mkdir -p /etc/systemd/system/epolld.service.d
ct sh -c 'printf "[Service]\nFileDescriptorStoreMax=4\n" >/etc/systemd/system/epolld.service.d/e2e-store.conf'
ct systemctl daemon-reload
ct rm -rf /tmp/small && ct mkdir /tmp/small
ct_bg python3 /opt/payload/client.py closing 2003 20 /tmp/small
small_pid=$bg_pid
wait_until 30 ct test -f /tmp/small/started || fail "20 echo connections are open"
ct systemctl reset-failed epolld.service
check "FileDescriptorStoreMax=4: restart with 20 established connections exits 0" ct systemctl restart epolld.service
check "... the log says the store had no room and the 20 were closed" \
  wait_until 10 log_has "the fd store has no room left (FileDescriptorStoreMax=): closing 20 of the 20 connections"
wait "$small_pid" 2>/dev/null && small_status=0 || small_status=$?
check "... and their clients saw them closed ($(ct cat /tmp/small/summary 2>/dev/null))" test "$small_status" = 0
ct rm /etc/systemd/system/epolld.service.d/e2e-store.conf
ct systemctl daemon-reload

# ---------------------------------------------------------------------------
# Watchdog: the test-only switch stalls a worker, the pings stop, systemd
# kills and restarts the daemon.
ct systemctl reset-failed epolld.service  # the start limit, as above
ct mkdir -p /etc/systemd/system/epolld.service.d
ct cp /opt/payload/watchdog.conf /etc/systemd/system/epolld.service.d/e2e-watchdog.conf
ct systemctl daemon-reload
ct systemctl restart epolld.service
check "with WatchdogSec=2s: active, WatchdogUSec=2s" eval 'is_active active && [[ "$(prop WatchdogUSec)" == 2s ]]'
pid_before=$(main_pid)
restarts_before=$(prop NRestarts)
sleep 3  # more than a WatchdogSec: the pings arrive, nothing is killed
check "a healthy daemon is not killed by the watchdog" \
  eval '[[ "$(main_pid)" == "$pid_before" && "$(prop NRestarts)" == "$restarts_before" ]]'
since=$(now)
ct systemctl kill -s SIGUSR2 --kill-whom=main epolld.service
restarted() { [[ $(prop NRestarts) -gt $restarts_before && $(main_pid) != "$pid_before" && $(main_pid) != 0 ]] && is_active active; }
check "stalled worker: the watchdog restarts epolld with a new MainPID" wait_until 15 restarted
check "journal: 'Watchdog timeout' and result 'watchdog'" \
  eval 'journal_has "$since" "Watchdog timeout" && journal_has "$since" "Failed with result '"'watchdog'"'"'
ct journalctl -u epolld.service --since "@$since" --no-pager -o cat | grep -iE 'watchdog|Scheduled restart' | sed 's/^/        /' || true
check "the log says which worker stalled" log_has "worker 0's loop has stopped turning"
ct rm -rf /etc/systemd/system/epolld.service.d
ct systemctl daemon-reload
ct systemctl restart epolld.service

# ---------------------------------------------------------------------------
since=$(now)
ct rm -rf /tmp/closing && ct mkdir /tmp/closing
ct_bg python3 /opt/payload/client.py closing 2003 20 /tmp/closing
closing_pid=$bg_pid
wait_until 30 ct test -f /tmp/closing/started || fail "20 echo connections are open before the stop"
check "systemctl stop epolld exits 0" ct systemctl stop epolld.service
wait "$closing_pid" 2>/dev/null && closing_status=0 || closing_status=$?
check "stop is a stop: its 20 established connections are closed ($(ct cat /tmp/closing/summary 2>/dev/null))" \
  test "$closing_status" = 0
check "inactive after stop" is_active inactive
check "exit status 0 (ExecMainStatus=0, Result=success)" \
  test "$(prop ExecMainStatus)/$(prop Result)" = "0/success"
check "the log says the shutdown completed" log_has "shutdown complete"

# A bad configuration is refused at start, with the same message.
set_config broken.yaml
since=$(now)
if ct systemctl start epolld.service 2>/dev/null; then
  fail "broken /etc/epolld.yaml: 'systemctl start' fails"
else
  ok "broken /etc/epolld.yaml: 'systemctl start' fails"
fi
check "journalctl -u epolld shows $bad_where for the failed start" wait_until 5 journal_has "$since" "$bad_where"
# Restart=on-failure keeps trying (within systemd's start limit) until the
# file is fixed; stop cancels the pending restart.
ct systemctl stop epolld.service
ct systemctl reset-failed epolld.service || true
set_config reload.yaml

# ---------------------------------------------------------------------------
# Socket activation (optional unit): systemd holds 2003 and 8080 and starts
# the service on the first connection.
check "systemctl start epolld.socket" ct systemctl start epolld.socket
unit_state=$(ct systemctl is-active epolld.service || true)
check "the service waits for a connection (is-active: $unit_state)" test "$unit_state" = inactive
check "the first connection starts it and gets its echo" wait_until 10 echo_ok 2003
check "... and the service is active" wait_until 10 is_active active
check "the daemon took the two sockets from LISTEN_FDS" wait_until 5 log_has "systemd passed 2 listening sockets"
check "HTTP answers through the passed socket, 2004 bound by the daemon" \
  eval 'http_body_is "$new_body" && echo_ok 2004'
# A restart now hands over both the socket unit's fds and the fd store's.
pid_before=$(main_pid)
check "restart under socket activation exits 0" ct systemctl restart epolld.service
check "... new MainPID; echo on 2003 and 2004 and HTTP answer" \
  eval '[[ "$(main_pid)" != "$pid_before" ]] && is_active active && echo_ok 2003 && echo_ok 2004 && http_body_is "$new_body"'
check "... and no passed socket was left unclaimed" eval '! log_has "no listener is configured for"'
ct systemctl stop epolld.socket epolld.service

# ---------------------------------------------------------------------------
# Purge. The daemon's log goes with it: keep a copy for the dump on failure.
ct sh -c 'cat /var/log/epolld/network-server.log.1 /var/log/epolld/network-server.log' \
  >"$work/epolld.log.saved" 2>/dev/null || true
if ct_quiet 120 sh -c 'DEBIAN_FRONTEND=noninteractive dpkg --purge epolld' >"$work/dpkg.out" 2>&1; then
  ok "dpkg --purge epolld exits 0"
else
  cat "$work/dpkg.out"
  fail "dpkg --purge epolld exits 0"
fi
check "the units are gone" \
  eval '! ct test -e /lib/systemd/system/epolld.service && [[ -z "$(ct systemctl list-unit-files "epolld*" --no-legend)" ]]'
check "no epolld process is left" eval '! ct pgrep -x epolld'
check "/etc/epolld.yaml, /etc/logrotate.d/epolld and /var/log/epolld are gone" \
  eval '! ct test -e /etc/epolld.yaml -o -e /etc/logrotate.d/epolld -o -e /var/log/epolld'
check "the epolld user stays (documented in epolld(8) and README.Debian)" ct getent passwd epolld

log "$checks checks, $failed failed"
