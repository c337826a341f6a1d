#!/usr/bin/env python3
"""A webhook receiver for checkoutd's outbound events (tests and sandbox).

Records every delivery it gets — the Checkoutd-Event-Id and
Checkoutd-Signature headers, whether the signature verifies with the
secret it was given, and the body — and answers 200, or 500 while it is
told to fail.

Control (for tests):
  POST /_control {"fail": n}   the next n deliveries get 500
  POST /_control {"delay": s}  each delivery is answered s seconds after
                               it arrived (recorded on arrival); both
                               keys at once, a key left out is 0
  POST /_reset                 forget deliveries and failures
  GET  /_deliveries            {"deliveries": [{"event_id", "type",
                               "order_id", "status", "signature_ok",
                               "body"}...]} in arrival order: the last
                               KEEP of them (--record has every one)

Usage: fake-receiver.py --port N --secret S [--record FILE]
Listens on 127.0.0.1 only.
"""
import argparse
import collections
import hashlib
import hmac
import json
import threading
import time

from fakelib import JsonHandler, serve

# Deliveries kept in memory: the ./run stack's receiver may serve
# benchmark runs for hours, and an unbounded list grew with every event
# (291 MB resident after 80,000 of them).
KEEP = 10000

lock = threading.Lock()
state = {"deliveries": collections.deque(maxlen=KEEP), "fail": 0,
         "delay": 0.0}


def signature_ok(header, body):
    parts = [p.strip().split("=", 1) for p in (header or "").split(",")]
    t = next((v for k, v in parts if k == "t"), None)
    if t is None or not t.isdigit() or abs(time.time() - int(t)) > 300:
        return False
    want = hmac.new(ARGS.secret.encode(), t.encode() + b"." + body,
                    hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, want) for k, v in parts)


class Handler(JsonHandler):
    def do_GET(self):
        if self.path == "/_deliveries":
            with lock:
                return self.send(
                    200, {"deliveries": list(state["deliveries"])})
        self.send(404, {"error": "not found"})

    def do_POST(self):
        body = self.body()
        if self.path == "/_control":
            ctl = json.loads(body or b"{}")
            with lock:
                state["fail"] = int(ctl.get("fail", 0))
                state["delay"] = float(ctl.get("delay", 0))
            return self.send(200, {"ok": True})
        if self.path == "/_reset":
            with lock:
                state["deliveries"].clear()
                state["fail"] = 0
                state["delay"] = 0.0
            return self.send(200, {"ok": True})
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        obj = (event.get("data") or {}).get("object") or {}
        with lock:
            status = 200
            if state["fail"] > 0:
                state["fail"] -= 1
                status = 500
            d = {"event_id": self.headers.get("Checkoutd-Event-Id"),
                 "type": event.get("type"), "order_id": obj.get("id"),
                 "status": status,
                 "signature_ok": signature_ok(
                     self.headers.get("Checkoutd-Signature"), body),
                 "at": time.time(), "body": body.decode()}
            state["deliveries"].append(d)
            if ARGS.record:
                with open(ARGS.record, "a") as f:
                    f.write(json.dumps(d) + "\n")
            delay = state["delay"]
        if delay > 0:
            time.sleep(delay)
        self.send(status, {"received": status == 200})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--record", default="")
    ARGS = ap.parse_args()
    serve(ARGS.port, Handler)

if __name__ == "__main__":
    main()
