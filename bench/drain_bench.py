#!/usr/bin/python3
"""The drain benchmark (bench/drain_run drives it; see bench/README.md).

Three ways to get N records from an outlet to HQ after the link was down,
on the same mosquitto and about the same payload bytes per record:

  postgated  N records submitted through the local API (pipelined) while the
             broker is down; SIGKILL and restart of postgated while it holds
             them; then the broker starts and postgate-hq stores and acks.
  publisher  a plain Paho QoS 1 publisher (bench_paho_qos1_pub), one message
             per record, 100 in flight, started with the broker; it holds no
             backlog, so a crash loses everything unpublished.
  bridge     an edge mosquitto (persistence on) bridging `topic # out 1` to
             the HQ mosquitto, N messages queued into it while the HQ broker
             is down, then the HQ broker starts. A second run SIGKILLs the
             edge mosquitto while it holds the backlog and counts what still
             arrives.

Every drain is timed from the HQ broker's start to the last record stored at
HQ (postgate-hq's watermark = N, or mosquitto_sub having counted N). Memory
is VmRSS sampled every 50 ms and VmHWM from /proc/PID/status.

  drain_bench.py --postgated P --hq P --pub P [--records N] [--work DIR]

Prints "key value" lines, then a table and the target checks. Exit status 0
targets met, 1 a target missed, 2 the run failed.
"""
import argparse
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import submit_bench  # noqa: E402  (synthetic, unique, valid records)

ARGS = None
OUTLET = "bench-outlet"
PREFIX = "postgate/v1"
RESULTS = {}


class RunError(Exception):
    pass


def result(key, value):
    RESULTS[key] = value
    print("%s %s" % (key, value if not isinstance(value, float) else "%.3f" % value))
    sys.stdout.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout, what, step=0.05):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise RunError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(step)


def proc_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Sampler:
    """VmRSS every 50 ms and the last VmHWM seen, for one process."""

    def __init__(self, pid):
        self.pid, self.max_rss, self.hwm = pid, 0, 0
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_ev.is_set():
            r, h = proc_kb(self.pid, "VmRSS"), proc_kb(self.pid, "VmHWM")
            if r is None:
                break
            self.max_rss, self.hwm = max(self.max_rss, r), max(self.hwm, h or 0)
            time.sleep(0.05)

    def stop(self):
        self.stop_ev.set()
        self.t.join(2)
        h = proc_kb(self.pid, "VmHWM")
        if h:
            self.hwm = max(self.hwm, h)
        return self


