/*
 * The back office at /admin/ (www/admin/, docs/admin.md) in the browser:
 * an order bought by card is in the list and found by its number; a
 * partial refund from its page works and shows the new payment state;
 * the API's refusals are shown in plain words; the operations work from
 * the keyboard (cancel asks first); a wrong token is refused and never
 * kept. Each page passes t.check (no console error, no serious
 * axe violation).
 */
import {api, assert, env} from "./lib.mjs";

const ADMIN = () => `${env.url}/admin/`;

/* An order bought through the API (another client than the page): one
 * T-shirt, shipped flat, paid with the sandbox's 4242 card. */
async function boughtOrder() {
	const cart = await api("POST", "/api/carts");
	assert(cart.status === 201, `new cart: ${cart.status}`);
	const id = cart.body.id;
	const h = {"X-Cart-Token": cart.body.token};
	const steps = [
		["POST", `/api/carts/${id}/items`, {variant: "tshirt-m", quantity: 1}, 201],
		["PUT", `/api/checkouts/${id}`, {shippingAddress: {firstName: "Ada",
			lastName: "Admin", street: "Test 1", city: "Berlin",
			postcode: "10115", country: "DE"}, email: "ada@example.com"}, 200],
		["PUT", `/api/checkouts/${id}`, {shipments: [{method: "flat_eu"}]}, 200],
		["PUT", `/api/checkouts/${id}`, {payments: [{method: "stripe"}]}, 200],
		["PUT", `/api/checkouts/${id}`, {}, 200],
		["PUT", `/api/checkouts/${id}`, {number: "4242424242424242",
			expiryMonth: 12, expiryYear: 2030, securityCode: "123"}, 200]
	];
	let r;
	for (const [method, path, body, want] of steps) {
		r = await api(method, path, body, h);
		assert(r.status === want, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
	}
	assert(r.body.payment_state === "paid", `bought order: ${r.body.payment_state}`);
	return r.body;
}

/* The order as the admin API has it. */
async function adminOrder(id) {
	const r = await api("GET", `/api/admin/orders/${id}`, undefined,
		{Authorization: `Bearer ${env.adminToken}`});
	assert(r.status === 200, `GET /api/admin/orders/${id}: ${r.status}`);
	return r.body;
}

/* A page of the back office. Its Content-Security-Policy (script-src
 * 'self', from the nginx site) refuses the inline script that t.check
 * injects axe-core with; the test lets it through, and the page's own
 * scripts run under the policy as they would for anyone. */
async function adminPage(t) {
	const page = await t.page();
	await page.setBypassCSP(true);
	return page;
}

async function text(page, sel) {
	return page.$eval(sel, (e) => e.textContent.trim());
}

/* Types the token into the sign-in form and sends it with the keyboard. */
async function signIn(page, token) {
	await page.waitForSelector("#token-form");
	await page.focus("#token");
	await page.keyboard.type(token);
	await page.keyboard.press("Enter");
}

/* The page refused a wrong token with a 401 it handles itself: Chromium
 * logs that answer as "Failed to load resource"; it is not a page error. */
function forget401(t) {
	t.errors = t.errors.filter((e) => !/status of 401 /.test(e));
}

export const tests = [
	{
		name: "back office: the bought order is listed, refunded in part, refusals in plain words, cancelled",
		run: async (t) => {
			const order = await boughtOrder();
			const page = await adminPage(t);
			await page.goto(ADMIN(), {waitUntil: "load"});
			await t.check(page, "sign-in page");
			await t.shot(page, "admin-01-sign-in");
			await signIn(page, env.adminToken);

			/* The newest orders first: the bought one is on the first page. */
			await page.waitForSelector("#orders");
			const numbers = await page.$$eval("#orders tbody th a", (as) => as.map((a) => a.textContent));
			assert(numbers.includes(order.number), `order ${order.number} not in the list: ${numbers}`);
			const token = await page.evaluate(() => sessionStorage.getItem("checkoutd.adminToken"));
			assert(token === env.adminToken, "the token is kept in sessionStorage");
			await t.check(page, "orders list");
			await t.shot(page, "admin-02-orders");

			/* Filtered by its number and paid: that order alone. */
			await page.type("#f-number", order.number);
			await page.select("#f-payment", "paid");
			await page.click("#filters button[type=submit]");
			await page.waitForFunction((n) => {
				const rows = document.querySelectorAll("#orders tbody tr");
				return rows.length === 1 && rows[0].textContent.includes(n);
			}, {}, order.number);
			assert(page.url().includes(`number=${order.number}`), `filters in the URL: ${page.url()}`);
			/* Refunded orders only: none of them is this one. */
			await page.select("#f-payment", "refunded");
			await page.click("#filters button[type=submit]");
			await page.waitForSelector("#orders-empty");
			/* Placed today (UTC) and in state new: listed again. */
			const today = new Date().toISOString().slice(0, 10);
			await page.select("#f-payment", "");
			await page.select("#f-state", "new");
			await page.$eval("#f-from", (e, v) => { e.value = v; }, today);
			await page.$eval("#f-to", (e, v) => { e.value = v; }, today);
			await page.click("#filters button[type=submit]");
			await page.waitForFunction((n) => {
				const rows = document.querySelectorAll("#orders tbody tr");
				return rows.length === 1 && rows[0].textContent.includes(n);
			}, {}, order.number);
			assert(page.url().includes(`from=${today}`) && page.url().includes("state=new"),
				`date and state in the URL: ${page.url()}`);

			/* Its page: lines, the card payment, the events. */
			await page.goto(`${ADMIN()}#/orders/${order.id}`, {waitUntil: "load"});
			await page.waitForSelector("#payment-state");
			assert(await text(page, "#payment-state") === "paid", "payment state paid");
			assert((await text(page, "#payments")).includes("4242"), "the card's last digits shown");
			assert((await text(page, "#events")).includes("order.paid"), "order.paid among the events");
			await t.check(page, "order page");
			await t.shot(page, "admin-03-order");

			/* A refusal of the API, in plain words: a card payment is not
			 * marked paid by hand. */
			/* The keyboard alone: each operation is a button in a form. */
			await page.focus("#op-mark-paid button");
			await page.keyboard.press("Enter");
			await page.waitForFunction(() => document.querySelector("#op-error").textContent !== "");
			const refusal = await text(page, "#op-error");
			assert(/^Marking the order paid is not possible now: the order is not awaiting payment\.$/.test(refusal),
				`mark-paid refusal: ${refusal}`);

			/* A part of it refunded: 5.00 of the total. */
			await page.focus("#op-amount");
			await page.keyboard.type("5.00");
			await page.keyboard.press("Enter");
			await page.waitForFunction(() =>
				document.querySelector("#payment-state")?.textContent === "partially refunded");
			const said = await text(page, "#status");
			assert(/Refunded .*5\.00\. Payment state: partially refunded\./.test(said), `status: ${said}`);
			const after = await adminOrder(order.id);
			assert(after.order.payment_state === "partially_refunded", "the API says partially_refunded");
			assert(after.payments[0].refunded === 500, `refunded ${after.payments[0].refunded}`);
			assert((await text(page, "#payments")).includes("5.00"), "the refund among the payment's");

			/* More than is left: the API's 422, named in plain words. */
			await page.type("#op-amount", "99999");
			await page.click("#op-refund button");
			await page.waitForFunction(() => document.querySelector("#op-error").textContent.startsWith("Refunding"));
			const over = await text(page, "#op-error");
			assert(over === "Refunding was refused: Amount is more than what is left to refund.", `over: ${over}`);
			await t.check(page, "order page after a refund");
			await t.shot(page, "admin-04-refunded");

			/* Cancelled with the keyboard, asked to confirm first: the
			 * rest is refunded at the provider. */
			await page.focus("#cancel-ask");
			await page.keyboard.press("Enter");
			assert(await page.evaluate(() => document.activeElement.id) === "cancel-yes",
				"the confirmation takes the focus");
			await page.keyboard.press("Enter");
			await page.waitForFunction(() =>
				document.querySelector("#order-state")?.textContent === "cancelled");
			assert(await text(page, "#payment-state") === "refunded", "a paid order cancelled is refunded");
			const cancelled = await adminOrder(order.id);
			assert(cancelled.payments[0].refunded === cancelled.order.total,
				`refunded ${cancelled.payments[0].refunded} of ${cancelled.order.total}`);
			await t.check(page, "order page after cancelling");
		}
	},
	{
		name: "back office: a wrong token is refused and not kept",
		run: async (t) => {
			const page = await adminPage(t);
			await page.goto(ADMIN(), {waitUntil: "load"});
			await signIn(page, "not-the-token");
			await page.waitForFunction(() => document.querySelector("#token-error").textContent !== "");
			assert((await text(page, "#token-error")).startsWith("The admin token was refused."),
				"the refusal is shown");
			assert(await page.evaluate(() => sessionStorage.getItem("checkoutd.adminToken")) === null,
				"a refused token is not kept");
			/* A token kept earlier that is no longer the one: back to the
			 * sign-in form, with the reason. */
			await page.evaluate(() => sessionStorage.setItem("checkoutd.adminToken", "stale"));
			await page.reload({waitUntil: "load"});
			await page.waitForFunction(() => {
				const e = document.querySelector("#token-error");
				return e !== null && e.textContent !== "";
			});
			assert(await page.evaluate(() => sessionStorage.getItem("checkoutd.adminToken")) === null,
				"the stale token is dropped");
			/* The admin API itself refuses it too. */
			const r = await api("GET", "/api/admin/orders", undefined, {Authorization: "Bearer not-the-token"});
			assert(r.status === 401, `GET /api/admin/orders with a wrong token: ${r.status}`);
			forget401(t);
			await t.check(page, "sign-in page after a refusal");
			await t.shot(page, "admin-05-refused");
		}
	}
];
