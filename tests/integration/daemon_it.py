#!/usr/bin/python3
"""Integration tests of postgated and postgatectl: each case starts the real
daemon on a temporary config, socket and database, and talks to it over the
local API (docs/api.md). Standard library only.

    daemon_it.py --postgated PATH --postgatectl PATH CASE
    daemon_it.py --postgated PATH --postgatectl PATH all

Synthetic data only: ID numbers and S10 waybills are generated here with
valid check digits; names are placeholders.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ARGS = None
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# ---------------------------------------------------------------- synthetic data

GB_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB_C = "10X98765432"
S10_W = [8, 6, 4, 2, 3, 5, 9, 7]
REGIONS = ["110105", "310104", "440305", "510107", "330106"]
NAMES = ["TEST PERSON", "SAMPLE SENDER", "DEMO CUSTOMER", "PLACEHOLDER NAME"]


def resident_id(rng):
    first = "%s%04d%02d%02d%03d" % (rng.choice(REGIONS), rng.randint(1950, 2000),
                                   rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 999))
    return first + GB_C[sum(int(d) * w for d, w in zip(first, GB_W)) % 11]


def s10(rng):
    serial = "%08d" % rng.randint(0, 99999999)
    c = 11 - sum(int(d) * w for d, w in zip(serial, S10_W)) % 11
    c = 0 if c == 10 else 5 if c == 11 else c
    return "EA%s%dCN" % (serial, c)


def make_record(rng, ref, counter="c1"):
    rec = {
        "counter": counter,
        "operator": "op-it",
        "sender": {"name": rng.choice(NAMES), "doc_type": "resident_id",
                   "doc_number": resident_id(rng)},
        "waybills": [s10(rng) for _ in range(rng.randint(1, 3))],
        "declared": rng.choice(["books", "clothes", "tea", "shoes"]),
        "inspection": "pass",
    }
    if len(set(rec["waybills"])) != len(rec["waybills"]):
        rec["waybills"] = rec["waybills"][:1]
    if ref is not None:
        rec["ref"] = ref
    return rec


def submit_line(rec):
    return json.dumps({"op": "submit", "record": rec}) + "\n"


# ---------------------------------------------------------------- daemon handling

CONFIG = """\
outlet: it-outlet
counters:
  - id: c1
    name: Counter 1
{extra_counters}
storage:
  path: {db}
  key_file: {key}
  create_key: true
api:
  socket: {sock}
  max_line_bytes: 4096
  max_clients: 8
{adapters}
logging:
  level: {level}