def cpu_s(pid):
    """User + system CPU seconds a process has used so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def mb(kb):
    return kb / 1024.0


class Broker:
    def __init__(self, dir, port=None, extra=""):
        self.dir, self.port, self.proc = dir, port or free_port(), None
        os.makedirs(os.path.join(dir, "mq"), exist_ok=True)
        self.conf = os.path.join(dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            # mosquitto started as root drops to user "mosquitto", which cannot
            # write into our temporary directory; stay whoever we are.
            f.write("listener %d 127.0.0.1\nallow_anonymous true\nuser %s\npersistence true\n"
                    "persistence_location %s/\nmax_queued_messages 0\nlog_dest file %s\n%s"
                    % (self.port, pwd.getpwuid(os.geteuid()).pw_name, os.path.join(dir, "mq"),
                       os.path.join(dir, "mosquitto.log"), extra))

    def start(self):
        self.proc = subprocess.Popen([ARGS.mosquitto, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

        def up():
            if self.proc.poll() is not None:
                raise RunError("mosquitto (%s) exited %s" % (self.conf, self.proc.returncode))
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(up, 10, "mosquitto on %d" % self.port, 0.01)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)


def register_sub(broker, client_id, topic):
    """A persistent QoS 1 subscription, made once so the broker queues for it."""
    subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-c", "-i", client_id,
                    "-q", "1", "-t", topic, "-E"], check=True, timeout=20)


class Counter:
    """mosquitto_sub on a persistent session, counting payload lines."""

    def __init__(self, broker, client_id, topic, n, idle_s=None):
        cmd = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-c", "-i", client_id,
               "-q", "1", "-t", topic, "-C", str(n)]
        self.count, self.done_at, self.last_at = 0, None, time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.t = threading.Thread(target=self.read, daemon=True)
        self.t.start()

    def read(self):
        while True:
            chunk = self.proc.stdout.read1(1 << 16)
            if not chunk:
                break
            self.count += chunk.count(b"\n")
            self.last_at = time.monotonic()
        self.done_at = time.monotonic()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
        self.t.join(5)


# ---------------------------------------------------------------- postgated

def edge_yaml(work, broker_uri, optional):
    up = {"brokers": [broker_uri], "prefix": PREFIX, "mqtt_version": 5, "telemetry_interval_s": 5,
          "ack_timeout_s": 30, "drain_records_per_s": 0, "drain_bytes_per_s": 0}
    up.update(optional)
    return ("outlet: %s\ncounters:\n  - id: c1\nstorage:\n  path: %s/store/postgate.db\n"
            "  key_file: %s/store/postgate.key\n  create_key: true\napi:\n  socket: %s/api.sock\n"
            "logging:\n  level: info\nuplink:\n%s" % (
                OUTLET, work, work, work, "".join("  %s: %s\n" % (k, json.dumps(v)) for k, v in up.items())))


def probe_optional(work, uri):
    """Back-off keys, if this build takes them: the bridge reconnects every
    1-2 s (restart_timeout 1 2); the edge gets the same chance."""
    keep = {"reconnect_min_s": 1, "reconnect_max_s": 2}
    path = os.path.join(work, "probe.yaml")
    for _ in range(4):
        with open(path, "w") as f:
            f.write(edge_yaml(work, uri, keep))
        p = subprocess.run([ARGS.postgated, "--check-config", path], capture_output=True, text=True)
        if p.returncode == 0:
            break
        bad = [k for k in keep if re.search(r"uplink\.%s\b" % k, p.stderr)]
        if not bad:
            raise RunError("postgated refuses the uplink section: %s" % p.stderr.strip())
        for k in bad:
            del keep[k]
    return keep


class Postgated:
    def __init__(self, work):
        self.work, self.proc = work, None
        self.sock = os.path.join(work, "api.sock")
        self.log = open(os.path.join(work, "postgated.log"), "a")

    def start(self):
        self.proc = subprocess.Popen([ARGS.postgated, "--config", os.path.join(self.work, "postgate.yaml")],
                                     stdout=self.log, stderr=self.log)

        def up():
            if self.proc.poll() is not None:
                raise RunError("postgated exited %s (see %s/postgated.log)" % (self.proc.returncode, self.work))
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.sock)
                s.close()
                return True
            except OSError:
                return False
        wait_until(up, 60, "postgated's socket")

    def status(self):
        s = submit_bench.connect(self.sock)
        s.sendall(b'{"op":"status"}\n')
        buf = b""
        while b"\n" not in buf:
            c = s.recv(65536)
            if not c:
                raise RunError("status: connection closed")
            buf += c
        s.close()
        return json.loads(buf.split(b"\n")[0])["status"]


def submit_all(sock_path, n, conns=4, depth=512, first=0):
    """n submits over `conns` pipelined connections; returns (ok, seconds)."""
    oks = [0] * conns
    errs = []

    def worker(k):
        s = submit_bench.connect(sock_path)
        idx = list(range(first + k, first + n, conns))
        ans = submit_bench.Answers()
        sent = got = 0
        while got < len(idx):
            while sent < len(idx) and sent - got < depth:
                s.sendall(submit_bench.submit_line(idx[sent]))
                sent += 1
            data = s.recv(1 << 16)
            if not data:
                errs.append("connection closed")
                return
            got += ans.feed(data)
        oks[k] = got - ans.errors
        if ans.errors:
            errs.append(ans.first_error)
        s.close()
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise RunError("submits failed: %r" % errs[:2])
    return sum(oks), time.monotonic() - t0


FLEET_CALL_S = []


def hq_fleet(db):
    t = time.monotonic()
    try:
        return _hq_fleet(db)
    finally:
        FLEET_CALL_S.append(time.monotonic() - t)


def _hq_fleet(db):
    p = subprocess.run([ARGS.hq, "fleet", "--db", db, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return next((r for r in json.loads(p.stdout) if r["outlet"] == OUTLET), None)


def start_hq(db, broker, log):
    proc = subprocess.Popen([ARGS.hq, "serve", "--broker", "tcp://127.0.0.1:%d" % broker.port, "--db", db,
                             "--client-id", "bench-hq"] + (ARGS.hq_arg or []), stdout=log, stderr=log)
    return proc


def run_postgated(n):
    work = os.path.join(ARGS.work, "postgated")
    os.makedirs(os.path.join(work, "store"), mode=0o700)
    broker = Broker(os.path.join(work, "broker"))
    hqdb = os.path.join(work, "hq.db")
    hqlog = open(os.path.join(work, "hq.log"), "a")
    # HQ's persistent session first, so the broker queues records for it.
    broker.start()
    hq = start_hq(hqdb, broker, hqlog)
    wait_until(lambda: "subscribed to %s/+/records" % PREFIX in open(hqlog.name).read(), 20, "HQ subscribed")
    hq.terminate()
    hq.wait(30)
    broker.stop()

    optional = probe_optional(work, "tcp://127.0.0.1:%d" % broker.port)
    for kv in ARGS.uplink or []:
        k, v = kv.split("=", 1)
        optional[k] = json.loads(v)
    with open(os.path.join(work, "postgate.yaml"), "w") as f:
        f.write(edge_yaml(work, "tcp://127.0.0.1:%d" % broker.port, optional))
    edge = Postgated(work)
    edge.start()
    time.sleep(0.5)
    result("postgated_rss_0_pending_mb", mb(proc_kb(edge.proc.pid, "VmRSS")))
    # In ten steps, RSS after each (under load: it includes the warm-up of
    # the heap and SQLite's page caches, which depends on the load, not the
    # backlog). Whether memory depends on the backlog is measured on a fresh
    # process, idle: restarted holding N/10 here and holding N after the
    # SIGKILL below.
    smp = Sampler(edge.proc.pid)
    buf_max = buf_hwm = 0
    ok, dt, steps = 0, 0.0, []
    for k in range(10):
        lo, hi = n * k // 10, n * (k + 1) // 10
        o, t = submit_all(edge.sock, hi - lo, first=lo)
        ok, dt = ok + o, dt + t
        steps.append(mb(proc_kb(edge.proc.pid, "VmRSS")))
        if k == 0:
            smp.stop()
            buf_max, buf_hwm = smp.max_rss, smp.hwm
            edge.proc.terminate()
            edge.proc.wait(30)
            edge.start()
            time.sleep(0.5)
            result("postgated_rss_restart_tenth_pending_mb", mb(proc_kb(edge.proc.pid, "VmRSS")))
            smp = Sampler(edge.proc.pid)
    smp.stop()
    if ok != n:
        raise RunError("%d of %d submits ok" % (ok, n))
    result("postgated_rss_by_tenth_mb", " ".join("%.1f" % x for x in steps))
    result("postgated_rss_growth_after_first_tenth_mb", max(steps) - steps[0])
    result("postgated_buffer_records_per_s", n / dt)
    pending = edge.status()["pending"]
    result("postgated_pending_after_buffer", pending)
    result("postgated_rss_n_pending_mb", mb(proc_kb(edge.proc.pid, "VmRSS")))
    result("postgated_buffer_max_rss_mb", mb(max(buf_max, smp.max_rss)))
    result("postgated_buffer_hwm_mb", mb(max(buf_hwm, smp.hwm)))

    # SIGKILL while holding the backlog, restart: every answered record must still be there.
    edge.proc.kill()
    edge.proc.wait()
    edge.start()
    survived = edge.status()["pending"]
    result("postgated_pending_after_sigkill", survived)
    time.sleep(0.5)
    result("postgated_rss_after_restart_mb", mb(proc_kb(edge.proc.pid, "VmRSS")))

    smp = Sampler(edge.proc.pid)
    edge_cpu0 = cpu_s(edge.proc.pid)
    t0, wall0 = time.monotonic(), time.time()
    broker.start()
    hq = start_hq(hqdb, broker, hqlog)
    perfs = []
    if ARGS.perf:
        # Call graphs of both ends over the drain, for `perf report -i`.
        for name, pid in (("edge", edge.proc.pid), ("hq", hq.pid)):
            perfs.append(subprocess.Popen(["perf", "record", "-q", "-F", "499", "-g", "-p", str(pid), "-o",
                                           os.path.join(ARGS.perf, "perf-%s.data" % name)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    t_store = wait_until(lambda: (lambda f: time.monotonic() if f and f["acked_seq"] >= n else None)(hq_fleet(hqdb)),
                         max(120, n / 200), "HQ watermark %d" % n, 0.2)
    t_ack = wait_until(lambda: time.monotonic() if edge.status()["pending"] == 0 else None, 120,
                       "edge pending 0", 0.1)
    smp.stop()
    for p in perfs:
        p.send_signal(signal.SIGINT)
        p.wait(60)
    # Where the drain's time goes: CPU of each party over the drain (cores).
    span = time.monotonic() - t0
    result("postgated_drain_cpu_cores_edge", (cpu_s(edge.proc.pid) - edge_cpu0) / span)
    result("postgated_drain_cpu_cores_hq", cpu_s(hq.pid) / span)
    result("postgated_drain_cpu_cores_broker", cpu_s(broker.proc.pid) / span)
    if FLEET_CALL_S:
        result("hq_fleet_call_max_s", max(FLEET_CALL_S))
    f = hq_fleet(hqdb)
    result("postgated_drain_s", t_store - t0)
    result("postgated_drain_records_per_s", n / (t_store - t0))
    result("postgated_drain_edge_acked_s", t_ack - t0)
    # How much of it was the edge's reconnect (back-off and Paho's poll delay).
    conn = re.findall(r"^(\S+ \S+) info uplink: connected", open(edge.log.name).read(), re.M)
    if conn:
        import datetime
        at = datetime.datetime.strptime(conn[-1], "%Y-%m-%d %H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        result("postgated_connect_after_broker_start_s", at - wall0)
        result("postgated_records_per_s_once_connected", n / (t_store - t0 - (at - wall0)))
    result("postgated_drain_max_rss_mb", mb(smp.max_rss))
    result("postgated_drain_hwm_mb", mb(smp.hwm))
    result("postgated_hq_records", f["records"])
    result("postgated_hq_gaps", f["gaps"]["count"])
    result("postgated_hq_duplicates", f["duplicates"])
    result("postgated_delivered_after_sigkill", f["acked_seq"])
    recs = subprocess.run([ARGS.hq, "records", "--db", hqdb, "--outlet", OUTLET, "--limit", "200", "--json"],
                          capture_output=True, text=True, check=True).stdout
    size = sum(len(json.dumps(r, ensure_ascii=False).encode()) for r in json.loads(recs)) // 200
    result("record_wire_bytes", size)
    edge.proc.terminate()
    edge.proc.wait(30)
    hq.terminate()
    hq.wait(30)
    broker.stop()
    return size


# ---------------------------------------------------------------- references

def run_publisher(n, size):
    work = os.path.join(ARGS.work, "publisher")
    broker = Broker(os.path.join(work, "broker"))
    broker.start()
    register_sub(broker, "bench-sub", "bench/#")
    broker.stop()
    t0 = time.monotonic()
    broker.start()
    counter = Counter(broker, "bench-sub", "bench/#", n)
    pub = subprocess.Popen([ARGS.pub, "tcp://127.0.0.1:%d" % broker.port, "bench/pub", str(n), str(size), "100"],
                           stdout=subprocess.PIPE, text=True)
    smp = Sampler(pub.pid)
    pub.communicate(timeout=max(300, n / 100))
    smp.stop()
    counter.proc.wait(max(300, n / 100))
    counter.t.join(10)
    if counter.count != n:
        raise RunError("publisher: subscriber counted %d of %d" % (counter.count, n))
    result("publisher_drain_s", counter.done_at - t0)
    result("publisher_drain_records_per_s", n / (counter.done_at - t0))
    result("publisher_max_rss_mb", mb(smp.max_rss))
    result("publisher_hwm_mb", mb(smp.hwm))
    broker.stop()


def bridge_pair(work, hq_port, edge_extra=""):
    hq = Broker(os.path.join(work, "hq"), hq_port)
    edge = Broker(os.path.join(work, "edge"), extra=edge_extra + (
        "max_inflight_messages 100\n"
        "connection hq\naddress 127.0.0.1:%d\ntopic # out 1\ncleansession false\n"
        "restart_timeout 1 2\nnotifications false\nbridge_protocol_version mqttv311\n" % hq_port))
    return hq, edge


def queue_into_bridge(n, size, work, edge_extra=""):
    port = free_port()
    hq, edge = bridge_pair(work, port, edge_extra)
    hq.start()
    register_sub(hq, "bench-sub", "bench/#")
    hq.stop()
    edge.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    subprocess.run([ARGS.pub, "tcp://127.0.0.1:%d" % edge.port, "bench/bridge", str(n), str(size), "100"],
                   check=True, stdout=subprocess.DEVNULL, timeout=max(300, n / 100))
    return hq, edge, time.monotonic() - t0


def run_bridge(n, size):
    work = os.path.join(ARGS.work, "bridge")
    hq, edge, dt = queue_into_bridge(n, size, work)
    result("bridge_queue_records_per_s", n / dt)
    result("bridge_rss_n_pending_mb", mb(proc_kb(edge.proc.pid, "VmRSS")))
    smp = Sampler(edge.proc.pid)
    edge_cpu0 = cpu_s(edge.proc.pid)
    t0 = time.monotonic()
    hq.start()
    counter = Counter(hq, "bench-sub", "bench/#", n)
    try:
        counter.proc.wait(max(300, n / 100))
    except subprocess.TimeoutExpired:
        counter.stop()
        raise RunError("bridge: HQ subscriber counted %d of %d" % (counter.count, n))
    counter.t.join(10)
    smp.stop()
    if counter.count != n:
        raise RunError("bridge: subscriber counted %d of %d" % (counter.count, n))
    span = time.monotonic() - t0
    result("bridge_drain_cpu_cores_edge", (cpu_s(edge.proc.pid) - edge_cpu0) / span)
    result("bridge_drain_cpu_cores_hq_broker", cpu_s(hq.proc.pid) / span)
    result("bridge_drain_s", counter.done_at - t0)
    result("bridge_drain_records_per_s", n / (counter.done_at - t0))
    result("bridge_hwm_mb", mb(smp.hwm))
    result("bridge_max_rss_mb", mb(smp.max_rss))
    edge.stop()
    hq.stop()

    # The same backlog, then SIGKILL of the edge mosquitto: what still arrives?
    # Once with mosquitto's default autosave (every 1800 s, and at a clean
    # stop), once saving every second.
    for label, extra in (("", ""), ("_autosave1", "autosave_interval 1\n")):
        work = os.path.join(ARGS.work, "bridge-kill" + label)
        hq, edge, _ = queue_into_bridge(n, size, work, extra)
        time.sleep(3)
        edge.kill()
        edge.start()
        hq.start()
        counter = Counter(hq, "bench-sub", "bench/#", n)
        # Done when all arrived, or nothing new for 10 s (the bridge retries every 1-2 s).
        wait_until(lambda: counter.proc.poll() is not None or time.monotonic() - counter.last_at > 10,
                   max(300, n / 100), "bridge-kill count to settle", 0.2)
        counter.stop()
        result("bridge%s_delivered_after_sigkill" % label, counter.count)
        edge.stop()
        hq.stop()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgated", required=True)
    ap.add_argument("--hq", required=True)
    ap.add_argument("--pub", required=True)
    ap.add_argument("--mosquitto", default="/usr/sbin/mosquitto")
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", choices=["postgated", "publisher", "bridge"], action="append")
    ap.add_argument("--perf", metavar="DIR", help="record perf call graphs of edge and HQ over the drain into DIR")
    ap.add_argument("--hq-arg", action="append", metavar="ARG",
                    help="an extra argument for postgate-hq serve, e.g. --group-commit-max=8")
    ap.add_argument("--uplink", action="append", metavar="KEY=JSON",
                    help="an extra uplink config key for postgated, e.g. max_inflight_batches=32")
    ARGS = ap.parse_args()
    n = ARGS.records
    only = set(ARGS.only or ["postgated", "publisher", "bridge"])
    result("records", n)
    size = 450
    try:
        if "postgated" in only:
            size = run_postgated(n)
        if "publisher" in only:
            run_publisher(n, size)
        if "bridge" in only:
            run_bridge(n, size)
    except (RunError, subprocess.SubprocessError, OSError) as e:
        print("RUN FAILED: %s (work dir %s)" % (e, ARGS.work))
        return 2
    return report(n)


def report(n):
    R = RESULTS.get
    rows = [("", "postgated", "plain QoS 1 publisher", "mosquitto bridge")]

    def f(k, fmt="%.0f"):
        v = R(k)
        return "-" if v is None else fmt % v
    rows.append(("drain records/s (HQ broker start -> last stored)", f("postgated_drain_records_per_s"),
                 f("publisher_drain_records_per_s"), f("bridge_drain_records_per_s")))
    rows.append(("drain seconds", f("postgated_drain_s", "%.2f"), f("publisher_drain_s", "%.2f"),
                 f("bridge_drain_s", "%.2f")))
    rows.append(("edge peak RSS MB (VmHWM)", "%s / %s" % (f("postgated_buffer_hwm_mb", "%.1f"),
                                                             f("postgated_drain_hwm_mb", "%.1f")),
                 f("publisher_hwm_mb", "%.1f"), f("bridge_hwm_mb", "%.1f")))
    rows.append(("edge RSS MB holding %d pending" % n, f("postgated_rss_n_pending_mb", "%.1f"), "n/a (no backlog)",
                 f("bridge_rss_n_pending_mb", "%.1f")))
    rows.append(("delivered after SIGKILL of the edge holding %d" % n, f("postgated_delivered_after_sigkill"),
                 "0 (by construction)", "%s (autosave 1 s: %s)" % (
                     f("bridge_delivered_after_sigkill"), f("bridge_autosave1_delivered_after_sigkill"))))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
    print("(postgated peak RSS: while buffering / while draining after the restart; RSS at 0 pending %s MB)"
          % f("postgated_rss_0_pending_mb", "%.1f"))
    print()
    ok = True

    def target(name, cond, detail):
        nonlocal ok
        if cond is None:
            print("n/a   %s" % name)
            return
        ok &= cond
        print("%s  %s (%s)" % ("PASS" if cond else "MISS", name, detail))
    pd, bd = R("postgated_drain_records_per_s"), R("bridge_drain_records_per_s")
    target("drain rate >= bridge's", None if pd is None or bd is None else pd >= bd,
           "%s vs %s records/s" % (f("postgated_drain_records_per_s"), f("bridge_drain_records_per_s")))
    peak = max(R("postgated_buffer_hwm_mb") or 0, R("postgated_drain_hwm_mb") or 0)
    target("postgated peak RSS <= 32 MB", None if R("postgated_drain_hwm_mb") is None else peak <= 32,
           "%.1f MB" % peak)
    r0, rt, rn = (R("postgated_rss_0_pending_mb"), R("postgated_rss_restart_tenth_pending_mb"),
                  R("postgated_rss_after_restart_mb"))
    target("postgated RSS flat from N/10 to N pending (fresh process, idle: grows <= 2 MB)",
           None if rt is None or rn is None else rn - rt <= 2,
           "%.1f MB holding N/10, %.1f MB holding N; 0 pending %.1f MB; under load by tenths %s MB" % (
               rt or 0, rn or 0, r0 or 0, R("postgated_rss_by_tenth_mb")))
    s = R("postgated_delivered_after_sigkill")
    target("100% of acknowledged records survive SIGKILL", None if s is None else s == n
           and R("postgated_hq_gaps") == 0, "%s of %d at HQ, gaps %s" % (s, n, R("postgated_hq_gaps")))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
