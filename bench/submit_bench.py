#!/usr/bin/python3
"""Load generator for postgated's local API (bench/run drives it).

Speaks the API contract: newline-delimited JSON over a Unix stream socket,
{"op":"submit","record":{...}} answered {"ok":true,"id":..,"seq":..} once the
record is durable, answers in request order, pipelining allowed.

  submit_bench.py latency    --socket S --rate 100 --duration 20
  submit_bench.py throughput --socket S --connections 4 --window 64 --duration 10
  submit_bench.py selftest

Results are printed as "key value" lines for bench/run to parse. Every record
is synthetic and unique within a run: a GB 11643 resident ID number and an S10
waybill number derived from the record index (--first moves the range so that
several phases against one daemon never collide).

Standard library only, so it runs on an outlet box without extra packages.
"""

import argparse
import datetime
import json
import math
import multiprocessing
import os
import resource
import selectors
import socket
import sys
import time

GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = "10X98765432"
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)

# Province-level codes only (the validator checks the first two digits).
REGIONS = ("110101", "310104", "440305", "510107", "330106", "420102")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
BIRTH_EPOCH = datetime.date(1950, 1, 1)
BIRTH_SPAN_DAYS = 18000  # 1950-01-01 .. 1999-04-14: always in the past


def gb11643_check_char(first17):
    s = sum(int(c) * w for c, w in zip(first17, GB11643_WEIGHTS))
    return GB11643_CHECK[s % 11]


def s10_check_digit(serial8):
    c = 11 - sum(int(c) * w for c, w in zip(serial8, S10_WEIGHTS)) % 11
    return {10: 0, 11: 5}.get(c, c)


