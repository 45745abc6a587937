// The signed-in user: the token (kept in sessionStorage, so it goes with the tab),
// its claims, and what its roles may do where. This only decides what the page
// offers; the gateway authorizes every operation anyway.

import { PERMISSIONS } from './permissions.gen.js';

const KEY = 'vigie.token';

// What each role may do: generated from policies/policy.csv (permissions.gen.js).
const PERMS = Object.fromEntries(Object.entries(PERMISSIONS).map(([r, l]) => [r, new Set(l)]));

// covers: a grant on dep:30 covers dep:30 and every dep:30/com:…
export function covers(grant, domain) {
  return grant === domain || domain.startsWith(grant + '/');
}

// decode reads a JWT's payload (no verification: the gateway verifies).
export function decode(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('ce texte n\'est pas un jeton (JWT)');
  const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(parts[1].length / 4) * 4, '=');
  const json = new TextDecoder().decode(Uint8Array.from(atob(b64), c => c.charCodeAt(0)));
  return JSON.parse(json);
}

export class Session {
  constructor(token, claims) {
    this.token = token;
    this.subject = claims.sub || '';
    this.exp = claims.exp ? claims.exp * 1000 : 0;
    this.grants = Array.isArray(claims.grants) ? claims.grants.filter(g => g && g.role && g.domain) : [];
  }

  // addGrants merges the grants the gateway reports (`me`), e.g. granted in the log.
  addGrants(list) {
    for (const g of list || []) {
      if (!this.grants.some(x => x.role === g.role && x.domain === g.domain)) this.grants.push({ role: g.role, domain: g.domain });
    }
  }

  roles(domain) { return this.grants.filter(g => covers(g.domain, domain)).map(g => g.role); }

  can(domain, object, action) {
    return this.roles(domain).some(r => PERMS[r] && PERMS[r].has(`${object}:${action}`));
  }

  // canAnywhere: the permission on some granted domain (e.g. approve, for the inbox).
  canAnywhere(object, action) {
    return this.grants.some(g => PERMS[g.role] && PERMS[g.role].has(`${object}:${action}`));
  }

  expired() { return this.exp > 0 && Date.now() > this.exp; }
}

export function load() {
  const t = sessionStorage.getItem(KEY);
  if (!t) return null;
  try {
    const s = new Session(t, decode(t));
    if (s.expired()) { clear(); return null; }
    return s;
  } catch { clear(); return null; }
}

export function save(token) {
  const s = new Session(token, decode(token));
  if (s.expired()) throw new Error('ce jeton a expiré');
  sessionStorage.setItem(KEY, token);
  return s;
}

export function clear() { sessionStorage.removeItem(KEY); }
