#!/usr/bin/env bash
# Does postgated stay inside the unit's SystemCallFilter=? Without systemd as
# PID 1 the filter cannot be applied here, so run the daemon under strace,
# drive it through start-up, submits (single and pipelined), the MQTT uplink
# to a local mosquitto (when installed), a serial scanner on a pseudo-terminal
# (socat) that scans, a USB device slot (libusb, hot-plug), SIGHUP reload and
# SIGTERM, and compare every system call it made with the set the unit's
# SystemCallFilter= lines allow (groups expanded by systemd-analyze).
# Usage: check_syscalls.sh POSTGATED SYSTEMD_DIR SUBMIT_BENCH_PY
# Exit 77 (skip) when strace, systemd-analyze or python3 is missing, or when
# ptrace is not permitted.
set -euo pipefail

postgated=${1:?usage: check_syscalls.sh POSTGATED SYSTEMD_DIR SUBMIT_BENCH_PY}
unit="${2:?}/postgated.service"
client=${3:?}
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3 || true)
for tool in strace systemd-analyze "$python"; do
  [[ -n $tool ]] && command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: ${tool:-python3} not found"; exit 77; }
done
strace -qq -o /dev/null true 2>/dev/null || { echo "SKIP: ptrace not permitted here"; exit 77; }
[[ -x $postgated ]] || { echo "FAIL: $postgated not executable"; exit 1; }

work=$(mktemp -d)
pid=""
broker=""
peer=""
cleanup() {
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
  [[ -n $broker ]] && kill "$broker" 2>/dev/null
  [[ -n $peer ]] && kill "$peer" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -m 0700 "$work/store"
cat >"$work/postgate.yaml" <<EOF
outlet: syscalls
counters:
  - id: c1
storage:
  path: $work/store/postgate.db
  key_file: $work/store/postgate.key
  create_key: true
api:
  socket: $work/api.sock
adapters:
  - kind: barcode_scanner
    counter: c1
    transport: serial
    path: $work/scanner
  - kind: idcard_reader
    counter: c1
    transport: usb
    usb: "0400:c35a"
EOF
if command -v socat >/dev/null 2>&1; then
  socat pty,raw,echo=0,link="$work/scanner" pty,raw,echo=0,link="$work/peer" 2>/dev/null &
  peer=$!
  for _ in $(seq 100); do [[ -e $work/peer ]] && break; sleep 0.05; done
fi
if [[ -x /usr/sbin/mosquitto ]]; then
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser %s\n' "$port" "$(id -un)" >"$work/mosquitto.conf"
  /usr/sbin/mosquitto -c "$work/mosquitto.conf" >/dev/null 2>&1 &
  broker=$!
  printf 'uplink:\n  brokers: ["tcp://127.0.0.1:%s"]\n  telemetry_interval_s: 1\n' "$port" \
    >>"$work/postgate.yaml"
fi

strace -f -qq -o "$work/trace" "$postgated" --config "$work/postgate.yaml" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  [[ -S $work/api.sock ]] && break
  sleep 0.05
done
[[ -S $work/api.sock ]] || { cat "$work/log"; echo "FAIL: postgated did not open its socket"; exit 1; }

"$python" "$client" latency --socket "$work/api.sock" --rate 200 --duration 1 --drain-s 5 >"$work/client" ||
  { cat "$work/client" "$work/log"; echo "FAIL: submits failed"; exit 1; }
"$python" "$client" throughput --socket "$work/api.sock" --connections 2 --window 16 --procs 1 \
  --duration 1 --warmup 0.2 >>"$work/client" ||
  { cat "$work/client" "$work/log"; echo "FAIL: pipelined submits failed"; exit 1; }
if [[ -n $peer ]]; then
  printf 'PG:OP:op-1\r\nRA123456785GB\r\n' >"$work/peer"
fi
# Telemetry and a batch go out over the uplink meanwhile.
sleep 1.5
# strace runs the daemon as its child: signal the daemon, not strace.
daemon=$(pgrep -P "$pid" | head -n 1 || true)
[[ -n $daemon ]] || daemon=$pid
kill -HUP "$daemon"
sleep 0.5
kill -TERM "$daemon"
wait "$pid" || { cat "$work/log"; echo "FAIL: postgated exited non-zero"; exit 1; }
pid=""

"$python" - "$unit" "$work/trace" "$(id -u)" <<'EOF'
import functools, re, subprocess, sys

unit, trace, euid = sys.argv[1], sys.argv[2], int(sys.argv[3])

@functools.lru_cache(maxsize=None)
def expand(name):
    if not name.startswith("@"):
        return frozenset([name])
    out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        t = line.strip()
        if t and not t.startswith("#"):
            names |= expand(t)
    return frozenset(names)

# systemd.exec(5): the first line decides allow- or deny-list; later lines
# add to it (allow) or take from it (~deny).
allowed = None
for line in open(unit):
    m = re.match(r"\s*SystemCallFilter=(~?)(.*)", line)
    if not m:
        continue
    names = set().union(*(expand(n) for n in m.group(2).split()))
    if allowed is None:
        allowed = set(names) if not m.group(1) else None
        if allowed is None:
            sys.exit("FAIL: a deny-list first is not handled by this check")
    elif m.group(1):
        allowed -= names
    else:
        allowed |= names
if allowed is None:
    sys.exit("FAIL: no SystemCallFilter= in " + unit)

used = {}
for line in open(trace):
    m = re.match(r"\d+\s+([a-z0-9_]+)\(", line)
    if m:
        used[m.group(1)] = used.get(m.group(1), 0) + 1
# SQLite run as root gives its new -wal/-shm files the database's owner
# (robustFchown); the unit runs as postgate, where SQLite never calls it.
if euid == 0:
    used.pop("fchown", None)
outside = sorted(n for n in used if n not in allowed)
print("postgated made %d distinct system calls" % len(used))
if outside:
    print("FAIL: outside SystemCallFilter=: " + ", ".join("%s (%d)" % (n, used[n]) for n in outside))
    sys.exit(1)
print("ok: every one is allowed by the unit's SystemCallFilter=")
EOF
