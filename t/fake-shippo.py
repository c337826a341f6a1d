#!/usr/bin/env python3
"""A Shippo-compatible carrier rates fake for tests and the local sandbox.

POST /shipments/ with `Authorization: ShippoToken <token>` and a JSON body
(address_from, address_to, parcels, async: false) answers a shipment with
`rates`, as reference/providers.md describes: amounts are decimal strings.
Two services, priced from the parcel's weight in grams:
  dhl_express   "DHL Express"    9.90 + 0.50 per started kg
  ups_standard  "UPS Standard"   4.90 + 0.20 per started kg
(plus whatever /_control "surcharge" adds, in minor units).

Control (for tests):
  POST /_control {"delay": s, "status": 500, "count": n}
       the next n requests (0: all) wait delay seconds and/or answer status
  POST /_control {"surcharge": minor_units}   added to every price
  POST /_reset   forget rules, surcharge and calls
  GET  /_calls   {"calls": [...]} the requests received

Usage: fake-shippo.py --port N [--token shippo_test_sandbox]
Listens on 127.0.0.1 only.
"""
import argparse
import json
import threading
import time

from fakelib import JsonHandler, serve

lock = threading.Lock()
state = {"rules": [], "calls": [], "surcharge": 0, "seq": 0}

SERVICES = [
    ("DHL", "Express", "dhl_express", 990, 50, 1),
    ("UPS", "Standard", "ups_standard", 490, 20, 3),
]


class Handler(JsonHandler):
    def do_GET(self):
        if self.path == "/_calls":
            with lock:
                return self.send(200, {"calls": state["calls"]})
        self.send(404, {"detail": "Not found."})

    def do_POST(self):
        raw = self.body()
        if self.path == "/_control":
            c = json.loads(raw or b"{}")
            with lock:
                if "surcharge" in c:
                    state["surcharge"] = int(c["surcharge"])
                else:
                    c.setdefault("count", 1)
                    state["rules"].append(c)
            return self.send(200, {"ok": True})
        if self.path == "/_reset":
            with lock:
                state.update(rules=[], calls=[], surcharge=0)
            return self.send(200, {"ok": True})
        if self.path.rstrip("/") != "/shipments":
            return self.send(404, {"detail": "Not found."})
        if self.headers.get("Authorization") != "ShippoToken " + ARGS.token:
            return self.send(401, {"detail": "Invalid token."})
        try:
            body = json.loads(raw)
            to = body["address_to"]
            parcel = body["parcels"][0]
            grams = float(parcel["weight"])
            if parcel.get("mass_unit") == "kg":
                grams *= 1000
        except (ValueError, KeyError, IndexError, TypeError):
            return self.send(400, {"detail": "address_to and parcels are "
                                   "required"})
        with lock:
            state["calls"].append({"to": to.get("country"),
                                   "weight": parcel.get("weight"),
                                   "at": time.time()})
            rule = None
            for r in state["rules"]:
                if r["count"] > 0:
                    r["count"] -= 1
                    if r["count"] == 0:
                        state["rules"].remove(r)
                rule = r
                break
            state["seq"] += 1
            seq = state["seq"]
            surcharge = state["surcharge"]
        if rule and rule.get("delay"):
            time.sleep(float(rule["delay"]))
        if rule and rule.get("status"):
            return self.send(int(rule["status"]), {"detail": "carrier error"})
        kg = max(1, -(-int(grams) // 1000))
        rates = []
        for provider, level, token, base, per_kg, days in SERVICES:
            cents = base + per_kg * kg + surcharge
            rates.append({
                "object_id": "rate_%d_%s" % (seq, token),
                "provider": provider,
                "amount": "%d.%02d" % (cents // 100, cents % 100),
                "currency": "EUR",
                "estimated_days": days,
                "duration_terms": "%d business days" % days,
                "servicelevel": {"name": level, "token": token},
                "attributes": [],
            })
        self.send(201, {"object_id": "shp_%d" % seq, "status": "SUCCESS",
                        "messages": [], "rates": rates})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", default="shippo_test_sandbox")
    ARGS = ap.parse_args()
    serve(ARGS.port, Handler)

if __name__ == "__main__":
    main()
