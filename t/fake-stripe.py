#!/usr/bin/env python3
"""A Stripe-compatible PaymentIntents fake for tests and the local sandbox.

Speaks the wire format of reference/providers.md: form-encoded POSTs with
`Authorization: Bearer <key>`, JSON answers, Stripe's error shape and
status codes, and its idempotency rules (the first result of a key is
replayed; a replay with other parameters is 400 `idempotency_error`; a
replay while the first is running is 409 `idempotency_key_in_use`).

Test cards (number or `pm_card_*` token):
  4242424242424242 / pm_card_visa                       succeeds
  4000000000000002 / pm_card_visa_chargeDeclined        402 card_declined
  4000000000009995 / pm_card_visa_chargeDeclinedInsufficientFunds
                                                        402 insufficient_funds
  4000002500003155 / pm_card_authenticationRequired     requires_action
  4000002760003184                                      requires_action

Control (for tests; not part of Stripe):
  POST /_control {"op": "create|confirm|retrieve|cancel|refund",
                  "delay": seconds, "status": 500, "count": n}
       the next n calls of op (0: all) wait delay seconds and/or answer
       status; a delayed call still does its work, as a provider whose
       answer was lost would. With "late": true the wait comes before the
       work: a provider still working on the call (a confirm that charges
       only then, unless the intent was cancelled meanwhile).
  POST /_control {"op": ..., "hold": true, "count": n}
       the next n calls of op do their work, then wait for /_release
  POST /_release let every held call answer
  POST /_reset   forget rules, calls, intents and keys
  GET  /_calls   the calls received (card numbers cut to their last 4,
                 CVCs dropped), as a JSON list
  GET  /_intents the intents
  GET  /_3ds/<pi>?result=succeeded|failed[&webhook=0]
                 what the buyer's bank page would do: settles an intent
                 waiting for 3-D Secure and, with --webhook-url (unless
                 webhook=0), sends the signed payment_intent.* event there.

What Stripe.js does for a page (docs/payments.md, docs/storefront.md):
  GET  /v3/      the sandbox script (t/fake-stripe.js), in place of
                 js.stripe.com/v3: Stripe(pk), elements().create("card"),
                 createPaymentMethod({type: "card", card})
  POST /v1/payment_methods  with the publishable key (--publishable-key,
                 as `Authorization: Bearer pk_...` or `key=pk_...`): a
                 PaymentMethod `pm_...` from card[number], card[exp_month],
                 card[exp_year], card[cvc]; only its brand, last 4 and
                 outcome are kept. CORS for the --allow-origin origins
                 (a preflight OPTIONS is answered 204).
  GET  /bank/<pi>  the bank page of 3-D Secure (the intent's
                 next_action.redirect_to_url.url): HTML with two buttons;
                 POST /bank/<pi> result=succeeded|failed settles the
                 intent as /_3ds does, sends the webhook, then sends the
                 buyer to the confirm's return_url with
                 ?payment_intent=<pi>&redirect_status=succeeded|failed.

Usage: fake-stripe.py --port N [--key sk_test_sandbox]
                      [--publishable-key pk_test_sandbox]
                      [--allow-origin http://127.0.0.1:8080]...
                      [--webhook-url URL --webhook-secret whsec_...]
                      [--record FILE]
Listens on 127.0.0.1 only.
"""
import html
import os
import argparse
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import urllib.request

from fakelib import JsonHandler, serve

CARDS = {
    "4242424242424242": "ok",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000002500003155": "action",
    "4000002760003184": "action",
    "pm_card_visa": "ok",
    "pm_card_visa_chargeDeclined": "card_declined",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_authenticationRequired": "action",
}

lock = threading.Lock()
state = {}


held = threading.Event()


def reset():
    held.clear()
    state.update(rules=[], calls=[], intents={}, keys={}, charges=0, seq=0,
                 refunds={}, methods={})


reset()


def next_id(prefix):
    state["seq"] += 1
    return "%s_%06d" % (prefix, state["seq"])


def redact(params):
    out = {}
    for k, v in params.items():
        if k.endswith("[cvc]"):
            continue
        if k.endswith("[number]"):
            v = "****" + v[-4:]
        out[k] = v
    return out


