/*
 * What the browser tests share (t/browser/run): headless Chromium from
 * Debian's package driven by puppeteer-core (pinned in package.json; it
 * downloads no browser), axe-core for accessibility, and access to the
 * stack the tests run against (its URL, its database, its payment
 * sandbox). A test file t/browser/NAME.test.mjs exports
 *   export const tests = [{name, run: async (t) => {...}}, ...];
 * and t/browser/run.mjs runs every such file, each test in a fresh
 * browser context (empty localStorage), counting "ok"/"not ok" lines.
 */
import {execFileSync} from "node:child_process";
import {mkdirSync} from "node:fs";
import {createRequire} from "node:module";
import path from "node:path";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
export const AXE = require.resolve("axe-core/axe.min.js");

export const env = {
	url: process.env.CHECKOUTD_URL,
	stripe: process.env.STRIPE_URL,
	stackDir: process.env.STACK_DIR,
	adminToken: process.env.ADMIN_TOKEN,
	shots: process.env.SCREENSHOTS || "",
	chromium: process.env.CHROMIUM || "/usr/bin/chromium"
};

export function launch() {
	return puppeteer.launch({
		executablePath: env.chromium,
		headless: true,
		/* Root in CI and containers: Chromium's sandbox needs a user. */
		args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
			"--no-first-run", "--disable-extensions"]
	});
}

export function assert(cond, msg) {
	if (!cond)
		throw new Error(msg);
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/* Answers of the API the page asks for and handles itself (a 422 shown
 * next to its field, a declined card, a 409 explained): Chromium logs
 * them as "Failed to load resource"; they are not errors of the page. */
const HANDLED = /status of (402|409|422) /;

/*
 * The context a test gets: t.page(opts) opens a page whose console
 * errors, uncaught exceptions and requests are recorded; t.check(page,
 * what) fails the test on any console error so far and on any serious or
 * critical axe violation of the page as it is; t.shot(page, name) saves a
 * screenshot when --screenshots was given.
 */
export class T {
	constructor(context, name) {
		this.context = context;
		this.name = name;
		this.pages = [];
		this.requests = [];
		this.errors = [];
	}

	async page({width = 800, height = 600, mobile = false} = {}) {
		const p = await this.context.newPage();
		await p.setViewport({width, height, isMobile: mobile,
			hasTouch: mobile, deviceScaleFactor: 1});
		p.setDefaultTimeout(15000);
		p.on("console", (m) => {
			if (m.type() === "error" && !HANDLED.test(m.text()))
				this.errors.push(`console: ${m.text()} (${p.url()})`);
		});
		p.on("pageerror", (e) => this.errors.push(`exception: ${e.message} (${p.url()})`));
		p.on("request", (r) => this.requests.push({url: r.url(),
			method: r.method(), headers: r.headers(),
			body: r.postData() || ""}));
		this.pages.push(p);
		return p;
	}

	async check(page, what) {
		assert(!this.errors.length, `${what}: ${this.errors.join("; ")}`);
		await page.addScriptTag({path: AXE});
		const bad = await page.evaluate(async () => {
			const r = await window.axe.run(document, {resultTypes: ["violations"]});
			return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
				.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
		});
		assert(!bad.length, `${what}: accessibility: ${bad.join("; ")}`);
	}

	async shot(page, name) {
		if (!env.shots)
			return;
		mkdirSync(env.shots, {recursive: true});
		await page.screenshot({path: path.join(env.shots, name + ".png"), fullPage: true});
	}

	/* The requests the page sent to checkoutd (the stack's origin). */
	toCheckoutd() {
		return this.requests.filter((r) => r.url.startsWith(env.url + "/"));
	}
}

/* checkoutd's API from the test (another client than the page). */
export async function api(method, p, body, headers = {}) {
	const h = {...headers};
	if (body !== undefined)
		h["Content-Type"] = "application/json";
	const r = await fetch(env.url + p, {method, headers: h,
		body: body === undefined ? undefined : JSON.stringify(body)});
	const text = await r.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		json = text;
	}
	return {status: r.status, body: json};
}

/* The payment sandbox's control and records (t/fake-stripe.py). */
export async function sandbox(method, p, body) {
	const r = await fetch(env.stripe + p, {method,
		body: body === undefined ? undefined : JSON.stringify(body)});
	return r.json();
}

/* One value from the stack's database (as root, over its socket). */
export function sql(query) {
	return execFileSync("mariadb", ["--no-defaults", "-uroot", "-N",
		`--socket=${env.stackDir}/run/mysql.sock`, "checkoutd", "-e", query],
	{encoding: "utf8"}).trim();
}

/* Files of the stack's directory (database, logs) holding `needle`. */
export function grepStack(needle) {
	try {
		return execFileSync("grep", ["-rlaF", needle, env.stackDir],
			{encoding: "utf8"}).trim();
	} catch (e) {
		if (e.status === 1)
			return "";
		throw e;
	}
}
