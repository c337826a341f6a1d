/*
 * The payment sandbox's stand-in for Stripe.js (js.stripe.com/v3), served
 * by t/fake-stripe.py at /v3/. It offers the part of Stripe.js's API a
 * card form needs, with the same names and answers, so that a page written
 * against it runs unchanged with Stripe.js (docs/payments.md):
 *
 *   const stripe = Stripe("pk_test_sandbox");
 *   const card = stripe.elements().create("card");
 *   card.mount("#card");
 *   card.on("change", (e) => ...);              // e.error, e.complete
 *   const r = await stripe.createPaymentMethod({type: "card", card,
 *                                               billing_details: {name}});
 *   // r.paymentMethod.id ("pm_..."), or r.error {type, code, message}
 *
 * The card's fields belong to this script, not to the page: the page never
 * reads them, and the number goes only to the sandbox (POST
 * /v1/payment_methods with the publishable key), as with Stripe.
 */
(function () {
	"use strict";
	var origin = new URL(document.currentScript.src).origin;
	var seq = 0;

	function digits(s) {
		return s.replace(/[\s-]/g, "");
	}

	function CardElement() {
		this.handlers = {};
		this.root = null;
	}

	CardElement.prototype.mount = function (target) {
		var el = typeof target === "string" ?
			document.querySelector(target) : target;
		var id = "sandbox-card-" + (++seq);
		var self = this;
		el.innerHTML =
			'<div class="sandbox-card">' +
			'<label for="' + id + '-number">Card number</label>' +
			'<input id="' + id + '-number" name="cardnumber" ' +
			'inputmode="numeric" autocomplete="cc-number" ' +
			'placeholder="1234 1234 1234 1234">' +
			'<label for="' + id + '-exp">Expiry (MM / YY)</label>' +
			'<input id="' + id + '-exp" name="exp-date" ' +
			'inputmode="numeric" autocomplete="cc-exp" ' +
			'placeholder="MM / YY">' +
			'<label for="' + id + '-cvc">CVC</label>' +
			'<input id="' + id + '-cvc" name="cvc" inputmode="numeric" ' +
			'autocomplete="cc-csc" placeholder="CVC">' +
			"</div>";
		this.root = el.firstChild;
		this.root.addEventListener("input", function () {
			var v = self.values(), e = self.check(v);
			self.emit("change", {
				elementType: "card",
				empty: !v.number && !v.exp && !v.cvc,
				complete: !e,
				error: e && v.number && v.exp && v.cvc ? e : undefined
			});
		});
	};

	CardElement.prototype.on = function (name, fn) {
		(this.handlers[name] = this.handlers[name] || []).push(fn);
		return this;
	};

	CardElement.prototype.emit = function (name, ev) {
		(this.handlers[name] || []).forEach(function (fn) { fn(ev); });
	};

	CardElement.prototype.focus = function () {
		if (this.root)
			this.root.querySelector("input").focus();
	};

	CardElement.prototype.clear = function () {
		if (this.root)
			this.root.querySelectorAll("input").forEach(function (i) {
				i.value = "";
			});
	};

	CardElement.prototype.unmount = function () {
		if (this.root && this.root.parentNode)
			this.root.parentNode.removeChild(this.root);
		this.root = null;
	};

	CardElement.prototype.values = function () {
		var i = this.root ? this.root.querySelectorAll("input") : [];
		return {
			number: i.length ? digits(i[0].value) : "",
			exp: i.length ? i[1].value.replace(/\s/g, "") : "",
			cvc: i.length ? i[2].value.trim() : ""
		};
	};

	/* Stripe.js's own checks before any request: validation_error. */
	CardElement.prototype.check = function (v) {
		var m = /^(\d{1,2})\/?(\d{2}|\d{4})$/.exec(v.exp);
		if (!/^\d{12,19}$/.test(v.number))
			return verr("incomplete_number",
				"Your card number is incomplete.");
		if (!m || +m[1] < 1 || +m[1] > 12)
			return verr("incomplete_expiry",
				"Your card's expiration date is incomplete.");
		if (!/^\d{3,4}$/.test(v.cvc))
			return verr("incomplete_cvc",
				"Your card's security code is incomplete.");
		return null;
	};

	function verr(code, message) {
		return {type: "validation_error", code: code, message: message};
	}

	function form(o) {
		return Object.keys(o).filter(function (k) {
			return o[k] !== undefined && o[k] !== null && o[k] !== "";
		}).map(function (k) {
			return encodeURIComponent(k) + "=" + encodeURIComponent(o[k]);
		}).join("&");
	}

	function Stripe(key) {
		if (!(this instanceof Stripe))
			return new Stripe(key);
		this.key = key;
	}

	Stripe.prototype.elements = function () {
		return {
			create: function (type) {
				if (type !== "card")
					throw new Error("the sandbox has only the card element");
				return new CardElement();
			}
		};
	};

	Stripe.prototype.createPaymentMethod = function (opts) {
		var card = opts.card, v, e, m, bd = opts.billing_details || {};
		if (opts.type !== "card" || !(card instanceof CardElement))
			return Promise.resolve({error: verr("invalid_request",
				"createPaymentMethod needs {type: 'card', card}")});
		v = card.values();
		e = card.check(v);
		if (e)
			return Promise.resolve({error: e});
		m = /^(\d{1,2})\/?(\d{2}|\d{4})$/.exec(v.exp);
		return fetch(origin + "/v1/payment_methods", {
			method: "POST",
			headers: {
				"Authorization": "Bearer " + this.key,
				"Content-Type": "application/x-www-form-urlencoded"
			},
			body: form({
				"type": "card",
				"card[number]": v.number,
				"card[exp_month]": m[1],
				"card[exp_year]": m[2],
				"card[cvc]": v.cvc,
				"billing_details[name]": bd.name
			})
		}).then(function (r) {
			return r.json().then(function (b) {
				return r.ok ? {paymentMethod: b} : {error: b.error};
			});
		}, function () {
			return {error: {type: "api_connection_error",
				message: "The payment provider could not be reached."}};
		});
	};

	window.Stripe = Stripe;
})();
