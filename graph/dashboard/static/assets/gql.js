// GraphQL over HTTP (POST /graphql) and over websocket (graphql-transport-ws), with
// automatic reconnection. No dependency: the protocol is a handful of messages.

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map(e => e.message).join(' ; '));
    this.errors = errors;
    this.code = errors[0] && errors[0].extensions ? errors[0].extensions.code : undefined;
  }
}

// query POSTs an operation; it resolves to data, or throws a GraphQLError (with the
// first error's extensions.code) or a network error.
export async function query(token, q, variables = {}) {
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: q, variables }),
      cache: 'no-store',
    });
  } catch (e) {
    throw new GraphQLError([{ message: 'passerelle injoignable', extensions: { code: 'UNAVAILABLE' } }]);
  }
  let body;
  try { body = await res.json(); } catch {
    throw new GraphQLError([{ message: `réponse illisible (HTTP ${res.status})`, extensions: { code: 'UNAVAILABLE' } }]);
  }
  if (body.errors && body.errors.length) throw new GraphQLError(body.errors);
  return body.data;
}

// Live is one websocket shared by every subscription of the page. It authenticates in
// connection_init, answers pings, resubscribes everything after a reconnection, and
// reports its state: 'connecting', 'up', 'down' (lost, retrying) or 'refused' (the
// gateway closed with 4403: the token no longer verifies).
export class Live {
  constructor(token, onState) {
    this.token = token;
    this.onState = onState || (() => {});
    this.subs = new Map(); // key -> {query, variables, next, error, id}
    this.seq = 0;
    this.attempt = 0;
    this.closed = false;
    this.state = '';
    this.ws = null;
    this.lastSeen = 0;
    this.watchdog = setInterval(() => this.check(), 5000);
    this.connect();
  }

  set(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    if (this.closed) return;
    if (this.state === '') this.set('connecting');
    const url = new URL('/graphql', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try { ws = new WebSocket(url, 'graphql-transport-ws'); } catch { this.retry(); return; }
    this.ws = ws;
    ws.onopen = () => {
      this.lastSeen = Date.now();
      ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${this.token}` } }));
    };
    ws.onmessage = (ev) => {
      this.lastSeen = Date.now();
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      switch (m.type) {
        case 'connection_ack':
          this.attempt = 0;
          for (const sub of this.subs.values()) this.send(sub);
          this.set('up');
          break;
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong', payload: m.payload }));
          break;
        case 'next': {
          const sub = this.byId(m.id);
          if (sub && m.payload) {
            if (m.payload.errors && m.payload.errors.length) sub.error(new GraphQLError(m.payload.errors));
            else sub.next(m.payload.data);
          }
          break;
        }
        case 'error': {
          const sub = this.byId(m.id);
          if (sub) { sub.id = null; sub.error(new GraphQLError(Array.isArray(m.payload) ? m.payload : [{ message: 'erreur' }])); }
          break;
        }
        case 'complete': {
          const sub = this.byId(m.id);
          if (sub) sub.id = null;
          break;
        }
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const sub of this.subs.values()) sub.id = null;
      if (this.closed) return;
      if (ev.code === 4403 || ev.code === 4401) { this.set('refused'); return; }
      this.set('down');
      this.retry();
    };
  }

  // retry reconnects with a capped, jittered backoff: 0.25 s, 0.5 s, 1 s … 4 s.
  retry() {
    if (this.closed) return;
    const d = Math.min(4000, 250 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt = Math.min(this.attempt + 1, 5);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), d);
  }

  // check drops a socket that has heard nothing for 25 s (the gateway pings every 10 s):
  // a silent network failure must show the banner too.
  check() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastSeen > 25000) {
      this.ws.close(4000, 'silence');
    }
  }

  byId(id) {
    for (const sub of this.subs.values()) if (sub.id === id) return sub;
    return null;
  }

  send(sub) {
    sub.id = String(++this.seq);
    this.ws.send(JSON.stringify({ id: sub.id, type: 'subscribe', payload: { query: sub.query, variables: sub.variables } }));
  }

  // subscribe keeps a subscription until the returned function is called, across
  // reconnections.
  subscribe(query, variables, next, error) {
    const key = Symbol('sub');
    const sub = { query, variables, next, error: error || (() => {}), id: null };
    this.subs.set(key, sub);
    if (this.ws && this.state === 'up') this.send(sub);
    return () => {
      this.subs.delete(key);
      if (sub.id && this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ id: sub.id, type: 'complete' }));
      }
    };
  }

  close() {
    this.closed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'bye');
    this.ws = null;
  }
}
