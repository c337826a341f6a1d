/*
 * The demo storefront (docs/storefront.md): catalog, product, cart,
 * checkout steps, card payment through the provider's script, 3-D Secure,
 * confirmation and order status, over checkoutd's API (SPEC section 2).
 * Routes live in the fragment (#/cart, #/product/tshirt, ...), so that
 * nginx serves one page and checkoutd keeps every path under /api/.
 */
import {get, write, load, save, pendingOps, forget} from "./api.js";

const main = document.getElementById("main");
const statusBox = document.getElementById("status");
let stripe = null;
let card = null;

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) =>
	({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);

function money(minor, currency = "EUR") {
	const f = new Intl.NumberFormat("en", {style: "currency", currency});
	return f.format(minor / 10 ** f.resolvedOptions().maximumFractionDigits);
}

function say(text) {
	statusBox.textContent = text;
}

function show(title, html) {
	document.title = title + " · Demo Store";
	main.innerHTML = html;
	const h = main.querySelector("h1");
	if (h) {
		h.tabIndex = -1;
		h.focus();
	}
}

function go(route) {
	if (location.hash === route)
		route_();
	else
		location.hash = route;
}

const cartNow = () => load("cart");
const orders = () => load("orders", {});

function tokenOf(id) {
	const c = cartNow();
	if (c && String(c.id) === String(id))
		return c.token;
	return (orders()[id] || {}).token;
}

function problemText(r) {
	if (r.status === 0)
		return "The shop cannot be reached. Check your connection and try again.";
	return (r.body && (r.body.detail || r.body.title)) ||
		"Something went wrong (" + r.status + "). Please try again.";
}

/* Field errors of a 422 next to their inputs (data-field = API name). */
function fieldErrors(form, r) {
	form.querySelectorAll(".err").forEach((e) => e.remove());
	form.querySelectorAll("[aria-invalid]").forEach((e) => {
		e.removeAttribute("aria-invalid");
		e.removeAttribute("aria-describedby");
	});
	let first = null;
	for (const e of (r.body && r.body.errors) || []) {
		const input = form.querySelector(`[data-field="${e.field}"]`) ||
			form.querySelector("[data-field]");
		const p = document.createElement("p");
		p.className = "err";
		p.id = "err-" + input.id;
		const label = form.querySelector(`label[for="${input.id}"]`);
		p.textContent = input.value === "" && label ? `Please fill in: ${label.textContent}.` : e.message;
		input.setAttribute("aria-invalid", "true");
		input.setAttribute("aria-describedby", p.id);
		input.insertAdjacentElement("afterend", p);
		first = first || input;
	}
	if (first)
		first.focus();
	return first;
}

function availability(v) {
	if (!v.tracked || v.available === null)
		return "Available";
	if (v.available <= 0)
		return "Sold out";
	if (v.available <= 3)
		return `Only ${v.available} left`;
	return "In stock";
}

async function updateCartLink() {
	const c = cartNow(), link = document.getElementById("cart-link");
	let n = 0;
	if (c) {
		const r = await get(`/api/carts/${c.id}`, c.token);
		if (r.status === 200 && r.body.checkout_state !== "completed")
			n = r.body.items.reduce((s, i) => s + i.quantity, 0);
		else if (r.status === 404)
			save("cart", null);
	}
	link.textContent = n ? `Cart (${n})` : "Cart";
}

/* Catalog. */
async function catalog() {
	const r = await get("/api/products?limit=200");
	if (r.status !== 200)
		return show("Catalog", `<h1>Catalog</h1><p>${esc(problemText(r))}</p>`);
	const items = r.body.products.map((p) => {
		const prices = p.variants.map((v) => v.price);
		const lo = Math.min(...prices), hi = Math.max(...prices);
		const left = p.variants.some((v) => availability(v) !== "Sold out");
		const one = p.variants.length === 1 ? availability(p.variants[0]) :
			left ? `${p.variants.length} variants` : "Sold out";
		return `<li class="card"><h2><a href="#/product/${esc(p.code)}">${esc(p.name)}</a></h2>
<p class="price">${lo === hi ? money(lo) : money(lo) + " – " + money(hi)}</p>
<p class="avail${left ? "" : " out"}">${esc(one)}</p></li>`;
	});
	show("Catalog", `<h1>Catalog</h1><ul class="grid">${items.join("")}</ul>`);
}

/* A product and its variants. */
async function product(code) {
	const r = await get(`/api/products/${encodeURIComponent(code)}`);
	if (r.status !== 200)
		return show("Not found", `<h1>Not found</h1><p>No such product. <a href="#/">Back to the catalog</a></p>`);
	const p = r.body;
	const first = p.variants.find((v) => availability(v) !== "Sold out");
	const opts = p.variants.map((v) => {
		const out = availability(v) === "Sold out";
		return `<li><input type="radio" name="variant" id="v-${v.id}" value="${esc(v.code)}"${out ? " disabled" : ""}${v === first ? " checked" : ""}>
<label for="v-${v.id}">${esc(v.name)} — ${money(v.price)} — ${esc(availability(v))}</label></li>`;
	}).join("");
	show(p.name, `<h1>${esc(p.name)}</h1>
<form id="add" novalidate>
<fieldset><legend>Variant</legend><ul class="plain">${opts}</ul></fieldset>
<label for="qty">Quantity</label>
<input id="qty" name="quantity" type="number" min="1" max="9999" value="1" data-field="quantity" inputmode="numeric">
<p><button type="submit"${first ? "" : " disabled"}>Add to cart</button></p>
</form><p><a href="#/">Back to the catalog</a></p>`);
	const form = document.getElementById("add");
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		const b = form.querySelector("button");
		if (b.disabled)
			return;
		b.disabled = true;
		const variant = form.variant.value;
		const res = await addItem(variant, Number(form.quantity.value));
		b.disabled = false;
		if (res.status === 201) {
			fieldErrors(form, {body: {}});
			say(`Added ${p.name} to your cart.`);
			updateCartLink();
		} else if (res.status === 422) {
			fieldErrors(form, res);
		} else {
			say(problemText(res));
		}
	});
}

