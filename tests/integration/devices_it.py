#!/usr/bin/python3
"""The counter flow through real device drivers: postgated opens a serial
ID-card reader and a serial barcode scanner, each a pseudo-terminal whose
other end is played here (the SAM protocol is written from DOMAIN.md section
2 independently of adapters/idcard/codec). Checks: badge -> card on reader ->
waybill -> contents -> OK gives a durable record with the card's identity;
a card left on the reader is read once; card removed and a new one placed;
CANCEL commits nothing; a garbage reply and a bad scan are counted, not
fatal; unplugging the reader mid-session and plugging it back works.

    devices_it.py --postgated PATH --postgatectl PATH CASE

Synthetic data only: the ID number is generated here with a valid check
character; the name is a placeholder.
"""
import argparse
import datetime
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tty

ARGS = None
CASES = {}
GB_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB_C = "10X98765432"


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_until(pred, timeout, what, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise Fail("timed out after %.1fs waiting for %s" % (timeout, what))


def resident_id(rng):
    first = "%s%04d%02d%02d%03d" % (rng.choice(["110105", "310104", "440305"]),
                                   rng.randint(1950, 2000), rng.randint(1, 12),
                                   rng.randint(1, 28), rng.randint(0, 999))
    return first + GB_C[sum(int(d) * w for d, w in zip(first, GB_W)) % 11]


def s10(serial):
    """A UPU S10 waybill with a valid check digit (synthetic serial)."""
    digits = "%08d" % serial
    c = 11 - sum(int(d) * w for d, w in zip(digits, [8, 6, 4, 2, 3, 5, 9, 7])) % 11
    return "RA%s%dCN" % (digits, {10: 0, 11: 5}.get(c, c))


def mask(number):
    return number[:6] + "*" * 8 + number[-4:]


# ---------------------------------------------------------------- SAM reader peer

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
PHOTO = b"WLTPHOTO" * 128  # stands for the 1024-byte WLT block; never decoded


def frame(sw3, data=b""):
    body = bytes([0, 0, sw3]) + data
    length = len(body) + 1
    head = bytes([length >> 8, length & 0xFF])
    chk = 0
    for b in head + body:
        chk ^= b
    return PREAMBLE + head + body + bytes([chk])


def ucs2(text, size):
    raw = text.encode("utf-16-le")
    assert len(raw) <= size
    return raw + b" \x00" * ((size - len(raw)) // 2)


def text_block(card):
    today = datetime.date.today()
    sex = "1" if int(card["number"][16]) % 2 else "2"  # GB 11643: odd is male
    block = (ucs2(card["name"], 30) + ucs2(sex, 2) + ucs2("01", 4) + ucs2(card["number"][6:14], 16) +
             ucs2("SYNTHETIC ADDRESS", 70) + ucs2(card["number"], 36) + ucs2("TEST AUTHORITY", 30) +
             ucs2((today - datetime.timedelta(days=400)).strftime("%Y%m%d"), 16) +
             ucs2((today + datetime.timedelta(days=3000)).strftime("%Y%m%d"), 16))
    return block + b" \x00" * ((256 - len(block)) // 2)


class Pty:
    """One end of a serial device: postgated opens `link`, we hold the master."""

    def __init__(self, link):
        self.link = link
        self.master = None
        self.plug()

    def plug(self):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave = slave
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(slave), self.link)

    def unplug(self):
        os.unlink(self.link)
        os.close(self.slave)
        os.close(self.master)
        self.master = None

    def write(self, data):
        os.write(self.master, data)


class SamReader(threading.Thread):
    """Answers find, select and read like a SAM_V reader, for whatever card
    is on it (None: no card). `garbage_next` sends one reply with a bad
    checksum."""

    def __init__(self, pty):
        super().__init__(daemon=True)
        self.pty, self.card, self.garbage_next = pty, None, False
        self.reads = 0
        self.polls = 0  # find-card commands answered
        self.lock = threading.Lock()
        self.stop = False
        self.buf = b""

    def run(self):
        while not self.stop:
            m = self.pty.master
            if m is None:
                time.sleep(0.02)
                continue
            try:
                r, _, _ = select.select([m], [], [], 0.05)
                if not r:
                    continue
                chunk = os.read(m, 4096)
            except OSError:
                time.sleep(0.02)
                self.buf = b""
                continue
            self.buf += chunk
            while True:
                i = self.buf.find(PREAMBLE)
                if i < 0 or len(self.buf) < i + 7:
                    break
                n = (self.buf[i + 5] << 8) | self.buf[i + 6]
                if len(self.buf) < i + 7 + n:
                    break
                body = self.buf[i + 7:i + 7 + n]
                self.buf = self.buf[i + 7 + n:]
                self.answer(body[0], body[1])

    def answer(self, cmd, para):
        with self.lock:
            card, garbage = self.card, self.garbage_next
            self.garbage_next = False
        if cmd == 0x20 and para == 0x01:
            self.polls += 1
            reply = frame(0x9F, b"\x00\x00\x00\x00") if card else frame(0x80)
        elif cmd == 0x20 and para == 0x02:
            reply = frame(0x90, card["serial"]) if card else frame(0x81)
        elif cmd == 0x30 and para == 0x01 and card:
            self.reads += 1
            reply = frame(0x90, b"\x01\x00\x04\x00" + text_block(card) + PHOTO)
        else:
            reply = frame(0x21)
        if garbage:
            reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
        try:
            if self.pty.master is not None:
                self.pty.write(reply)
        except OSError:
            pass

    def place(self, card):
        with self.lock:
            self.card = card


# ---------------------------------------------------------------- the daemon

class Env:
    def __init__(self, keep_photo=False):
        self.dir = tempfile.mkdtemp(prefix="pg-devices-")
        self.sock = os.path.join(self.dir, "api.sock")
        self.reader_pty = Pty(os.path.join(self.dir, "ttyReader"))
        self.scanner_pty = Pty(os.path.join(self.dir, "ttyScanner"))
        self.reader = SamReader(self.reader_pty)
        self.reader.start()
        self.config = os.path.join(self.dir, "postgate.yaml")
        with open(self.config, "w") as f:
            f.write("""outlet: devices-it
counters:
  - id: c1
storage:
  path: %(d)s/store/postgate.db
  key_file: %(d)s/store/postgate.key
  create_key: true
api:
  socket: %(d)s/api.sock
adapters:
  - kind: idcard_reader
    name: reader
    counter: c1
    transport: serial
    path: %(d)s/ttyReader
    poll_interval_ms: 100
    keep_photo: %(keep)s
  - kind: barcode_scanner
    name: scanner
    counter: c1
    transport: serial
    path: %(d)s/ttyScanner
waybills:
  accept_s10: true
logging:
  level: debug
""" % {"d": self.dir, "keep": "true" if keep_photo else "false"})
        os.makedirs(os.path.join(self.dir, "store"), mode=0o700)
        self.log = open(os.path.join(self.dir, "postgated.log"), "w")
        self.proc = subprocess.Popen([ARGS.postgated, "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 10, "socket")
        check(self.proc.poll() is None, "postgated exited: %s" % self.logtext())

    def logtext(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def ctl(self, *args):
        p = subprocess.run([ARGS.postgatectl, "--socket", self.sock, "--json"] + list(args),
                           capture_output=True, text=True, timeout=10)
        check(p.returncode == 0, "postgatectl %s: %s %s" % (args, p.stdout, p.stderr))
        return json.loads(p.stdout)

    def device(self, name):
        for d in self.ctl("devices")["devices"]:
            if d["name"] == name:
                return d
        raise Fail("no device %s" % name)

    def counter_state(self):
        return self.ctl("status")["status"]["counters"][0]["state"]

    def records(self):
        return self.ctl("records", "--limit", "100")["records"]

    def scan(self, text):
        before = self.device("scanner")["reads"]
        self.scanner_pty.write(text.encode() + b"\r\n")
        wait_until(lambda: self.device("scanner")["reads"] > before, 5, "scan of %r" % text)

    def close(self):
        self.reader.stop = True
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def new_card(rng):
    return {"name": "TEST PERSON", "number": resident_id(rng),
            "serial": bytes(rng.randrange(256) for _ in range(8))}


# ---------------------------------------------------------------- cases

@case
def counter_flow(env, rng):
    wait_until(lambda: env.device("reader")["state"] == "attached"
               and env.device("scanner")["state"] == "attached", 10, "both devices attached")
    env.scan("PG:OP:op-it")
    check(env.counter_state() == "ready", "badge did not log in")

    card = new_card(rng)
    env.reader.place(card)
    wait_until(lambda: env.device("reader")["reads"] == 1, 5, "the card read")
    wait_until(lambda: env.counter_state() == "identified", 5, "counter identified")
    env.scan("RA123456785GB")
    env.scan("PG:DECL:books")
    env.scan("PG:OK")
    recs = wait_until(lambda: env.records() or None, 5, "a record")
    check(len(recs) == 1, "one record expected: %r" % recs)
    r = recs[0]
    check(r["sender"]["doc_number"] == mask(card["number"]),
          "record holds %r, card was %r" % (r["sender"]["doc_number"], mask(card["number"])))
    check(r["waybills"] == ["RA123456785GB"], "waybills %r" % r["waybills"])
    check(r["counter"] == "c1", "counter %r" % r["counter"])

    # Left on the reader for many polls: still one read.
    time.sleep(1.0)
    check(env.device("reader")["reads"] == 1, "a card left on the reader was read again")
    check(env.reader.reads == 1, "the reader was asked to read %d times" % env.reader.reads)

    # Removed, a new card: a new identity; CANCEL drops its parcel.
    env.reader.place(None)
    time.sleep(0.6)
    env.reader.place(new_card(rng))
    wait_until(lambda: env.device("reader")["reads"] == 2, 5, "the second card read")
    env.scan("RA123456785GB")
    env.scan("PG:CANCEL")
    time.sleep(0.3)
    check(len(env.records()) == 1, "CANCEL committed a record")
    print("badge, card, waybill, contents, OK: record with the card's identity; card left on "
          "read once; new card read; CANCEL committed nothing")


@case
def garbage_and_unplug(env, rng):
    wait_until(lambda: env.device("reader")["state"] == "attached", 10, "reader attached")
    env.scan("PG:OP:op-it")
    # One reply with a bad checksum: counted, and the next poll reads the card.
    env.reader.garbage_next = True
    env.reader.place(new_card(rng))
    wait_until(lambda: env.device("reader")["errors"] >= 1, 5, "the garbage counted")
    wait_until(lambda: env.device("reader")["reads"] == 1, 5, "the card read after the garbage")
    # A scan with a control character: counted as an error, no scan.
    errors = env.device("scanner")["errors"]
    env.scanner_pty.write(b"RA12\x01345\r\n")
    wait_until(lambda: env.device("scanner")["errors"] > errors, 5, "the bad scan counted")

    # Unplug the reader: absent; plug it back: attached, and the card on it
    # is a new placement.
    env.reader_pty.unplug()
    wait_until(lambda: env.device("reader")["state"] == "absent", 10, "reader absent")
    env.reader_pty.plug()
    wait_until(lambda: env.device("reader")["state"] == "attached", 10, "reader back")
    wait_until(lambda: env.device("reader")["reads"] == 2, 5, "the card read again after replug")
    check(env.proc.poll() is None, "postgated died")
    log = env.logtext()
    check("gone" in log, "no 'gone' line in the log")
    print("bad checksum and bad scan counted; unplug -> absent -> replug -> attached -> read")


@case
def photo_kept(env, rng):
    """keep_photo: the card's photo is sealed into the evidence folder and
    every record of its holder references it; without it (the other cases)
    nothing is written there."""
    wait_until(lambda: env.device("reader")["state"] == "attached"
               and env.device("scanner")["state"] == "attached", 10, "both devices attached")
    env.scan("PG:OP:op-it")
    env.reader.place(new_card(rng))
    wait_until(lambda: env.counter_state() == "identified", 5, "counter identified")
    for i in range(2):
        env.scan(s10(rng.randrange(10 ** 8)))
        env.scan("PG:DECL:books")
        env.scan("PG:OK")
        wait_until(lambda: env.counter_state() == "identified", 5, "the parcel committed")
    recs = env.records()
    check(len(recs) == 2, "two records expected, got %d" % len(recs))
    evdir = os.path.join(env.dir, "store", "evidence")
    files = sorted(os.listdir(evdir)) if os.path.isdir(evdir) else []
    check(len(files) == 1, "one sealed photo expected in %s: %r" % (evdir, files))
    data = open(os.path.join(evdir, files[0]), "rb").read()
    check(b"WLTPHOTO" not in data, "the photo is stored in clear")
    check(len(data) == 1024 + 33, "sealed size %d, want 1024 + 33" % len(data))
    for r in recs:
        ev = r.get("evidence") or []
        check(len(ev) == 1 and ev[0]["kind"] == "id_photo" and ev[0]["size"] == len(data),
              "record %s evidence %r" % (r["seq"], ev))
        check("path" not in ev[0], "the masked record shows the evidence path")
    print("photo sealed once (%d bytes, no clear text), referenced by both records of its holder"
          % len(data))


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
        env = Env(keep_photo=(name == "photo_kept"))
        try:
            CASES[name](env, random.Random(7))
            print("PASS %s" % name)
        except Fail as e:
            failed += 1
            print("FAIL %s: %s\n--- postgated log (tail)\n%s" % (name, e, env.logtext()[-4000:]))
        finally:
            env.close()
            shutil.rmtree(env.dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
