'use strict';
// A client of mock-idp's admin API (`<issuer>/admin`): users and groups, disable, delete
// and revoke, faults by name, the clock, keys, the journal, tenants.

class AdminError extends Error {
  constructor(method, url, status, body) {
    let doc = {};
    try {
      doc = JSON.parse(body) || {};
    } catch (_) {
      /* not JSON */
    }
    super(`${method} ${url}: ${status} ${doc.error_description || doc.error || body.slice(0, 200)}`);
    this.status = status;
    this.error = doc.error;
    this.description = doc.error_description;
  }
}

class Admin {
  constructor(issuer, token) {
    this.issuer = issuer.replace(/\/$/, '');
    this.base = `${this.issuer}/admin`;
    this.token = token;
  }

  async call(method, path, body) {
    const url = this.base + path;
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new AdminError(method, url, res.status, text);
    return text ? JSON.parse(text) : null;
  }

  users() { return this.call('GET', '/users'); }
  user(username) { return this.call('GET', `/users/${enc(username)}`); }
  putUser(username, fields = {}) { return this.call('PUT', `/users/${enc(username)}`, fields); }
  patchUser(username, fields) { return this.call('PATCH', `/users/${enc(username)}`, fields); }
  setGroups(username, groups) { return this.patchUser(username, { groups }); }
  disable(username) { return this.patchUser(username, { disabled: true }); }
  enable(username) { return this.patchUser(username, { disabled: false }); }
  deleteUser(username) { return this.call('DELETE', `/users/${enc(username)}`); }
  async revoke(username) { return (await this.call('POST', `/users/${enc(username)}/revoke`, {})).revoked; }

  async now() { return (await this.call('GET', '/clock')).now; }
  async advanceClock(seconds) { return (await this.call('POST', '/clock', { advance: seconds })).now; }
  async setClock(unix) { return (await this.call('POST', '/clock', { set: unix })).now; }

  keys() { return this.call('GET', '/keys'); }
  rotateKey(opts = {}) { return this.call('POST', '/keys/rotate', opts); }

  faults() { return this.call('GET', '/faults'); }
  /** Arms a fault by name (`'http_status', { status: 503 }`) or as its JSON; its id. */
  async armFault(fault, { times, user, clientId, grantType, ...params } = {}) {
    const spec = typeof fault === 'string' ? { kind: fault, ...params } : { ...fault, ...params };
    const body = { fault: spec, times, user, client_id: clientId, grant_type: grantType };
    return (await this.call('POST', '/faults', body)).id;
  }
  clearFaults(id) { return this.call('DELETE', id === undefined ? '/faults' : `/faults/${id}`); }

  journal({ user, since } = {}) {
    const q = new URLSearchParams();
    if (user !== undefined) q.set('user', user);
    if (since !== undefined) q.set('since', String(since));
    const s = q.toString();
    return this.call('GET', `/journal${s ? `?${s}` : ''}`);
  }
  clearJournal() { return this.call('DELETE', '/journal'); }

  createTenant(name, { config, profile, keys } = {}) { return this.call('POST', '/tenants', { name, config, profile, keys }); }
  deleteTenant(name) { return this.call('DELETE', `/tenants/${enc(name)}`); }
}

const enc = encodeURIComponent;

module.exports = { Admin, AdminError };
