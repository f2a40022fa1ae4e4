// panva's oidc-provider (OpenID Certified) configured the way its README starts a
// provider: the stock defaults, with the one client a customer registers for the app
// (confidential, client_secret_post, the code and refresh grants, one redirect URI), the
// OIDC scopes' claims, and the people of a small directory. Its own development login and
// consent pages (devInteractions) are what a person meets. Groups ride in the ID token
// (conformIdTokenClaims: false, as tenants that put groups in the ID token do).
//
// Environment: PORT (0: a free one), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI.
// Prints one JSON line, {"issuer": ...}, once it listens on 127.0.0.1.
import http from 'node:http';
import Provider from 'oidc-provider';

const env = (k) => {
  if (!process.env[k]) {
    console.error(`op.mjs: ${k} is not set`);
    process.exit(2);
  }
  return process.env[k];
};

// The directory: login name -> claims. Anyone else devInteractions lets in has a sub and
// nothing more, as a directory entry without attributes would.
const people = {
  alice: {
    email: 'alice@example.com', email_verified: true, name: 'Alice Example',
    preferred_username: 'alice', groups: ['engineering', 'admins'],
  },
  bob: {
    email: 'bob@example.com', email_verified: false, name: 'Bob Example',
    preferred_username: 'bob', groups: [],
  },
};

const server = http.createServer();
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('CLIENT_ID'),
      client_secret: env('CLIENT_SECRET'),
      redirect_uris: [env('REDIRECT_URI')],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'groups'],
    },
    conformIdTokenClaims: false,
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...(people[id] || {}) };
        },
      };
    },
  });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
