#!/usr/bin/env node
// Offline validation of `helm template` output, for scripts/chart.sh.
//
//   node validate.mjs --modules DIR [--extract DIR] FILE_OR_DIR...
//
// --modules  node_modules holding kubernetes-models and yaml (installed by chart.sh from
//            package.json/package-lock.json next to this file).
// --extract  write the rendered config.yaml (from the ConfigMaps; they must all agree) and
//            secret-env.txt (the CASHLESS_AUTH_* variables the service container reads from
//            Secrets, one per line) into DIR, for deployments/deployments_test.go.
//
// Every YAML document found (recursively, *.yaml/*.yml) is checked by:
//  1. schema: kubernetes-models' model for its apiVersion/kind and validate() (JSON schema of
//     the Kubernetes OpenAPI spec: types, required fields, enums, formats). A kind the
//     package does not know is an error, never skipped.
//  2. strict fields: every field name must exist in the Kubernetes type (read from the
//     package's TypeScript declarations), since validate() accepts unknown fields the way a
//     lenient API server would, and a misspelt or misindented key is silently dropped there.
//  3. chart rules: references inside the release resolve (ConfigMaps, ServiceAccounts, HPA
//     target, Service/PDB selectors match the pods), pods follow the security baseline, no
//     CASHLESS_AUTH_* secret is inlined, config.yaml carries no secret and is the same for the
//     service and its migration Job.
// Exit status 1 with every problem listed, 0 when all documents pass.

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

function usage(msg) {
  if (msg) console.error(`validate-manifests: ${msg}`);
  console.error("usage: node validate.mjs --modules NODE_MODULES [--extract DIR] FILE_OR_DIR...");
  process.exit(2);
}

const args = process.argv.slice(2);
let modulesDir = "";
let extractDir = "";
const inputs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--modules") modulesDir = args[++i] ?? usage("--modules needs a value");
  else if (args[i] === "--extract") extractDir = args[++i] ?? usage("--extract needs a value");
  else if (args[i].startsWith("-")) usage(`unknown flag ${args[i]}`);
  else inputs.push(args[i]);
}
if (!modulesDir || inputs.length === 0) usage();

const require = createRequire(path.join(path.resolve(modulesDir), "..", "package.json"));
const YAML = require("yaml");

const problems = [];
const problem = (where, msg) => problems.push(`${where}: ${msg}`);

// ---- load documents ------------------------------------------------------------------------

function yamlFiles(p) {
  const st = fs.statSync(p);
  if (st.isFile()) return [p];
  return fs
    .readdirSync(p, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const full = path.join(p, e.name);
      if (e.isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/.test(e.name) ? [full] : [];
    });
}

const docs = []; // {where, obj}
for (const input of inputs) {
  for (const file of yamlFiles(input)) {
    const parsed = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
    parsed.forEach((d, i) => {
      const where = `${path.relative(process.cwd(), file)}#${i}`;
      for (const e of d.errors) problem(where, `YAML: ${e.message}`);
      if (d.errors.length) return;
      const obj = d.toJS({ maxAliasCount: 100 });
      if (obj === null || obj === undefined) return; // empty document (e.g. a disabled template)
      docs.push({ where, obj });
    });
  }
}
if (docs.length === 0) {
  console.error("validate-manifests: no Kubernetes documents found in " + inputs.join(" "));
  process.exit(1);
}

// ---- 1. schema validation -------------------------------------------------------------------

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !apiVersion || !kind) {
    return { err: "apiVersion and kind are required strings" };
  }
  let mod;
  try {
    mod = require(`kubernetes-models/${apiVersion}`);
  } catch {
    return { err: `unknown apiVersion ${apiVersion} (not in kubernetes-models ${kmVersion})` };
  }
  const cls = mod[kind];
  if (typeof cls !== "function" || cls.kind !== kind || cls.apiVersion !== apiVersion) {
    return { err: `unknown kind ${kind} in ${apiVersion} (not in kubernetes-models ${kmVersion})` };
  }
  return { cls, dts: require.resolve(`kubernetes-models/${apiVersion}/${kind}`).replace(/\.js$/, ".d.ts") };
}

