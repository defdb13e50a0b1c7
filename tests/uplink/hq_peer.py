#!/usr/bin/python3
"""The test-side peer of the uplink tests: HQ (stores seqs, acknowledges the
highest contiguous one) and a watcher of any topic, in its own process.

It runs apart from the test binary because Paho C notices a second client's
connection up to two seconds late when another client of the same process is
idle in its poll, and because an HQ written against another MQTT library
checks the edge against the protocol rather than against Paho.

stdin, one JSON command a line:
  {"op":"hq","prefix":"postgate/v1"}   act as HQ for <prefix>/+/records
  {"op":"ack","on":false}              stop (or resume) acknowledging
  {"op":"sub","id":N,"filter":"...","qos":1}
  {"op":"pub","id":N,"topic":"...","payload":"...","qos":1,"retain":false}
stdout, one JSON event a line:
  {"ev":"connected"}, {"ev":"done","id":N},
  {"ev":"batch","outlet":...,"seqs":[...],"bytes":N},
  {"ev":"msg","topic":...,"payload":...,"retained":bool}
"""
import argparse
import json
import sys
import threading

import paho.mqtt.client as mqtt

out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, separators=(",", ":"))
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Peer:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.prefix = None
        self.auto_ack = True
        self.filters = []  # (filter, qos), restored after a reconnect
        self.seen = {}  # outlet -> set of seqs
        self.contiguous = {}
        self.pending = {}  # mid -> command id
        self.client = mqtt.Client(client_id=args.client_id, clean_session=True)
        if args.ca:
            self.client.tls_set(ca_certs=args.ca, certfile=args.cert, keyfile=args.key)
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message
        self.client.on_subscribe = self.on_done
        self.client.on_publish = self.on_done
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.host, self.port = args.host, args.port

    def on_connect(self, client, userdata, flags, rc):
        if rc != 0:
            emit({"ev": "refused", "rc": rc})
            return
        with self.lock:
            filters = list(self.filters)
        for f, q in filters:
            client.subscribe(f, q)
        emit({"ev": "connected"})

    def on_done(self, client, userdata, mid, *rest):
        with self.lock:
            cid = self.pending.pop(mid, None)
        if cid is not None:
            emit({"ev": "done", "id": cid})

    def on_message(self, client, userdata, msg):
        prefix = self.prefix
        if prefix and msg.topic.startswith(prefix + "/") and msg.topic.endswith("/records"):
            try:
                body = json.loads(msg.payload)
                outlet = body["outlet"]
                seqs = [r["seq"] for r in body["batch"]]
            except (ValueError, KeyError, TypeError):
                emit({"ev": "bad_batch", "topic": msg.topic})
                return
            with self.lock:
                seen = self.seen.setdefault(outlet, set())
                seen.update(seqs)
                c = self.contiguous.get(outlet, 0)
                while c + 1 in seen:
                    c += 1
                self.contiguous[outlet] = c
                ack = self.auto_ack
            emit({"ev": "batch", "outlet": outlet, "seqs": seqs, "bytes": len(msg.payload)})
            if ack and c > 0:
                client.publish("%s/%s/ack" % (prefix, outlet),
                               json.dumps({"upto_seq": c}), qos=1)
            return
        emit({"ev": "msg", "topic": msg.topic, "retained": bool(msg.retain),
              "payload": msg.payload.decode("utf-8", "replace")})

    def command(self, cmd):
        op = cmd.get("op")
        if op == "hq":
            self.prefix = cmd["prefix"]
            self.subscribe(cmd["prefix"] + "/+/records", 1, cmd.get("id"))
        elif op == "ack":
            with self.lock:
                self.auto_ack = bool(cmd["on"])
            emit({"ev": "done", "id": cmd.get("id")})
        elif op == "sub":
            self.subscribe(cmd["filter"], cmd.get("qos", 1), cmd.get("id"))
        elif op == "pub":
            with self.lock:
                info = self.client.publish(cmd["topic"], cmd["payload"].encode("utf-8"),
                                           qos=cmd.get("qos", 1), retain=cmd.get("retain", False))
                if cmd.get("qos", 1) > 0:
                    self.pending[info.mid] = cmd.get("id")
            if cmd.get("qos", 1) == 0:
                emit({"ev": "done", "id": cmd.get("id")})

    def subscribe(self, f, qos, cid):
        with self.lock:
            self.filters.append((f, qos))
            rc, mid = self.client.subscribe(f, qos)
            self.pending[mid] = cid

    def run(self):
        self.client.connect_async(self.host, self.port, keepalive=5)
        self.client.loop_start()
        for line in sys.stdin:
            line = line.strip()
            if line:
                self.command(json.loads(line))
        self.client.disconnect()
        self.client.loop_stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--client-id", default="hq-test")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    Peer(p.parse_args()).run()


if __name__ == "__main__":
    main()
