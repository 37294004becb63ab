// Validates Kubernetes objects (a JSON array, from the file named by argv[2]) against the
// JSON schemas of kubernetes-models (the API of a current Kubernetes release) and, for
// ServiceMonitor, PrometheusRule and ScaledObject, against the CRD schemas of
// @kubernetes-models/prometheus-operator and @kubernetes-models/keda.
//
// Two checks per object:
//   1. the package's own validate(): types, enums, required fields, formats;
//   2. unknown fields: the schemas leave additionalProperties open (the API server
//      drops unknown fields of CRDs silently, and warns on built-in kinds), so a typo
//      (`readinesProbe`) would pass (1). Each field is looked up in the TypeScript
//      declarations the packages ship beside the schemas (one interface per type).
//
// Usage: node validate.mjs objects.json <node_modules dir>
// Prints one line per object; exit 1 if any object fails.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [objectsFile, modulesDir] = process.argv.slice(2);
if (!objectsFile || !modulesDir) {
  console.error("usage: node validate.mjs objects.json <node_modules dir>");
  process.exit(2);
}

// apiVersion -> directory of the models of that group/version.
function modelDir(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") {
    return path.join(modulesDir, "@kubernetes-models/prometheus-operator", group, version);
  }
  if (group === "keda.sh") return path.join(modulesDir, "@kubernetes-models/keda", group, version);
  return path.join(modulesDir, "kubernetes-models", group, version);
}

// ---- The TypeScript declarations, read as far as field names and their types go. ----

const files = new Map(); // .d.ts path -> {imports, iface, alias}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

// The text between the brace at `open` and its match.
function braced(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') { i = text.indexOf('"', i + 1); continue; }
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error("unbalanced braces");
}

// Splits at `sep` outside brackets and string literals.
function splitTop(text, sep) {
  const parts = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') { i = text.indexOf('"', i + 1); continue; }
    if ("{<([".includes(c)) depth++;
    else if ("}>)]".includes(c)) depth--;
    else if (c === sep && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function loadDts(file) {
  if (files.has(file)) return files.get(file);
  const text = stripComments(fs.readFileSync(file, "utf8"));
  const imports = new Map();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean)) imports.set(name, m[2]);
  }
  const entry = { file, imports, iface: null, alias: null };
  const im = /export interface (\w+)(?:\s+extends\s+([^{]+))?\s*\{/.exec(text);
  if (im) {
    entry.iface = {
      extends: im[2] ? im[2].split(",").map((s) => s.trim()) : [],
      body: braced(text, im.index + im[0].length - 1),
    };
  } else {
    const am = /export type (\w+)\s*=\s*([^;]+);/.exec(text);
    if (am) entry.alias = am[2];
  }
  files.set(file, entry);
  return entry;
}

function resolveSpecifier(fromFile, spec) {
  let base;
  if (spec.startsWith(".")) base = path.resolve(path.dirname(fromFile), spec);
  else base = path.join(modulesDir, spec);
  return base.replace(/\.js$/, "") + ".d.ts";
}

// A type: {kind: "any"} | {kind: "array", item} | {kind: "object", props, index}.
const ANY = { kind: "any" };
const typeCache = new Map();

function fileType(file) {
  if (typeCache.has(file)) return typeCache.get(file);
  const entry = loadDts(file);
  if (entry.iface) {
    const t = { kind: "object", props: new Map(), index: null };
    typeCache.set(file, t); // before the members: types may refer to themselves
    for (const ext of entry.iface.extends) {
      if (ext === "TypeMeta") {
        t.props.set("apiVersion", ANY);
        t.props.set("kind", ANY);
        continue;
      }
      const base = parseType(ext, entry);
      if (base.kind === "object") {
        for (const [k, v] of base.props) t.props.set(k, v);
        if (base.index) t.index = base.index;
      }
    }
    addMembers(t, entry.iface.body, entry);
    return t;
  }
  const t = entry.alias ? parseType(entry.alias, entry) : ANY;
  typeCache.set(file, t);
  return t;
}

function addMembers(t, body, ctx) {
  for (const member of splitTop(body, ";")) {
    const idx = /^\[\s*\w+\s*:\s*string\s*\]\s*:\s*([\s\S]+)$/.exec(member);
    if (idx) { t.index = parseType(idx[1], ctx); continue; }
    const m = /^"?([^"?:]+)"?\??\s*:\s*([\s\S]+)$/.exec(member);
    if (!m) throw new Error(`${ctx.file}: cannot read member "${member}"`);
    t.props.set(m[1], parseType(m[2], ctx));
  }
}

function parseType(text, ctx) {
  text = text.trim();
  const alternatives = splitTop(text, "|");
  if (alternatives.length > 1) {
    const structured = alternatives.map((a) => parseType(a, ctx)).filter((a) => a.kind !== "any");
    return structured.length === 1 ? structured[0] : ANY;
  }
  let m;
  if ((m = /^Array<([\s\S]+)>$/.exec(text))) return { kind: "array", item: parseType(m[1], ctx) };
  if ((m = /^([\s\S]+)\[\]$/.exec(text))) return { kind: "array", item: parseType(m[1], ctx) };
  if (text.startsWith("{")) {
    const t = { kind: "object", props: new Map(), index: null };
    addMembers(t, braced(text, 0), ctx);
    return t;
  }
  if (/^\w+$/.test(text) && ctx.imports.has(text)) {
    return fileType(resolveSpecifier(ctx.file, ctx.imports.get(text)));
  }
  return ANY; // string, number, boolean, literals, any
}

function unknownFields(data, type, where, out) {
  if (data === null || data === undefined || type.kind === "any") return;
  if (type.kind === "array") {
    if (Array.isArray(data)) data.forEach((v, i) => unknownFields(v, type.item, `${where}[${i}]`, out));
    return;
  }
  if (typeof data !== "object" || Array.isArray(data)) return; // validate() reports the type
  for (const [key, value] of Object.entries(data)) {
    const field = type.props.get(key) ?? type.index;
    if (!field) out.push(`${where}.${key}: unknown field`);
    else unknownFields(value, field, `${where}.${key}`, out);
  }
}

// ---- Each object. ----

const objects = JSON.parse(fs.readFileSync(objectsFile, "utf8"));
let failed = 0;
for (const obj of objects) {
  const label = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.name}`;
  const errors = [];
  const dir = modelDir(String(obj.apiVersion));
  const js = path.join(dir, `${obj.kind}.js`);
  if (!fs.existsSync(js)) {
    errors.push(`no schema for ${obj.apiVersion} ${obj.kind} (looked for ${js})`);
  } else {
    const module = await import(pathToFileURL(js).href);
    const Model = module[obj.kind];
    try {
      new Model(obj).validate();
    } catch (e) {
      errors.push(String(e.message ?? e));
    }
    unknownFields(obj, fileType(js.replace(/\.js$/, ".d.ts")), "", errors);
  }
  if (errors.length) {
    failed++;
    console.log(`FAIL ${label}`);
    for (const e of errors) console.log(`  ${e}`);
  } else {
    console.log(`ok   ${label}`);
  }
}
console.log(`${objects.length - failed} valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
