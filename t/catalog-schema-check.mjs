// Checks catalog files against docs/catalog.schema.json (JSON Schema
// 2020-12, ajv with its default strict mode): each FILE must be valid. First, that the
// schema itself compiles and refuses a copy of the first FILE whose first
// variant's price is a string (so a check that passes has checked
// something). Prints one line per check, "ok ..." or "not ok ...", and
// exits non-zero on any failure.
//   node t/catalog-schema-check.mjs docs/catalog.schema.json FILE...
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";

const [schemaPath, ...files] = process.argv.slice(2);
if (!schemaPath || files.length === 0) {
  console.error("usage: node t/catalog-schema-check.mjs SCHEMA FILE...");
  process.exit(2);
}
let failed = 0;
const say = (ok, what) => {
  console.log(`${ok ? "ok" : "not ok"} catalog schema: ${what}`);
  if (!ok) failed++;
};
const why = (errors) =>
  (errors || [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || "/"} ${e.message}`)
    .join("; ");

let validate;
try {
  const ajv = new Ajv2020({ allErrors: true });
  validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));
} catch (e) {
  say(false, `${schemaPath} does not compile: ${e.message}`);
  process.exit(1);
}

let first = true;
for (const f of files) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(f, "utf8"));
  } catch (e) {
    say(false, `${f}: ${e.message}`);
    continue;
  }
  if (first) {
    first = false;
    const bad = structuredClone(doc);
    const v = bad.products?.find((p) => p.variants?.length > 0)?.variants[0];
    if (v === undefined) say(false, `${f} has no variant to spoil`);
    else {
      v.price = String(v.price);
      say(!validate(bad), `${schemaPath} refuses a variant's price as a string`);
    }
  }
  say(validate(doc), validate.errors ? `${f}: ${why(validate.errors)}` : f);
}
process.exit(failed === 0 ? 0 : 1);