const kmVersion = require("kubernetes-models/package.json").version;

// ---- 2. strict field names from the TypeScript declarations -------------------------------

// Each declaration file holds one `export interface IName { "field"?: Type; ... }` whose
// field types are other interfaces (imported), Array<T>, { [key: string]: T; } or leaves.
const typeCache = new Map(); // d.ts path -> {fields: Map<name, typeExpr>, imports: Map<alias, path>} | null

function readType(dts) {
  if (typeCache.has(dts)) return typeCache.get(dts);
  let src;
  try {
    src = fs.readFileSync(dts, "utf8");
  } catch {
    typeCache.set(dts, null);
    return null;
  }
  const imports = new Map();
  for (const m of src.matchAll(/^import \{([^}]+)\} from "([^"]+)";$/gm)) {
    let target;
    if (m[2].startsWith(".")) target = path.resolve(path.dirname(dts), m[2]) + ".d.ts";
    else {
      try {
        target = require.resolve(m[2]).replace(/\.js$/, ".d.ts");
      } catch {
        continue;
      }
    }
    for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean)) imports.set(name, target);
  }
  const body = src.match(/^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}$/m);
  if (!body) {
    typeCache.set(dts, null); // a type alias (IntOrString, Quantity, Time…): a leaf
    return null;
  }
  // Drop the doc comments (whole lines: "/**", " * …", " */").
  const text = body[1]
    .split("\n")
    .filter((l) => !/^\s*(\/\*\*|\*)/.test(l))
    .join("\n");
  const fields = new Map();
  // Fields start at 4 spaces of indentation; a type may span lines (map types).
  const re = /^ {4}"([^"]+)"\??: ([\s\S]*?);\n(?= {4}"|$)/gm;
  for (const m of text.matchAll(re)) fields.set(m[1], m[2].replace(/\s+/g, " ").trim());
  const t = { fields, imports };
  typeCache.set(dts, t);
  return t;
}

function checkFields(value, dts, where, at) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  const t = readType(dts);
  if (!t) return;
  for (const [k, v] of Object.entries(value)) {
    if (!t.fields.has(k)) {
      problem(where, `${at || "/"}: unknown field "${k}" (not in ${path.basename(dts, ".d.ts")}; misspelt or misindented?)`);
      continue;
    }
    checkValue(v, t.fields.get(k), t, where, `${at}/${k}`);
  }
}

function checkValue(v, typeExpr, t, where, at) {
  let m;
  if ((m = typeExpr.match(/^Array<(.+)>$/))) {
    if (Array.isArray(v)) v.forEach((x, i) => checkValue(x, m[1], t, where, `${at}/${i}`));
    return;
  }
  if ((m = typeExpr.match(/^\{ \[key: string\]: (.+); \}$/))) {
    if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) checkValue(x, m[1], t, where, `${at}/${k}`);
    return;
  }
  if (/^\w+$/.test(typeExpr) && t.imports.has(typeExpr)) checkFields(v, t.imports.get(typeExpr), where, at);
}

// ---- run 1 and 2 ------------------------------------------------------------------------------