def err(status, typ, code, message, pi=None, decline=None):
    e = {"type": typ, "code": code, "message": message}
    if decline:
        e["decline_code"] = decline
    if pi is not None:
        e["payment_intent"] = pi
    return status, {"error": e}


def luhn(number):
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand(number):
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("51", "52", "53", "54", "55") or number[:1] == "2":
        return "mastercard"
    if number[:2] in ("34", "37"):
        return "amex"
    return "unknown"


SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "fake-stripe.js")


class Handler(JsonHandler):
    server_version = "fake-stripe/1"

    def headers_out(self):
        out = [("Request-Id", "req_%d" % time.time_ns())]
        origin = self.headers.get("Origin")
        if origin and origin in ARGS.allow_origin:
            out += [("Access-Control-Allow-Origin", origin),
                    ("Vary", "Origin")]
        return out

    def send_raw(self, status, ctype, data, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in list(self.headers_out()) + list(extra):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self):
        # The browser's preflight before POST /v1/payment_methods.
        origin = self.headers.get("Origin")
        if not origin or origin not in ARGS.allow_origin:
            return self.send_raw(403, "text/plain", b"origin not allowed")
        return self.send_raw(204, "text/plain", b"", [
            ("Access-Control-Allow-Methods", "POST"),
            ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
            ("Access-Control-Max-Age", "600")])

    def script(self):
        with open(SCRIPT, "rb") as f:
            data = f.read()
        return self.send_raw(200, "application/javascript; charset=utf-8",
                             data, [("Cache-Control", "no-cache")])

    def payment_method(self):
        raw = self.body().decode()
        p = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else p.get("key", "")
        with lock:
            state["calls"].append({"op": "payment_method",
                                   "path": "/v1/payment_methods",
                                   "key": None, "params": redact(p),
                                   "at": time.time()})
            if ARGS.record:
                with open(ARGS.record, "a") as f:
                    f.write(json.dumps(state["calls"][-1]) + "\n")
        if key not in (ARGS.publishable_key, ARGS.key):
            return self.send(*err(401, "invalid_request_error",
                                  "api_key_invalid", "Invalid API Key."))
        if p.get("type") != "card":
            return self.send(*err(400, "invalid_request_error",
                                  "parameter_invalid",
                                  "Invalid type: must be card."))
        number = p.get("card[number]", "").replace(" ", "")
        month = p.get("card[exp_month]", "")
        year = p.get("card[exp_year]", "")
        cvc = p.get("card[cvc]", "")
        now = time.gmtime()
        if not (number.isdigit() and 12 <= len(number) <= 19 and
                luhn(number)):
            return self.send(*card_err("incorrect_number", "card[number]",
                                       "Your card number is incorrect."))
        if not (month.isdigit() and 1 <= int(month) <= 12):
            return self.send(*card_err("invalid_expiry_month",
                                       "card[exp_month]",
                                       "Your card's expiration month is "
                                       "invalid."))
        y = int(year) if year.isdigit() else 0
        y = y + 2000 if y < 100 else y
        if (y, int(month)) < (now.tm_year, now.tm_mon):
            return self.send(*card_err("invalid_expiry_year",
                                       "card[exp_year]",
                                       "Your card's expiration year is "
                                       "invalid."))
        if not (cvc.isdigit() and 3 <= len(cvc) <= 4):
            return self.send(*card_err("invalid_cvc", "card[cvc]",
                                       "Your card's security code is "
                                       "invalid."))
        with lock:
            pm = {"id": next_id("pm"), "object": "payment_method",
                  "type": "card",
                  "card": {"brand": brand(number), "last4": number[-4:],
                           "exp_month": int(month), "exp_year": y},
                  "billing_details": {"name": p.get(
                      "billing_details[name]") or None},
                  "created": int(time.time())}
            # The outcome of the test card, never the number.
            state["methods"][pm["id"]] = CARDS.get(number, "card_declined")
        return self.send(200, pm)

    def bank_page(self, method, pi_id):
        with lock:
            pi = state["intents"].get(pi_id)
            pi = dict(pi) if pi else None
        if method == "GET":
            if pi is None or pi["status"] != "requires_action":
                body = ("<p>This payment does not wait for "
                        "authentication.</p>")
            else:
                amount = "%d.%02d %s" % (pi["amount"] // 100,
                                         pi["amount"] % 100,
                                         pi["currency"].upper())
                body = BANK_FORM % {"amount": html.escape(amount),
                                    "pi": html.escape(pi_id)}
            page = BANK_PAGE % {"body": body}
            return self.send_raw(200, "text/html; charset=utf-8",
                                 page.encode())
        p = dict(urllib.parse.parse_qsl(self.body().decode()))
        result = p.get("result", "succeeded")
        status, sent = self.settle(pi_id, result == "succeeded", True)
        if status is None:
            return self.send_raw(400, "text/html; charset=utf-8", (
                BANK_PAGE % {"body": "<p>This payment does not wait for "
                             "authentication.</p>"}).encode())
        ret = (pi or {}).get("return_url")
        if not ret:
            return self.send_raw(200, "text/html; charset=utf-8", (
                BANK_PAGE % {"body": "<p>Done: %s. You may close this "
                             "page.</p>" % html.escape(status)}).encode())
        sep = "&" if "?" in ret else "?"
        loc = "%s%spayment_intent=%s&redirect_status=%s" % (
            ret, sep, pi_id, "succeeded" if status == "succeeded"
            else "failed")
        return self.send_raw(303, "text/plain", b"", [("Location", loc)])

    # Control endpoints.
    def control(self, method, path):
        if method == "POST" and path == "/_control":
            rule = json.loads(self.body() or "{}")
            rule.setdefault("count", 1)
            with lock:
                state["rules"].append(rule)
            return self.send(200, {"ok": True})
        if method == "POST" and path == "/_release":
            self.body()
            held.set()
            return self.send(200, {"ok": True})
        if method == "POST" and path == "/_reset":
            self.body()
            with lock:
                reset()
            return self.send(200, {"ok": True})
        if method == "GET" and path == "/_calls":
            with lock:
                return self.send(200, {"calls": state["calls"],
                                       "charges": state["charges"]})
        if method == "GET" and path == "/_intents":
            with lock:
                return self.send(200, {"intents": list(
                    state["intents"].values())})
        if method == "GET" and path.startswith("/_3ds/"):
            return self.three_ds(path[len("/_3ds/"):])
        return self.send(404, {"error": {"type": "invalid_request_error",
                                         "message": "no such control"}})

    def three_ds(self, pi_id):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        ok = q.get("result", ["succeeded"])[0] == "succeeded"
        status, sent = self.settle(pi_id, ok,
                                   q.get("webhook", ["1"])[0] == "1")
        if status is None:
            return self.send(400, {"error": {
                "type": "invalid_request_error",
                "message": "no intent waits for 3-D Secure"}})
        return self.send(200, {"status": status, "webhook": sent})

    def settle(self, pi_id, ok, webhook):
        """Settles an intent waiting for 3-D Secure; (status, webhook
        answer), or (None, None) when none waits."""
        with lock:
            pi = state["intents"].get(pi_id)
            if pi is None or pi["status"] != "requires_action":
                return None, None
            pi["next_action"] = None
            if ok:
                pi["status"] = "succeeded"
                pi["amount_received"] = pi["amount"]
            else:
                pi["status"] = "requires_payment_method"
                pi["last_payment_error"] = {
                    "type": "card_error", "code": "authentication_required",
                    "decline_code": "authentication_required",
                    "message": "The card was not authenticated."}
            event = {"id": next_id("evt"), "object": "event",
                     "type": "payment_intent.succeeded" if ok
                     else "payment_intent.payment_failed",
                     "created": int(time.time()),
                     "data": {"object": dict(pi)}}
            status = pi["status"]
        sent = None
        if ARGS.webhook_url and webhook:
            sent = send_webhook(event)
        return status, sent

    def rule(self, op):
        with lock:
            for r in state["rules"]:
                if r.get("op") == op:
                    if r["count"] > 0:
                        r["count"] -= 1
                        if r["count"] == 0:
                            state["rules"].remove(r)
                    return r
        return None

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_"):
            return self.control(method, path)
        if method == "GET" and path in ("/v3", "/v3/"):
            return self.script()
        if method == "POST" and path == "/v1/payment_methods":
            return self.payment_method()
        if path.startswith("/bank/"):
            return self.bank_page(method, path[len("/bank/"):])
        raw = self.body().decode() if method == "POST" else ""
        params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        auth = self.headers.get("Authorization", "")
        if auth != "Bearer " + ARGS.key:
            return self.send(*err(401, "invalid_request_error",
                                  "api_key_invalid", "Invalid API Key."))
        parts = path.strip("/").split("/")
        op = None
        if method == "POST" and parts == ["v1", "payment_intents"]:
            op = "create"
        elif (method == "POST" and len(parts) == 4 and
              parts[:2] == ["v1", "payment_intents"]):
            op = {"confirm": "confirm", "cancel": "cancel"}.get(parts[3])
        elif (method == "GET" and len(parts) == 3 and
              parts[:2] == ["v1", "payment_intents"]):
            op = "retrieve"
        elif method == "POST" and parts == ["v1", "refunds"]:
            op = "refund"
        if op is None:
            return self.send(*err(404, "invalid_request_error",
                                  "resource_missing", "Unrecognized URL."))
        key = self.headers.get("Idempotency-Key")
        with lock:
            state["calls"].append({"op": op, "path": path, "key": key,
                                   "params": redact(params),
                                   "at": time.time()})
            if ARGS.record:
                with open(ARGS.record, "a") as f:
                    f.write(json.dumps(state["calls"][-1]) + "\n")
        rule = self.rule(op)
        fingerprint = hashlib.sha256(
            (method + path + "?" + json.dumps(sorted(params.items()))
             ).encode()).hexdigest()
        if key and method == "POST":
            with lock:
                seen = state["keys"].get(key)
                if seen is None:
                    state["keys"][key] = {"fp": fingerprint, "result": None}
            if seen is not None:
                if seen["fp"] != fingerprint:
                    return self.send(*err(
                        400, "idempotency_error", "idempotency_error",
                        "Keys for idempotent requests can only be used "
                        "with the same parameters they were first used "
                        "with."))
                if seen["result"] is None:
                    return self.send(*err(
                        409, "invalid_request_error",
                        "idempotency_key_in_use",
                        "The request conflicts with another request "
                        "(perhaps due to using the same idempotent key)."))
                return self.send(*seen["result"])
        if rule and rule.get("status"):
            if rule.get("delay"):
                time.sleep(float(rule["delay"]))
            with lock:
                state["keys"].pop(key, None)  # not executed: not stored
            return self.send(*err(int(rule["status"]), "api_error",
                                  "api_error", "Something went wrong."))
        if rule and rule.get("delay") and rule.get("late"):
            time.sleep(float(rule["delay"]))
        with lock:
            result = getattr(self, "op_" + op)(parts, params)
        if rule and rule.get("delay") and not rule.get("late"):
            time.sleep(float(rule["delay"]))
        if rule and rule.get("hold"):
            held.wait(30)
        # Stored once answered: a replay meanwhile is "in use".
        if key and method == "POST":
            with lock:
                if key in state["keys"]:
                    state["keys"][key]["result"] = result
        return self.send(*result)

    # Operations (called with the lock held).
    def op_create(self, parts, p):
        try:
            amount = int(p.get("amount", ""))
        except ValueError:
            return err(400, "invalid_request_error", "parameter_missing",
                       "Missing required param: amount.")
        if amount <= 0 or not p.get("currency"):
            return err(400, "invalid_request_error", "parameter_invalid",
                       "Invalid amount or currency.")
        pi = {"id": next_id("pi"), "object": "payment_intent",
              "amount": amount, "amount_received": 0,
              "currency": p["currency"], "status": "requires_payment_method",
              "client_secret": None, "payment_method": None,
              "latest_charge": None, "last_payment_error": None,
              "next_action": None,
              "metadata": {k[9:-1]: v for k, v in p.items()
                           if k.startswith("metadata[")}}
        pi["client_secret"] = pi["id"] + "_secret_x"
        state["intents"][pi["id"]] = pi
        return 200, dict(pi)

    def op_confirm(self, parts, p):
        pi = state["intents"].get(parts[2])
        if pi is None:
            return err(404, "invalid_request_error", "resource_missing",
                       "No such payment_intent.")
        if pi["status"] not in ("requires_payment_method",
                                "requires_confirmation", "requires_action"):
            return err(400, "invalid_request_error",
                       "payment_intent_unexpected_state",
                       "This PaymentIntent's status is %s." % pi["status"],
                       pi=dict(pi))
        card = p.get("payment_method") or p.get(
            "payment_method_data[card][number]", "")
        outcome = state["methods"].get(card) or CARDS.get(card,
                                                          "card_declined")
        pi["return_url"] = p.get("return_url") or None
        state["charges"] += 1
        pi["latest_charge"] = next_id("ch")
        pi["payment_method"] = next_id("pm")
        pi["next_action"] = None
        pi["last_payment_error"] = None
        if outcome == "ok":
            pi["status"] = "succeeded"
            pi["amount_received"] = pi["amount"]
            return 200, dict(pi)
        if outcome == "action":
            pi["status"] = "requires_action"
            url = "http://127.0.0.1:%d/bank/%s" % (ARGS.port, pi["id"])
            pi["next_action"] = {"type": "redirect_to_url",
                                 "redirect_to_url": {
                                     "url": url,
                                     "return_url": pi["return_url"]}}
            return 200, dict(pi)
        pi["status"] = "requires_payment_method"
        message = ("Your card has insufficient funds."
                   if outcome == "insufficient_funds"
                   else "Your card was declined.")
        pi["last_payment_error"] = {"type": "card_error",
                                    "code": "card_declined",
                                    "decline_code": outcome,
                                    "message": message}
        return err(402, "card_error", "card_declined", message, pi=dict(pi),
                   decline=outcome)

    def op_retrieve(self, parts, p):
        pi = state["intents"].get(parts[2])
        if pi is None:
            return err(404, "invalid_request_error", "resource_missing",
                       "No such payment_intent.")
        return 200, dict(pi)

    def op_cancel(self, parts, p):
        pi = state["intents"].get(parts[2])
        if pi is None:
            return err(404, "invalid_request_error", "resource_missing",
                       "No such payment_intent.")
        if pi["status"] in ("succeeded", "canceled"):
            return err(400, "invalid_request_error",
                       "payment_intent_unexpected_state",
                       "You cannot cancel this PaymentIntent because it "
                       "has a status of %s." % pi["status"], pi=dict(pi))
        pi["status"] = "canceled"
        pi["next_action"] = None
        return 200, dict(pi)

    def op_refund(self, parts, p):
        pi = state["intents"].get(p.get("payment_intent", ""))
        if pi is None or pi["status"] != "succeeded":
            return err(400, "invalid_request_error", "charge_not_refundable",
                       "This PaymentIntent has no successful charge.")
        done = state["refunds"].get(pi["id"], 0)
        amount = int(p.get("amount") or pi["amount"] - done)
        if amount <= 0 or done + amount > pi["amount"]:
            return err(400, "invalid_request_error", "amount_too_large",
                       "Refund amount is greater than unrefunded amount.")
        state["refunds"][pi["id"]] = done + amount
        return 200, {"id": next_id("re"), "object": "refund",
                     "amount": amount, "payment_intent": pi["id"],
                     "status": "succeeded"}


