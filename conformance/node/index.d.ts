// Types of sso-harness for Node.

export interface JournalEntry {
  seq: number;
  time: number;
  endpoint: string;
  method: string;
  client_id?: string | null;
  grant_type?: string | null;
  user?: string | null;
  status: number;
  error?: string | null;
  error_description?: string;
  lints: string[];
  faults: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface User {
  username: string;
  sub: string;
  email: string;
  name?: string | null;
  groups: string[];
  disabled: boolean;
  [key: string]: unknown;
}

export class AdminError extends Error {
  status: number;
  error?: string;
  description?: string;
}

export interface FaultScope {
  times?: number;
  user?: string;
  clientId?: string;
  grantType?: string;
  [param: string]: unknown;
}

export class Admin {
  constructor(issuer: string, token?: string);
  readonly issuer: string;
  call(method: string, path: string, body?: unknown): Promise<any>;
  users(): Promise<User[]>;
  user(username: string): Promise<User>;
  putUser(username: string, fields?: Partial<User>): Promise<User>;
  patchUser(username: string, fields: Partial<User> & { claims?: Record<string, unknown> }): Promise<User>;
  setGroups(username: string, groups: string[]): Promise<User>;
  disable(username: string): Promise<User>;
  enable(username: string): Promise<User>;
  deleteUser(username: string): Promise<null>;
  revoke(username: string): Promise<number>;
  now(): Promise<number>;
  advanceClock(seconds: number): Promise<number>;
  setClock(unix: number): Promise<number>;
  keys(): Promise<{ keys: Array<Record<string, unknown>> }>;
  rotateKey(opts?: { alg?: string; grace?: number; remove_old?: boolean }): Promise<{ kid: string; alg: string }>;
  faults(): Promise<Array<Record<string, unknown>>>;
  armFault(fault: string | Record<string, unknown>, scope?: FaultScope): Promise<number>;
  clearFaults(id?: number): Promise<null>;
  journal(query?: { user?: string; since?: number }): Promise<JournalEntry[]>;
  clearJournal(): Promise<null>;
  createTenant(name: string, opts?: { config?: unknown; profile?: string; keys?: 'own' | 'shared' }): Promise<{ name: string; issuer: string }>;
  deleteTenant(name: string): Promise<null>;
}

export class Browser {
  constructor(rpUrl: string, idpOrigin: string);
  request(method: string, path: string, opts?: { body?: string; headers?: Record<string, string> }): Promise<Response>;
  get(path: string): Promise<Response>;
  getJson(path: string): Promise<any>;
  postJson(path: string, value: unknown): Promise<Response>;
  login(username: string, start?: string): Promise<Response>;
}

export class Tenant {
  readonly name?: string;
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly clientId: string;
  readonly clientSecret: string | null;
  readonly admin: Admin;
  browser(rpUrl: string): Browser;
  delete(): Promise<void>;
}

export class MockIdp {
  readonly issuer: string;
  readonly origin: string;
  readonly admin: Admin;
  readonly default: Tenant;
  tenant(opts?: { name?: string; config?: unknown; profile?: string; keys?: 'own' | 'shared' }): Promise<Tenant>;
  stop(): Promise<void>;
}

export function startMockIdp(opts?: {
  config?: string;
  profile?: string;
  args?: string[];
  readyTimeoutMs?: number;
  env?: Record<string, string>;
}): Promise<MockIdp>;

export function binary(name: 'mock-idp' | 'conformance'): string;
