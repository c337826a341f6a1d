// Checks docs/openapi.yaml: (1) it is a valid OpenAPI 3.1 document; (2)
// every route of the router's table (src/routes.c, test-only routes left
// out) is in it and nothing else is; (3) every response the end-to-end
// suites recorded (one JSON line each) matches it: status, content type,
// schema. Prints "openapi: N passed, M failed" and exits non-zero on any
// failure.
//   node t/openapi-check.mjs docs/openapi.yaml src/routes.c [records.jsonl...]
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const [docPath, routesPath, ...records] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const failures = new Map();
function fail(msg) {
  failed++;
  failures.set(msg, (failures.get(msg) || 0) + 1);
}

// 1. The document.
const doc = YAML.parse(readFileSync(docPath, "utf8"));
const validator = new Validator();
const res = await validator.validate(doc);
if (res.valid && validator.version === "3.1") passed++;
else fail(`document is not valid OpenAPI 3.1: ${JSON.stringify(res.errors).slice(0, 500)}`);

// 2. The route table against the document, both ways.
const methods = ["get", "put", "post", "patch", "delete"];
const src = readFileSync(routesPath, "utf8").replace(/#ifdef ENABLE_TEST_ROUTES[\s\S]*?#endif/g, "");
const table = new Set();
for (const m of src.matchAll(/\{\s*M_([A-Z]+),\s*"([^"]+)"/g)) table.add(`${m[1].toLowerCase()} ${m[2]}`);
const documented = new Set();
for (const [p, item] of Object.entries(doc.paths))
  for (const m of methods) if (item[m]) documented.add(`${m} ${p}`);
for (const r of table) if (!documented.has(r)) fail(`route not in the document: ${r}`); else passed++;
for (const r of documented) if (!table.has(r)) fail(`documented route not in the router: ${r}`);

// 3. The recorded responses.
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
ajv.addSchema(doc, "openapi.json");
const compiled = new Map();
function check(pointer, body) {
  if (!compiled.has(pointer)) compiled.set(pointer, ajv.compile({ $ref: `openapi.json#${pointer}` }));
  const v = compiled.get(pointer);
  return v(body) ? null : ajv.errorsText(v.errors);
}
const esc = (s) => s.replace(/~/g, "~0").replace(/\//g, "~1");
function deref(obj, pointer) {
  while (obj && obj.$ref) {
    pointer = obj.$ref.slice(1);
    obj = pointer.split("/").slice(1).reduce((o, k) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  }
  return [obj, pointer];
}
const templates = Object.keys(doc.paths).map((p) => [p, new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}$`)]);
const problem = "/components/schemas/Problem";

for (const file of records) {
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    const r = JSON.parse(line);
    const path = r.path.split("?")[0];
    const method = r.method.toLowerCase();
    const media = (r.ctype || "").split(";")[0].trim();
    if (path.startsWith("/api/_test/") || method === "options" || method === "head") continue;
    let body = null;
    if (/json/.test(media)) {
      try { body = JSON.parse(r.body); } catch { fail(`${r.method} ${path} ${r.status}: body is not JSON`); continue; }
    } else body = r.body;
    const match = templates.find(([, re]) => re.test(path));
    const op = match && doc.paths[match[0]][method];
    let err = null;
    if (!op) {
      // Unknown path or method: a problem+json 404/405 (or nginx's 403
      // for /api/admin/ from elsewhere).
      if (r.status === 403) { passed++; continue; }
      if (![404, 405].includes(r.status) || media !== "application/problem+json") err = `undocumented route answered ${r.status} ${media}`;
      else err = check(problem, body);
    } else {
      const base = `/paths/${esc(match[0])}/${method}/responses`;
      let [resp, ptr] = deref(op.responses[String(r.status)], `${base}/${r.status}`);
      if (!resp && r.status >= 400) {
        // Errors not listed per operation: every error is problem+json
        // with a code of docs/errors.md.
        if (media !== "application/problem+json") err = `error ${r.status} is ${media}`;
        else err = check(problem, body);
      } else if (!resp) {
        err = `status ${r.status} not documented`;
      } else if (!resp.content) {
        if (r.body) err = `status ${r.status} documented without a body`;
      } else if (!resp.content[media]) {
        err = `content type ${media} not documented for ${r.status}`;
      } else if (resp.content[media].schema) {
        err = check(`${ptr}/content/${esc(media)}/schema`, body);
      }
    }
    if (err) fail(`${r.method} ${match ? match[0] : path} ${r.status}: ${err}`);
    else passed++;
  }
}
for (const [msg, n] of failures) console.log(`FAILED (${n}x): ${msg}`);
console.log(`openapi: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