for (const { where, obj } of docs) {
  const { cls, dts, err } = modelFor(obj.apiVersion, obj.kind);
  const name = `${where} ${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
  if (err) {
    problem(name, err);
    continue;
  }
  try {
    new cls(obj).validate();
  } catch (e) {
    const errs = Array.isArray(e.errors) && e.errors.length ? e.errors : [{ instancePath: "", message: e.message }];
    for (const x of errs) {
      const extra = x.params && Object.keys(x.params).length ? ` ${JSON.stringify(x.params)}` : "";
      problem(name, `schema: ${x.instancePath || "/"} ${x.message}${extra}`);
    }
  }
  checkFields(obj, dts, name, "");
}

// ---- 3. chart rules ---------------------------------------------------------------------------

const byKind = (kind) => docs.filter((d) => d.obj.kind === kind);
const hookOf = (o) => o.metadata?.annotations?.["helm.sh/hook"] ?? "";
const names = (kind) => new Set(byKind(kind).map((d) => d.obj.metadata?.name));
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => (labels ?? {})[k] === v) && Object.keys(selector ?? {}).length > 0;

// The CASHLESS_AUTH_* keys that must never be inlined (env value or ConfigMap).
const SECRET_ENV = [
  "CASHLESS_AUTH_DATABASE_URL",
  "CASHLESS_AUTH_REDIS_URL",
  "CASHLESS_AUTH_JWT_SECRET",
  "CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY",
  "CASHLESS_AUTH_MAIL_SMTP_PASSWORD",
  "CASHLESS_AUTH_SMS_WEBHOOK_SECRET",
  "CASHLESS_AUTH_SMS_TWILIO_AUTH_TOKEN",
  "CASHLESS_AUTH_BOOTSTRAP_ADMIN_PASSWORD",
];
const SECRET_KEYS = [
  ["database", "url"],
  ["redis", "url"],
  ["jwt", "secret"],
  ["secrets", "encryption_key"],
  ["mail", "smtp", "password"],
  ["sms", "webhook", "secret"],
  ["sms", "twilio", "auth_token"],
  ["bootstrap", "admin_password"],
];

const configMaps = names("ConfigMap");
const serviceAccounts = names("ServiceAccount");

const workloads = [...byKind("Deployment"), ...byKind("Job"), ...byKind("StatefulSet"), ...byKind("DaemonSet")];
for (const { where, obj } of workloads) {
  const name = `${where} ${obj.kind}/${obj.metadata?.name}`;
  const pod = obj.spec?.template?.spec ?? {};
  if (pod.automountServiceAccountToken !== false) problem(name, "pod must set automountServiceAccountToken: false");
  const sa = pod.serviceAccountName;
  if (sa && serviceAccounts.size && !serviceAccounts.has(sa)) {
    problem(name, `serviceAccountName ${sa} is not rendered by the chart (a ServiceAccount the chart creates was expected)`);
  }
  if (pod.securityContext?.runAsNonRoot !== true) problem(name, "pod securityContext.runAsNonRoot must be true");
  for (const v of pod.volumes ?? []) {
    if (v.configMap && !configMaps.has(v.configMap.name)) problem(name, `volume ${v.name}: ConfigMap ${v.configMap.name} is not rendered`);
    if (v.hostPath) problem(name, `volume ${v.name}: hostPath is not allowed`);
  }
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    const cn = `${name} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) problem(cn, "securityContext.readOnlyRootFilesystem must be true");
    if (sc.allowPrivilegeEscalation !== false) problem(cn, "securityContext.allowPrivilegeEscalation must be false");
    if (sc.runAsNonRoot !== true && pod.securityContext?.runAsNonRoot !== true) problem(cn, "must run as non-root");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) problem(cn, "securityContext.capabilities.drop must include ALL");
    const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problem(cn, "seccompProfile must be RuntimeDefault");
    if (!c.resources?.requests || !c.resources?.limits) problem(cn, "resources.requests and resources.limits are required");
    for (const e of c.env ?? []) {
      if (SECRET_ENV.includes(e.name) && e.value !== undefined) problem(cn, `env ${e.name} is inlined: it must come from a secretKeyRef`);
    }
    const mounts = new Set((pod.volumes ?? []).map((v) => v.name));
    for (const m of c.volumeMounts ?? []) if (!mounts.has(m.name)) problem(cn, `volumeMount ${m.name} has no volume`);
    if (obj.kind === "Deployment") {
      if (!c.readinessProbe?.httpGet) problem(cn, "readinessProbe (httpGet) is required");
      if (!c.livenessProbe?.httpGet) problem(cn, "livenessProbe (httpGet) is required");
    }
  }
}

