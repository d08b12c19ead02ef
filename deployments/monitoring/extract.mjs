// Pulls the monitoring objects out of a rendered chart (helm template --output-dir), for
// scripts/chart.sh: the PrometheusRule's groups as a Prometheus rule file (what promtool
// checks and tests), and the dashboard of the ConfigMap labelled grafana_dashboard: "1" (which
// must parse as JSON).
//
// usage: node extract.mjs --modules NODE_MODULES --rules OUT.yaml --dashboard OUT.json DIR
//   NODE_MODULES  a node_modules holding the npm package "yaml" (chart.sh's validator install)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

function usage(msg) {
  if (msg) console.error(`extract: ${msg}`);
  console.error("usage: node extract.mjs --modules NODE_MODULES --rules OUT.yaml --dashboard OUT.json DIR");
  process.exit(2);
}

const opts = {};
const inputs = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const m = /^--(modules|rules|dashboard)$/.exec(args[i]);
  if (m) opts[m[1]] = args[++i] ?? usage(`${args[i - 1]} needs a value`);
  else if (args[i].startsWith("-")) usage(`unknown flag ${args[i]}`);
  else inputs.push(args[i]);
}
if (!opts.modules || !opts.rules || !opts.dashboard || inputs.length !== 1) usage();

const require = createRequire(path.join(path.resolve(opts.modules), "..", "package.json"));
const YAML = require("yaml");

function yamlFiles(p) {
  if (fs.statSync(p).isFile()) return [p];
  return fs
    .readdirSync(p, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(p, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(p, e.name)] : []));
}

const docs = yamlFiles(inputs[0]).flatMap((f) =>
  YAML.parseAllDocuments(fs.readFileSync(f, "utf8")).map((d) => {
    if (d.errors.length) usage(`${f}: ${d.errors[0].message}`);
    return d.toJS();
  }),
).filter(Boolean);

const fail = (msg) => {
  console.error(`extract: ${msg}`);
  process.exit(1);
};

const rules = docs.filter((d) => d.kind === "PrometheusRule" && d.apiVersion === "monitoring.coreos.com/v1");
if (rules.length !== 1) fail(`want one PrometheusRule (monitoring.coreos.com/v1), found ${rules.length}`);
const groups = rules[0].spec?.groups;
if (!Array.isArray(groups) || groups.length === 0) fail("the PrometheusRule has no spec.groups");
fs.writeFileSync(opts.rules, YAML.stringify({ groups }));

const boards = docs.filter((d) => d.kind === "ConfigMap" && d.metadata?.labels?.grafana_dashboard === "1");
if (boards.length !== 1) fail(`want one ConfigMap labelled grafana_dashboard: "1", found ${boards.length}`);
const data = Object.entries(boards[0].data ?? {});
if (data.length !== 1 || !data[0][0].endsWith(".json")) fail("the dashboard ConfigMap must hold exactly one <name>.json");
let board;
try {
  board = JSON.parse(data[0][1]);
} catch (e) {
  fail(`${data[0][0]} is not JSON: ${e.message}`);
}
if (!board.uid || !Array.isArray(board.panels) || board.panels.length === 0) fail(`${data[0][0]}: no uid or no panels`);
fs.writeFileSync(opts.dashboard, JSON.stringify(board, null, 2) + "\n");

const alerts = groups.flatMap((g) => g.rules ?? []).filter((r) => r.alert).length;
console.error(`extract: ${groups.length} rule groups (${alerts} alerts) -> ${opts.rules}; dashboard "${board.title}" (${board.panels.length} panels) -> ${opts.dashboard}`);
