// Verifies an x-amzn-oidc-data JWT with npm jose, independently of lb's code.
//
//   node verify.mjs TOKEN PEM_FILE   → one JSON line {padded, header, payload, tampered}
//
// ALB pads the base64url segments of x-amzn-oidc-data with '=' (RFC 7515 has none). The
// signature covers the header and payload segments as sent, padding included, so stripping
// it breaks verification; jose 6 decodes the padded segments and verifies the token as sent,
// which is what this does (PyJWT, in AWS's Python sample, does the same).
import { readFileSync } from 'node:fs';
import { importSPKI, compactVerify } from 'jose';

const [token, pemFile] = process.argv.slice(2);
const key = await importSPKI(readFileSync(pemFile, 'utf8'), 'ES256');
const out = { padded: token.includes('=') };
const { payload, protectedHeader } = await compactVerify(token, key);
out.header = protectedHeader;
out.payload = JSON.parse(new TextDecoder().decode(payload));
// One character of the payload changed: the signature no longer holds.
const [h, p, s] = token.split('.');
const i = p.search(/[A-Za-z0-9]/);
const flipped = p.slice(0, i) + (p[i] === 'A' ? 'B' : 'A') + p.slice(i + 1);
try {
  await compactVerify(`${h}.${flipped}.${s}`, key);
  out.tampered = 'accepted';
} catch (err) {
  out.tampered = `refused: ${err.code || err.message}`;
}
console.log(JSON.stringify(out));