for (const { where, obj } of byKind("Deployment")) {
  const labels = obj.spec?.template?.metadata?.labels;
  if (!matches(obj.spec?.selector?.matchLabels, labels)) problem(`${where} Deployment/${obj.metadata?.name}`, "spec.selector does not match the pod template labels");
}
const deployments = byKind("Deployment").map((d) => d.obj);
const podLabels = deployments.map((d) => d.spec?.template?.metadata?.labels);
// Pods that must never receive traffic nor count for a PDB (the migration Job's).
const jobPodLabels = byKind("Job").map((d) => d.obj.spec?.template?.metadata?.labels);
for (const [kind, sel] of [
  ["Service", (o) => o.spec?.selector],
  ["PodDisruptionBudget", (o) => o.spec?.selector?.matchLabels],
]) {
  for (const { where, obj } of byKind(kind)) {
    const name = `${where} ${kind}/${obj.metadata?.name}`;
    if (!podLabels.some((l) => matches(sel(obj), l))) problem(name, "selector matches no rendered Deployment pod template");
    if (jobPodLabels.some((l) => matches(sel(obj), l))) problem(name, "selector also matches a Job's pods");
  }
}
for (const { where, obj } of byKind("HorizontalPodAutoscaler")) {
  const ref = obj.spec?.scaleTargetRef ?? {};
  const target = deployments.find((d) => d.kind === ref.kind && d.metadata?.name === ref.name);
  if (!target) problem(`${where} HorizontalPodAutoscaler/${obj.metadata?.name}`, `scaleTargetRef ${ref.kind}/${ref.name} is not rendered`);
  else if (target.spec?.replicas !== undefined) problem(`${where} HorizontalPodAutoscaler/${obj.metadata?.name}`, `Deployment ${ref.name} sets spec.replicas although the HPA owns it`);
}

// config.yaml: valid YAML, no secret, identical for the service and the migration Job.
const configs = [];
for (const { where, obj } of byKind("ConfigMap")) {
  const text = obj.data?.["config.yaml"];
  if (text === undefined) continue;
  const name = `${where} ConfigMap/${obj.metadata?.name}`;
  let cfg;
  try {
    cfg = YAML.parse(text);
  } catch (e) {
    problem(name, `config.yaml is not YAML: ${e.message}`);
    continue;
  }
  for (const keyPath of SECRET_KEYS) {
    const v = keyPath.reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), cfg);
    if (v !== undefined && v !== "" && v !== null) problem(name, `config.yaml sets ${keyPath.join(".")}: secrets must come from Secrets`);
  }
  configs.push({ name, text, hook: hookOf(obj) });
}
const served = configs.filter((c) => !c.hook);
if (extractDir || configs.length) {
  if (served.length !== 1) problem("release", `expected exactly one (non-hook) ConfigMap with config.yaml, found ${served.length}`);
  for (const c of configs) if (served[0] && c.text !== served[0].text) problem(c.name, `config.yaml differs from ${served[0].name}`);
}

// ---- report, extract ------------------------------------------------------------------------

if (problems.length) {
  console.error(`validate-manifests: ${problems.length} problem(s) in ${docs.length} document(s):`);
  for (const p of problems) console.error("  " + p);
  process.exit(1);
}

if (extractDir) {
  fs.mkdirSync(extractDir, { recursive: true });
  fs.writeFileSync(path.join(extractDir, "config.yaml"), served[0].text);
  const env = new Set();
  for (const d of deployments) {
    for (const c of d.spec?.template?.spec?.containers ?? []) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef && e.name.startsWith("CASHLESS_AUTH_")) env.add(e.name);
    }
  }
  fs.writeFileSync(path.join(extractDir, "secret-env.txt"), [...env].sort().map((e) => e + "\n").join(""));
}

const kinds = {};
for (const { obj } of docs) kinds[`${obj.kind}`] = (kinds[`${obj.kind}`] ?? 0) + 1;
console.log(
  `validate-manifests: ${docs.length} document(s) valid against kubernetes-models ${kmVersion} (` +
    Object.entries(kinds)
      .sort()
      .map(([k, n]) => `${n} ${k}`)
      .join(", ") +
    ")",
);
