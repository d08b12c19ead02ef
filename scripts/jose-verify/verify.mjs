// Verifies cashless-auth tokens as a service verifying them locally would: with node jose
// (scripts/tools/node-idp, installed by `scripts/tools.sh node-idp`), from the issuer's
// discovery document alone. The Go harness is modules/system/jose_test.go.
//
//   node scripts/jose-verify/verify.mjs CONFIG.json
//
// CONFIG:
//   issuer      the expected issuer: the document is read from ISSUER/.well-known/openid-configuration
//               and its "issuer" must equal it (OpenID Connect Discovery §4.3)
//   audience    the expected aud
//   algorithms  the algorithms a token may use (never taken from the token)
//   type        the expected "type" claim (e.g. "access"), checked after the signature
//   tokens      {"name": "<JWT>", ...}
//
// jose resolves from $NODE_IDP_DIR/node_modules (else from the dir that
// `bash scripts/tools.sh node-idp-dir` prints): ESM ignores NODE_PATH.
//
// Prints one JSON object on stdout: {"discovery": {...the document...}, "results": {"name":
// {"ok": true, "sub": ..., "kid": ..., "alg": ...} | {"ok": false, "code": "ERR_...", "error": "..."}}}.
// Exits non-zero only when the discovery document cannot be used.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const fail = (msg) => {
  console.error(`verify.mjs: ${msg}`);
  process.exit(1);
};

const configFile = process.argv[2] || fail('usage: node verify.mjs CONFIG.json');
const cfg = JSON.parse(readFileSync(configFile, 'utf8'));
for (const k of ['issuer', 'audience', 'algorithms', 'type', 'tokens']) {
  if (cfg[k] === undefined) fail(`config: ${k} is required`);
}

function nodeIdpDir() {
  if (process.env.NODE_IDP_DIR) return process.env.NODE_IDP_DIR;
  const tools = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools.sh');
  return execFileSync('bash', [tools, 'node-idp-dir'], { encoding: 'utf8' }).trim();
}
const require = createRequire(`${nodeIdpDir()}/`);
const { createRemoteJWKSet, jwtVerify } = await import(pathToFileURL(require.resolve('jose')).href);

const res = await fetch(`${cfg.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
if (res.status !== 200) fail(`discovery: HTTP ${res.status}`);
const discovery = await res.json();
if (discovery.issuer !== cfg.issuer) fail(`discovery: issuer ${discovery.issuer}, want ${cfg.issuer}`);
if (typeof discovery.jwks_uri !== 'string') fail('discovery: no jwks_uri');

const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
const results = {};
for (const [name, token] of Object.entries(cfg.tokens)) {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: cfg.issuer,
      audience: cfg.audience,
      algorithms: cfg.algorithms,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    });
    if (payload.type !== cfg.type) {
      results[name] = { ok: false, code: 'TYPE', error: `type ${payload.type}, want ${cfg.type}` };
      continue;
    }
    results[name] = { ok: true, sub: payload.sub, kid: protectedHeader.kid, alg: protectedHeader.alg };
  } catch (e) {
    results[name] = { ok: false, code: e.code || e.name, error: e.message };
  }
}
console.log(JSON.stringify({ discovery, results }));