"""


class Env:
    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="pg-it-%s-" % name)
        self.config = os.path.join(self.dir, "postgate.yaml")
        self.sock = os.path.join(self.dir, "run", "postgate.sock")
        self.db = os.path.join(self.dir, "state", "postgate.db")
        os.makedirs(os.path.dirname(self.sock))
        os.makedirs(os.path.dirname(self.db))
        self.proc = None
        self.log_path = os.path.join(self.dir, "postgated.log")
        self.log = None
        self.write_config()

    def write_config(self, extra_counters="", adapters="", level="info", db=None, raw=None):
        text = raw if raw is not None else CONFIG.format(
            extra_counters=extra_counters, db=db or self.db,
            key=os.path.join(self.dir, "state", "postgate.key"), sock=self.sock,
            adapters=adapters, level=level)
        with open(self.config, "w") as f:
            f.write(text)

    def start(self, wait=True, extra_env=None):
        self.log = open(self.log_path, "a")
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM",
                  "CREDENTIALS_DIRECTORY"):
            env.pop(k, None)
        if callable(extra_env):
            extra_env = extra_env(self.log)
        env.update(extra_env or {})
        self.proc = subprocess.Popen([ARGS.postgated, "--config", self.config],
                                     stdout=self.log, stderr=self.log, env=env)
        if wait:
            self.wait_ready()
        return self.proc

    def wait_ready(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise Fail("postgated exited with %s during start:\n%s" % (self.proc.returncode, self.logs()))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        raise Fail("postgated did not open %s in %ss" % (self.sock, timeout))

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=20):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Fail("postgated did not exit in %ss" % timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.wait_exit()

    def logs(self):
        if self.log:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if re.search(pattern, self.logs()):
                return
            time.sleep(0.05)
        raise Fail("log never matched %r:\n%s" % (pattern, self.logs()))

    def cleanup(self, ok):
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
        finally:
            if ok:
                shutil.rmtree(self.dir, ignore_errors=True)
            else:
                sys.stderr.write("kept %s for inspection\n--- daemon log ---\n%s\n" % (self.dir, self.logs()))

    def client(self):
        return Client(self.sock)


class Client:
    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, text):
        self.s.sendall(text.encode() if isinstance(text, str) else text)

    def read_line(self):
        """The next answer line, or None at end of stream."""
        while b"\n" not in self.buf:
            try:
                chunk = self.s.recv(1 << 16)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def ask(self, req):
        self.send(json.dumps(req) + "\n")
        a = self.read_line()
        check(a is not None, "connection closed instead of answering %r" % (req,))
        return a

    def close(self):
        self.s.close()


def all_records(env):
    """Every stored record, oldest first, through the records op (pages of 1000)."""
    c = env.client()
    out, after = [], 0
    while True:
        a = c.ask({"op": "records", "pending": True, "after": after, "limit": 1000})
        check(a.get("ok"), "records failed: %r" % a)
        out += a["records"]
        if len(a["records"]) < 1000:
            break
        after = a["records"][-1]["seq"]
    c.close()
    return out


def pipeline(env, lines, on_answer=None):
    """Sends every line from a writer thread while reading answers here.
    Returns the answers received (None for the rest if the stream ended)."""
    c = env.client()
    err = []

    def writer():
        try:
            for l in lines:
                c.send(l)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    answers = []
    for i in range(len(lines)):
        a = c.read_line()
        if a is None:
            break
        answers.append(a)
        if on_answer:
            on_answer(i, a)
    t.join(30)
    c.close()
    return answers


def masked_matches(stored, sent):
    n = sent["sender"]["doc_number"]
    m = stored["sender"]["doc_number"]
    return m.startswith(n[:6]) and m.endswith(n[-4:]) and "*" in m and m != n


def check_seq_gapless(records):
    seqs = [r["seq"] for r in records]
    check(seqs == list(range(1, len(seqs) + 1)),
          "seq not gapless from 1: %s..." % (seqs[:5] if len(seqs) < 10 else
                                             [s for i, s in enumerate(seqs) if s != i + 1][:5]))


# ---------------------------------------------------------------- cases

@case
def crash_recovery(env):
    """1,000 pipelined submits, SIGKILL after ~500 answers, restart: every
    answered record is intact, seq is gapless, re-submitting every ref adds
    nothing and answers with the original seq."""
    rng = random.Random(20261123)
    N = 1000
    recs = [make_record(rng, "it-%04d" % i) for i in range(N)]
    env.start()
    killed = threading.Event()

    def on_answer(i, a):
        if i + 1 == 500 and not killed.is_set():
            env.kill(signal.SIGKILL)
            killed.set()

    answers = pipeline(env, [submit_line(r) for r in recs], on_answer)
    env.wait_exit()
    check(killed.is_set(), "fewer than 500 answers before the stream ended: %d" % len(answers))
    answered = {}
    for i, a in enumerate(answers):
        check(a.get("ok"), "answer %d not ok: %r" % (i, a))
        answered[recs[i]["ref"]] = a
    print("answered before the kill: %d of %d" % (len(answered), N))

    env.start()  # the stale socket left by SIGKILL must not stop it
    stored = all_records(env)
    check_seq_gapless(stored)
    by_ref = {r["ref"]: r for r in stored}
    check(len(by_ref) == len(stored), "a ref is stored twice")
    check(len(stored) >= len(answered), "fewer records (%d) than ok answers (%d)" % (len(stored), len(answered)))
    sent_by_ref = {r["ref"]: r for r in recs}
    for ref, a in answered.items():
        r = by_ref.get(ref)
        check(r is not None, "answered record %s is missing after the crash" % ref)
        check(r["seq"] == a["seq"] and r["id"] == a["id"], "record %s changed seq/id" % ref)
        sent = sent_by_ref[ref]
        check(r["waybills"] == sent["waybills"] and r["counter"] == sent["counter"] and
              r["declared"] == sent["declared"] and masked_matches(r, sent),
              "record %s is not intact: %r" % (ref, r))
    for r in stored:
        check(r["ref"] in sent_by_ref, "unknown record %r" % r["ref"])
        check(masked_matches(r, sent_by_ref[r["ref"]]), "record %s is not intact" % r["ref"])
    print("stored after restart: %d (seq 1..%d, no gap)" % (len(stored), len(stored)))

    # Every ref again, pipelined: nothing stored twice, first answers returned.
    again = pipeline(env, [submit_line(r) for r in recs])
    check(len(again) == N, "only %d answers to the re-submit" % len(again))
    dup = 0
    for i, a in enumerate(again):
        ref = recs[i]["ref"]
        check(a.get("ok"), "re-submit %s failed: %r" % (ref, a))
        if ref in by_ref:
            check(a.get("duplicate") is True, "re-submit of stored %s not a duplicate: %r" % (ref, a))
            check(a["seq"] == by_ref[ref]["seq"] and a["id"] == by_ref[ref]["id"],
                  "re-submit of %s answered seq %s, first was %s" % (ref, a["seq"], by_ref[ref]["seq"]))
            dup += 1
    final = all_records(env)
    check(len(final) == N, "expected %d records after re-submit, got %d" % (N, len(final)))
    check_seq_gapless(final)
    once_more = pipeline(env, [submit_line(r) for r in recs])
    check(all(a.get("duplicate") for a in once_more) and len(once_more) == N, "third pass stored again")
    check(len(all_records(env)) == N, "third pass changed the count")
    print("re-submit: %d duplicates answered with their first seq, %d new; total %d" % (dup, N - dup, N))
    env.stop()
    check(env.proc.returncode == 0, "exit code %s after SIGTERM" % env.proc.returncode)


@case
def api_errors(env):
    """Malformed lines, unknown op, validation errors, oversize line, a client
    that vanishes with requests in flight."""
    rng = random.Random(7)
    env.start()
    c = env.client()
    c.send("this is not json\n")
    a = c.read_line()
    check(a["ok"] is False and a["error"]["code"] == "bad_json", "bad json: %r" % a)
    a = c.ask([1, 2])
    check(a["error"]["code"] == "bad_request", "array: %r" % a)
    a = c.ask({"noop": 1})
    check(a["error"]["code"] == "bad_request" and a["error"]["field"] == "op", "no op: %r" % a)
    a = c.ask({"op": "explode"})
    check(a["error"]["code"] == "unknown_op", "unknown op: %r" % a)
    rec = make_record(rng, "bad-1")
    rec["sender"]["doc_number"] = rec["sender"]["doc_number"][:17] + (
        "0" if rec["sender"]["doc_number"][17] != "0" else "1")
    a = c.ask({"op": "submit", "record": rec})
    check(a["ok"] is False and a["error"]["field"] == "sender.doc_number", "bad check digit: %r" % a)
    check(rec["sender"]["doc_number"] not in json.dumps(a), "an error echoed the document number")
    rec = make_record(rng, "bad-2")
    rec["waybills"] = ["EA000000000CN"]
    a = c.ask({"op": "submit", "record": rec})
    check(a["ok"] is False and a["error"]["field"].startswith("waybills"), "bad waybill: %r" % a)
    rec = make_record(rng, "bad-3", counter="c9")
    a = c.ask({"op": "submit", "record": rec})
    check(a["error"]["code"] == "unknown_counter", "unknown counter: %r" % a)
    a = c.ask({"op": "submit", "record": make_record(rng, "good-1")})
    check(a["ok"] is True and a["seq"] == 1, "good record: %r" % a)
    # Still usable after all those errors; then an oversize line closes it.
    c.send("x" * 5000 + "\n")
    a = c.read_line()
    check(a and a["error"]["code"] == "line_too_long", "oversize: %r" % a)
    check(c.read_line() is None, "connection stays open after line_too_long")
    c.close()

    # A client that sends 200 submits and vanishes: no crash, they still commit.
    c = env.client()
    c.send("".join(submit_line(make_record(rng, "gone-%03d" % i)) for i in range(200)))
    c.s.close()
    end = time.time() + 10
    while time.time() < end:
        s = env.client().ask({"op": "status"})
        check(s["ok"], "status after a vanished client: %r" % s)
        if s["status"]["records"] == 201:
            break
        time.sleep(0.05)
    check(s["status"]["records"] == 201, "vanished client's records: %r" % s["status"]["records"])
    check_seq_gapless(all_records(env))
    # Many clients at once beyond max_clients (8): the extra ones are refused.
    conns = [env.client() for _ in range(8)]
    for k in conns:
        check(k.ask({"op": "status"})["ok"], "status on a pooled connection")
    extra = env.client()
    a = extra.read_line()
    check(a and a["error"]["code"] == "too_many_clients", "9th client: %r" % a)
    for k in conns:
        k.close()
    time.sleep(0.1)
    check(env.client().ask({"op": "status"})["ok"], "status after the pool closed")
    env.stop()
    check(env.proc.returncode == 0, "exit code %s" % env.proc.returncode)
    check(rec["sender"]["doc_number"] not in env.logs(), "the log holds a document number")


@case
def sigterm_drains(env):
    """SIGTERM mid-stream: exit 0, and every request the daemon took is
    answered (and durable) before the connection closes."""
    rng = random.Random(11)
    recs = [make_record(rng, "term-%04d" % i) for i in range(600)]
    env.start()
    sent = threading.Event()

    def on_answer(i, a):
        if i == 20 and not sent.is_set():
            env.kill(signal.SIGTERM)
            sent.set()

    answers = pipeline(env, [submit_line(r) for r in recs], on_answer)
    code = env.wait_exit()
    check(code == 0, "exit code %s after SIGTERM" % code)
    check(all(a.get("ok") for a in answers), "an answer during shutdown was not ok: %r" %
          [a for a in answers if not a.get("ok")][:1])
    env.wait_log(r"SIGTERM: stopping")
    env.wait_log(r"stopped \(")
    check(not os.path.exists(env.sock), "socket file left after a clean stop")
    env.start()
    stored = all_records(env)
    check(len(stored) == len(answers), "%d answered ok but %d stored" % (len(answers), len(stored)))
    check_seq_gapless(stored)
    print("answered and stored before exit: %d of %d" % (len(answers), len(recs)))
    env.stop()


@case
def sighup_reload(env):
    """SIGHUP: a broken config is refused (old one kept, logged); a valid one
    is applied (new counter usable) and restart-only changes are named."""
    rng = random.Random(5)
    env.start()
    good = open(env.config).read()
    env.write_config(raw=good + "counters: [ this is : not valid\n")
    env.kill(signal.SIGHUP)
    env.wait_log(r"reload: .*keeping the running configuration")
    env.wait_log(r"reload: .*postgate\.yaml:\d+")
    a = env.client().ask({"op": "submit", "record": make_record(rng, "h-1")})
    check(a["ok"], "submit after a refused reload: %r" % a)
    a = env.client().ask({"op": "submit", "record": make_record(rng, "h-2", counter="c2")})
    check(a["error"]["code"] == "unknown_counter", "c2 before the reload: %r" % a)

    env.write_config(extra_counters="  - id: c2\n    name: Counter 2", level="debug",
                     db=os.path.join(env.dir, "state", "other.db"))
    env.kill(signal.SIGHUP)
    env.wait_log(r"reload: applied counters: c1 -> c1,c2")
    env.wait_log(r"reload: storage.path changed: needs restart")
    env.wait_log(r"reload: applied logging.level")
    a = env.client().ask({"op": "submit", "record": make_record(rng, "h-3", counter="c2")})
    check(a["ok"] and a["seq"] == 2, "c2 after the reload: %r" % a)
    s = env.client().ask({"op": "status"})["status"]
    check([c["id"] for c in s["counters"]] == ["c1", "c2"], "counters: %r" % s["counters"])
    check(s["storage"]["path"] == env.db, "storage path changed at runtime: %r" % s["storage"])
    env.stop()
    check(env.proc.returncode == 0, "exit code %s" % env.proc.returncode)


@case
def second_daemon_refused(env):
    """A second daemon on a live socket refuses to start; the first keeps serving."""
    env.start()
    p = subprocess.run([ARGS.postgated, "--config", env.config], capture_output=True, text=True,
                       timeout=20)
    check(p.returncode != 0, "second daemon started")
    check("another daemon" in p.stderr, "second daemon's message: %r" % p.stderr)
    check(env.client().ask({"op": "status"})["ok"], "first daemon stopped serving")
    env.stop()


@case
def read_your_writes(env):
    """A records or status request pipelined behind submits on one connection
    sees every record those submits stored."""
    env.start()
    rng = random.Random(11)
    c = env.client()
    n = 50
    batch = "".join(submit_line(make_record(rng, "ryw-%d" % i)) for i in range(n))
    c.send(batch + json.dumps({"op": "records", "limit": 1000}) + "\n"
           + json.dumps({"op": "status"}) + "\n")
    answers = [c.read_line() for _ in range(n + 2)]
    check(all(a and a.get("ok") for a in answers[:n]), "a submit failed: %r" % answers[:n])
    seqs = {a["seq"] for a in answers[:n]}
    listed = {r["seq"] for r in answers[n]["records"]}
    check(seqs <= listed, "records answer misses %d earlier submit(s)" % len(seqs - listed))
    check(answers[n + 1]["status"]["last_seq"] >= max(seqs), "status behind earlier submits")
    c.close()
    env.stop()


@case
def check_config(env):
    """postgated --check-config: ok on a good file, file:line:col problems on a bad one."""
    p = subprocess.run([ARGS.postgated, "--check-config", env.config], capture_output=True,
                       text=True, timeout=20)
    check(p.returncode == 0, "good config: rc %d, %s" % (p.returncode, p.stderr))
    check(p.stdout.strip() == env.config + ": ok", "good config stdout: %r" % p.stdout)
    bad = os.path.join(env.dir, "bad.yaml")
    with open(bad, "w") as f:
        f.write("outlet: x\ncounters:\n  - id: c1\napi:\n  max_clients: lots\n  sockett: /x\n")
    p = subprocess.run([ARGS.postgated, "--check-config", bad], capture_output=True, text=True,
                       timeout=20)
    check(p.returncode == 1, "bad config: rc %d" % p.returncode)
    lines = [l for l in p.stderr.splitlines() if l]
    check(len(lines) >= 2, "expected every problem, got %r" % p.stderr)
    for l in lines:
        check(re.match(re.escape(bad) + r":\d+:\d+: \S+: .+", l), "problem line shape: %r" % l)
    p = subprocess.run([ARGS.postgated, "--check-config", os.path.join(env.dir, "missing.yaml")],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 1 and "missing.yaml" in p.stderr, "missing file: %r" % p.stderr)
    # The daemon itself refuses a bad file with EX_CONFIG (78).
    p = subprocess.run([ARGS.postgated, "--config", bad], capture_output=True, text=True, timeout=20)
    check(p.returncode == 78, "postgated on a bad config: rc %d" % p.returncode)


@case
def postgatectl(env):
    """postgatectl status / records / submit against a live daemon."""
    rng = random.Random(3)
    env.write_config(adapters="adapters:\n  - kind: demo\n    counter: c1\n    rate_per_s: 50\n    count: 5\n")
    env.start()
    ctl = ARGS.postgatectl

    def run(*args, stdin=None):
        return subprocess.run([ctl] + list(args), input=stdin, capture_output=True, text=True,
                              timeout=30)

    end = time.time() + 10
    while time.time() < end:
        s = env.client().ask({"op": "status"})["status"]
        if s["records"] == 5:
            break
        time.sleep(0.05)
    check(s["records"] == 5 and s["devices"][0]["state"] == "finished", "demo adapter: %r" % s)

    p = run("--config", env.config, "status")
    check(p.returncode == 0 and "it-outlet" in p.stdout and "records   5" in p.stdout,
          "status: %d %r %r" % (p.returncode, p.stdout, p.stderr))
    p = run("--socket", env.sock, "--json", "status")
    check(p.returncode == 0 and json.loads(p.stdout)["status"]["last_seq"] == 5, "status --json: %r" % p.stdout)
    p = run("--socket", env.sock, "records", "--limit", "3")
    rows = p.stdout.splitlines()
    check(p.returncode == 0 and rows[0].startswith("SEQ") and len(rows) == 4 and rows[1].startswith("5 "),
          "records table: %r" % p.stdout)
    p = run("--socket", env.sock, "--json", "records", "--pending", "--limit", "2")
    check([r["seq"] for r in json.loads(p.stdout)["records"]] == [1, 2], "records --pending: %r" % p.stdout)

    good = [make_record(rng, "ctl-%d" % i) for i in range(50)]
    invalid = make_record(rng, "ctl-bad")
    invalid["inspection"] = "maybe"
    text = "\n".join([json.dumps(r) for r in good[:10]] + ["{not json"] + [json.dumps(invalid)] +
                     [json.dumps(r) for r in good[10:]]) + "\n"
    p = run("--socket", env.sock, "submit", stdin=text)
    out = [json.loads(l) for l in p.stdout.splitlines()]
    check(p.returncode == 1, "submit with failures: rc %d" % p.returncode)
    check(len(out) == 52, "one answer per input line: %d" % len(out))
    check(out[10]["error"]["code"] == "bad_json" and out[11]["ok"] is False, "failure lines in place: %r" % out[10:12])
    okays = [a for i, a in enumerate(out) if i not in (10, 11)]
    check(all(a["ok"] for a in okays), "good records: %r" % okays[:2])
    check([a["seq"] for a in okays] == list(range(6, 56)), "answers in input order")

    path = os.path.join(env.dir, "more.jsonl")
    with open(path, "w") as f:
        f.write("".join(json.dumps(make_record(rng, "file-%d" % i)) + "\n" for i in range(5)))
    p = run("--socket", env.sock, "submit", "--file", path)
    check(p.returncode == 0 and len(p.stdout.splitlines()) == 5, "submit --file: %r %r" % (p.stdout, p.stderr))
    p = run("--socket", env.sock, "submit", "--file", path)  # same refs: duplicates, still ok
    check(p.returncode == 0 and all(json.loads(l).get("duplicate") for l in p.stdout.splitlines()),
          "re-submit --file: %r" % p.stdout)

    missing = os.path.join(env.dir, "nobody.sock")
    p = run("--socket", missing, "status")
    check(p.returncode == 2 and missing in p.stderr, "unreachable: %d %r" % (p.returncode, p.stderr))
    env.stop()


@case
def systemd_notify(env):
    """sd_notify: READY=1 once serving, WATCHDOG=1 every half interval from the
    loop, STOPPING=1 on SIGTERM; journal-style log lines under JOURNAL_STREAM."""
    path = os.path.join(env.dir, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(5)

    def journal(log):
        st = os.fstat(log.fileno())
        return {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000",
                "JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}

    env.start(wait=False, extra_env=journal)
    msgs = []

    def recv_until(pred, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            try:
                msgs.append(ns.recv(4096).decode())
            except socket.timeout:
                break
            if pred():
                return True
        return pred()

    check(recv_until(lambda: any("READY=1" in m for m in msgs)), "no READY=1: %r" % msgs)
    ready_at = next(i for i, m in enumerate(msgs) if "READY=1" in m)
    check("STATUS=serving it-outlet" in msgs[ready_at], "READY without STATUS: %r" % msgs[ready_at])
    env.wait_ready()
    t0 = time.time()
    check(recv_until(lambda: sum(m == "WATCHDOG=1" for m in msgs) >= 5), "watchdog pings: %r" % msgs)
    pings = sum(m == "WATCHDOG=1" for m in msgs)
    check(time.time() - t0 < 2.5, "%d pings took %.1fs (expected every 0.2s)" % (pings, time.time() - t0))
    env.kill(signal.SIGTERM)
    check(recv_until(lambda: any("STOPPING=1" in m for m in msgs)), "no STOPPING=1: %r" % msgs[-3:])
    check(env.wait_exit() == 0, "exit code")
    lines = [l for l in env.logs().splitlines() if l]
    check(lines and all(re.match(r"<[0-7]>", l) for l in lines), "journal lines: %r" % lines[:3])
    check(not re.match(r"<\d>\d{4}-", lines[0]), "journal lines carry timestamps: %r" % lines[0])
    ns.close()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgated", required=True)
    ap.add_argument("--postgatectl", required=True)
    ap.add_argument("case", choices=sorted(CASES) + ["all"])
    ARGS = ap.parse_args()
    names = sorted(CASES) if ARGS.case == "all" else [ARGS.case]
    failed = 0
    for name in names:
        env = Env(name)
        ok = False
        t0 = time.time()
        try:
            CASES[name](env)
            ok = True
            print("PASS %s (%.1fs)" % (name, time.time() - t0))
        except Fail as e:
            print("FAIL %s: %s" % (name, e))
        except Exception as e:  # noqa: BLE001 - report, keep the evidence
            print("ERROR %s: %s: %s" % (name, type(e).__name__, e))
        finally:
            env.cleanup(ok)
        failed += not ok
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
