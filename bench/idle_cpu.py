#!/usr/bin/python3
"""CPU use of an idle postgated with devices attached (issue target: under
0.5 % of one core over 60 s).

Runs, one after the other on the same machine:
  baseline: postgated with no device;
  devices:  postgated with a serial ID-card reader (a pseudo-terminal played
            by tests/integration/devices_it.py's SAM reader, answering "no
            card" to every find at the default 300 ms poll), a serial barcode
            scanner (silent) and a USB scanner slot (libusb context with
            hot-plug, device absent).
and prints each one's CPU over the window as a share of one core
(utime + stime from /proc/PID/stat), and devices minus baseline.

    bench/idle_cpu.py --postgated build/daemon/postgated [--seconds 60]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import devices_it  # noqa: E402  (Pty, SamReader)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def config(d, devices):
    text = """outlet: idle
counters:
  - id: c1
storage:
  path: %(d)s/store/postgate.db
  key_file: %(d)s/store/postgate.key
  create_key: true
api:
  socket: %(d)s/api.sock
logging:
  level: warn
""" % {"d": d}
    if devices:
        text += """adapters:
  - kind: idcard_reader
    counter: c1
    transport: serial
    path: %(d)s/ttyReader
  - kind: barcode_scanner
    counter: c1
    transport: serial
    path: %(d)s/ttyScanner
  - kind: barcode_scanner
    counter: c1
    transport: usb
    usb: "0c2e:0b61"
""" % {"d": d}
    return text


def measure(postgated, seconds, devices):
    d = tempfile.mkdtemp(prefix="pg-idle-")
    reader = None
    try:
        os.makedirs(os.path.join(d, "store"), mode=0o700)
        if devices:
            reader_pty = devices_it.Pty(os.path.join(d, "ttyReader"))
            devices_it.Pty(os.path.join(d, "ttyScanner"))
            reader = devices_it.SamReader(reader_pty)
            reader.start()
        path = os.path.join(d, "postgate.yaml")
        with open(path, "w") as f:
            f.write(config(d, devices))
        log = open(os.path.join(d, "log"), "w")
        proc = subprocess.Popen([postgated, "--config", path], stdout=log, stderr=subprocess.STDOUT)
        sock = os.path.join(d, "api.sock")
        end = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None or not os.path.exists(sock):
            raise SystemExit("postgated did not start: see %s" % log.name)
        time.sleep(2)  # start-up work is not idle
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
        proc.terminate()
        proc.wait(15)
        polls = reader.polls if reader else 0
        return 100.0 * (c1 - c0) / (t1 - t0), polls
    finally:
        if reader:
            reader.stop = True
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgated", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    a = ap.parse_args()
    base, _ = measure(a.postgated, a.seconds, False)
    dev, polls = measure(a.postgated, a.seconds, True)
    print("idle_window_s %.0f" % a.seconds)
    print("baseline_cpu_percent_of_one_core %.3f" % base)
    print("devices_cpu_percent_of_one_core %.3f" % dev)
    print("devices_minus_baseline_percent %.3f" % (dev - base))
    print("idcard_polls_answered %d" % polls)
    ok = dev < 0.5
    print("%s  idle daemon with devices < 0.5 %% of one core (%.3f %%)" % ("PASS" if ok else "MISS", dev))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
