#!/usr/bin/python3
"""Evidence through the real postgated: a counter camera (an HTTP snapshot
server played here), an X-ray machine's export folder (files written here),
the evidence store (read back with sqlite3 from the real database).

    evidence_it.py --postgated PATH --postgatectl PATH CASE

Cases:
  camera_and_xray   a still is attached to every acceptance of the counter;
                    a suspect scan naming a waybill binds to its record by
                    waybill and raises xray_suspect; a scan of the lane with
                    no record in its window is kept as unbound (xray_unbound);
                    a scan handed over again after a restart is stored once.
  required_photo    the counter's camera is down and the photo is required:
                    the acceptance is refused with photo_required, nothing is
                    stored; the camera back, the same acceptance goes through.

Synthetic data only (generated ID numbers and waybills, a test-pattern JPEG).
"""
import argparse
import datetime
import hashlib
import http.server
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

STILL_HEX = (
    "ffd8ffe000104a46494600010100000100010000ffdb00430006040506050406060506070706080a100a0a09090a140e"
    "0f0c1017141818171416161a1d251f1a1b231c1616202c20232627292a29191f2d302d283025282928ffdb0043010707"
    "070a080a130a0a13281a161a282828282828282828282828282828282828282828282828282828282828282828282828"
    "2828282828282828282828282828ffc00011080008001003012200021101031101ffc4001f0000010501010101010100"
    "000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411051221"
    "31410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a"
    "434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a9293949596979899"
    "9aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1"
    "f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405060708090a0bffc400b51100"
    "020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f015"
    "6272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a63646566676869"
    "6a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4"
    "c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f00ae"
    "f6ba52885751f0adbe9ed02198cb611a08f6639ded148578db9e791f8f2411d9c51efd175e789d0121ae7c993cd3c638"
    "8d320649c9c31efdb145145ff7539f69a8db74eeed7b3d9f9c6daebb86121f58c1cb12bdd9257b2db67a5a5756fc7ccf"
    "ffd9"
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_it import Fail, check, resident_id, s10  # noqa: E402  (synthetic data, checks)
from devices_it import Pty  # noqa: E402  (a serial barcode scanner played here)

ARGS = None
CASES = {}
# A 16x8 test pattern, baseline JPEG (libjpeg-turbo, quality 80).
STILL = bytes.fromhex(STILL_HEX)


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def wait_until(pred, timeout, what, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise Fail("timed out after %.1fs waiting for %s" % (timeout, what))


def record(rng, waybill, ref):
    return {"ref": ref, "counter": "c1", "operator": "op-it",
            "sender": {"name": "TEST PERSON", "doc_type": "resident_id", "doc_number": resident_id(rng)},
            "waybills": [waybill], "declared": "books", "inspection": "pass"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Snapshot(http.server.BaseHTTPRequestHandler):
    served = 0

    def do_GET(self):
        Snapshot.served += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(STILL)))
        self.end_headers()
        self.wfile.write(STILL)

    def log_message(self, *a):
        pass


class Camera:
    def __init__(self, port):
        self.port = port
        self.server = None

    def start(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Snapshot)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Env:
    def __init__(self, camera_port, required=False):
        self.dir = tempfile.mkdtemp(prefix="pg-evidence-")
        self.sock = os.path.join(self.dir, "api.sock")
        self.db = os.path.join(self.dir, "store", "postgate.db")
        self.xray = os.path.join(self.dir, "xray-out")
        os.makedirs(self.xray)
        os.makedirs(os.path.join(self.dir, "store"), mode=0o700)
        self.scanner = Pty(os.path.join(self.dir, "ttyScanner"))
        self.config = os.path.join(self.dir, "postgate.yaml")
        with open(self.config, "w") as f:
            f.write("""outlet: evidence-it
counters:
  - id: c1
storage:
  path: %(d)s/store/postgate.db
  key_file: %(d)s/store/postgate.key
  create_key: true
api:
  socket: %(d)s/api.sock
adapters:
  - kind: barcode_scanner
    name: scanner
    counter: c1
    transport: serial
    path: %(d)s/ttyScanner
cameras:
  - id: cam-c1
    counter: c1
    source: http
    url: http://127.0.0.1:%(port)d/onvif/snapshot
    timeout_ms: 1500
    required: %(required)s
xray:
  - id: xr-1
    folder: %(d)s/xray-out
    lanes: ["1:c1"]
    lane_field: lane
    time_field: time
    waybill_field: waybill
    verdict_field: verdict
    image_field: image
    settle_ms: 100
    pair_timeout_s: 5
    bind_before_s: 1
    bind_after_s: 30
logging:
  level: debug
""" % {"d": self.dir, "port": camera_port, "required": "true" if required else "false"})
        self.log = open(os.path.join(self.dir, "postgated.log"), "a")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([ARGS.postgated, "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.ready() or self.proc.poll() is not None, 15, "socket")
        check(self.proc.poll() is None, "postgated exited: %s" % self.logtext())

    def ready(self):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.sock)
            s.close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def logtext(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]

    def ask(self, obj):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(self.sock)
        s.sendall((json.dumps(obj) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            c = s.recv(65536)
            if not c:
                break
            buf += c
        s.close()
        return json.loads(buf.split(b"\n")[0])

    def scan(self, text):
        def reads():
            for d in self.ask({"op": "devices"})["devices"]:
                if d["name"] == "scanner":
                    return d.get("reads", 0) if d["state"] == "attached" else None
            return None
        before = wait_until(lambda: reads() is not None and [reads()], 10, "scanner attached")[0]
        self.scanner.write(text.encode() + b"\r\n")
        wait_until(lambda: (reads() or 0) > before, 5, "scan of %r" % text)

    def query(self, sql, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def evidence(self, kind):
        return self.query("SELECT id, record_seq, binding, state, sha256, size, meta FROM evidence "
                          "WHERE kind = ? ORDER BY created_at", (kind,))

    def events(self, kind):
        return self.query("SELECT message, record_seq FROM events WHERE kind = ?", (kind,))

    def drop_scan(self, name, lane, when, verdict, waybill=None, image=b"XRAYIMAGE" * 500):
        # The image first, written in two steps (the watcher waits until it
        # settles), then the result file renamed into place.
        img = os.path.join(self.xray, name + ".jpg")
        with open(img, "wb") as f:
            f.write(image[: len(image) // 2])
            f.flush()
            time.sleep(0.05)
            f.write(image[len(image) // 2:])
        result = {"lane": lane, "time": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                  "verdict": verdict, "image": name + ".jpg"}
        if waybill:
            result["waybill"] = waybill
        tmp = os.path.join(self.dir, name + ".json.tmp")
        with open(tmp, "w") as f:
            json.dump(result, f)
        os.rename(tmp, os.path.join(self.xray, name + ".json"))
        return hashlib.sha256(image).hexdigest()

    def close(self, ok):
        self.stop()
        self.log.close()
        if ok:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("kept %s" % self.dir)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


@case
def camera_and_xray(rng):
    cam = Camera(free_port())
    cam.start()
    env = Env(cam.port)
    ok = False
    try:
        w1, w2 = s10(rng), s10(rng)
        a = env.ask({"op": "submit", "record": record(rng, w1, "ev-1")})
        check(a.get("ok"), "submit 1: %r" % a)
        seq1 = a["seq"]
        a = env.ask({"op": "submit", "record": record(rng, w2, "ev-2")})
        check(a.get("ok"), "submit 2: %r" % a)
        check(Snapshot.served == 2, "camera asked %d times, want 2" % Snapshot.served)
        stills = env.evidence("camera")
        check(len(stills) == 2, "stills: %r" % stills)
        sha = hashlib.sha256(STILL).hexdigest()
        for (_, seq, binding, state, digest, size, _) in stills:
            check(binding == "commit" and state == "pending" and digest == sha and size == len(STILL),
                  "still row: %r" % (stills,))
        check(sorted(s[1] for s in stills) == [seq1, seq1 + 1], "still seqs: %r" % stills)
        recs = env.ask({"op": "records", "limit": 10})["records"]
        ev = [e for r in recs for e in r["evidence"]]
        check(len(ev) == 2 and all(e["kind"] == "camera" and e["sha256"] == sha for e in ev),
              "records' evidence: %r" % ev)
        check(all("path" not in e for e in ev), "masked records must not show paths")

        # A suspect scan naming the first waybill: bound by waybill, alert raised.
        img_sha = env.drop_scan("scan-1", "1", utcnow(), "ALARM", waybill=w1)
        rows = wait_until(lambda: env.evidence("xray"), 10, "the X-ray scan stored")
        _, seq, binding, state, digest, _, meta = rows[0]
        check(seq == seq1 and binding == "waybill" and state == "pending" and digest == img_sha,
              "scan row: %r" % (rows[0],))
        check(json.loads(meta)["verdict"] == "suspect", "meta: %s" % meta)
        alerts = wait_until(lambda: env.events("xray_suspect"), 5, "xray_suspect event")
        check(alerts[0][1] == seq1, "event names record %r" % (alerts[0],))
        done = os.path.join(env.xray, ".postgate", "done")
        archived = wait_until(lambda: [f for f in os.listdir(done) if f.endswith("scan-1.json")], 5,
                              "scan archived after it was stored")

        # Staff re-inspect the accepted parcel: the outcome goes against its record.
        env.scan("PG:OP:op-it")
        env.scan("PG:RECHECK")
        env.scan(w1)
        env.scan("PG:OK")
        rechecks = wait_until(lambda: env.events("xray_recheck"), 5, "xray_recheck event")
        check(rechecks[0][1] == seq1 and "after an X-ray suspect verdict from xr-1" in rechecks[0][0],
              "recheck event: %r" % (rechecks,))

        # A scan of the lane long before any record: kept, unbound, reported.
        env.drop_scan("scan-2", "1", utcnow() - datetime.timedelta(hours=2), "CLEAR")
        wait_until(lambda: len(env.evidence("xray")) == 2, 10, "second scan stored")
        wait_until(lambda: env.events("xray_unbound"), 10, "xray_unbound event")
        row = env.evidence("xray")[1]
        check(row[1] is None and row[2] == "unbound" and row[3] == "pending", "unbound row: %r" % (row,))

        devs = {d["name"]: d for d in env.ask({"op": "devices"})["devices"]}
        check(devs["cam-c1"]["captures"] == 2 and devs["xr-1"]["scans"] == 2 and
              devs["xr-1"]["state"] == "attached", "devices: %r" % devs)

        # Handed over again after a restart (the result file put back): stored once.
        env.stop()
        shutil.copy(os.path.join(done, archived[0]), os.path.join(env.xray, "scan-1.json"))
        shutil.copy(os.path.join(done, archived[0][:-len("json")] + "jpg"),
                    os.path.join(env.xray, "scan-1.jpg"))
        env.start()
        time.sleep(2)
        check(len(env.evidence("xray")) == 2, "re-delivered scan stored twice: %r" % env.evidence("xray"))
        check(len(env.evidence("camera")) == 2, "stills after restart: %r" % env.evidence("camera"))
        ok = True
    finally:
        env.close(ok)
        cam.stop()
    print("camera_and_xray: ok")


@case
def required_photo(rng):
    port = free_port()
    env = Env(port, required=True)
    cam = Camera(port)
    ok = False
    try:
        rec = record(rng, s10(rng), "rq-1")
        t0 = time.monotonic()
        a = env.ask({"op": "submit", "record": rec})
        took = time.monotonic() - t0
        check(not a.get("ok") and a["error"]["code"] == "photo_required", "answer: %r" % a)
        check(took < 5, "refusal took %.1fs (timeout 1.5s)" % took)
        check(env.query("SELECT COUNT(*) FROM records")[0][0] == 0, "a record was stored")
        check(env.evidence("camera") == [], "a still was kept")
        cam.start()
        a = env.ask({"op": "submit", "record": rec})
        check(a.get("ok"), "with the camera back: %r" % a)
        check(len(env.evidence("camera")) == 1, "still: %r" % env.evidence("camera"))
        ok = True
    finally:
        env.close(ok)
        cam.stop()
    print("required_photo: ok")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgated", required=True)
    ap.add_argument("--postgatectl", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    ARGS = ap.parse_args()
    try:
        CASES[ARGS.case](random.Random(5))
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
