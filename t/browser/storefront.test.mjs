/*
 * The storefront (www/, docs/storefront.md) in a real browser, per issue
 * 18's acceptance list. Each test buys with its own email address, so
 * that its orders can be counted in the database.
 */
import {readdirSync, statSync} from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {api, assert, env, grepStack, sandbox, sleep, sql} from "./lib.mjs";

const www = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../www");
const CARD_OK = "4242424242424242";
const CARD_DECLINED = "4000000000000002";
const CARD_3DS = "4000002500003155";

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
const hash = (page, h) => page.waitForFunction((x) => location.hash === x, {}, h);
const email = (what) => `${what}-${Date.now()}@example.com`;

async function status(page, re) {
	await page.waitForFunction((s) => new RegExp(s).test(
		document.getElementById("status").textContent), {}, re.source);
}

async function add(t, page, code, variantId, shot) {
	await page.goto(`${env.url}/#/product/${code}`);
	await page.waitForSelector("#add button");
	if (variantId)
		await page.click(`#v-${variantId}`);
	if (shot) {
		await t.check(page, "product page");
		await t.shot(page, shot);
	}
	await page.click("#add button");
	await status(page, /^Added /);
}

async function fillAddress(page, who, skip) {
	const v = {email: who, firstName: "Ada", lastName: "Lovelace",
		street: "Hauptstrasse 5", postcode: "10115", city: "Berlin"};
	for (const [k, value] of Object.entries(v)) {
		const sel = k === "email" ? "#a-email" : `#a-${k}`;
		await page.$eval(sel, (e) => (e.value = ""));
		if (k !== skip)
			await page.type(sel, value);
	}
	await page.select("#a-country", "DE");
}

/* From the cart to the review step, paying by card unless told. */
async function checkout(t, page, who, {carrier = false, method = "stripe", shots = false} = {}) {
	await page.goto(`${env.url}/#/checkout/address`);
	await page.waitForSelector("#addr");
	await fillAddress(page, who);
	await page.click("#addr button[type=submit]");
	await hash(page, "#/checkout/shipping");
	await page.waitForSelector("#ship");
	if (carrier)
		await page.click('#ship input[value^="carrier:"]');
	else
		await page.click('#ship input[value="flat_eu"]');
	await page.click("#ship button");
	await hash(page, "#/checkout/payment");
	await page.waitForSelector("#pay");
	await page.click(`#pay input[value="${method}"]`);
	await page.click("#pay button");
	await hash(page, "#/checkout/review");
	await page.waitForSelector("#place-btn");
	if (method === "stripe")
		await page.waitForSelector("#card input[name=cardnumber]");
}

async function typeCard(page, number) {
	for (const sel of ["#card input[name=cardnumber]", "#card input[name=exp-date]", "#card input[name=cvc]"])
		await page.$eval(sel, (e) => (e.value = ""));
	await page.type("#card input[name=cardnumber]", number.replace(/(\d{4})/g, "$1 ").trim());
	await page.type("#card input[name=exp-date]", "12 / 34");
	await page.type("#card input[name=cvc]", "123");
}

async function orderOf(page) {
	const id = await page.evaluate(() => location.hash.split("/").pop());
	const token = await page.evaluate((i) => JSON.parse(localStorage.getItem("shop.orders"))[i].token, id);
	const r = await api("GET", `/api/orders/${id}`, undefined, {"X-Cart-Token": token});
	assert(r.status === 200, `GET /api/orders/${id}: ${r.status}`);
	return r.body;
}

async function confirmed(page) {
	await page.waitForSelector("#order-number", {timeout: 20000});
	const n = await text(page, "#order-number");
	assert(/^\d{9}$/.test(n), `order number ${n}`);
	return n;
}

const count = (who) => Number(sql(`SELECT COUNT(*) FROM orders WHERE email = '${who}' AND number IS NOT NULL`));

/* The sandbox's intents made for an order (by its uuid). */
async function intents(order) {
	const all = (await sandbox("GET", "/_intents")).intents;
	return all.filter((i) => i.metadata.order_uuid === order.uuid);
}

