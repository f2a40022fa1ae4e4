'use strict';
// sso-harness for Node: `startMockIdp()` runs the platform package's mock-idp on a random
// loopback port; `idp.tenant()` makes an isolated tenant (users, keys, clock, faults,
// journal of its own); `tenant.admin` changes the world; `tenant.browser(rpUrl).login('alice')`
// logs a user in through your RP. Works from node:test, vitest and jest.
const { spawn } = require('child_process');
const crypto = require('crypto');
const readline = require('readline');
const { Admin, AdminError } = require('./lib/admin');
const { Browser } = require('./lib/browser');
const { binary } = require('./lib/binary');

class Tenant {
  constructor(idp, name, issuer, clientId = 'demo-rp', clientSecret = 'demo-secret') {
    this.idp = idp;
    this.name = name;
    this.issuer = issuer;
    this.admin = new Admin(issuer, idp.adminToken);
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.discoveryUrl = `${issuer}/.well-known/openid-configuration`;
  }

  browser(rpUrl) { return new Browser(rpUrl, this.idp.origin); }

  async delete() { if (this.name) await this.idp.admin.deleteTenant(this.name); }
}

/**
 * Starts `mock-idp serve` on 127.0.0.1 and a free port and waits until it serves.
 * Options: `config` (a file), `profile` (keycloak, entra, okta, ...), `args`, `readyTimeoutMs`.
 */
function startMockIdp({ config, profile, args = [], readyTimeoutMs = 30000, env } = {}) {
  const cmd = binary('mock-idp');
  const argv = ['serve', '--addr', '127.0.0.1:0', ...(config ? ['--config', config] : []),
    ...(profile ? ['--profile', profile] : []), ...args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`no ready line within ${readyTimeoutMs} ms`), readyTimeoutMs);
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${argv.join(' ')}: ${why}\n${stderr}`));
    };
    child.on('exit', (code) => fail(`exited ${code}`));
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const fields = Object.fromEntries(line.split(' ').filter((f) => f.includes('=')).map((f) => f.split(/=(.*)/s).slice(0, 2)));
      if (!line.startsWith('mock-idp ready') || !fields.issuer) return fail(`unexpected first line: ${line}`);
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(new MockIdp(child, fields.issuer, fields.addr));
    });
  });
}

class MockIdp {
  constructor(child, issuer, addr) {
    this.child = child;
    this.issuer = issuer;
    this.origin = `http://${addr}`;
    this.adminToken = undefined;
    this.admin = new Admin(issuer);
    this.default = new Tenant(this, undefined, issuer);
  }

  /** A new tenant (the demo tenant's users and clients unless `config`) at `<origin>/t/<name>`. */
  /**
   * A new tenant. `keys: 'shared'` signs with the server's one RSA key under kids of the
   * tenant's own, so creation never waits for a key to be made (default: 'own').
   */
  async tenant({ name, config, profile, keys } = {}) {
    const n = name || `t-${crypto.randomBytes(6).toString('hex')}`;
    const made = await this.admin.createTenant(n, { config, profile, keys });
    // The demo tenant's client, or the config's first (a public client has no secret).
    const client = config && config.clients && config.clients[0];
    return client
      ? new Tenant(this, n, made.issuer, client.id, client.secret ?? null)
      : new Tenant(this, n, made.issuer);
  }

  /** Stops the server (SIGTERM; it answers the requests in flight, then exits). */
  stop() {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

module.exports = { startMockIdp, MockIdp, Tenant, Admin, AdminError, Browser, binary };
