#!/usr/bin/python3
"""What postgated.service relies on, played without systemd as PID 1:

- Type=notify: READY=1 on $NOTIFY_SOCKET once the API socket answers;
- WatchdogSec=: WATCHDOG=1 pings at least twice per $WATCHDOG_USEC;
- LoadCredential=postgate.key:...: with storage.key_credential "postgate.key"
  the key is read from $CREDENTIALS_DIRECTORY, and key_file is not needed;
- SIGTERM: STOPPING=1 and exit status 0.

Usage: check_notify.py POSTGATED
Exit 77 (skip) when AF_UNIX datagram sockets are unavailable.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

WATCHDOG_USEC = 1_000_000


def fail(msg, log=None):
    print("FAIL: " + msg)
    if log and os.path.exists(log):
        print("-- postgated log:")
        print(open(log, errors="replace").read())
    sys.exit(1)


def write_config(path, work, key_lines):
    with open(path, "w") as f:
        f.write(
            "outlet: notify\n"
            "counters:\n  - id: c1\n"
            "storage:\n  path: %s/store/postgate.db\n%s"
            "api:\n  socket: %s/api.sock\n" % (work, key_lines, work)
        )


def request(sock_path, lines):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall("".join(json.dumps(l) + "\n" for l in lines).encode())
    buf = b""
    while buf.count(b"\n") < len(lines):
        data = s.recv(65536)
        if not data:
            break
        buf += data
    s.close()
    return [json.loads(l) for l in buf.split(b"\n") if l]


def submit(i):
    # Published example number (DOMAIN.md); S10 check digits computed there.
    bills = {1: "EA123456785CN", 2: "RA473124829CN"}
    return {
        "op": "submit",
        "record": {
            "ref": "notify-%d" % i,
            "counter": "c1",
            "operator": "op-1",
            "sender": {"name": "测试", "doc_type": "resident_id", "doc_number": "11010519491231002X"},
            "waybills": [bills[i]],
            "declared": "books",
            "inspection": "pass",
        },
    }


class Run:
    """One postgated process with a private notify socket."""

    def __init__(self, binary, work, config, env_extra):
        self.log = os.path.join(work, "postgated.%d.log" % time.monotonic_ns())
        self.notify_path = os.path.join(work, "notify.sock")
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        env.pop("WATCHDOG_PID", None)
        env.update(env_extra)
        self.messages = []
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([binary, "--config", config], stdout=log, stderr=log, env=env)

    def wait_for(self, key, timeout):
        """Collects datagrams until one carries `key` (e.g. "READY=1")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.notify.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = self.notify.recv(4096).decode(errors="replace")
            except socket.timeout:
                break
            self.messages.append((time.monotonic(), msg))
            if key in msg.split("\n"):
                return True
            if self.proc.poll() is not None:
                break
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        stopping = self.wait_for("STOPPING=1", 10)
        try:
            status = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("postgated did not exit within 10 s of SIGTERM", self.log)
        self.notify.close()
        return stopping, status


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    if not hasattr(socket, "AF_UNIX"):
        print("SKIP: no AF_UNIX")
        return 77
    work = tempfile.mkdtemp(prefix="postgate-notify.")
    try:
        os.mkdir(os.path.join(work, "store"), 0o700)
        sock_path = os.path.join(work, "api.sock")
        config = os.path.join(work, "postgate.yaml")

        # 1. First start creates the key file; READY, watchdog, STOPPING.
        key_file = os.path.join(work, "store", "postgate.key")
        write_config(config, work, "  key_file: %s\n  create_key: true\n" % key_file)
        run = Run(binary, work, config, {})
        if not run.wait_for("READY=1", 15):
            fail("no READY=1 on NOTIFY_SOCKET (got %r)" % [m for _, m in run.messages], run.log)
        ready_at = time.monotonic()
        answers = request(sock_path, [submit(1)])
        if not answers or not answers[0].get("ok"):
            fail("submit after READY=1 failed: %r" % answers, run.log)
        time.sleep(3 * WATCHDOG_USEC / 1e6)
        run.wait_for("never", 0.05)
        pings = [t for t, m in run.messages if "WATCHDOG=1" in m.split("\n") and t >= ready_at]
        # systemd needs one ping per period; postgated aims at two. Ask for
        # one per period only, so a loaded test machine does not make it flaky.
        if len(pings) < 3:
            fail("%d WATCHDOG=1 pings in 3 watchdog periods, expected >= 3" % len(pings), run.log)
        stopping, status = run.stop()
        if not stopping:
            fail("no STOPPING=1 on SIGTERM", run.log)
        if status != 0:
            fail("exit status %d on SIGTERM" % status, run.log)
        print("ok: READY=1, %d WATCHDOG=1 in 3 periods, STOPPING=1, exit 0" % len(pings))

        # 2. The key as a systemd credential: key_file points nowhere.
        creds = os.path.join(work, "credentials")
        os.mkdir(creds, 0o700)
        shutil.move(key_file, os.path.join(creds, "postgate.key"))
        write_config(
            config,
            work,
            "  key_file: %s/nowhere/postgate.key\n  key_credential: postgate.key\n" % work,
        )
        run = Run(binary, work, config, {"CREDENTIALS_DIRECTORY": creds})
        if not run.wait_for("READY=1", 15):
            fail("no READY=1 with the key from $CREDENTIALS_DIRECTORY", run.log)
        # Two requests, not one pipelined pair: answers come in order, but a
        # records query may run before an earlier submit is committed.
        answers = request(sock_path, [submit(2)]) + request(sock_path, [{"op": "records", "limit": 10}])
        if len(answers) != 2 or not answers[0].get("ok") or not answers[1].get("ok"):
            fail("submit/records with the credential key failed: %r" % answers, run.log)
        seqs = sorted(r.get("seq") for r in answers[1].get("records", []))
        if seqs != [1, 2]:
            fail("expected records seq 1 and 2 readable with the credential key, got %r" % seqs, run.log)
        stopping, status = run.stop()
        if status != 0:
            fail("exit status %d on SIGTERM (credential run)" % status, run.log)
        print("ok: key read from $CREDENTIALS_DIRECTORY/postgate.key; records from the first run readable")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
