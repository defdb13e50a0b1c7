#!/usr/bin/env bash
# Static checks of the shipped systemd files, without systemd as PID 1:
#   1. `systemd-analyze verify` on postgated.service (any diagnostic fails);
#   2. `systemd-analyze security --offline=true`: overall exposure <= limit;
#   3. systemd-sysusers applies sysusers.d/postgate.conf to an empty root.
# Usage: check_unit.sh SYSTEMD_DIR [POSTGATED_BINARY] [MAX_EXPOSURE]
# Exit 77 (skip) when a systemd tool is missing.
set -euo pipefail

systemd_dir=${1:?usage: check_unit.sh SYSTEMD_DIR [POSTGATED_BINARY] [MAX_EXPOSURE]}
binary=${2:-}
max_exposure=${3:-2.0}
unit="$systemd_dir/postgated.service"

for tool in systemd-analyze systemd-sysusers; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found"
    exit 77
  fi
done
[[ -f "$unit" ]] || { echo "FAIL: $unit not found"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# verify checks that ExecStart= is executable, and the unit names the
# installed path. Check a copy that points at the built binary instead (or at
# a stub when none was given), so the test does not depend on an install.
if [[ -z "$binary" || ! -x "$binary" ]]; then
  binary="$work/postgated-stub"
  printf '#!/bin/sh\nexit 0\n' >"$binary"
  chmod +x "$binary"
fi
sed "s|^ExecStart=/usr/bin/postgated |ExecStart=$binary |" "$unit" >"$work/postgated.service"
grep -q "^ExecStart=$binary " "$work/postgated.service" ||
  { echo "FAIL: ExecStart=/usr/bin/postgated not found in $unit"; exit 1; }

status=0

# verify exits 0 even for unknown keys or unknown syscall groups ("...,
# ignoring"): treat any output as a failure.
verify_out=$(systemd-analyze verify --man=no "$work/postgated.service" 2>&1) || {
  echo "FAIL: systemd-analyze verify exited non-zero"
  status=1
}
if [[ -n "$verify_out" ]]; then
  echo "FAIL: systemd-analyze verify reported:"
  echo "$verify_out"
  status=1
else
  echo "ok: systemd-analyze verify is clean"
fi

security_out=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$security_out")
if [[ -z "$exposure" ]]; then
  echo "FAIL: no overall exposure figure in systemd-analyze security output:"
  echo "$security_out"
  status=1
elif awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
  echo "FAIL: overall exposure $exposure > $max_exposure; the exposed settings:"
  grep '^✗' <<<"$security_out" || true
  status=1
else
  echo "ok: overall exposure $exposure (limit $max_exposure)"
fi

sysusers_conf="$systemd_dir/sysusers.d/postgate.conf"
mkdir -p "$work/root/etc"
if ! sysusers_out=$(systemd-sysusers --root="$work/root" "$(realpath "$sysusers_conf")" 2>&1); then
  echo "FAIL: systemd-sysusers rejected $sysusers_conf:"
  echo "$sysusers_out"
  status=1
elif ! grep -q '^postgate:x:[0-9]*:[0-9]*:.*:/var/lib/postgate:/usr/sbin/nologin$' "$work/root/etc/passwd" ||
  ! grep -q '^postgate:x:' "$work/root/etc/group"; then
  echo "FAIL: systemd-sysusers did not create user and group postgate"
  status=1
elif grep -v '^Creating ' <<<"$sysusers_out" | grep -q .; then
  # "Creating user/group" is progress; anything else ("..., ignoring") is a
  # line sysusers did not understand.
  echo "FAIL: systemd-sysusers reported:"
  echo "$sysusers_out"
  status=1
else
  echo "ok: sysusers.d/postgate.conf creates user and group postgate"
fi

exit "$status"
