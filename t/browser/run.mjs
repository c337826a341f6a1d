/*
 * Runs every t/browser/*.test.mjs against the stack in the environment
 * (t/browser/run sets it up): one line "ok - NAME" or "not ok - NAME"
 * per test, the reason indented below; exits 1 when one failed.
 *   node t/browser/run.mjs [NAME-SUBSTRING...]
 */
import {readdirSync} from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {T, launch} from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith(".test.mjs")).sort();
let failed = 0;
const browser = await launch();
try {
	for (const f of files) {
		const {tests} = await import(path.join(here, f));
		for (const test of tests) {
			if (only.length && !only.some((o) => test.name.includes(o)))
				continue;
			const context = await browser.createBrowserContext();
			const t = new T(context, test.name);
			const began = Date.now();
			try {
				await test.run(t);
				console.log(`ok - ${f}: ${test.name} (${Date.now() - began} ms)`);
			} catch (e) {
				failed++;
				console.log(`not ok - ${f}: ${test.name}`);
				console.log(String(e && e.stack || e).split("\n").slice(0, 8)
					.map((l) => "    " + l).join("\n"));
				for (const p of t.pages) {
					const shown = await p.evaluate(() => document.body.innerText.slice(0, 300)).catch(() => "");
					console.log(`    page: ${p.url()}: ${shown.replace(/\s+/g, " ")}`);
				}
				for (const err of t.errors)
					console.log(`    ${err}`);
			}
			await context.close();
		}
	}
} finally {
	await browser.close();
}
process.exit(failed ? 1 : 0);