let cartMaking = null;

async function ensureCart() {
	const c = cartNow();
	if (c)
		return c;
	cartMaking = cartMaking || write("cart:new", "POST", "/api/carts", {}, null);
	const r = await cartMaking;
	cartMaking = null;
	if (r.status !== 201)
		return null;
	const made = {id: r.body.id, token: r.body.token};
	save("cart", made);
	return made;
}

async function addItem(variant, quantity) {
	let c = await ensureCart();
	if (!c)
		return {status: 0};
	let r = await write(`add:${c.id}`, "POST", `/api/carts/${c.id}/items`,
		{variant, quantity}, c.token);
	if (r.status === 404) {
		/* The cart expired: a new one. */
		save("cart", null);
		c = await ensureCart();
		r = await write(`add:${c.id}`, "POST", `/api/carts/${c.id}/items`,
			{variant, quantity}, c.token);
	}
	return r;
}

function lines(o, editable) {
	const rows = o.items.map((i) => `<tr>
<th scope="row">${esc(i.variant.product_name)}${i.variant.name !== i.variant.product_name ? ", " + esc(i.variant.name) : ""}</th>
<td>${money(i.unit_price, o.currency)}</td>
<td>${editable ? `<label class="sr" for="q-${i.id}">Quantity of ${esc(i.variant.name)}</label>
<input id="q-${i.id}" class="qty" type="number" min="0" max="9999" value="${i.quantity}" data-item="${i.id}" inputmode="numeric">
<button type="button" data-update="${i.id}">Update</button>
<button type="button" data-remove="${i.id}">Remove <span class="sr">${esc(i.variant.name)}</span></button>` : i.quantity}</td>
<td>${money(i.total, o.currency)}</td></tr>`).join("");
	return `<table class="lines"><caption class="sr">Items</caption><thead><tr><th scope="col">Item</th><th scope="col">Price</th><th scope="col">Quantity</th><th scope="col">Total</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function totals(o) {
	const row = (k, v) => `<div><dt>${k}</dt><dd>${money(v, o.currency)}</dd></div>`;
	const sub = o.items.reduce((s, i) => s + i.unit_price * i.quantity, 0);
	const ship = o.shipping_address ? o.shipping_total : 0;
	const tax = o.total - sub - o.promotion_total - ship;
	return `<dl class="totals">${row("Subtotal", sub)}${o.promotion_total ? row("Discounts", o.promotion_total) : ""}${o.shipping_address ? row("Shipping", ship) : ""}${tax ? row("Tax", tax) : ""}${row("Total", o.total)}</dl>
<p class="note">${o.tax_total && !tax ? "Includes tax of " + money(o.tax_total, o.currency) + "." : ""}</p>`;
}

/* The cart: quantities, removal, coupon. */
async function cart() {
	const c = cartNow();
	let o = null;
	if (c) {
		const r = await get(`/api/carts/${c.id}`, c.token);
		if (r.status === 200 && r.body.checkout_state !== "completed")
			o = r.body;
		else
			save("cart", null);
	}
	if (!o || !o.items.length)
		return show("Cart", `<h1>Your cart</h1><p>Your cart is empty. <a href="#/">Browse the catalog</a></p>`);
	const coupon = load("coupon");
	show("Cart", `<h1>Your cart</h1>${lines(o, true)}
<form id="coupon" novalidate><label for="code">Coupon code</label>
<input id="code" name="code" data-field="code" autocomplete="off" value="${esc(coupon || "")}">
<button type="submit">Apply</button>${coupon ? ` <button type="button" id="uncoupon">Remove coupon</button>` : ""}</form>
${totals(o)}
<p><a class="button" href="#/checkout/address">Checkout</a></p>`);
	const act = async (op, method, path, body, done) => {
		main.querySelectorAll("button").forEach((b) => (b.disabled = true));
		const r = await write(op, method, `/api/carts/${c.id}${path}`, body, c.token);
		if (r.status === 200 || r.status === 201 || r.status === 204) {
			if (done)
				done();
			say("Your cart was updated.");
			updateCartLink();
			return cart();
		}
		main.querySelectorAll("button").forEach((b) => (b.disabled = false));
		return r;
	};
	main.querySelectorAll("[data-update]").forEach((b) => b.addEventListener("click", async () => {
		const id = b.dataset.update, q = Number(document.getElementById("q-" + id).value);
		const r = await act(`qty:${c.id}:${id}`, "PATCH", `/items/${id}`, {quantity: q});
		if (r)
			say(problemText(r).replace(/^/, "Not updated: "));
	}));
	main.querySelectorAll("[data-remove]").forEach((b) => b.addEventListener("click", () =>
		act(`rm:${c.id}:${b.dataset.remove}`, "DELETE", `/items/${b.dataset.remove}`)));
	const form = document.getElementById("coupon");
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		const code = form.code.value.trim();
		const r = await act(`coupon:${c.id}`, "POST", "/coupon", {code}, () => save("coupon", code));
		if (r && r.status === 422)
			fieldErrors(form, r);
		else if (r)
			say(problemText(r));
	});
	const un = document.getElementById("uncoupon");
	if (un)
		un.addEventListener("click", () => act(`uncoupon:${c.id}`, "DELETE", "/coupon", undefined, () => save("coupon", null)));
}

const COUNTRIES = {AT: "Austria", BE: "Belgium", DE: "Germany", ES: "Spain", FR: "France",
	IE: "Ireland", IT: "Italy", NL: "Netherlands", PL: "Poland", PT: "Portugal", SE: "Sweden",
	US: "United States"};

const ADDRESS = [["firstName", "First name", "given-name"], ["lastName", "Last name", "family-name"],
	["street", "Street and number", "street-address"], ["postcode", "Postcode", "postal-code"],
	["city", "City", "address-level2"]];

/* The checkout's cart, or a page saying there is none. */
function checkoutCart() {
	const c = cartNow();
	if (!c)
		show("Checkout", `<h1>Checkout</h1><p>Your cart is empty. <a href="#/">Browse the catalog</a></p>`);
	return c;
}

function steps(now) {
	const names = [["address", "Address"], ["shipping", "Shipping"], ["payment", "Payment"], ["review", "Review"]];
	return `<ol class="steps">${names.map(([k, n]) => `<li${k === now ? ' aria-current="step"' : ""}>${n}</li>`).join("")}</ol>`;
}

async function address() {
	const c = checkoutCart();
	if (!c)
		return;
	const a = load("address", {country: "DE"});
	const fields = ADDRESS.map(([k, label, ac]) => `<div class="field"><label for="a-${k}">${label}</label>
<input id="a-${k}" name="${k}" autocomplete="${ac}" required data-field="shippingAddress.${k}" value="${esc(a[k] || "")}"></div>`).join("");
	const opts = Object.entries(COUNTRIES).map(([k, n]) => `<option value="${k}"${a.country === k ? " selected" : ""}>${n}</option>`).join("");
	show("Address", `<h1>Checkout: address</h1>${steps("address")}
<form id="addr" novalidate>
<div class="field"><label for="a-email">Email</label>
<input id="a-email" name="email" type="email" autocomplete="email" required data-field="email" value="${esc(a.email || "")}"></div>
${fields}
<div class="field"><label for="a-country">Country</label>
<select id="a-country" name="country" autocomplete="country" data-field="shippingAddress.country">${opts}</select></div>
<div class="field"><label for="a-phone">Phone (optional)</label>
<input id="a-phone" name="phone" type="tel" autocomplete="tel" data-field="shippingAddress.phone" value="${esc(a.phone || "")}"></div>
<p><button type="submit">Continue to shipping</button></p></form>`);
	const form = document.getElementById("addr");
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		const b = form.querySelector("button[type=submit]");
		if (b.disabled)
			return;
		const v = Object.fromEntries(new FormData(form));
		save("address", v);
		const ship = {};
		for (const [k] of ADDRESS)
			ship[k] = v[k];
		ship.country = v.country;
		if (v.phone)
			ship.phone = v.phone;
		b.disabled = true;
		const r = await write(`address:${c.id}`, "PUT", `/api/checkouts/${c.id}`,
			{email: v.email, shippingAddress: ship}, c.token);
		b.disabled = false;
		if (r.status === 200)
			return go("#/checkout/shipping");
		if (r.status === 422) {
			fieldErrors(form, r);
			say("Please correct the highlighted fields.");
		} else {
			say(problemText(r));
		}
	});
}

/* Back to `addressed` (GET lists shipping methods only there). */
async function readdress(c) {
	const v = load("address");
	if (!v)
		return null;
	const ship = {};
	for (const [k] of ADDRESS)
		ship[k] = v[k];
	ship.country = v.country;
	if (v.phone)
		ship.phone = v.phone;
	return write(`address:${c.id}`, "PUT", `/api/checkouts/${c.id}`, {email: v.email, shippingAddress: ship}, c.token);
}

async function shipping() {
	const c = checkoutCart();
	if (!c)
		return;
	show("Shipping", `<h1>Checkout: shipping</h1>${steps("shipping")}<p>Asking the carriers for prices…</p>`);
	let r = await get(`/api/checkouts/${c.id}`, c.token);
	if (r.status === 200 && !Array.isArray(r.body) && r.body.checkout_state !== "cart") {
		await readdress(c);
		r = await get(`/api/checkouts/${c.id}`, c.token);
	}
	if (r.status !== 200 || !Array.isArray(r.body))
		return go("#/checkout/address");
	const methods = r.body[0] ? r.body[0].methods : [];
	if (!methods.length)
		return show("Shipping", `<h1>Checkout: shipping</h1>${steps("shipping")}<p>We cannot ship to this address. <a href="#/checkout/address">Change the address</a></p>`);
	const list = methods.map((m, i) => `<li><input type="radio" name="method" id="m-${i}" value="${esc(m.code)}"${i ? "" : " checked"}>
<label for="m-${i}">${esc(m.name)} — ${money(m.price)}${m.estimated_days ? ` (${m.estimated_days} days${m.calculator === "carrier" ? ", live quote" : ""})` : ""}</label></li>`).join("");
	show("Shipping", `<h1>Checkout: shipping</h1>${steps("shipping")}
<form id="ship" novalidate><fieldset><legend>Shipping method</legend><ul class="plain" data-field="shipments[0].method">${list}</ul></fieldset>
<p><button type="submit">Continue to payment</button> <a href="#/checkout/address">Back</a></p></form>`);
	const form = document.getElementById("ship");
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		const b = form.querySelector("button");
		b.disabled = true;
		const m = form.method.value;
		const res = await write(`ship:${c.id}`, "PUT", `/api/checkouts/${c.id}`, {shipments: [{method: m}]}, c.token);
		b.disabled = false;
		if (res.status === 200)
			return go("#/checkout/payment");
		if (res.status === 422)
			fieldErrors(form, res);
		say(problemText(res));
	});
}

async function payment() {
	const c = checkoutCart();
	if (!c)
		return;
	const r = await get(`/api/checkouts/${c.id}`, c.token);
	if (r.status !== 200 || Array.isArray(r.body) || !r.body.methods)
		return go(r.status === 200 && r.body.checkout_state === "payment_selected" ? "#/checkout/review" : "#/checkout/shipping");
	const chosen = load("paymethod", "stripe");
	const list = Object.values(r.body.methods).map((m) => `<li><input type="radio" name="method" id="p-${m.id}" value="${esc(m.code)}"${m.code === chosen ? " checked" : ""}>
<label for="p-${m.id}">${esc(m.code === "stripe" ? "Card" : m.name)}</label></li>`).join("");
	show("Payment", `<h1>Checkout: payment</h1>${steps("payment")}
<form id="pay" novalidate><fieldset><legend>Payment method</legend><ul class="plain" data-field="payments[0].method">${list}</ul></fieldset>
<p><button type="submit">Review your order</button> <a href="#/checkout/shipping">Back</a></p></form>`);
	const form = document.getElementById("pay");
	if (!form.querySelector(":checked"))
		form.querySelector("input").checked = true;
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		const b = form.querySelector("button");
		b.disabled = true;
		const m = form.method.value;
		save("paymethod", m);
		const res = await write(`paymethod:${c.id}`, "PUT", `/api/checkouts/${c.id}`, {payments: [{method: m}]}, c.token);
		b.disabled = false;
		if (res.status === 200)
			return go("#/checkout/review");
		if (res.status === 422)
			fieldErrors(form, res);
		say(problemText(res));
	});
}

async function loadStripe() {
	if (stripe)
		return stripe;
	const r = await get("/storefront.json");
	if (r.status !== 200)
		return null;
	await new Promise((ok) => {
		const s = document.createElement("script");
		s.src = r.body.paymentScript;
		s.onload = ok;
		s.onerror = ok;
		document.head.appendChild(s);
	});
	stripe = window.Stripe ? window.Stripe(r.body.publishableKey) : null;
	return stripe;
}

const byCard = (o) => o.payments.some((p) => p.method && p.method.code === "stripe");

function summary(o) {
	const a = o.shipping_address, s = o.shipments[0];
	return `${lines(o, false)}
${a ? `<h2>Delivery</h2><p>${esc(a.first_name)} ${esc(a.last_name)}, ${esc(a.street)}, ${esc(a.postcode)} ${esc(a.city)}, ${esc(COUNTRIES[a.country_code] || a.country_code)}${s && s.method ? `<br>${esc(s.method.name)}` : ""}</p>` : ""}
${totals(o)}`;
}

/* Review and place (a cart), or pay for a placed order after a decline. */
async function review(id, notice) {
	const c = id ? {id, token: tokenOf(id)} : checkoutCart();
	if (!c || !c.token)
		return id ? show("Order", "<h1>Order</h1><p>This order is not known in this browser.</p>") : null;
	const r = await get(`/api/orders/${c.id}`, c.token);
	if (r.status !== 200)
		return go("#/checkout/address");
	const o = r.body;
	if (o.checkout_state !== "completed" && o.checkout_state !== "payment_selected" && o.checkout_state !== "payment_skipped")
		return go(o.checkout_state === "cart" ? "#/checkout/address" : "#/checkout/shipping");
	if (o.checkout_state === "completed" && (o.payment_state !== "awaiting_payment" || !byCard(o)))
		return go(`#/confirmation/${o.id}`);
	const placed = o.checkout_state === "completed";
	const needCard = byCard(o);
	show(placed ? "Pay" : "Review", `<h1>${placed ? `Pay for order ${esc(o.number)}` : "Checkout: review"}</h1>${placed ? "" : steps("review")}
<div id="notice" role="alert">${notice || ""}</div>
${summary(o)}
<form id="place" novalidate>
${needCard ? `<fieldset><legend>Card</legend><div id="card" data-field="card"></div><p id="card-err" class="err" hidden></p></fieldset>` : "<p>You pay by bank transfer: the details come with your confirmation.</p>"}
<p><button type="submit" id="place-btn">${placed ? "Pay " : "Place order — "}${money(o.total, o.currency)}</button>${placed ? "" : ' <a href="#/checkout/payment">Back</a>'}</p></form>`);
	const cardErr = document.getElementById("card-err");
	if (needCard) {
		const s = await loadStripe();
		if (!s) {
			cardErr.hidden = false;
			cardErr.textContent = "Card payments are not available right now.";
			return;
		}
		card = s.elements().create("card");
		card.mount("#card");
	}
	const form = document.getElementById("place");
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		const b = document.getElementById("place-btn");
		if (b.disabled)
			return;
		b.disabled = true;
		cardErr && (cardErr.hidden = true);
		let pm = null;
		if (needCard) {
			say("Checking your card…");
			const t = await stripe.createPaymentMethod({type: "card", card});
			if (t.error) {
				cardErr.hidden = false;
				cardErr.textContent = t.error.message;
				say(t.error.message);
				b.disabled = false;
				return;
			}
			pm = t.paymentMethod.id;
		}
		const flow = {id: o.id, token: c.token, total: o.total, pm, placed};
		save("flow", flow);
		await finish(flow, o);
		const again = document.getElementById("place-btn");
		if (again)
			again.disabled = false;
	});
}

