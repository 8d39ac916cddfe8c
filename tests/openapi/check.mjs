// SPDX-License-Identifier: MIT
// Validates assets/openapi.json: first against the official OpenAPI 3.1 schema with
// @seriousme/openapi-schema-validator (structure, $refs), then every schema in it is compiled as
// JSON Schema 2020-12 by Ajv in strict mode (typos such as "minimun" fail) and its `examples` are
// checked against it; operationIds must be unique. Run by scripts/openapi-check.sh.
//   node tests/openapi/check.mjs [path/to/openapi.json]
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const file = process.argv[2] ?? new URL("../../assets/openapi.json", import.meta.url).pathname;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const problems = [];

let doc;
try {
    doc = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
    console.error(`openapi: cannot read ${file}: ${err.message}`);
    process.exit(1);
}

// 1. The document against the OpenAPI specification's own schema.
const validator = new Validator({ allErrors: true });
const res = await validator.validate(structuredClone(doc));
if (!res.valid) {
    const errs = Array.isArray(res.errors) ? res.errors : [res.errors];
    for (const e of errs.slice(0, 30))
        problems.push(typeof e === "string" ? e : `${e.instancePath || "/"} ${e.message}` +
            (e.params ? ` ${JSON.stringify(e.params)}` : ""));
} else if (!validator.version.startsWith("3.1")) {
    problems.push(`expected OpenAPI 3.1, got ${validator.version}`);
} else {
    try {
        validator.resolveRefs(); // throws on a $ref that points nowhere
    } catch (err) {
        problems.push(`unresolvable $ref: ${err.message}`);
    }
}

// 2. Every schema as strict JSON Schema 2020-12, with its examples.
const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTypes: false, allErrors: true });
addFormats(ajv);
const BASE = "https://iceshop.invalid/openapi.json";
const rewrite = (v) =>
    Array.isArray(v) ? v.map(rewrite)
    : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) =>
            [k, k === "$ref" && typeof x === "string"
                ? x.replace(/^#\/components\/schemas\//, `${BASE}#/$defs/`) : rewrite(x)]))
        : v;
try {
    ajv.addSchema({ $id: BASE, $defs: rewrite(doc.components?.schemas ?? {}) });
} catch (err) {
    problems.push(`components/schemas: ${err.message}`);
}

function checkSchema(where, schema) {
    if (!schema || typeof schema !== "object")
        return;
    let validate;
    try {
        validate = ajv.compile(rewrite(schema));
    } catch (err) {
        problems.push(`${where}: ${err.message}`);
        return;
    }
    for (const ex of schema.examples ?? []) {
        if (!validate(ex))
            problems.push(`${where}: example ${JSON.stringify(ex)} fails: ` +
                ajv.errorsText(validate.errors));
    }
}

for (const [name, schema] of Object.entries(doc.components?.schemas ?? {}))
    checkSchema(`components/schemas/${name}`, { $ref: `#/components/schemas/${name}`,
        ...(schema.examples ? { examples: schema.examples } : {}) });
for (const [name, p] of Object.entries(doc.components?.parameters ?? {}))
    checkSchema(`components/parameters/${name}`, p.schema);

const opIds = new Map();
let nOps = 0;
for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const m of METHODS) {
        const op = item[m];
        if (!op)
            continue;
        nOps++;
        const where = `${m.toUpperCase()} ${path}`;
        if (!op.operationId)
            problems.push(`${where}: no operationId`);
        else if (opIds.has(op.operationId))
            problems.push(`${where}: operationId ${op.operationId} also used by ` +
                opIds.get(op.operationId));
        else
            opIds.set(op.operationId, where);
        for (const p of op.parameters ?? [])
            if (p.schema)
                checkSchema(`${where} parameter ${p.name}`, p.schema);
        for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
            checkSchema(`${where} request ${type}`, media.schema);
        for (const [code, r] of Object.entries(op.responses ?? {}))
            for (const [type, media] of Object.entries(r.content ?? {}))
                checkSchema(`${where} ${code} ${type}`, media.schema);
    }
}

if (problems.length) {
    console.error(`openapi: INVALID ${file}`);
    for (const p of problems)
        console.error(`  ${p}`);
    process.exit(1);
}
console.log(`openapi: valid (${Object.keys(doc.paths ?? {}).length} paths, ${nOps} operations)`);
