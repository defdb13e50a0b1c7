#!/usr/bin/python3
"""postgated with an uplink section, against a real mosquitto and a fake HQ
(python3-paho-mqtt) that acknowledges every contiguous batch.

    uplink_wiring_it.py --postgated PATH --postgatectl PATH delivery

Checks: the retained birth says online; 100 records submitted over the
socket reach HQ and `status` shows pending 0 and the uplink connected; a
prohibited item rejected at the API and one refused become events at HQ;
telemetry carries the daemon's figures; postgatectl status has an uplink
line; SIGHUP with changed uplink settings says "needs restart"; SIGTERM
leaves a retained offline status with reason shutdown.

Exits 77 (ctest's SKIP_RETURN_CODE) when mosquitto or paho is missing.
Synthetic data only.
The heavier end-to-end tests with postgate-hq live elsewhere.
"""
import argparse
import getpass
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_it as it  # noqa: E402  (synthetic data, Env, Client)

SKIP = 77
PREFIX = "postgate/v1"
OUTLET = "it-outlet"


def check(cond, msg):
    if not cond:
        raise it.Fail(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Broker:
    def __init__(self, workdir):
        self.port = free_port()
        self.conf = os.path.join(workdir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            # As root, mosquitto would drop to user "mosquitto": keep ours.
            f.write("listener %d 127.0.0.1\nallow_anonymous true\nuser %s\npersistence false\n"
                    "max_queued_messages 0\n" % (self.port, getpass.getuser()))
        self.log = open(os.path.join(workdir, "mosquitto.log"), "w")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise it.Fail("mosquitto did not listen on %d" % self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class FakeHq:
    """Subscribes to every edge topic, acknowledges the highest contiguous seq."""

    def __init__(self, port, client_id="fake-hq"):
        self.cv = threading.Condition()
        self.seqs = set()
        self.contiguous = 0
        self.status = []  # (payload dict, retained)
        self.events = []
        self.telemetry = []
        self.c = mqtt.Client(client_id=client_id, clean_session=True)
        self.c.on_connect = self.on_connect
        self.c.on_message = self.on_message
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        self.wait(lambda: self.connected, 10, "fake HQ did not connect")

    connected = False

    def on_connect(self, client, userdata, flags, rc):
        for topic, qos in (("records", 1), ("status", 1), ("events", 1), ("telemetry", 0)):
            client.subscribe("%s/+/%s" % (PREFIX, topic), qos)
        with self.cv:
            self.connected = True
            self.cv.notify_all()

    def on_message(self, client, userdata, msg):
        body = json.loads(msg.payload)
        kind = msg.topic.rsplit("/", 1)[-1]
        with self.cv:
            if kind == "records":
                self.seqs.update(r["seq"] for r in body["batch"])
                while self.contiguous + 1 in self.seqs:
                    self.contiguous += 1
                outlet, upto = body["outlet"], self.contiguous
            elif kind == "status":
                self.status.append((body, bool(msg.retain)))
            elif kind == "events":
                self.events.append(body)
            elif kind == "telemetry":
                self.telemetry.append(body)
            self.cv.notify_all()
        if kind == "records" and upto > 0:
            client.publish("%s/%s/ack" % (PREFIX, outlet), json.dumps({"upto_seq": upto}), qos=1)

    def wait(self, pred, timeout, what):
        end = time.time() + timeout
        with self.cv:
            while not pred():
                left = end - time.time()
                check(left > 0, what)
                self.cv.wait(min(left, 0.5))

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def retained_status(port):
    """The retained status a newcomer gets, or None after a second."""
    got = []
    done = threading.Event()
    c = mqtt.Client(client_id="status-reader-%d" % random.randrange(1 << 30), clean_session=True)

    def on_connect(client, userdata, flags, rc):
        client.subscribe("%s/%s/status" % (PREFIX, OUTLET), 1)

    def on_message(client, userdata, msg):
        got.append((json.loads(msg.payload), bool(msg.retain)))
        done.set()

    c.on_connect, c.on_message = on_connect, on_message
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    done.wait(5)
    c.loop_stop()
    c.disconnect()
    return got[0] if got else None


CONFIG = """\
outlet: {outlet}
counters:
  - id: c1
    name: Counter 1
storage:
  path: {db}
  key_file: {key}
  create_key: true
api:
  socket: {sock}
logging:
  level: info
uplink:
  brokers: ["tcp://127.0.0.1:{port}"]
  telemetry_interval_s: 1
  linger_ms: 10
  reconnect_min_s: 1
  reconnect_max_s: 2
"""


def status(env):
    c = env.client()
    a = c.ask({"op": "status"})
    c.close()
    check(a.get("ok"), "status failed: %r" % a)
    return a["status"]


def wait_delivered(env, upto, timeout=20):
    """Polls status until pending is 0 and the uplink applied HQ's ack of upto."""
    end = time.time() + timeout
    while True:
        s = status(env)
        u = s.get("uplink") or {}
        if s.get("pending") == 0 and u.get("delivered_upto") == upto:
            return u
        check(time.time() < end, "pending never reached 0 (ack of %d): %r" % (upto, s))
        time.sleep(0.1)


def delivery(env, broker):
    hq = FakeHq(broker.port)
    try:
        env.write_config(raw=CONFIG.format(
            outlet=OUTLET, db=env.db, key=os.path.join(env.dir, "state", "postgate.key"),
            sock=env.sock, port=broker.port))
        env.start()

        hq.wait(lambda: any(s.get("state") == "online" for s, _ in hq.status), 15,
                "no online status from the edge")
        birth = retained_status(broker.port)
        check(birth is not None and birth[1] and birth[0].get("state") == "online"
              and birth[0].get("outlet") == OUTLET, "retained birth is not online: %r" % (birth,))

        rng = random.Random(20261123)
        recs = [it.make_record(rng, "up-%03d" % i) for i in range(100)]
        answers = it.pipeline(env, [it.submit_line(r) for r in recs])
        check(len(answers) == 100 and all(a.get("ok") for a in answers),
              "submits failed: %r" % [a for a in answers if not a.get("ok")][:3])

        u = wait_delivered(env, 100)
        check(u.get("connected") is True and u.get("broker", "").endswith(":%d" % broker.port),
              "uplink not connected in status: %r" % u)
        check(hq.contiguous == 100, "HQ has seqs up to %d" % hq.contiguous)

        # A prohibited item: rejected at the API, then refused and recorded.
        bad = it.make_record(rng, "up-gun")
        bad["declared"] = "toy gun"
        c = env.client()
        a = c.ask(json.loads(it.submit_line(bad)))
        check(not a.get("ok") and a["error"]["code"] == "prohibited_item",
              "prohibited item not rejected: %r" % a)
        bad["inspection"] = {"outcome": "refuse", "category": "01"}
        a = c.ask(json.loads(it.submit_line(bad)))
        c.close()
        check(a.get("ok") and a["seq"] == 101, "refusal not recorded: %r" % a)
        hq.wait(lambda: len(hq.events) >= 2, 15, "events did not reach HQ: %r" % hq.events)
        kinds = sorted((e["kind"], e["severity"], e.get("record_seq") or 0) for e in hq.events[:2])
        check(kinds == [("prohibited_item", "alert", 0), ("prohibited_item", "alert", 101)],
              "unexpected events: %r" % hq.events)
        for e in hq.events:
            check(bad["sender"]["doc_number"] not in e["message"]
                  and bad["sender"]["name"] not in e["message"], "event not masked: %r" % e)

        hq.wait(lambda: any("storage_health" in t for t in hq.telemetry), 10,
                "no telemetry with the daemon's figures")
        t = [t for t in hq.telemetry if "storage_health" in t][-1]
        check(t["storage_health"] == "ok" and isinstance(t.get("disk_free_bytes"), int)
              and isinstance(t.get("devices"), list), "telemetry figures: %r" % t)

        wait_delivered(env, 101)
        out = subprocess.run([ARGS.postgatectl, "--socket", env.sock, "status"],
                             capture_output=True, text=True, timeout=20)
        check(out.returncode == 0, "postgatectl status failed: %s" % out.stderr)
        line = [l for l in out.stdout.splitlines() if l.startswith("uplink")]
        check(line and "connected to tcp://127.0.0.1:%d" % broker.port in line[0]
              and "pending 0" in line[0], "postgatectl status uplink line: %r" % out.stdout)

        # Uplink settings are read at start only.
        with open(env.config) as f:
            text = f.read()
        with open(env.config, "w") as f:
            f.write(text.replace("telemetry_interval_s: 1", "telemetry_interval_s: 2"))
        env.kill(signal.SIGHUP)
        env.wait_log(r"reload: uplink changed: needs restart")
        check(status(env)["uplink"]["connected"], "uplink not connected after SIGHUP")

        env.kill(signal.SIGTERM)
        rc = env.wait_exit()
        check(rc == 0, "postgated exited with %s" % rc)
        hq.wait(lambda: any(s.get("state") == "offline" for s, _ in hq.status), 10,
                "no offline status at shutdown")
        gone = retained_status(broker.port)
        check(gone is not None and gone[1] and gone[0].get("state") == "offline"
              and gone[0].get("reason") == "shutdown",
              "retained status after SIGTERM: %r" % (gone,))
        logs = env.logs()
        check("uplink stopped; flushing the store" in logs, "no clean uplink stop in the log")
    finally:
        hq.close()


CASES = {"delivery": delivery}


def main():
    global ARGS, MOSQUITTO, mqtt
    p = argparse.ArgumentParser()
    p.add_argument("--postgated", required=True)
    p.add_argument("--postgatectl", required=True)
    p.add_argument("case", choices=sorted(CASES) + ["all"])
    ARGS = p.parse_args()
    it.ARGS = ARGS
    MOSQUITTO = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    try:
        import paho.mqtt.client as mqtt_client
    except ImportError:
        mqtt_client = None
    if MOSQUITTO is None or mqtt_client is None:
        print("SKIP: needs mosquitto and python3-paho-mqtt")
        return SKIP
    mqtt = mqtt_client
    failed = 0
    for name in sorted(CASES) if ARGS.case == "all" else [ARGS.case]:
        env = it.Env("uplink-" + name)
        broker = None
        ok = False
        try:
            broker = Broker(env.dir)
            t0 = time.time()
            CASES[name](env, broker)
            ok = True
            print("PASS %s (%.1f s)" % (name, time.time() - t0))
        except it.Fail as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))
        finally:
            if broker:
                broker.stop()
            env.cleanup(ok)
    return 1 if failed else 0


ARGS = None
MOSQUITTO = None
mqtt = None

if __name__ == "__main__":
    sys.exit(main())