const word = {cart: "in the cart", new: "placed", fulfilled: "fulfilled", cancelled: "cancelled",
	awaiting_payment: "awaiting payment", paid: "paid", partially_refunded: "partly refunded",
	refunded: "refunded", ready: "being prepared", shipped: "shipped"};

function changes(a, b) {
	const out = [];
	const d = (label, x, y) => x !== y && out.push(`${label}: ${money(x, a.currency)} → ${money(y, a.currency)}`);
	d("Shipping", a.shipping_total, b.shipping_total);
	d("Discounts", a.promotion_total, b.promotion_total);
	d("Tax", a.tax_total, b.tax_total);
	for (const i of b.items) {
		const j = a.items.find((k) => k.id === i.id);
		if (j && j.unit_price !== i.unit_price)
			d(i.variant.name, j.unit_price, i.unit_price);
	}
	return out;
}

/*
 * Places the order (finalize, with the total the buyer saw) and pays it
 * with the token. Saved in localStorage as `flow` first: a reload resumes
 * it with the same Idempotency-Keys (api.js), so there is one order and
 * one charge whatever the buyer clicks or reloads.
 */
async function finish(flow, shown) {
	say("Placing your order…");
	const path = `/api/checkouts/${flow.id}`;
	let o = shown;
	if (!flow.placed) {
		const r = await write(`place:${flow.id}`, "PUT", path, {expectedTotal: flow.total}, flow.token);
		if (r.status === 409 && r.body && r.body.code === "out_of_stock") {
			save("flow", null);
			const names = {};
			for (const i of (shown || {items: []}).items)
				names[i.variant.code] = i.variant.product_name;
			const gone = r.body.items.map((i) => `<li>${esc(names[i.variant_code] || i.variant_code)}: you asked for ${i.requested}, ${i.available > 0 ? "only " + i.available + " left" : "none left"}.</li>`).join("");
			document.getElementById("place")?.remove();
			document.getElementById("notice").innerHTML = `<h2>Sorry, an item is gone</h2><p>Someone else just bought the last one. No order was made and your card was not charged.</p><ul>${gone}</ul><p><a href="#/cart">Change your cart</a></p>`;
			say("");
			return;
		}
		if (r.status === 409 && r.body && r.body.code === "total_changed") {
			save("flow", null);
			say("");
			const what = shown ? changes(shown, r.body.order) : [];
			await review(null, `<h2>The total has changed</h2><p>It is now ${money(r.body.order.total, r.body.order.currency)} instead of ${money(flow.total, r.body.order.currency)}.</p>${what.length ? `<ul>${what.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}<p>Nothing was ordered yet. Check the order and place it again.</p>`);
			return;
		}
		if (r.status !== 200) {
			save("flow", null);
			say(problemText(r));
			return;
		}
		o = r.body;
		const all = orders();
		all[o.id] = {token: flow.token, number: o.number};
		save("orders", all);
		save("cart", null);
		save("coupon", null);
		updateCartLink();
		flow.placed = true;
		save("flow", flow);
	}
	if (!flow.pm) {
		save("flow", null);
		return go(`#/confirmation/${flow.id}`);
	}
	say("Paying…");
	const r = await write(`pay:${flow.id}:${flow.pm}`, "PUT", path, {paymentToken: flow.pm}, flow.token);
	save("flow", null);
	if (r.status === 200) {
		const p = r.body.payments.find((x) => x.next_action && x.next_action.redirect_to_url);
		if (p && r.body.payment_state === "awaiting_payment") {
			save("awaiting", flow.id);
			say("Your bank asks you to confirm the payment…");
			location.assign(p.next_action.redirect_to_url.url);
			return;
		}
		return go(`#/confirmation/${flow.id}`);
	}
	if (r.status === 409 && r.body && r.body.code === "invalid_transition")
		return go(`#/confirmation/${flow.id}`);
	const why = r.status === 402 ? `Your card was not accepted: ${r.body.detail || "declined"}. Your order ${o ? o.number : ""} is kept: try another card.` :
		r.status === 429 ? "Too many declined cards. Please wait a few minutes before trying again." : problemText(r);
	if (location.hash !== `#/pay/${flow.id}`) {
		history.replaceState(null, "", `#/pay/${flow.id}`);
	}
	/* The notice (role=alert) says it: not twice on the page. */
	say("");
	await review(String(flow.id), `<p>${esc(why)}</p>`);
}

async function confirmation(id) {
	const t = tokenOf(id);
	let r = await get(`/api/orders/${id}`, t);
	for (let i = 0; r.status === 200 && i < 20 && r.body.payment_state === "awaiting_payment" && byCard(r.body) &&
	     r.body.payments.some((p) => p.state === "processing"); i++) {
		await new Promise((ok) => setTimeout(ok, 500));
		r = await get(`/api/orders/${id}`, t);
	}
	if (r.status !== 200)
		return show("Order", `<h1>Order</h1><p>${esc(problemText(r))}</p>`);
	const o = r.body;
	const paid = o.payment_state === "paid";
	show("Thank you", `<h1>Thank you for your order</h1>
<p>Your order number is <strong class="number" id="order-number">${esc(o.number)}</strong>.</p>
<p id="pay-state">${paid ? "Your payment was received." : byCard(o) ? "Your payment is not confirmed yet." : "Please pay by bank transfer, quoting your order number."}</p>
${summary(o)}
<p><a href="#/order/${o.id}">See your order's status</a> · <a href="#/">Continue shopping</a></p>`);
}

async function status(id) {
	const r = await get(`/api/orders/${id}`, tokenOf(id));
	if (r.status !== 200)
		return show("Order", `<h1>Order</h1><p>This order is not known in this browser.</p>`);
	const o = r.body, s = o.shipments[0];
	show(`Order ${o.number}`, `<h1>Order ${esc(o.number)}</h1>
<dl class="facts"><div><dt>Order</dt><dd id="order-state">${esc(word[o.state] || o.state)}</dd></div>
<div><dt>Payment</dt><dd id="payment-state">${esc(word[o.payment_state] || o.payment_state)}</dd></div>
<div><dt>Shipping</dt><dd>${esc(word[o.shipping_state] || o.shipping_state)}${s && s.tracking ? ", tracking " + esc(s.tracking) : ""}</dd></div>
<div><dt>Placed</dt><dd>${esc(o.completed_at)}</dd></div></dl>
${summary(o)}
<p><button type="button" id="refresh">Refresh</button>${o.payment_state === "awaiting_payment" && byCard(o) ? ` <a href="#/pay/${o.id}">Pay now</a>` : ""}</p>`);
	document.getElementById("refresh").addEventListener("click", () => status(id));
}

async function route_() {
	say("");
	const h = location.hash.replace(/^#/, "") || "/";
	const m = h.match(/^\/(\w+)(?:\/([^/]+))?$/) || [];
	const [, page, arg] = m;
	if (card) {
		card.unmount();
		card = null;
	}
	if (h === "/")
		return catalog();
	const pages = {product: () => product(arg), cart, pay: () => review(arg),
		confirmation: () => confirmation(arg), order: () => status(arg)};
	if (page === "checkout")
		return ({address, shipping, payment, review: () => review(null)}[arg] || address)();
	return (pages[page] || catalog)();
}

/* Back from the bank's page (3-D Secure): ?payment_intent=&redirect_status=. */
async function start() {
	const q = new URLSearchParams(location.search);
	if (q.has("redirect_status")) {
		const id = load("awaiting");
		save("awaiting", null);
		const ok = q.get("redirect_status") === "succeeded";
		history.replaceState(null, "", "/" + (id ? (ok ? `#/confirmation/${id}` : `#/pay/${id}`) : ""));
		if (!ok)
			say("Your bank did not confirm the payment. Try again or use another card.");
	}
	window.addEventListener("hashchange", route_);
	updateCartLink();
	const flow = load("flow");
	if (flow) {
		/* A reload while placing or paying: the same requests again. */
		show("Finishing", "<h1>Finishing your order…</h1>");
		return finish(flow, null);
	}
	for (const p of pendingOps()) {
		if (!p.op.startsWith("place:") && !p.op.startsWith("pay:"))
			await write(p.op, p.method, p.path, p.body, p.token);
		forget(p.op);
	}
	route_();
}

start();
