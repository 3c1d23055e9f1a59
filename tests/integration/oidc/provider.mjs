// A certified OpenID provider (npm oidc-provider) for tests/integration/test_oidc_provider.py.
//
//   node provider.mjs CLIENT_ID CLIENT_SECRET
//
// Listens on 127.0.0.1, an OS-chosen port, plain HTTP, and prints "port N"; then reads the
// client's redirect URI (lb's, known once lb listens) as one line on stdin and prints "ready".
// One confidential client (client_secret_basic, authorization code). The interaction step
// (login and consent) is completed for the test account "alice" without a form: the test is
// about lb's side of the flow, not the provider's pages.
import http from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret] = process.argv.slice(2);
const ACCOUNT = { sub: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice Liddell' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
process.stdout.write(`port ${port}\n`);
const redirectUri = await new Promise((resolve) => {
  let got = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    got += d;
    if (got.includes('\n')) resolve(got.trim());
  });
});

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
    grant_types: ['authorization_code'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ ...ACCOUNT, sub: id }),
  }),
  // ALB sends no code_challenge (its flow is a confidential client's).
  pkce: { required: () => false },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['lb-test-cookie-key'] },
  ttl: { AccessToken: 600, IdToken: 600, Session: 600, Interaction: 600, Grant: 600 },
});

// The test account logs in and consents to what was asked, at once.
async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId: ACCOUNT.sub, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res,
      { login: { accountId: ACCOUNT.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) return interaction(req, res);
  return callback(req, res);
});
process.stdout.write('ready\n');