def resident_id(i):
    """A valid, synthetic 18-character number, distinct for i < 18,000,000."""
    birth = BIRTH_EPOCH + datetime.timedelta(days=(i // 1000) % BIRTH_SPAN_DAYS)
    first17 = "%s%s%03d" % (REGIONS[i % len(REGIONS)], birth.strftime("%Y%m%d"), i % 1000)
    return first17 + gb11643_check_char(first17)


def waybill(i):
    """A valid S10 number, distinct for i < 100,000,000."""
    serial = "%08d" % (i % 100_000_000)
    return "EA%s%dCN" % (serial, s10_check_digit(serial))


def synthetic_name(i):
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)] + GIVEN[(i // 500) % len(GIVEN)]


def submit_line(i):
    record = {
        "ref": "bench-%d" % i,
        "counter": "c1",
        "operator": "op-17",
        "sender": {"name": synthetic_name(i), "doc_type": "resident_id", "doc_number": resident_id(i)},
        "waybills": [waybill(i)],
        "declared": "books",
        "inspection": "pass",
    }
    return (json.dumps({"op": "submit", "record": record}, ensure_ascii=False) + "\n").encode()


def connect(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Answers:
    """Splits the byte stream into answers; remembers the first error."""

    def __init__(self):
        self.buf = b""
        self.errors = 0
        self.first_error = None

    def feed(self, data):
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            # Parsing every answer costs the client time; "ok":true is cheap
            # to spot, only failures are decoded.
            if b'"ok":true' not in line and b'"ok": true' not in line:
                self.errors += 1
                if self.first_error is None:
                    try:
                        self.first_error = json.loads(line).get("error", line.decode(errors="replace"))
                    except ValueError:
                        self.first_error = line.decode(errors="replace")
        return len(lines)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    # Nearest rank: the smallest value with at least p% of values <= it.
    k = max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[k]


def run_latency(args):
    """Open loop: send on a fixed schedule whatever the answers do; the latency
    of a record is from its send to its answer, so a stalled daemon shows up as
    a long tail rather than as a slower send rate."""
    sock = connect(args.socket)
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    answers = Answers()
    interval = 1.0 / args.rate
    total = int(args.rate * args.duration)
    lines = [submit_line(args.first + k) for k in range(total)]
    sent_at = []
    latencies = []
    start = time.perf_counter() + 0.1
    next_send = start
    sent = 0
    deadline = start + args.duration + args.drain_s
    while len(latencies) < total:
        now = time.perf_counter()
        if now > deadline:
            break
        if sent < total and now >= next_send:
            sent_at.append(time.perf_counter())
            sock.sendall(lines[sent])  # 600 bytes: fits the socket buffer
            sent += 1
            next_send = start + sent * interval
            continue
        timeout = (next_send - now) if sent < total else (deadline - now)
        for _key, _ev in sel.select(max(0.0, timeout)):
            data = sock.recv(65536)
            got = time.perf_counter()
            if not data:
                raise SystemExit("daemon closed the connection after %d answers" % len(latencies))
            for _ in range(answers.feed(data)):
                latencies.append(got - sent_at[len(latencies)])
    sock.close()
    lat_ms = sorted(x * 1000.0 for x in latencies)
    print("latency_sent %d" % sent)
    print("latency_answered %d" % len(latencies))
    print("latency_errors %d" % answers.errors)
    if answers.first_error is not None:
        print("latency_first_error %s" % json.dumps(answers.first_error, ensure_ascii=True))
    print("latency_rate_per_s %.1f" % args.rate)
    print("latency_p50_ms %.3f" % percentile(lat_ms, 50))
    print("latency_p99_ms %.3f" % percentile(lat_ms, 99))
    print("latency_max_ms %.3f" % (lat_ms[-1] if lat_ms else float("nan")))
    return 0 if len(latencies) == total and answers.errors == 0 else 1


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def throughput_worker(conn_pipe, socket_path, connections, window, first, duration, warmup):
    """One process driving `connections` sockets, each kept `window` deep.
    Counts answers that arrive inside [t0 + warmup, t0 + warmup + duration)."""
    socks = [connect(socket_path) for _ in range(connections)]
    sel = selectors.DefaultSelector()
    state = {}
    index = first
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        state[s] = Answers()
    conn_pipe.send("ready")
    t0 = conn_pipe.recv()  # CLOCK_MONOTONIC is shared by all processes
    while time.monotonic() < t0:
        time.sleep(0.001)
    measure_from = t0 + warmup
    end = measure_from + duration
    counted = 0
    cpu_start = None
    in_flight = {s: 0 for s in socks}

    def top_up(s):
        nonlocal index
        need = window - in_flight[s]
        if need <= 0:
            return
        payload = b"".join(submit_line(index + k) for k in range(need))
        index += need
        s.setblocking(True)
        s.sendall(payload)
        s.setblocking(False)
        in_flight[s] += need

    for s in socks:
        top_up(s)
    while True:
        now = time.monotonic()
        if now >= end:
            break
        for key, _ev in sel.select(end - now):
            s = key.fileobj
            data = s.recv(262144)
            if not data:
                raise SystemExit("daemon closed a connection")
            n = state[s].feed(data)
            in_flight[s] -= n
            now = time.monotonic()
            if measure_from <= now < end:
                counted += n
                if cpu_start is None:
                    cpu_start = cpu_seconds()
            if now < end:
                top_up(s)
    cpu = cpu_seconds() - cpu_start if cpu_start is not None else 0.0
    # Collect the answers still owed before closing, so the daemon sees clients
    # leave cleanly rather than resets in the middle of commits.
    drain_end = time.monotonic() + 10.0
    while any(in_flight.values()) and time.monotonic() < drain_end:
        for key, _ev in sel.select(max(0.0, drain_end - time.monotonic())):
            s = key.fileobj
            data = s.recv(262144)
            if not data:
                in_flight[s] = 0
                sel.unregister(s)
                continue
            in_flight[s] -= state[s].feed(data)
    errors = sum(a.errors for a in state.values())
    first_error = next((a.first_error for a in state.values() if a.first_error is not None), None)
    for s in socks:
        s.close()
    conn_pipe.send((counted, errors, first_error, index - first, cpu))


def run_throughput(args):
    """Closed loop at the daemon's pace: every connection keeps `window`
    submits outstanding, so the rate is what postgated sustains (provided the
    client is not the bottleneck: see bench/README.md)."""
    procs = max(1, min(args.procs, args.connections))
    per_proc = [args.connections // procs + (1 if k < args.connections % procs else 0) for k in range(procs)]
    # Record indices per process, so no two processes collide; resident_id()
    # is distinct below 18M: 1M (latency phase) + 8 processes x 2M.
    stride = 2_000_000
    pipes, workers = [], []
    for k, n in enumerate(per_proc):
        parent, child = multiprocessing.Pipe()
        w = multiprocessing.Process(
            target=throughput_worker,
            args=(child, args.socket, n, args.window, args.first + k * stride, args.duration, args.warmup),
        )
        w.start()
        pipes.append(parent)
        workers.append(w)
    for p in pipes:
        p.recv()
    t0 = time.monotonic() + 0.05
    for p in pipes:
        p.send(t0)
    counted = errors = sent = 0
    cpu = 0.0
    first_error = None
    for p in pipes:
        c, e, fe, s, u = p.recv()
        counted += c
        errors += e
        sent += s
        cpu += u
        first_error = first_error or fe
    for w in workers:
        w.join()
    print("throughput_connections %d" % args.connections)
    print("throughput_window %d" % args.window)
    print("throughput_processes %d" % procs)
    print("throughput_sent %d" % sent)
    print("throughput_errors %d" % errors)
    if first_error is not None:
        print("throughput_first_error %s" % json.dumps(first_error, ensure_ascii=True))
    print("throughput_records_per_s %.1f" % (counted / args.duration))
    # CPU the client itself burnt while measuring, in cores: when it nears the
    # machine's core count minus what postgated needs, the client is the limit.
    print("throughput_client_cpu_cores %.2f" % (cpu / args.duration))
    return 0 if errors == 0 and counted > 0 else 1


def run_selftest(_args):
    # Published examples (DOMAIN.md section 3).
    assert gb11643_check_char("11010519491231002") == "X"
    assert gb11643_check_char("44052418800101001") == "4"
    assert s10_check_digit("12345678") == 5
    assert s10_check_digit("47312482") == 9
    ids = {resident_id(i) for i in range(200_000)}
    bills = {waybill(i) for i in range(200_000)}
    assert len(ids) == 200_000 and len(bills) == 200_000
    line = submit_line(12345)
    json.loads(line)
    print("selftest ok (%d bytes a submit line)" % len(line))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    lat = sub.add_parser("latency", help="open-loop latency at a fixed rate")
    lat.add_argument("--socket", required=True)
    lat.add_argument("--rate", type=float, default=100.0, help="records per second")
    lat.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    lat.add_argument("--drain-s", type=float, default=5.0, help="wait for late answers")
    lat.add_argument("--first", type=int, default=0, help="first record index")
    thr = sub.add_parser("throughput", help="maximum sustained rate, pipelined")
    thr.add_argument("--socket", required=True)
    thr.add_argument("--connections", type=int, default=4)
    thr.add_argument("--window", type=int, default=64, help="outstanding submits per connection")
    thr.add_argument("--procs", type=int, default=os.cpu_count() or 1, help="client processes")
    thr.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    thr.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    thr.add_argument("--first", type=int, default=1_000_000)
    sub.add_parser("selftest", help="check the synthetic number generators")
    args = ap.parse_args()
    return {"latency": run_latency, "throughput": run_throughput, "selftest": run_selftest}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
