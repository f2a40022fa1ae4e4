// What the app's tests share, whichever runner runs them (node:test, vitest, jest): start
// this app against a tenant of the sso-harness mock, and wait for what the app shows.
'use strict';

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const APP = path.join(__dirname, 'app.js');
const GROUP_MAP = { analysts: ['read'], admins: ['read', 'write'] };
// The app syncs every 0.3 s and gives the IdP 2 s: a change shows well within this.
const DEADLINE_MS = 5000;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts the app as the tenant's client; resolves once it answers. */
async function startApp(tenant) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [APP], {
    env: {
      ...process.env, ISSUER: tenant.issuer, CLIENT_ID: tenant.clientId, CLIENT_SECRET: tenant.clientSecret,
      BASE_URL: url, PORT: String(port), SYNC_MODE: 'strict', GROUP_MAP: JSON.stringify(GROUP_MAP),
      SYNC_INTERVAL_S: '0.3', IDP_TIMEOUT_S: '2',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const end = Date.now() + 30000;
  for (;;) {
    try {
      await fetch(`${url}/me`);
      return { url, child, stop: () => child.kill('SIGTERM') };
    } catch (e) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`the app did not come up: ${e}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Reads until `want` holds or the deadline passes; returns the last value read. */
async function eventually(read, want) {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const v = await read();
    if (want(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { startApp, eventually };
