// The test suite's identity provider: the certified `oidc-provider` package, configured as a city's
// Keycloak realm would be for childhub — one client, authorization code with PKCE (S256), refresh tokens,
// RP-initiated logout, and users whose access tokens carry a department and roles. Its own login page
// (devInteractions) is what the browser tests click through.
//
// node provider.mjs '{"redirect": "http://localhost:8080/signin/callback", "postLogout": "…", "accessTtl": 60,
//                     "secret": null, "audience": "childhub"}'
// prints `{"issuer": "http://127.0.0.1:PORT"}` on its first line once it listens.
import http from 'node:http';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2] || '{}');

// Users as the city's directory has them: a department code and roles in the access token.
const USERS = {
  'health-clerk': { name: '王芳 Wang Fang', dept: 'health', roles: ['viewer', 'submitter'] },
  'stats-coordinator': { name: '李强 Li Qiang', dept: 'statistics', roles: ['viewer', 'approver'] },
  'wcwc-admin': { name: '张敏 Zhang Min', dept: 'wcwc', roles: ['viewer', 'approver', 'admin'] },
  'analyst': { name: '陈静 Chen Jing', dept: 'education', roles: ['viewer'] },
  // An account the directory has not given a department: the hub must say so, not fail.
  'no-department': { name: '赵六 Zhao Liu', roles: ['viewer'] },
};

const client = {
  client_id: 'childhub',
  redirect_uris: [options.redirect],
  post_logout_redirect_uris: options.postLogout ? [options.postLogout] : [],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  ...(options.secret
    ? { client_secret: options.secret, token_endpoint_auth_method: 'client_secret_basic' }
    : { token_endpoint_auth_method: 'none' }),
};

const audience = options.audience || 'childhub';
const configuration = {
  clients: [client],
  pkce: { required: () => true },
  cookies: { keys: ['childhub-test-provider-cookie-key'] },
  claims: { openid: ['sub'], profile: ['name'] },
  findAccount: async (_ctx, id) => {
    const user = USERS[id];
    if (!user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, name: user.name }) };
  },
  // Consent is not asked of a first-party client (as Keycloak's "Consent required: off").
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile offline_access');
    grant.addResourceScope(`urn:${audience}`, 'openid');
    await grant.save();
    return grant;
  },
  issueRefreshToken: async () => true,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => `urn:${audience}`,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'openid',
        audience,
        accessTokenTTL: options.accessTtl || 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: async (_ctx, token) => {
    const user = USERS[token.accountId];
    if (!user) return undefined;
    const claims = { roles: user.roles };
    if (user.dept) claims.dept = user.dept;
    return claims;
  },
  ttl: {
    AccessToken: options.accessTtl || 300,
    IdToken: 3600,
    RefreshToken: 3600,
    Session: 3600,
    Grant: 3600,
    Interaction: 600,
  },
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);
  // Plain HTTP on loopback, as in a test: the provider is told it is not behind a TLS proxy.
  provider.proxy = false;
  provider.on('server_error', (_ctx, err) => console.error('provider error', err));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
process.on('SIGTERM', () => process.exit(0));
