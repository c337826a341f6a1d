#!/usr/bin/env python3
"""The upstream Checkout Service of seed 003, for tests and the sandbox.

GET /api/v1/checkout/session/<id> answers 404, or 200 with the session as
SPEC 3.4 describes ({"id", "status", "currency", "email", "items":
[{"productId", "quantity", "price"}], "shippingAddress", "billingAddress",
"paymentIntentId"}).

It starts with `demo-session-1`: COMPLETED, two e-books at 12.50 (the
catalog says 15.00: the session's price is the one charged), addresses in
Berlin, no payment intent.

Control (for tests):
  PUT  /_sessions/<id>   the session's JSON (stored as given)
  POST /_control {"delay": s, "status": 500, "count": n}
       the next n requests (0: all) wait and/or answer status
  GET  /_calls           {"calls": n}

Usage: fake-checkout-service.py --port N
Listens on 127.0.0.1 only.
"""
import argparse
import json
import threading
import time

from fakelib import JsonHandler, serve

ADDRESS = {"street": "Unter den Linden 1", "city": "Berlin", "state": "BE",
           "country": "DE", "postalCode": "10117"}
lock = threading.Lock()
state = {"calls": 0, "rules": [], "sessions": {
    "demo-session-1": {
        "id": "demo-session-1", "status": "COMPLETED", "currency": "EUR",
        "email": "session-buyer@example.com",
        "items": [
            {"productId": "0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a65",
             "quantity": 2, "price": 12.50},
        ],
        "shippingAddress": ADDRESS, "billingAddress": ADDRESS,
        "paymentIntentId": None,
    }}}


class Handler(JsonHandler):
    def do_PUT(self):
        if not self.path.startswith("/_sessions/"):
            return self.send(404, {"error": "not found"})
        s = json.loads(self.body() or b"{}")
        with lock:
            state["sessions"][self.path[len("/_sessions/"):]] = s
        self.send(200, {"ok": True})

    def do_POST(self):
        if self.path != "/_control":
            return self.send(404, {"error": "not found"})
        rule = json.loads(self.body() or b"{}")
        rule.setdefault("count", 1)
        with lock:
            state["rules"].append(rule)
        self.send(200, {"ok": True})

    def do_GET(self):
        if self.path == "/_calls":
            with lock:
                return self.send(200, {"calls": state["calls"]})
        prefix = "/api/v1/checkout/session/"
        if not self.path.startswith(prefix):
            return self.send(404, {"error": "not found"})
        with lock:
            state["calls"] += 1
            rule = state["rules"][0] if state["rules"] else None
            if rule is not None and rule["count"] > 0:
                rule["count"] -= 1
                if rule["count"] == 0:
                    state["rules"].pop(0)
            s = state["sessions"].get(self.path[len(prefix):])
        if rule and rule.get("delay"):
            time.sleep(float(rule["delay"]))
        if rule and rule.get("status"):
            return self.send(int(rule["status"]), {"error": "upstream"})
        if s is None:
            return self.send(404, {"error": "Session not found"})
        self.send(200, s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    serve(args.port, Handler)

if __name__ == "__main__":
    main()
