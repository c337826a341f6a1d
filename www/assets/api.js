/*
 * checkoutd's API from the page: every call goes to the same origin, with
 * the cart's or order's token. Every write carries an Idempotency-Key that
 * is written to localStorage before the request leaves, with the request
 * itself, and forgotten only once an answer came back: a reload (or a
 * timeout) sends the same request with the same key again, and checkoutd
 * answers the first result instead of doing the work twice (a second
 * order, a second charge). No card data is ever part of a request here:
 * the card goes to the payment provider's script (docs/payments.md).
 */

const store = window.localStorage;

export function load(name, fallback = null) {
	try {
		const v = store.getItem("shop." + name);
		return v === null ? fallback : JSON.parse(v);
	} catch {
		return fallback;
	}
}

export function save(name, value) {
	if (value === null || value === undefined)
		store.removeItem("shop." + name);
	else
		store.setItem("shop." + name, JSON.stringify(value));
}

function newKey() {
	return crypto.randomUUID();
}

/* An answer: {status, body}; status 0 when the network failed. */
async function send(method, path, body, token, key) {
	const headers = {Accept: "application/json"};
	if (token)
		headers["X-Cart-Token"] = token;
	if (key)
		headers["Idempotency-Key"] = key;
	if (body !== undefined)
		headers["Content-Type"] = "application/json";
	let r;
	try {
		r = await fetch(path, {method, headers,
			body: body === undefined ? undefined : JSON.stringify(body)});
	} catch {
		return {status: 0, body: null};
	}
	let data = null;
	try {
		data = await r.json();
	} catch {
		data = null;
	}
	return {status: r.status, body: data};
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

export function get(path, token) {
	return send("GET", path, undefined, token, null);
}

/*
 * A write. `op` names what the buyer asked for (e.g. "place:12"): the same
 * op pending from before a reload reuses its key. Retries while checkoutd
 * says the first try is still running (409 idempotency_key_in_use), and
 * after a network error, with the same key.
 */
export async function write(op, method, path, body, token) {
	const pending = load("pending", {});
	let p = pending[op];
	if (!p || p.method !== method || p.path !== path ||
	    JSON.stringify(p.body) !== JSON.stringify(body)) {
		p = {method, path, body, token, key: newKey(), at: Date.now()};
		pending[op] = p;
		save("pending", pending);
	}
	let r;
	for (let i = 0; i < 20; i++) {
		r = await send(method, path, body, token, p.key);
		const busy = r.status === 409 && r.body &&
			r.body.code === "idempotency_key_in_use";
		if (r.status !== 0 && !busy && r.status !== 503)
			break;
		await sleep(500 + i * 250);
	}
	if (r.status !== 0) {
		const now = load("pending", {});
		delete now[op];
		save("pending", now);
	}
	return r;
}

/* The writes a reload interrupted, oldest first. */
export function pendingOps() {
	const p = load("pending", {});
	return Object.keys(p).map((op) => ({op, ...p[op]}))
		.filter((p) => Date.now() - p.at < 86400e3)
		.sort((a, b) => a.at - b.at);
}

export function forget(op) {
	const p = load("pending", {});
	delete p[op];
	save("pending", p);
}
