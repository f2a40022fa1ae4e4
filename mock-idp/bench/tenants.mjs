// A fresh isolated provider for one test, created and answering its first discovery GET,
// `n` times in a row from this one Node process: for mock-idp a tenant (POST /admin/tenants,
// then the tenant's discovery; deleted after), for the peers their nearest equivalent, a new
// server in this process (oauth2-mock-server: new OAuth2Server with a generated RS256 key;
// oidc-provider: new Provider with a generated RSA key on a new HTTP server; each stopped
// after). Prints one JSON line: {"ms": [per creation]}.
//   node tenants.mjs mock-idp <n> <origin> [own|shared]
//   node tenants.mjs oauth2-mock-server <n>
//   node tenants.mjs oidc-provider <n>
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

const [which, count, origin, keys = 'own'] = process.argv.slice(2);
const n = Number(count);

async function discovery(issuer) {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (res.status !== 200) throw new Error(`${issuer}: discovery answered ${res.status}`);
  await res.arrayBuffer();
}

const makers = {
  'mock-idp': async (i) => {
    const name = `bench-${process.pid}-${i}`;
    const res = await fetch(`${origin}/admin/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, keys }),
    });
    if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
    const { issuer } = await res.json();
    await discovery(issuer);
    return async () => { await fetch(`${origin}/admin/tenants/${name}`, { method: 'DELETE' }); };
  },
  'oauth2-mock-server': async () => {
    const { OAuth2Server } = await import('oauth2-mock-server');
    const server = new OAuth2Server();
    await server.issuer.keys.generate('RS256');
    await server.start(0, '127.0.0.1');
    await discovery(`http://127.0.0.1:${server.address().port}`);
    return () => server.stop();
  },
  'oidc-provider': async () => {
    const { default: Provider } = await import('oidc-provider');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'RS256', use: 'sig' };
    const server = createServer();
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    const issuer = `http://127.0.0.1:${server.address().port}`;
    const provider = new Provider(issuer, {
      jwks: { keys: [jwk] },
      clients: [{ client_id: 'demo-rp', client_secret: 'demo-secret', redirect_uris: ['http://127.0.0.1/cb'] }],
    });
    server.on('request', provider.callback());
    await discovery(issuer);
    return () => new Promise((ok) => server.close(ok));
  },
};

const make = makers[which];
if (!make) throw new Error(`no such server: ${which}`);
await (await make(-1))(); // the modules loaded, the first-use costs paid: not measured
const ms = [];
for (let i = 0; i < n; i += 1) {
  const started = process.hrtime.bigint();
  const stop = await make(i);
  ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  await stop();
}
console.log(JSON.stringify({ ms }));