def card_err(code, param, message):
    return 402, {"error": {"type": "card_error", "code": code,
                           "param": param, "message": message}}


BANK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox bank: 3-D Secure</title>
<link rel="icon" href="data:,">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:2rem auto;
padding:0 1rem;color:#111}button{font:inherit;padding:.5rem 1rem;margin:.25rem
.5rem .25rem 0}</style></head>
<body><main><h1>Sandbox bank</h1>%(body)s</main></body></html>
"""

BANK_FORM = """<p>Confirm the payment of <strong>%(amount)s</strong>
(3-D Secure test page of the payment sandbox).</p>
<form method="post" action="/bank/%(pi)s">
<button type="submit" name="result" value="succeeded">Authenticate</button>
<button type="submit" name="result" value="failed">Fail authentication</button>
</form>"""


def send_webhook(event):
    body = json.dumps(event).encode()
    t = int(time.time())
    sig = hmac.new(ARGS.webhook_secret.encode(),
                   b"%d." % t + body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(
        ARGS.webhook_url, data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "Stripe-Signature": "t=%d,v1=%s" % (t, sig)})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", default="sk_test_sandbox")
    ap.add_argument("--publishable-key", default="pk_test_sandbox")
    ap.add_argument("--allow-origin", action="append", default=[])
    ap.add_argument("--webhook-url", default="")
    ap.add_argument("--webhook-secret", default="")
    ap.add_argument("--record", default="")
    ARGS = ap.parse_args()
    serve(ARGS.port, Handler)

if __name__ == "__main__":
    main()
