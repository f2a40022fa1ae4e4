// oidc-provider 9.13.3 set up as mock-idp's demo tenant is for the same loads: one RS256
// key, a confidential client allowed client_credentials, access tokens as RS256 JWTs
// (resource indicators with a default resource, the library's way to get JWT access
// tokens). Prints `ready addr=127.0.0.1:PORT` once listening.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const { port } = server.address();
const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: [jwk] },
  clients: [{
    client_id: 'demo-rp',
    client_secret: 'demo-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  scopes: ['api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:api',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
server.on('request', provider.callback());
console.log(`ready addr=127.0.0.1:${port}`);