function noCardTo(t, number) {
	const spaced = number.replace(/(\d{4})/g, "$1 ").trim();
	const leak = t.toCheckoutd().filter((r) => [r.url, r.body, JSON.stringify(r.headers)]
		.some((s) => s.includes(number) || s.includes(spaced) || s.includes(encodeURIComponent(spaced))));
	assert(!leak.length, `the card number went to checkoutd: ${leak.map((r) => r.method + " " + r.url).join(", ")}`);
	/* ...and it did go somewhere: to the sandbox, which is the point. */
	assert(t.requests.some((r) => r.url === `${env.stripe}/v1/payment_methods` && r.body.includes(number)),
		"no tokenization request reached the sandbox");
}

export const tests = [{
	name: "the storefront is under 60 KB of HTML, CSS and JavaScript",
	async run() {
		let total = 0;
		const walk = (d) => readdirSync(d).forEach((f) => {
			const p = path.join(d, f);
			if (statSync(p).isDirectory())
				walk(p);
			else if (/\.(html|css|js|mjs)$/.test(f))
				total += statSync(p).size;
		});
		/* The storefront's own files: the back office (www/admin/) is
		 * another page with its own budget. */
		walk(path.join(www, "assets"));
		total += statSync(path.join(www, "index.html")).size;
		assert(total > 0 && total < 60 * 1024, `www/ is ${total} bytes`);
	}
}, {
	name: "a full purchase: two products, coupon, an address error fixed, a carrier quote, card 4242",
	async run(t) {
		const page = await t.page();
		const who = email("full");
		await page.goto(`${env.url}/`);
		await page.waitForSelector(".grid a[href='#/product/tshirt']");
		await t.check(page, "catalog");
		await t.shot(page, "01-catalog");
		await add(t, page, "tshirt", 2, "02-product");
		await add(t, page, "poster");
		await page.goto(`${env.url}/#/cart`);
		await page.waitForSelector("#coupon");
		await page.type("#code", "WELCOME10");
		await page.click("#coupon button[type=submit]");
		await page.waitForSelector("#uncoupon");
		await t.check(page, "cart");
		await t.shot(page, "03-cart");
		const cart = await page.$$eval(".lines tbody tr", (r) => r.length);
		assert(cart === 2, `${cart} lines in the cart`);

		await page.goto(`${env.url}/#/checkout/address`);
		await page.waitForSelector("#addr");
		await fillAddress(page, who, "city");
		await page.click("#addr button[type=submit]");
		await page.waitForSelector("#err-a-city");
		assert(await page.$eval("#a-city", (e) => e.getAttribute("aria-invalid") === "true" &&
			document.activeElement === e), "the empty city is not marked and focused");
		await t.check(page, "address with an error");
		await t.shot(page, "04-address-error");
		await page.type("#a-city", "Berlin");
		await page.click("#addr button[type=submit]");
		await hash(page, "#/checkout/shipping");
		await page.waitForSelector('#ship input[value^="carrier:"]');
		await t.check(page, "shipping");
		await t.shot(page, "05-shipping");
		await page.click('#ship input[value^="carrier:"]');
		await page.click("#ship button");
		await hash(page, "#/checkout/payment");
		await page.waitForSelector("#pay");
		await t.check(page, "payment");
		await t.shot(page, "06-payment");
		await page.click('#pay input[value="stripe"]');
		await page.click("#pay button");
		await hash(page, "#/checkout/review");
		await page.waitForSelector("#card input[name=cardnumber]");
		await typeCard(page, CARD_OK);
		await t.check(page, "review");
		await t.shot(page, "07-review");
		await page.click("#place-btn");
		await confirmed(page);
		await t.check(page, "confirmation");
		await t.shot(page, "08-confirmation");
		const o = await orderOf(page);
		assert(o.payment_state === "paid", `payment_state ${o.payment_state}`);
		assert(o.items.length === 2, `${o.items.length} lines`);
		assert(o.promotion_total < 0, `promotion_total ${o.promotion_total}`);
		assert(/^carrier:/.test(o.shipments[0].method.code), `shipped by ${o.shipments[0].method.code}`);
		await page.click(`a[href="#/order/${o.id}"]`);
		await page.waitForSelector("#payment-state");
		assert(await text(page, "#payment-state") === "paid", "the status page does not say paid");
		await t.check(page, "order status");
		await t.shot(page, "10-order-status");
		noCardTo(t, CARD_OK);
		assert(count(who) === 1, `${count(who)} orders`);
		const found = grepStack(CARD_OK);
		assert(!found, `the card number is in ${found}`);
	}
}, {
	name: "a declined card, then 4242: one paid order, one succeeded intent",
	async run(t) {
		const page = await t.page();
		const who = email("declined");
		await add(t, page, "poster");
		await checkout(t, page, who);
		await typeCard(page, CARD_DECLINED);
		await page.click("#place-btn");
		await page.waitForFunction(() => /not accepted/.test(document.getElementById("notice")?.textContent || ""));
		await t.check(page, "declined");
		await t.shot(page, "09-declined");
		await page.waitForSelector("#card input[name=cardnumber]");
		await typeCard(page, CARD_OK);
		await page.click("#place-btn");
		await confirmed(page);
		const o = await orderOf(page);
		assert(o.payment_state === "paid", `payment_state ${o.payment_state}`);
		assert(count(who) === 1, `${count(who)} orders`);
		const ok = (await intents(o)).filter((i) => i.status === "succeeded");
		assert(ok.length === 1, `${ok.length} succeeded intents`);
		noCardTo(t, CARD_DECLINED);
		await t.check(page, "paid after a decline");
	}
}, {
	name: "3-D Secure: the bank page, back to the shop, paid",
	async run(t) {
		const page = await t.page();
		const who = email("3ds");
		await add(t, page, "poster");
		await checkout(t, page, who);
		await typeCard(page, CARD_3DS);
		await page.click("#place-btn");
		await page.waitForFunction((s) => location.href.startsWith(s + "/bank/"), {timeout: 20000}, env.stripe);
		await page.waitForSelector("button[value=succeeded]");
		await t.check(page, "bank page");
		await t.shot(page, "11-bank");
		await page.click("button[value=succeeded]");
		await page.waitForFunction((u) => location.href.startsWith(u + "/#/confirmation/"), {timeout: 20000}, env.url);
		await confirmed(page);
		await page.waitForFunction(() => /received/.test(document.getElementById("pay-state").textContent));
		const o = await orderOf(page);
		assert(o.payment_state === "paid", `payment_state ${o.payment_state}`);
		assert(count(who) === 1, `${count(who)} orders`);
		await t.check(page, "back from the bank");
	}
}, {
	name: "Place order clicked twice: one order, one charge",
	async run(t) {
		const page = await t.page();
		const who = email("double");
		await add(t, page, "poster");
		await checkout(t, page, who);
		await typeCard(page, CARD_OK);
		await page.click("#place-btn", {clickCount: 2});
		await confirmed(page);
		const o = await orderOf(page);
		assert(o.payment_state === "paid", `payment_state ${o.payment_state}`);
		assert(count(who) === 1, `${count(who)} orders`);
		const pi = await intents(o);
		assert(pi.length === 1, `${pi.length} intents`);
		const confirms = (await sandbox("GET", "/_calls")).calls
			.filter((c) => c.op === "confirm" && c.path.includes(pi[0].id));
		assert(confirms.length === 1, `${confirms.length} confirms`);
	}
}, {
	name: "the page reloaded while paying: one order, one charge",
	async run(t) {
		const page = await t.page();
		const who = email("reload");
		await add(t, page, "poster");
		await checkout(t, page, who);
		await typeCard(page, CARD_OK);
		/* The sandbox takes 3 s to answer the confirm: the reload
		 * lands while checkoutd waits for it. */
		await sandbox("POST", "/_control", {op: "confirm", delay: 3, count: 1});
		const paying = page.waitForRequest((r) => r.method() === "PUT" &&
			(r.postData() || "").includes("paymentToken"));
		await page.click("#place-btn");
		await paying;
		await sleep(300);
		await page.reload();
		await confirmed(page);
		const o = await orderOf(page);
		assert(o.payment_state === "paid", `payment_state ${o.payment_state}`);
		assert(count(who) === 1, `${count(who)} orders`);
		const pi = await intents(o);
		assert(pi.length === 1, `${pi.length} intents`);
		const confirms = (await sandbox("GET", "/_calls")).calls
			.filter((c) => c.op === "confirm" && c.path.includes(pi[0].id));
		assert(confirms.length === 1, `${confirms.length} confirms`);
		const puts = t.toCheckoutd().filter((r) => r.method === "PUT" && r.body.includes("paymentToken"));
		assert(puts.length >= 2 && new Set(puts.map((r) => r.headers["idempotency-key"])).size === 1,
			"the purchase was not sent again with the same Idempotency-Key");
	}
}, {
	name: "the last unit bought by another client before Place order: the page says so, no order",
	async run(t) {
		sql("UPDATE variant_stock s JOIN product_variants v ON v.id = s.variant_id SET s.on_hand = s.on_hold + 1 WHERE v.code = 'lamp'");
		const page = await t.page();
		const who = email("gone");
		await add(t, page, "lamp");
		await checkout(t, page, who);
		await typeCard(page, CARD_OK);
		/* Another buyer takes the last lamp, through the API. */
		const c = await api("POST", "/api/carts", {});
		const h = {"X-Cart-Token": c.body.token};
		const co = `/api/checkouts/${c.body.id}`;
		await api("POST", `/api/carts/${c.body.id}/items`, {variant: "lamp", quantity: 1}, h);
		await api("PUT", co, {email: "other@example.com", shippingAddress: {firstName: "B",
			lastName: "C", street: "S 1", city: "Paris", postcode: "75001", country: "FR"}}, h);
		await api("PUT", co, {shipments: [{method: "flat_eu"}]}, h);
		await api("PUT", co, {payments: [{method: "offline"}]}, h);
		const other = await api("PUT", co, {}, h);
		assert(other.status === 200 && other.body.number, `the other buyer: ${other.status}`);
		await page.click("#place-btn");
		await page.waitForFunction(() => /is gone/.test(document.getElementById("notice").textContent));
		assert(/none left/.test(await text(page, "#notice")), "the page does not say none is left");
		await t.check(page, "item gone");
		await t.shot(page, "12-item-gone");
		assert(count(who) === 0, `${count(who)} orders`);
		assert(!(await page.$("#place-btn")), "Place order is still offered");
	}
}, {
	name: "a price changed between review and Place order: the page says what changed, then places at the new total",
	async run(t) {
		const page = await t.page();
		const who = email("changed");
		await add(t, page, "poster");
		await checkout(t, page, who);
		await typeCard(page, CARD_OK);
		const before = sql("SELECT price FROM product_variants WHERE code = 'poster'");
		sql("UPDATE product_variants SET price = price + 200 WHERE code = 'poster'");
		try {
			await page.click("#place-btn");
			await page.waitForFunction(() => /total has changed/.test(document.getElementById("notice")?.textContent || ""));
			const notice = await text(page, "#notice");
			assert(/Poster: €9\.00 → €11\.00/.test(notice), `the notice does not say what changed: ${notice}`);
			assert(count(who) === 0, `${count(who)} orders after total_changed`);
			await t.check(page, "total changed");
			await page.waitForSelector("#card input[name=cardnumber]");
			await typeCard(page, CARD_OK);
			await page.click("#place-btn");
			await confirmed(page);
			const o = await orderOf(page);
			assert(o.payment_state === "paid" && o.items[0].unit_price === Number(before) + 200,
				`${o.payment_state} at ${o.items[0].unit_price}`);
			assert(count(who) === 1, `${count(who)} orders`);
		} finally {
			sql(`UPDATE product_variants SET price = ${Number(before)} WHERE code = 'poster'`);
		}
	}
}, {
	name: "keyboard only on a phone-sized screen: catalog, product, add to cart",
	async run(t) {
		const page = await t.page({width: 390, height: 844, mobile: true});
		await page.goto(`${env.url}/`);
		await page.waitForSelector(".grid a");
		const wide = await page.evaluate(() => document.documentElement.scrollWidth);
		assert(wide <= 390, `the catalog is ${wide} px wide on a 390 px screen`);
		const focusOn = async (what) => {
			for (let i = 0; i < 40; i++) {
				await page.keyboard.press("Tab");
				if (await page.evaluate((w) => document.activeElement.textContent.trim() === w, what))
					return;
			}
			throw new Error(`Tab never reaches ${what}`);
		};
		await focusOn("Poster");
		await page.keyboard.press("Enter");
		await hash(page, "#/product/poster");
		await page.waitForSelector("#add button");
		await focusOn("Add to cart");
		await page.keyboard.press("Enter");
		await status(page, /^Added /);
		await page.waitForFunction(() => document.getElementById("cart-link").textContent === "Cart (1)");
		await t.check(page, "product on a phone");
		await t.shot(page, "13-phone-product");
		await page.goto(`${env.url}/#/cart`);
		await page.waitForSelector("#coupon");
		const w2 = await page.evaluate(() => document.documentElement.scrollWidth);
		assert(w2 <= 390, `the cart is ${w2} px wide on a 390 px screen`);
		await t.check(page, "cart on a phone");
	}
}];
