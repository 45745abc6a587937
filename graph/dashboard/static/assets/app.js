// Vigie's crisis-cell dashboard: sign-in, the live board of a commune or of the
// département, the map, incident detail, alerts and approvals, after-action replay.
// Plain ES modules, no framework: the page is a few lists redrawn from the read
// models on each change notice.
import * as auth from './auth.js';
import { query, Live } from './gql.js';
import { h, $, options, debounce, uuid } from './dom.js';
import * as L from './labels.js';
import { GardMap, loadCommunes, communeCode } from './map.js';

const ACTIVE = ['REPORTED', 'QUALIFIED', 'ESCALATED', 'STABILIZED'];
const INCIDENT_FIELDS = 'id domain kind title severity status reportedAt location { lat lon } directedByPrefecture';
const RESOURCE_FIELDS = 'id domain kind name status incidentId capacity occupancy';
const RF_FIELDS = 'id domain incidentId kind quantity accepted status';
const DELIVERY_FIELDS = 'channel state reason sent delivered failed';
const VERSION_FIELDS = 'version headline description instruction severity approvedBy approvedAt';
const ALERT_FIELDS = `id domain status event headline author approvedBy exercise channels capUrl deliveries { ${DELIVERY_FIELDS} }
  cancellations { ${DELIVERY_FIELDS} } published { ${VERSION_FIELDS} } pendingRevision { ${VERSION_FIELDS} }`;
// Fields of the alerts' extensions, asked for when the gateway has them.
const ALERT_EXTRA = `polygon { lat lon } reason areaDesc description instruction severity urgency frAlert
  deliveries { recipients countsKnown } cancellations { recipients countsKnown }`;

const state = {
  session: null,
  live: null,
  geo: null,
  map: null,
  domain: '',
  view: 'board',
  board: { incidents: [], resources: [], alerts: [], counts: [], shelters: null, reinforcements: [] },
  alertsError: '',
  pending: [],
  pendingSeen: null,
  alertStatus: new Map(),
  alertExtra: true,
  unsubs: [],
  inboxUnsubs: [],
  openIncident: null,
  timeline: [],
  boardSeq: 0,
  approving: null, // the alert whose approval dialog is open: { alert, audience, loaded, cmd }
  demoTimer: 0,
};

// ---------- sign-in ----------

async function init() {
  $('#signin-form').addEventListener('submit', onSignIn);
  $('#signout').addEventListener('click', signOut);
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => { show(b.dataset.view); menu(false); });
  $('#menu-toggle').addEventListener('click', () => menu($('#menu-toggle').getAttribute('aria-expanded') !== 'true'));
  $('#report-locate').addEventListener('click', locate);
  $('#domain').addEventListener('change', (e) => selectDomain(e.target.value));
  $('#incident-close').addEventListener('click', () => $('#incident-dialog').close());
  $('#incident-dialog').addEventListener('close', () => { state.openIncident = null; });
  $('#report-form').addEventListener('submit', onReport);
  $('#incidents-body').addEventListener('click', (e) => {
    const b = e.target.closest('[data-testid="open-incident"]');
    if (b) openIncident(b.closest('[data-incident-id]').dataset.incidentId);
  });
  $('#alert-form').addEventListener('submit', onDraftAlert);
  $('#approve-form').addEventListener('submit', onConfirmApproval);
  $('#approve-check').addEventListener('change', approvalReady);
  $('#approve-cancel').addEventListener('click', closeApproval);
  $('#approve-close').addEventListener('click', closeApproval);
  $('#approve-dialog').addEventListener('close', () => { state.approving = null; });
  $('#replay-slider').addEventListener('input', onSlide);
  $('#report-html').addEventListener('click', (e) => downloadReport(e, 'html'));
  $('#report-json').addEventListener('click', (e) => downloadReport(e, 'json'));
  fillStaticSelects();
  setInterval(tickAges, 30000);
  const s = auth.load();
  if (s) await start(s);
  else $('#token').focus();
}

async function onSignIn(ev) {
  ev.preventDefault();
  const err = $('#signin-error');
  err.textContent = '';
  const token = $('#token').value.trim().replace(/^Bearer\s+/i, '');
  let s;
  try {
    s = auth.save(token);
  } catch (e) {
    err.textContent = `Jeton invalide : ${e.message}`;
    return;
  }
  try {
    await query(token, '{ me { subject } }');
  } catch (e) {
    auth.clear();
    err.textContent = e.code === 'UNAUTHENTICATED' ? 'Jeton refusé par la passerelle (signature ou validité).' : `Connexion impossible : ${e.message}`;
    return;
  }
  $('#token').value = '';
  await start(s);
}

function signOut() {
  auth.clear();
  if (state.live) state.live.close();
  location.reload();
}

async function start(session) {
  state.session = session;
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#who').textContent = `${session.subject} — ${[...new Set(session.grants.map(g => L.ROLE[g.role] || g.role))].join(', ')}`;
  $('#who').title = $('#who').textContent; // whole, where the header cuts it short
  // Where the device can tell its position (a phone, a tablet; loopback or https).
  $('[data-testid="report-locate-box"]').hidden = !geolocationAllowed();
  const [geo, me] = await Promise.allSettled([loadCommunes(), query(session.token, '{ me { subject roles { role domain } } }')]);
  if (me.status === 'fulfilled') session.addGrants(me.value.me.roles);
  else if (me.reason && me.reason.code === 'UNAUTHENTICATED') { auth.clear(); location.reload(); return; }
  if (geo.status === 'fulfilled') {
    state.geo = geo.value;
    state.map = new GardMap($('#map'), geo.value, openIncident);
  } else {
    $('#map').textContent = 'Contours des communes indisponibles.';
  }
  fillDomains();
  state.live = new Live(session.token, onLiveState);
  subscribeInbox();
  probeDemo();
  const saved = sessionStorage.getItem('vigie.domain');
  const first = $('#domain').options[0] ? $('#domain').options[0].value : '';
  const pick = saved && [...$('#domain').options].some(o => o.value === saved) ? saved : first;
  $('#domain').value = pick;
  await selectDomain(pick);
  performance.mark('vigie-ready');
}

// menu opens or closes the views' menu of the narrow header (tablets, phones).
function menu(open) {
  $('#top').classList.toggle('open', open);
  $('#menu-toggle').setAttribute('aria-expanded', String(open));
}

// ---------- the connection ----------

function onLiveState(st) {
  const live = $('#live');
  live.className = `live ${st}`;
  live.textContent = { connecting: 'connexion…', up: 'en direct', down: 'hors ligne', refused: 'jeton refusé' }[st] || st;
  $('#banner').hidden = st !== 'down' && st !== 'refused';
  if (st === 'refused') $('#banner').textContent = 'Connexion refusée : le jeton a expiré ou a été révoqué. Reconnectez-vous.';
  if (st === 'up') {
    // Back after a loss: what changed meanwhile came through no notice.
    refreshAll();
  }
}

function subscribeInbox() {
  for (const u of state.inboxUnsubs) u();
  state.inboxUnsubs = [];
  const s = state.session;
  if (!(s.canAnywhere('alert', 'approve') || s.canAnywhere('alert', 'validate_fr_alert'))) {
    $('[data-view="approvals"]').hidden = true;
    return;
  }
  const domains = [...new Set(s.grants.map(g => g.domain))];
  for (const d of domains) {
    state.inboxUnsubs.push(state.live.subscribe('subscription($d: String!) { alertChanged(domain: $d) { id status headline domain } }', { d },
      (data) => { onAlertNotice(data.alertChanged); }, () => {}));
  }
}

// ---------- domains ----------

function communeName(code) {
  return state.map ? state.map.name(code) : code;
}

function domainLabel(d) {
  const code = communeCode(d);
  if (code) return `${communeName(code)} (${code})`;
  const dep = /^dep:(\w+)$/.exec(d);
  return dep ? `Département ${dep[1]} — toutes les communes` : d;
}

function fillDomains() {
  const seen = new Set();
  const pairs = [];
  for (const g of state.session.grants) {
    if (seen.has(g.domain)) continue;
    seen.add(g.domain);
    pairs.push([g.domain, domainLabel(g.domain)]);
    const dep = /^dep:(\w+)$/.exec(g.domain);
    if (dep && state.map) {
      const communes = state.map.names().filter(([code]) => code.startsWith(dep[1])).sort((a, b) => a[1].localeCompare(b[1], 'fr'));
      for (const [code, nom] of communes) {
        const d = `${g.domain}/com:${code}`;
        if (!seen.has(d)) { seen.add(d); pairs.push([d, `${nom} (${code})`]); }
      }
    }
  }
  options($('#domain'), pairs);
}

const isDep = (d) => /^dep:\w+$/.test(d);

async function selectDomain(d) {
  state.domain = d;
  sessionStorage.setItem('vigie.domain', d);
  for (const u of state.unsubs) u();
  const s = state.session;
  // The page asks only for what the caller's roles may read here: an administrator
  // (roles and the security journal only) gets no board, and the gateway journals no
  // refusal of the page's own making.
  const readsBoard = s.can(d, 'incident', 'read');
  state.unsubs = readsBoard ? [
    state.live.subscribe('subscription($d: String!) { boardChanged(domain: $d) { domain streamId type at } }', { d }, (data) => onBoardNotice(data.boardChanged)),
  ] : [];
  // alertChanged of this domain when the inbox does not already listen to it.
  if (s.can(d, 'alert', 'read') && (!state.session.grants.some(g => g.domain === d) || !(s.canAnywhere('alert', 'approve') || s.canAnywhere('alert', 'validate_fr_alert')))) {
    state.unsubs.push(state.live.subscribe('subscription($d: String!) { alertChanged(domain: $d) { id status headline domain } }', { d },
      (data) => onAlertNotice(data.alertChanged), () => {}));
  }
  const c = s.can(d, 'incident', 'report') && !isDep(d);
  $('#report-form').hidden = !c;
  $('#alert-form').hidden = !(s.can(d, 'alert', 'draft') && !isDep(d));
  $('#communes-panel').hidden = !isDep(d);
  $('#reinforcements-panel').hidden = !s.can(d, 'reinforcement', 'read');
  $('[data-view="after"]').hidden = !s.can(d, 'timeline', 'read');
  $('[data-view="board"]').hidden = !readsBoard;
  $('[data-view="alerts"]').hidden = !s.can(d, 'alert', 'read');
  $('[data-view="security"]').hidden = !s.can(d, 'journal', 'read');
  if (state.view === 'security' && !s.can(d, 'journal', 'read')) show('board');
  if (!readsBoard && s.can(d, 'journal', 'read')) show('security');
  setReportLinks();
  state.board = { incidents: [], resources: [], alerts: [], counts: [], shelters: null, reinforcements: [] };
  state.alertStatus = new Map();
  await refreshAll();
}

function refreshAll() {
  const s = state.session, d = state.domain;
  const jobs = [loadInbox()];
  if (s.can(d, 'incident', 'read')) jobs.push(loadBoard());
  if (s.can(d, 'alert', 'read')) jobs.push(loadAlerts());
  if (state.view === 'after') jobs.push(loadTimeline());
  if (state.view === 'security') jobs.push(loadSecurity());
  if (state.openIncident) jobs.push(refreshIncident());
  return Promise.allSettled(jobs);
}

// ---------- notices ----------

const boardSoon = debounce(() => loadBoard(), 120);
const alertsSoon = debounce(() => { loadAlerts(); loadInbox(); if (state.view === 'demo') loadDemo(); }, 120);
const incidentSoon = debounce(() => refreshIncident(), 150);
const timelineSoon = debounce(() => loadTimeline(), 500);

function onBoardNotice(change) {
  if (!change) return;
  // How many notices this page heard: observable state, for a screen's supervision
  // and for the browser tests.
  document.body.dataset.boardNotices = String(+(document.body.dataset.boardNotices || 0) + 1);
  if ((change.streamId || '').startsWith('alert-')) alertsSoon();
  else boardSoon();
  if (state.openIncident && change.streamId === `incident-${state.openIncident}`) incidentSoon();
  if (state.view === 'after') timelineSoon();
}

function onAlertNotice(a) {
  if (!a) return;
  alertsSoon();
}

// ---------- the board ----------

async function loadBoard() {
  const d = state.domain;
  const seq = ++state.boardSeq;
  const list = isDep(d)
    ? `incidents: overview(domain: $d, first: 1000) { ${INCIDENT_FIELDS} }`
    : `incidents(domain: $d, status: [${ACTIVE.join(', ')}]) { ${INCIDENT_FIELDS} }`;
  // Reinforcements only for a role that may read them (a field agent may not: the
  // whole query would be refused).
  const readsRF = state.session.can(d, 'reinforcement', 'read');
  const rf = readsRF ? `reinforcements(domain: $d) { ${RF_FIELDS} }` : '';
  try {
    const data = await query(state.session.token, `query Board($d: String!) {
      ${list}
      resources(domain: $d) { ${RESOURCE_FIELDS} }
      incidentCounts(domain: $d) { key value }
      shelters(domain: $d) { shelters capacity occupancy }
      ${rf}
    }`, { d });
    if (seq !== state.boardSeq || d !== state.domain) return; // a newer answer is coming
    Object.assign(state.board, { incidents: data.incidents, resources: data.resources, counts: data.incidentCounts, shelters: data.shelters, reinforcements: data.reinforcements || [] });
    renderBoard();
    // The open incident's actions offer the resources now available.
    if (state.openIncident) incidentSoon();
  } catch (e) {
    if (seq === state.boardSeq) boardError(e);
  }
}

function boardError(e) {
  if (e.code === 'UNAUTHENTICATED') { auth.clear(); location.reload(); return; }
  $('#incidents-empty').hidden = false;
  $('#incidents-empty').textContent = `Tableau indisponible : ${e.message}`;
}

async function loadAlerts() {
  const d = state.domain;
  const q = (extra) => `query Alerts($d: String!) { alerts(domain: $d) { ${ALERT_FIELDS} ${extra} } }`;
  try {
    let data;
    try {
      data = await query(state.session.token, q(state.alertExtra ? ALERT_EXTRA : ''), { d });
    } catch (e) {
      if (!(state.alertExtra && e.code === 'INVALID_INPUT')) throw e;
      state.alertExtra = false; // a gateway without the alerts' extensions
      data = await query(state.session.token, q(''), { d });
    }
    if (d !== state.domain) return;
    announceAlertChanges(data.alerts);
    state.board.alerts = data.alerts;
    state.alertsError = '';
  } catch (e) {
    state.alertsError = e.code === 'UNAVAILABLE' ? `Alertes indisponibles : ${e.message}` : e.message;
  }
  renderAlerts();
  renderCounters();
  if (state.map) state.map.show(state.domain, state.board.incidents, state.board.resources, state.board.alerts);
}

function announceAlertChanges(alerts) {
  const first = state.alertStatus.size === 0;
  for (const a of alerts) {
    const was = state.alertStatus.get(a.id);
    if (!first && was !== a.status) {
      if (a.status === 'SENT') announce(`Alerte diffusée : ${a.headline}`);
      else if (L.ASTATUS_PROBLEM.has(a.status)) announce(`Attention, ${L.ASTATUS[a.status]} : ${a.headline}`);
      else if (!was) announce(`Nouvelle alerte : ${a.headline} (${L.ASTATUS[a.status] || a.status})`);
    }
    state.alertStatus.set(a.id, a.status);
  }
  if (first && alerts.length === 0) state.alertStatus.set('', '');
}

function announce(text) {
  const el = $('#announcer');
  el.textContent = '';
  // A change of content is what screen readers announce.
  setTimeout(() => { el.textContent = text; }, 30);
}

function sortIncidents(list) {
  const rank = (i) => (i.status === 'ESCALATED' ? 10 : 0) + (L.SEVERITY_RANK[i.severity] || 0);
  return [...list].sort((a, b) => rank(b) - rank(a) || (b.reportedAt < a.reportedAt ? -1 : b.reportedAt > a.reportedAt ? 1 : 0));
}

// renderBoard redraws everything the board shows from state.board.
export function renderBoard() {
  performance.mark('board-render-start');
  const b = state.board;
  const now = Date.now();
  const incidents = sortIncidents(b.incidents);
  const byId = new Map(incidents.map(i => [i.id, i]));
  const showCommune = isDep(state.domain);
  const rows = document.createDocumentFragment();
  for (const i of incidents) rows.append(incidentRow(i, showCommune, now));
  $('#incidents-body').replaceChildren(rows);
  performance.mark('board-rows');
  const empty = $('#incidents-empty');
  empty.textContent = 'Aucun incident en cours.';
  empty.hidden = incidents.length > 0;
  if (showCommune) renderCommunes(incidents);
  renderResources(byId);
  renderShelters();
  renderReinforcements(byId);
  renderCounters();
  performance.mark('board-side');
  if (state.map) state.map.show(state.domain, incidents, b.resources, b.alerts);
  performance.mark('board-render-end');
  performance.measure('board-render', 'board-render-start', 'board-render-end');
}

// incidentRow clones a row of the page's template: a board of hundreds of incidents
// is drawn in a few milliseconds.
const rowTemplate = () => $('#incident-row-template').content.firstElementChild;

function incidentRow(i, showCommune, now) {
  const tr = rowTemplate().cloneNode(true); // a row (div role=row)
  const d = tr.dataset;
  d.incidentId = i.id; d.status = i.status; d.severity = i.severity || '';
  const [sevTd, titleTd, statusTd, ageTd] = tr.children;
  const sev = sevTd.firstChild;
  sev.className = `sev sev-${i.severity || 'NONE'}`;
  sev.textContent = L.SEVERITY[i.severity] || 'À qualifier';
  titleTd.firstChild.textContent = i.title;
  titleTd.lastChild.textContent = [showCommune ? communeName(communeCode(i.domain)) : null, L.KIND[i.kind] || i.kind, i.directedByPrefecture ? 'direction préfecture' : null].filter(Boolean).join(' · ');
  statusTd.className = `status ${i.status}`;
  statusTd.textContent = L.STATUS[i.status] || i.status;
  ageTd.dataset.since = i.reportedAt;
  ageTd.textContent = L.age(i.reportedAt, now);
  return tr;
}

function renderCommunes(incidents) {
  const per = new Map();
  for (const i of incidents) {
    const code = communeCode(i.domain);
    const c = per.get(code) || { code, domain: i.domain, n: 0, max: 0, esc: 0 };
    c.n++;
    c.max = Math.max(c.max, L.SEVERITY_RANK[i.severity] || 0);
    if (i.status === 'ESCALATED') c.esc++;
    per.set(code, c);
  }
  const sevKey = Object.fromEntries(Object.entries(L.SEVERITY_RANK).map(([k, r]) => [r, k])); // rank -> severity
  const list = [...per.values()].sort((a, b) => b.esc - a.esc || b.max - a.max || b.n - a.n);
  $('#communes-body').replaceChildren(...list.map(c => h('tr', { dataset: { testid: 'commune-row', code: c.code } },
    h('td', {}, h('button', { type: 'button', testid: 'open-commune', onclick: () => { $('#domain').value = `${state.domain}/com:${c.code}`; selectDomain($('#domain').value); } }, communeName(c.code))),
    h('td', {}, String(c.n)),
    h('td', {}, h('span', { class: `sev sev-${sevKey[c.max] || 'NONE'}` }, L.SEVERITY[sevKey[c.max]] || '—')),
    h('td', { class: c.esc ? 'status ESCALATED' : '' }, String(c.esc)))));
}

function renderResources(byId) {
  const groups = new Map();
  for (const r of state.board.resources) {
    if (r.kind === 'SHELTER') continue;
    if (!groups.has(r.kind)) groups.set(r.kind, []);
    groups.get(r.kind).push(r);
  }
  const out = [];
  for (const [kind, list] of groups) {
    const counts = {};
    for (const r of list) counts[r.status] = (counts[r.status] || 0) + 1;
    out.push(h('div', { class: 'res-group' },
      // « Équipes — 3 engagées, 1 disponible »: the status agrees with its count.
      h('h3', {}, `${L.RKIND[kind] || kind} — ${Object.entries(counts).map(([s, n]) => `${n} ${L.RSTATUS[s] || s}${n > 1 && L.RSTATUS[s] ? 's' : ''}`).join(', ')}`),
      h('ul', {}, list.map(r => h('li', { dataset: { testid: 'resource', resourceId: r.id, status: r.status } },
        h('span', { class: `rstatus ${r.status}` }, L.RSTATUS[r.status] || r.status), ' ', r.name,
        r.incidentId && byId.get(r.incidentId) ? h('span', { class: 'commune-name' }, `sur : ${byId.get(r.incidentId).title}`) : null)))));
  }
  $('#resources').replaceChildren(...(out.length ? out : [h('p', { class: 'empty' }, 'Aucun moyen enregistré.')]));
}

function renderShelters() {
  const shelters = state.board.resources.filter(r => r.kind === 'SHELTER');
  const t = state.board.shelters;
  const items = shelters.map(r => h('li', { class: 'shelter', dataset: { testid: 'shelter', resourceId: r.id } },
    h('span', { class: 'shelter-name' }, r.name),
    h('meter', { min: 0, max: r.capacity || 1, value: r.occupancy || 0, high: (r.capacity || 1) * 0.85, optimum: 0, 'aria-label': `Occupation de ${r.name}` }),
    h('span', { class: 'shelter-count', testid: 'shelter-count' }, `${r.occupancy || 0} / ${r.capacity || '?'} places`)));
  $('#shelters').replaceChildren(
    t ? h('p', { testid: 'shelter-totals' }, `${t.occupancy} personnes hébergées pour ${t.capacity} places (${t.shelters} centre${t.shelters > 1 ? 's' : ''})`) : '',
    items.length ? h('ul', { class: 'plain' }, items) : h('p', { class: 'empty' }, "Aucun centre d'hébergement."));
}

// ---------- reinforcements ----------

// keyed replaces a container's content only when what it shows changed: a quantity
// being typed survives the notices of other changes.
function keyed(el, sig, build) {
  if (el.dataset.sig === sig) return;
  el.dataset.sig = sig;
  el.replaceChildren(...build());
}

// rfText: « Matériel — quantité demandée : 4, accordée : 2 »
function rfText(r) {
  const granted = typeof r.accepted === 'number' && !['REQUESTED', 'REFUSED'].includes(r.status);
  return `${L.RKIND[r.kind] || r.kind} — quantité demandée : ${r.quantity}${granted ? `, accordée : ${r.accepted}` : ''}`;
}

// rfActions: the next step of a request, for the roles that may take it (the
// prefecture decides and sends, the commune confirms the arrival, either releases).
function rfActions(r) {
  const s = state.session;
  const can = (a) => s.can(r.domain, 'reinforcement', a);
  const done = () => refreshAfterChange();
  // Each mutation written whole, so a test can check every operation the page sends.
  const step = (label, testid, mutation, cls) => h('button', { type: 'button', class: cls || '', testid,
    onclick: (e) => act(e.target, mutation, { id: r.id }, done) }, label);
  const out = [];
  if (r.status === 'REQUESTED' && can('decide')) {
    // Accepting less than asked is a partial acceptance: the quantity is the decision.
    const q = h('input', { type: 'number', name: 'quantity', min: '1', max: String(r.quantity), value: String(r.quantity), required: true, class: 'qty', testid: 'accept-quantity' });
    const btn = h('button', { type: 'submit', testid: 'accept-reinforcement' }, 'Accorder');
    const f = h('form', { class: 'inline-form' }, h('label', {}, 'Quantité accordée', q), btn);
    f.addEventListener('submit', (e) => { e.preventDefault(); act(btn, 'mutation($id: ID!, $q: Int!, $c: ID) { acceptReinforcement(id: $id, quantity: $q, commandId: $c) { id status } }', { id: r.id, q: +q.value }, done); });
    out.push(f, reasonForm('Refuser', 'refuse-reinforcement', 'mutation($id: ID!, $r: String!, $c: ID) { refuseReinforcement(id: $id, reason: $r, commandId: $c) { id status } }', r.id, done, 'danger'));
  }
  if ((r.status === 'ACCEPTED' || r.status === 'PARTIALLY_ACCEPTED') && can('dispatch')) out.push(step('Faire partir le renfort', 'dispatch-reinforcement', 'mutation($id: ID!, $c: ID) { dispatchReinforcement(id: $id, commandId: $c) { id status } }'));
  if (r.status === 'DISPATCHED' && can('arrive')) out.push(step("Confirmer l'arrivée", 'arrive-reinforcement', 'mutation($id: ID!, $c: ID) { confirmReinforcementArrival(id: $id, commandId: $c) { id status } }'));
  if (r.status === 'ARRIVED' && can('release')) out.push(step('Libérer le renfort', 'release-reinforcement', 'mutation($id: ID!, $c: ID) { releaseReinforcement(id: $id, commandId: $c) { id status } }', 'quiet'));
  return out.length ? h('div', { class: 'actions rf-actions' }, out) : null;
}

// rfItem: one request, its status in words, what was asked and granted, and where
// (the commune on the département's board, the incident on a board).
function rfItem(r, incident, commune) {
  const where = [commune ? communeName(communeCode(r.domain)) : null, incident ? `pour : ${incident}` : null].filter(Boolean).join(' · ');
  return h('li', { class: `rf${L.RF_OPEN.has(r.status) ? '' : ' over'}`, dataset: { testid: 'reinforcement', reinforcementId: r.id, incidentId: r.incidentId, status: r.status } },
    h('span', { class: `rfstatus ${r.status}`, testid: 'reinforcement-status' }, L.RFSTATUS[r.status] || r.status), ' ',
    h('span', { testid: 'reinforcement-what' }, rfText(r)),
    where ? h('span', { class: 'commune-name', testid: 'reinforcement-where' }, where) : null,
    rfActions(r));
}

// byOpen: the requests under way first, the finished (refused, released) after.
const byOpen = (list) => [...list].sort((a, b) => L.RF_OPEN.has(b.status) - L.RF_OPEN.has(a.status));

function renderReinforcements(byId) {
  if ($('#reinforcements-panel').hidden) return;
  const list = byOpen(state.board.reinforcements);
  const dep = isDep(state.domain);
  const title = (r) => (byId.get(r.incidentId) || {}).title || '';
  keyed($('#reinforcements'), JSON.stringify([state.domain, list, list.map(title)]), () => list.length
    ? [h('ul', { class: 'plain rf-list' }, list.map(r => rfItem(r, title(r), dep)))]
    : [h('p', { class: 'empty' }, 'Aucune demande de renfort.')]);
}

// incidentReinforcements: the incident's requests in its dialog. The list is kept
// (the same element) while nothing of it changed, for the same reason as keyed.
function incidentReinforcements(inc) {
  if (!state.session.can(inc.domain, 'reinforcement', 'read')) return [];
  const list = byOpen(state.board.reinforcements.filter(r => r.incidentId === inc.id));
  const sig = JSON.stringify([inc.id, list]);
  if (!state.rfBox || state.rfBox.dataset.sig !== sig) {
    state.rfBox = h('div', { dataset: { sig, testid: 'incident-reinforcements' } }, list.length
      ? h('ul', { class: 'plain rf-list' }, list.map(r => rfItem(r, '', false)))
      : h('p', { class: 'empty' }, 'Aucun renfort demandé.'));
  }
  return [h('h3', {}, 'Renforts demandés'), state.rfBox];
}

function count(key) {
  const c = state.board.counts.find(c => c.key === key);
  return c ? c.value : 0;
}

function renderCounters() {
  const b = state.board;
  const severe = count('severity:Severe') + count('severity:Extreme');
  const engaged = b.resources.filter(r => r.status === 'ENGAGED').length;
  const available = b.resources.filter(r => r.status === 'AVAILABLE' && r.kind !== 'SHELTER').length;
  const live = b.alerts.filter(a => ['PENDING_APPROVAL', 'APPROVED', 'FR_ALERT_REQUESTED', 'DISPATCHING', 'SENT', 'PARTIALLY_SENT', 'FR_ALERT_REFUSED'].includes(a.status)).length;
  const failing = b.alerts.some(a => L.ASTATUS_PROBLEM.has(a.status));
  const t = b.shelters;
  const rfOpen = (b.reinforcements || []).filter(r => L.RF_OPEN.has(r.status)).length;
  const rfAsked = (b.reinforcements || []).filter(r => r.status === 'REQUESTED').length;
  const items = [
    ['active', count('active') || b.incidents.length, 'incidents en cours', false],
    ['severe', severe, 'sévères ou extrêmes', severe > 0],
    ['escalated', count('status:escalated'), 'escaladés (préfecture)', count('status:escalated') > 0],
    ['engaged', engaged, `moyen${engaged > 1 ? 's' : ''} engagé${engaged > 1 ? 's' : ''} · ${available} ${L.RSTATUS.AVAILABLE}${available > 1 ? 's' : ''}`, false],
    ['shelter', t ? `${t.occupancy}/${t.capacity}` : '—', 'places d\'hébergement occupées', false],
    ...($('#reinforcements-panel').hidden ? [] : [['reinforcements', rfOpen, `renfort${rfOpen > 1 ? 's' : ''} en cours · ${rfAsked} à décider`, rfAsked > 0]]),
    ['alerts', state.alertsError ? '—' : live, failing ? 'alertes en cours, dont en échec' : 'alertes en cours', failing],
  ];
  $('#counters').replaceChildren(...items.map(([k, n, label, hot]) => h('li', { class: hot ? 'hot' : '', testid: `counter-${k}` },
    h('span', { class: 'n' }, String(n)), h('span', { class: 'k' }, label))));
}

function tickAges() {
  const now = Date.now();
  for (const el of document.querySelectorAll('.age[data-since]')) el.textContent = L.age(el.dataset.since, now);
}

// ---------- alerts ----------

// countsKnown: whether a delivery's counts mean anything (FR-Alert: the State
// reports no recipients). A gateway without the field: FR-Alert only is unknown.
function countsKnown(d) {
  return d.countsKnown === undefined || d.countsKnown === null ? d.channel !== 'FR_ALERT' : d.countsKnown;
}

// deliveryItem: one channel of the message (or of the cancellation), its state, its
// counts (« inconnu » where nobody can count, never 0) and why it failed.
function deliveryItem(d) {
  const problem = L.CSTATE_PROBLEM.has(d.state);
  const label = L.CHANNEL[d.channel] || d.channel;
  const pl = (n, word) => `${n} ${word}${n > 1 ? 's' : ''}`;
  let counts;
  if (!countsKnown(d)) counts = 'destinataires : inconnu (non communiqué)';
  else if (d.channel === 'CAP_FEED') counts = d.delivered ? 'publiée dans le flux public' : 'pas encore publiée';
  else if (!L.PERSON_CHANNELS.has(d.channel)) counts = `${d.delivered} remis / ${pl(d.sent, 'envoi')}${d.failed ? `, ${pl(d.failed, 'échec')}` : ''}`;
  else {
    counts = `${pl(d.delivered, 'reçu')} / ${pl(d.sent, 'envoyé')}${typeof d.recipients === 'number' ? ` (${L.people(d.recipients)} visée${d.recipients > 1 ? 's' : ''})` : ''}${d.failed ? `, ${pl(d.failed, 'échec')}` : ''}`;
  }
  return h('li', { class: `delivery${problem ? ' problem' : ''}`, dataset: { testid: 'delivery', channel: d.channel, state: d.state || '' } },
    h('strong', {}, `${label} : `),
    d.state ? h('span', { class: `cstate ${d.state}`, testid: 'delivery-state' }, L.CSTATE[d.state] || d.state) : null,
    d.state ? ' · ' : null, h('span', { testid: 'delivery-counts' }, counts),
    d.reason ? h('span', { class: 'reason', testid: 'delivery-reason' }, ` — ${d.reason}`) : null);
}

// problemText: what went wrong, channel by channel, in one sentence; '' when nothing.
function problemText(a) {
  const bad = (a.deliveries || []).filter(d => L.CSTATE_PROBLEM.has(d.state));
  const parts = bad.map(d => `${L.CHANNEL[d.channel] || d.channel} : ${(L.CSTATE[d.state] || d.state).toLowerCase()}${d.reason ? ` — ${d.reason}` : ''}`);
  if (!parts.length && L.ASTATUS_PROBLEM.has(a.status)) parts.push(a.reason || 'voir le détail des canaux ci-dessous');
  return parts.join(' · ');
}

function versionBlock(title, v, testid, cls) {
  return h('section', { class: `version ${cls || ''}`, testid },
    h('h4', {}, title, v.version ? ` (version ${v.version})` : ''),
    h('p', { class: 'vheadline' }, v.headline),
    v.description ? h('p', {}, v.description) : null,
    v.instruction ? h('p', {}, h('em', {}, v.instruction)) : null,
    v.approvedBy ? h('p', { class: 'deliveries' }, `approuvée par ${v.approvedBy}${v.approvedAt ? ` le ${L.when(v.approvedAt)}` : ''}`) : null);
}

// contentBlocks: the published version and a revision waiting for approval, apart;
// before the first approval, the text being written (nothing of it is public).
function contentBlocks(a) {
  if (!a.published) {
    return [a.description ? h('p', {}, a.description) : null, a.instruction ? h('p', {}, h('em', {}, a.instruction)) : null];
  }
  const out = [versionBlock('Version publiée', a.published, 'alert-published', 'published')];
  if (a.pendingRevision) {
    out.push(versionBlock("Révision en attente d'approbation", a.pendingRevision, 'alert-revision', 'pending'));
  } else if (['DRAFT', 'PENDING_APPROVAL', 'REJECTED'].includes(a.status) && a.headline !== a.published.headline) {
    out.push(versionBlock('Révision en préparation (non publique)', a, 'alert-revision', 'pending'));
  }
  return out;
}

// cancellationBlock: the cancellation message sent to the people who received the alert.
function cancellationBlock(a) {
  const cs = a.cancellations || [];
  if (!cs.length) return null;
  // Per channel: a person registered on two channels is told on each.
  const told = cs.filter(d => L.PERSON_CHANNELS.has(d.channel) && countsKnown(d))
    .map((d, i) => i === 0 ? `${L.people(d.delivered)} prévenue${d.delivered > 1 ? 's' : ''} ${L.BY_CHANNEL[d.channel]}` : `${d.delivered} ${L.BY_CHANNEL[d.channel]}`);
  const going = cs.some(d => d.state === 'PENDING' || d.state === 'SENDING');
  const bad = cs.some(d => L.CSTATE_PROBLEM.has(d.state));
  const summary = told.length ? `Annulation : ${told.join(', ')}` : 'Annulation publiée : personne à prévenir individuellement';
  return h('div', { class: `cancellations${bad ? ' problem' : ''}`, testid: 'alert-cancellations' },
    h('p', { class: 'cancel-summary', testid: 'cancel-summary' }, summary, going ? ' (envoi en cours)' : ''),
    h('ul', { class: 'plain deliveries' }, cs.map(deliveryItem)));
}

// frAlertToConfirm: a validated FR-Alert the prefecture broadcasts on the State's
// platform itself, not confirmed yet.
function frAlertToConfirm(a) {
  const d = (a.deliveries || []).find(x => x.channel === 'FR_ALERT');
  return !!d && d.state === 'PENDING' && a.frAlert === 'VALIDATED';
}

function confirmFrAlertButton(a, then) {
  return h('button', { type: 'button', testid: 'confirm-fralert', title: "Après avoir diffusé l'alerte sur la plateforme FR-Alert de l'État",
    onclick: (e) => act(e.target, 'mutation($id: ID!, $c: ID) { confirmFrAlertBroadcast(id: $id, commandId: $c) { id status } }', { id: a.id }, then) },
  'Diffusion FR-Alert effectuée');
}

// alertCard: showCommune names the sending commune, wherever the card is read outside
// that commune's own view (the département's board, the prefecture's inbox).
function alertCard(a, actions, showCommune) {
  const problem = problemText(a);
  const alarming = !!problem;
  const deliveries = a.deliveries || [];
  return h('article', { class: `alert-card${alarming ? ' problem' : ''}`, dataset: { testid: 'alert-card', alertId: a.id, status: a.status } },
    showCommune ? h('p', { class: 'commune-name', testid: 'alert-commune' }, `Commune : ${communeName(communeCode(a.domain))}`) : null,
    h('p', {}, a.exercise ? h('span', { class: 'exercise' }, 'EXERCICE') : null, a.exercise ? ' ' : null,
      h('span', { class: `astatus ${a.status}`, testid: 'alert-status' }, L.ASTATUS[a.status] || a.status), ' — ',
      h('strong', { testid: 'alert-headline' }, a.published && !a.pendingRevision ? a.published.headline : a.headline)),
    alarming ? h('p', { class: 'alarm', role: 'status', testid: 'alert-problem' }, problem) : null,
    h('p', { class: 'deliveries' }, `${a.event} · ${(a.channels || []).map(c => L.CHANNEL[c] || c).join(', ')} · rédigée par ${a.author}${a.approvedBy ? `, approuvée par ${a.approvedBy}` : ''}`),
    ...contentBlocks(a),
    a.reason && !alarming ? h('p', { class: 'error' }, `Motif : ${a.reason}`) : null,
    deliveries.length ? h('ul', { class: 'plain deliveries', testid: 'alert-deliveries' }, deliveries.map(deliveryItem)) : null,
    cancellationBlock(a),
    actions && actions.length ? h('div', { class: 'actions' }, actions) : null);
}

function renderAlerts() {
  const s = state.session;
  const list = state.board.alerts;
  const err = state.alertsError ? [h('p', { class: 'empty', testid: 'alerts-unavailable' }, state.alertsError)] : [];
  const board = list.filter(a => !['CANCELLED', 'EXPIRED'].includes(a.status)).map(a => alertCard(a, null, a.domain !== state.domain));
  $('#board-alerts').replaceChildren(...err, ...(board.length ? board : err.length ? [] : [h('p', { class: 'empty' }, 'Aucune alerte.')]));
  const full = list.map(a => {
    const acts = [];
    if (a.status === 'DRAFT' && s.can(a.domain, 'alert', 'submit')) {
      acts.push(h('button', { type: 'button', testid: 'submit-alert', onclick: (e) => act(e.target, 'mutation($id: ID!, $c: ID) { submitAlert(id: $id, commandId: $c) { id status } }', { id: a.id }, loadAlerts) }, 'Soumettre au maire'));
    }
    if (frAlertToConfirm(a) && s.can(a.domain, 'alert', 'validate_fr_alert')) {
      acts.push(confirmFrAlertButton(a, () => { loadAlerts(); loadInbox(); }));
    }
    if (['DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'FR_ALERT_REQUESTED', 'DISPATCHING', 'SENT', 'PARTIALLY_SENT', 'FAILED', 'FR_ALERT_REFUSED'].includes(a.status) && s.can(a.domain, 'alert', 'cancel')) {
      acts.push(reasonForm('Annuler l\'alerte', 'cancel-alert', 'mutation($id: ID!, $r: String!, $c: ID) { cancelAlert(id: $id, reason: $r, commandId: $c) { id status } }', a.id, loadAlerts, 'danger'));
    }
    // The CAP document is public only once a version is approved.
    if (a.capUrl && a.published) acts.push(h('a', { href: a.capUrl, testid: 'alert-cap' }, 'Message CAP'));
    return alertCard(a, acts, a.domain !== state.domain);
  });
  $('#alerts-list').replaceChildren(...err, ...(full.length ? full : err.length ? [] : [h('p', { class: 'empty' }, 'Aucune alerte pour ce territoire.')]));
}

// act runs a mutation from a button, with an idempotency key kept until it succeeds.
async function act(button, mutation, vars, then) {
  const key = button.dataset.cmd || (button.dataset.cmd = uuid());
  button.disabled = true;
  const out = button.closest('.rf, .alert-card, .panel, form, dialog');
  try {
    await query(state.session.token, mutation, { ...vars, c: key });
    delete button.dataset.cmd;
    if (then) await then();
  } catch (e) {
    showError(out, e);
  } finally {
    button.disabled = false;
  }
}

function showError(container, e) {
  let p = container && container.querySelector(':scope > .error.action-error');
  if (container && !p) { p = h('p', { class: 'error action-error', role: 'alert', testid: 'action-error' }); container.append(p); }
  if (p) p.textContent = `Refusé : ${e.message}${e.code ? ` (${e.code})` : ''}`;
}

// reasonForm: an action that needs a reason (reject, refuse, cancel).
function reasonForm(label, testid, mutation, id, then, cls) {
  const input = h('input', { name: 'reason', required: true, maxlength: 500, testid: `${testid}-reason`, 'aria-label': `Motif — ${label}` });
  const btn = h('button', { type: 'submit', class: cls || '', testid }, label);
  const f = h('form', { class: 'inline-form' }, h('label', {}, 'Motif', input), btn);
  f.addEventListener('submit', (e) => { e.preventDefault(); act(btn, mutation, { id, r: input.value.trim() }, then); });
  return f;
}

async function onDraftAlert(ev) {
  ev.preventDefault();
  const f = ev.target;
  const submitAfter = ev.submitter && ev.submitter.value === 'submit';
  const err = $('#alert-form-error');
  err.textContent = '';
  const fd = new FormData(f);
  const channels = fd.getAll('channels');
  if (!channels.length) { err.textContent = 'Choisissez au moins un canal.'; return; }
  const input = {
    domain: state.domain,
    event: fd.get('event').trim(), headline: fd.get('headline').trim(),
    description: fd.get('description').trim(), instruction: fd.get('instruction').trim(),
    severity: fd.get('severity'), urgency: fd.get('urgency'), certainty: fd.get('certainty'), category: fd.get('category'),
    areaDesc: fd.get('areaDesc').trim(), channels, exercise: fd.get('exercise') === 'on',
  };
  const key = f.dataset.cmd || (f.dataset.cmd = uuid());
  const buttons = f.querySelectorAll('button');
  buttons.forEach(b => { b.disabled = true; });
  try {
    const data = await query(state.session.token, 'mutation($in: DraftAlertInput!, $c: ID) { draftAlert(input: $in, commandId: $c) { id status } }', { in: input, c: key });
    delete f.dataset.cmd;
    if (submitAfter) {
      f.dataset.submitId = data.draftAlert.id;
      await query(state.session.token, 'mutation($id: ID!, $c: ID) { submitAlert(id: $id, commandId: $c) { id status } }', { id: data.draftAlert.id, c: `submit-${key}` });
    }
    f.reset();
    announce(submitAfter ? 'Alerte soumise au maire.' : 'Brouillon enregistré.');
    await loadAlerts();
  } catch (e) {
    err.textContent = `Refusé : ${e.message}${e.code ? ` (${e.code})` : ''}`;
  } finally {
    buttons.forEach(b => { b.disabled = false; });
  }
}

// ---------- approvals inbox ----------

async function loadInbox() {
  const s = state.session;
  if (!(s.canAnywhere('alert', 'approve') || s.canAnywhere('alert', 'validate_fr_alert'))) return;
  const q = (extra) => `{ pendingApprovals { ${ALERT_FIELDS} ${extra} } }`;
  let list = [];
  let error = '';
  try {
    let data;
    try {
      data = await query(s.token, q(state.alertExtra ? ALERT_EXTRA : ''));
    } catch (e) {
      if (!(state.alertExtra && e.code === 'INVALID_INPUT')) throw e;
      state.alertExtra = false;
      data = await query(s.token, q(''));
    }
    list = data.pendingApprovals;
    list.push(...(await frAlertsToConfirm(list)));
  } catch (e) {
    error = e.code === 'UNAVAILABLE' ? `Validations indisponibles : ${e.message}` : e.message;
  }
  const seen = state.pendingSeen;
  const ids = new Set(list.map(a => a.id));
  if (seen) for (const a of list) if (!seen.has(a.id)) announce(`Alerte à valider : ${a.headline}`);
  state.pendingSeen = ids;
  state.pending = list;
  const pill = $('#approvals-count');
  pill.textContent = String(list.length);
  pill.classList.toggle('zero', list.length === 0);
  $('#approvals-hint').textContent = s.canAnywhere('alert', 'validate_fr_alert')
    ? 'Demandes de diffusion FR-Alert des communes : validez ou refusez avec un motif. Une alerte validée que vous diffusez vous-même sur la plateforme FR-Alert de l\'État reste ici jusqu\'à votre confirmation.'
    : 'Alertes rédigées par la cellule de crise, en attente de votre approbation.';
  const refresh = () => { loadInbox(); loadAlerts(); };
  const cards = list.map(a => {
    const acts = [];
    if (a.status === 'PENDING_APPROVAL' && s.can(a.domain, 'alert', 'approve')) {
      acts.push(h('button', { type: 'button', testid: 'approve-alert', onclick: () => openApproval(a) }, 'Approuver et diffuser…'));
      acts.push(reasonForm('Refuser', 'reject-alert', 'mutation($id: ID!, $r: String!, $c: ID) { rejectAlert(id: $id, reason: $r, commandId: $c) { id status } }', a.id, refresh, 'danger'));
    }
    if (a.status === 'FR_ALERT_REQUESTED' && s.can(a.domain, 'alert', 'validate_fr_alert')) {
      acts.push(h('button', { type: 'button', testid: 'validate-fralert', onclick: (e) => act(e.target, 'mutation($id: ID!, $c: ID) { validateFrAlert(id: $id, commandId: $c) { id status } }', { id: a.id }, refresh) }, 'Valider la diffusion FR-Alert'));
      acts.push(reasonForm('Refuser FR-Alert', 'refuse-fralert', 'mutation($id: ID!, $r: String!, $c: ID) { refuseFrAlert(id: $id, reason: $r, commandId: $c) { id status } }', a.id, refresh, 'danger'));
    }
    if (frAlertToConfirm(a) && s.can(a.domain, 'alert', 'validate_fr_alert')) {
      acts.push(h('p', { class: 'hint' }, "Validée : à diffuser par la préfecture sur la plateforme FR-Alert de l'État, puis à confirmer ici."));
      acts.push(confirmFrAlertButton(a, refresh));
    }
    const card = alertCard(a, acts, true); // the inbox gathers every commune's
    card.dataset.testid = 'approval-item';
    return card;
  });
  $('#approvals-list').replaceChildren(...(error ? [h('p', { class: 'empty', testid: 'approvals-unavailable' }, error)] : []),
    ...(cards.length ? cards : error ? [] : [h('p', { class: 'empty', testid: 'approvals-empty' }, 'Rien à valider.')]));
}

// frAlertsToConfirm: for the prefecture, the validated FR-Alerts of its domains that
// wait for it to broadcast them on the State's platform and confirm it.
async function frAlertsToConfirm(already) {
  const s = state.session;
  if (!state.alertExtra) return [];
  const domains = [...new Set(s.grants.map(g => g.domain))].filter(d => s.can(d, 'alert', 'validate_fr_alert'));
  const have = new Set(already.map(a => a.id));
  const out = [];
  for (const d of domains) {
    const data = await query(s.token, `query($d: String!) { alerts(domain: $d, status: [APPROVED, DISPATCHING]) { ${ALERT_FIELDS} ${ALERT_EXTRA} } }`, { d });
    for (const a of data.alerts) {
      if (frAlertToConfirm(a) && !have.has(a.id)) { have.add(a.id); out.push(a); }
    }
  }
  return out;
}

// ---------- the mayor's approval: whom it reaches, where, and what it says ----------

// exerciseText: the text of an exercise as the domain marks it (already marked in
// the stored content; done again, it changes nothing).
function exerciseText(t) {
  const v = (t || '').trim();
  if (!v || v.slice(0, 8).toUpperCase() === 'EXERCICE') return v;
  return `EXERCICE – ${v}`;
}

// outgoing: the texts of the version to approve exactly as the dispatcher sends them
// (services/alerts/dispatch: compose): SMS, voice and notifications carry
// « titre. consignes », e-mail the title as subject and title, description and
// consignes as body; the CAP feed and FR-Alert the three fields.
function outgoing(a) {
  const v = a.pendingRevision || a;
  const mark = a.exercise ? exerciseText : (t) => (t || '').trim();
  const headline = mark(v.headline), description = mark(v.description), instruction = mark(v.instruction);
  const ch = new Set(a.channels || []);
  const out = [];
  const short = ['SMS', 'VOICE', 'PUSH'].filter(c => ch.has(c));
  if (short.length) {
    out.push({ testid: 'approve-text-short', title: short.map(c => L.CHANNEL[c]).join(', '), parts: [['Texte', `${headline}. ${instruction}`.trim()]] });
  }
  if (ch.has('EMAIL')) {
    out.push({ testid: 'approve-text-email', title: L.CHANNEL.EMAIL, parts: [['Objet', headline], ['Message', `${headline}\n\n${description}\n\n${instruction}\n`]] });
  }
  const whole = ['CAP_FEED', 'FR_ALERT', 'WEBHOOK'].filter(c => ch.has(c));
  if (whole.length) {
    out.push({ testid: 'approve-text-cap', title: whole.map(c => L.CHANNEL[c]).join(', '), parts: [['Titre', headline], ['Description', description], ['Consignes', instruction]] });
  }
  return out;
}

function audienceItem(channel, n, failed) {
  const text = failed ? 'nombre indisponible' : !n ? 'comptage…' : n.known ? L.people(n.recipients) : (L.AUDIENCE_UNKNOWN[channel] || 'nombre inconnu');
  return h('li', { dataset: { testid: 'audience-row', channel, known: n ? String(!!n.known) : '', recipients: n && n.known ? String(n.recipients) : '' } },
    h('strong', {}, `${L.CHANNEL[channel] || channel} : `), h('span', { testid: 'audience-count' }, text));
}

// approvalView: audience is null while it is counted; error says why it could not be.
function approvalView(a, audience, error) {
  const byChannel = new Map((audience || []).map(n => [n.channel, n]));
  const channels = audience ? [...new Set([...(a.channels || []), ...byChannel.keys()])] : (a.channels || []);
  const area = h('div', { class: 'approve-map', id: 'approve-map', testid: 'approve-map-box' });
  const texts = outgoing(a);
  const view = h('div', {},
    h('p', { class: 'commune-name' }, domainLabel(a.domain)),
    a.exercise ? h('p', { class: 'exercise-note', testid: 'approve-exercise' }, h('span', { class: 'exercise' }, 'EXERCICE'),
      ' Seuls les habitants qui ont accepté de recevoir les exercices le recevront ; jamais par FR-Alert.') : null,
    a.published ? h('p', { class: 'hint', testid: 'approve-revision' }, `Cette révision remplacera la version publiée (« ${a.published.headline} ») : mise à jour du message CAP et nouvel envoi.`) : null,
    h('h3', {}, 'Destinataires, comptés maintenant'),
    h('ul', { class: 'plain audience', testid: 'approve-audience', dataset: { loaded: String(!!(audience || error)) } },
      channels.map(c => audienceItem(c, audience ? (byChannel.get(c) || { known: false }) : null, !!error))),
    error ? h('p', { class: 'error', testid: 'approve-audience-error' }, `Nombre de destinataires indisponible : ${error}`) : null,
    h('h3', {}, 'Zone'),
    h('p', { testid: 'approve-area' }, a.areaDesc || '—', a.polygon && a.polygon.length >= 3 ? '' : ' (toute la commune)'),
    area,
    h('h3', {}, 'Texte, tel qu\'il partira'),
    ...texts.map(t => h('section', { class: 'outgoing', testid: t.testid }, h('h4', {}, t.title),
      ...t.parts.map(([k, v]) => h('div', {}, h('span', { class: 'commune-name' }, k), h('pre', { class: 'msg' }, v))))));
  return { view, area };
}

function showApprovalView(a, audience, error) {
  const { view, area } = approvalView(a, audience, error);
  $('#approve-body').replaceChildren(view);
  if (state.geo) {
    const m = new GardMap(area, state.geo, null, { descId: 'approve-map-desc', testid: 'approve-map' });
    m.show(a.domain, [], [], a.polygon && a.polygon.length >= 3 ? [a] : []);
    m.zoomTo(a.domain, (a.polygon || []).map(p => [p.lon, p.lat]));
  }
}

async function openApproval(a) {
  const dlg = $('#approve-dialog');
  const cur = { alert: a, audience: null, loaded: false, cmd: uuid() };
  state.approving = cur;
  $('#approve-check').checked = false;
  $('#approve-error').textContent = '';
  approvalReady();
  showApprovalView(a, null, '');
  if (!dlg.open) dlg.showModal();
  let audience = null, error = '';
  try {
    audience = (await query(state.session.token, 'query($id: ID!) { alertAudience(id: $id) { channel recipients known } }', { id: a.id })).alertAudience;
  } catch (e) {
    error = `${e.message}${e.code ? ` (${e.code})` : ''}`;
  }
  if (state.approving !== cur) return; // closed, or another alert opened meanwhile
  cur.audience = audience;
  cur.loaded = true;
  showApprovalView(a, audience, error);
  approvalReady();
}

// approvalReady: the confirmation is possible once the audience is counted (or its
// count failed, which the dialog says) and the mayor ticked the box.
function approvalReady() {
  const cur = state.approving;
  $('#approve-confirm').disabled = !(cur && cur.loaded && $('#approve-check').checked);
}

function closeApproval() {
  state.approving = null;
  $('#approve-dialog').close();
}

async function onConfirmApproval(ev) {
  ev.preventDefault();
  const cur = state.approving;
  if (!cur || !cur.loaded || !$('#approve-check').checked) return;
  const btn = $('#approve-confirm');
  btn.disabled = true;
  $('#approve-error').textContent = '';
  // What the mayor was shown, recorded with the approval.
  const shown = (cur.audience || []).filter(n => n.known).map(n => ({ channel: n.channel, recipients: n.recipients }));
  try {
    await query(state.session.token, 'mutation($id: ID!, $c: ID, $aud: [AudienceInput!]) { approveAlert(id: $id, commandId: $c, audience: $aud) { id status } }',
      { id: cur.alert.id, c: cur.cmd, aud: shown.length ? shown : null });
    if (state.approving === cur) closeApproval();
    announce(`Alerte approuvée, diffusion lancée : ${cur.alert.headline}`);
    loadInbox();
    loadAlerts();
  } catch (e) {
    $('#approve-error').textContent = `Refusé : ${e.message}${e.code ? ` (${e.code})` : ''}`;
    approvalReady();
  }
}

// ---------- the demonstration's received messages ----------

async function fetchDemo() {
  const res = await fetch('/demo/messages.json', { headers: { Authorization: `Bearer ${state.session.token}` }, cache: 'no-store' });
  if (!res.ok) { const e = new Error(`HTTP ${res.status}`); e.status = res.status; throw e; }
  return res.json();
}

// probeDemo shows the page's tab only where the gateway serves the demonstration's
// messages (`vigie demo`).
async function probeDemo() {
  let served = false;
  try {
    await fetchDemo();
    served = true;
  } catch { /* not served here: the tab stays hidden */ }
  $('[data-view="demo"]').hidden = !served;
  document.body.dataset.demo = served ? 'served' : 'absent'; // observable, for the browser tests
}

async function loadDemo() {
  let data;
  try {
    data = await fetchDemo();
    $('#demo-error').textContent = '';
  } catch (e) {
    $('#demo-error').textContent = `Messages indisponibles : ${e.message}`;
    return;
  }
  const list = data.messages || [];
  $('#demo-total').textContent = data.total > list.length ? `${data.total} messages reçus (les ${list.length} derniers affichés)` : `${data.total || 0} message${data.total > 1 ? 's' : ''} reçu${data.total > 1 ? 's' : ''}`;
  $('#demo-empty').hidden = list.length > 0;
  $('#demo-body').replaceChildren(...list.map(m => h('tr', { dataset: { testid: 'demo-message', channel: m.channel } },
    h('td', {}, h('time', { datetime: m.at }, L.when(m.at))),
    h('td', {}, L.CHANNEL[m.channel] || m.channel, m.exercise ? ' ' : '', m.exercise ? h('span', { class: 'exercise' }, 'EXERCICE') : ''),
    h('td', { testid: 'demo-to' }, m.to),
    h('td', {}, m.subject ? h('strong', {}, m.subject) : '', h('pre', { class: 'msg', testid: 'demo-body' }, m.body)))));
}

// ---------- the security journal (admins) ----------

async function loadSecurity() {
  const d = state.domain;
  let list;
  try {
    list = (await query(state.session.token, 'query($d: String!) { securityJournal(domain: $d, first: 1000) { at last count kind label domain actor subject action code reason } }', { d })).securityJournal;
    $('#security-error').textContent = '';
  } catch (e) {
    $('#security-error').textContent = `Journal indisponible : ${e.message}${e.code ? ` (${e.code})` : ''}`;
    return;
  }
  if (d !== state.domain) return; // another territory was chosen meanwhile
  const n = list.length;
  $('#security-total').textContent = `${n} entrée${n > 1 ? 's' : ''}${n >= 1000 ? ' (les 1 000 dernières)' : ''}`;
  $('#security-empty').hidden = n > 0;
  const warn = new Set(['AUTH_FAILED', 'REFUSED', 'RATE_LIMITED', 'SATURATED']);
  $('#security-body').replaceChildren(...list.map(e => h('tr', { dataset: { testid: 'security-entry', kind: e.kind }, class: warn.has(e.kind) ? 'warn' : '' },
    h('td', {}, h('time', { datetime: e.at }, L.when(e.at)), e.count > 1 ? ` (${e.count} fois${e.last ? `, jusqu'à ${L.when(e.last)}` : ''})` : ''),
    h('td', { testid: 'security-label' }, e.label),
    h('td', {}, e.actor || 'inconnu', e.subject ? ` → ${e.subject}` : ''),
    h('td', {}, e.domain ? domainLabel(e.domain) : 'non attribuable'),
    h('td', { testid: 'security-detail' }, [e.action && (/^[a-z][A-Za-z]*$/.test(e.action) ? `opération ${e.action}` : e.action), e.reason, e.code].filter(Boolean).join(' · ')))));
}

// ---------- report an incident ----------

async function onReport(ev) {
  ev.preventDefault();
  const f = ev.target;
  const fd = new FormData(f);
  const input = { domain: state.domain, kind: fd.get('kind'), title: fd.get('title').trim() };
  if (fd.get('severity')) input.severity = fd.get('severity');
  if (fd.get('lat') && fd.get('lon')) input.location = { lat: +fd.get('lat'), lon: +fd.get('lon') };
  const key = f.dataset.cmd || (f.dataset.cmd = uuid());
  try {
    await query(state.session.token, 'mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }', { in: input, c: key });
    delete f.dataset.cmd;
    f.reset();
    $('#report-position').textContent = '';
    announce(`Incident signalé : ${input.title}`);
    loadBoard();
  } catch (e) {
    showError(f, e);
  }
}

// geolocationAllowed: the device can tell its position and the page's Permissions-Policy
// (sent by the gateway) lets it ask; a button that can only fail is not offered.
function geolocationAllowed() {
  if (!('geolocation' in navigator)) return false;
  const policy = document.permissionsPolicy || document.featurePolicy;
  return !policy || policy.allowsFeature('geolocation');
}

// locate fills the report's position from the device's (on the user's click: the
// browser asks once for the permission).
function locate() {
  const f = $('#report-form');
  const out = $('#report-position');
  out.textContent = 'Position en cours…';
  navigator.geolocation.getCurrentPosition((p) => {
    f.elements.lat.value = String(p.coords.latitude);
    f.elements.lon.value = String(p.coords.longitude);
    const fmt = (x) => x.toFixed(4).replace('.', ',');
    out.textContent = `Position : ${fmt(p.coords.latitude)} ; ${fmt(p.coords.longitude)}${p.coords.accuracy ? ` (à ${Math.round(p.coords.accuracy)} m près)` : ''}`;
  }, (e) => {
    f.elements.lat.value = f.elements.lon.value = '';
    out.dataset.error = `${e.code} ${e.message}`; // the browser's own words, for whoever supervises the screen
    out.textContent = e.code === e.PERMISSION_DENIED ? 'Position refusée : autorisez la localisation pour ce site.' : 'Position indisponible pour l\'instant.';
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

// ---------- incident detail ----------

async function openIncident(id) {
  state.openIncident = id;
  state.detailSig = '';
  const dlg = $('#incident-dialog');
  $('#incident-body').replaceChildren(h('p', {}, 'Chargement…'));
  if (!dlg.open) dlg.showModal();
  await refreshIncident();
}

async function refreshIncident() {
  const id = state.openIncident;
  if (!id) return;
  let inc;
  try {
    const data = await query(state.session.token, `query($id: ID!) { incident(id: $id) {
      ${INCIDENT_FIELDS} description
      log { id at author text }
      resources { ${RESOURCE_FIELDS} } } }`, { id });
    inc = data.incident;
  } catch (e) {
    $('#incident-body').replaceChildren(h('p', { class: 'error' }, e.message));
    return;
  }
  if (id !== state.openIncident) return;
  if (!inc) { $('#incident-body').replaceChildren(h('p', {}, 'Incident introuvable.')); return; }
  renderIncident(inc);
}

function renderIncident(inc) {
  const s = state.session;
  const can = (a) => s.can(inc.domain, 'incident', a);
  $('#incident-dialog-title').textContent = inc.title;
  const rfComing = state.board.reinforcements.some(r => r.incidentId === inc.id && ['ACCEPTED', 'PARTIALLY_ACCEPTED', 'DISPATCHED', 'ARRIVED'].includes(r.status));
  const body = $('#incident-body');
  let view = $('#incident-view', body);
  let actions = $('#incident-actions', body);
  if (!view) {
    view = h('div', { id: 'incident-view' });
    actions = h('div', { id: 'incident-actions', class: 'detail-actions' });
    body.replaceChildren(view, h('h3', {}, 'Actions'), actions);
  }
  view.replaceChildren(
    h('p', {}, h('span', { class: `sev sev-${inc.severity || 'NONE'}` }, L.SEVERITY[inc.severity] || 'À qualifier'), ' ',
      h('span', { class: `status ${inc.status}`, testid: 'detail-status' }, L.STATUS[inc.status] || inc.status), ' · ',
      L.KIND[inc.kind] || inc.kind, ' · ', domainLabel(inc.domain), ' · signalé le ', L.when(inc.reportedAt),
      inc.directedByPrefecture ? ' · direction des opérations : préfecture' : ''),
    inc.description ? h('p', {}, inc.description) : '',
    h('h3', {}, 'Main courante'),
    h('ol', { class: 'courante', testid: 'main-courante' }, inc.log.map(e => h('li', { testid: 'log-entry' }, h('time', { datetime: e.at }, L.when(e.at)), h('strong', {}, e.author), ' — ', e.text))),
    h('h3', {}, 'Moyens engagés'),
    inc.resources.length
      ? h('ul', { class: 'plain', testid: 'engaged-resources' }, inc.resources.map(r => h('li', { dataset: { testid: 'engaged-resource', resourceId: r.id } },
        h('span', { class: `rstatus ${r.status}` }, L.RSTATUS[r.status] || r.status), ' ', r.name, ' ',
        s.can(r.domain, 'resource', 'release') && r.status === 'ENGAGED'
          ? h('button', { type: 'button', class: 'quiet', testid: 'release-resource', onclick: (e) => act(e.target, 'mutation($id: ID!, $c: ID) { releaseResource(resourceId: $id, commandId: $c) { id } }', { id: r.id }, refreshAfterChange) }, 'Désengager')
          : '')))
      : h('p', { class: 'empty' }, rfComing ? 'Aucun moyen de la commune engagé : voir les renforts ci-dessous.' : 'Aucun moyen engagé.'),
    ...incidentReinforcements(inc));
  const available = state.board.resources.filter(r => r.status === 'AVAILABLE' && r.kind !== 'SHELTER' && communeCode(r.domain) === communeCode(inc.domain));
  const sig = JSON.stringify([inc.id, inc.status, available.map(r => r.id)]);
  if (sig === state.detailSig) return; // keep what is being typed
  state.detailSig = sig;
  const forms = [];
  const closed = inc.status === 'CLOSED';
  if (!closed && can('log')) {
    forms.push(form('Ajouter à la main courante', 'log', [h('label', {}, 'Texte', h('textarea', { name: 'text', required: true, rows: 2, maxlength: 2000, testid: 'log-text' }))],
      'mutation($id: ID!, $t: String!, $c: ID) { addLogEntry(incidentId: $id, text: $t, commandId: $c) { id } }', (fd) => ({ id: inc.id, t: fd.get('text').trim() })));
  }
  if (!closed && can('qualify')) {
    const kind = h('select', { name: 'kind', testid: 'qualify-kind' });
    options(kind, L.pairs(L.KIND), inc.kind);
    const sev = h('select', { name: 'severity', testid: 'qualify-severity' });
    options(sev, L.pairs(L.SEVERITY), inc.severity || 'MODERATE');
    forms.push(form('Qualifier', 'qualify', [h('label', {}, 'Nature', kind), h('label', {}, 'Gravité', sev)],
      'mutation($id: ID!, $k: IncidentKind!, $s: Severity!, $c: ID) { qualifyIncident(id: $id, kind: $k, severity: $s, commandId: $c) { id } }', (fd) => ({ id: inc.id, k: fd.get('kind'), s: fd.get('severity') })));
  }
  if (!closed && available.length && s.can(inc.domain, 'resource', 'engage')) {
    const sel = h('select', { name: 'resource', testid: 'engage-resource' });
    options(sel, available.map(r => [r.id, `${r.name} (${L.RKIND[r.kind] || r.kind})`]));
    forms.push(form('Engager un moyen', 'engage', [h('label', {}, 'Moyen disponible', sel)],
      'mutation($r: ID!, $i: ID!, $c: ID) { engageResource(resourceId: $r, incidentId: $i, commandId: $c) { id } }', (fd) => ({ r: fd.get('resource'), i: inc.id })));
  }
  if (!closed && s.can(inc.domain, 'reinforcement', 'request')) {
    const kind = h('select', { name: 'kind', testid: 'request-kind' });
    options(kind, L.pairs(L.RKIND), 'TEAM');
    forms.push(form('Demander un renfort', 'request', [h('label', {}, 'Moyen', kind),
      h('label', {}, 'Quantité', h('input', { type: 'number', name: 'quantity', min: '1', max: '1000', value: '1', required: true, class: 'qty', testid: 'request-quantity' })),
      h('label', {}, 'Motif', h('input', { name: 'reason', maxlength: 500, testid: 'request-reason' }))],
      'mutation($in: RequestReinforcementInput!, $c: ID) { requestReinforcement(input: $in, commandId: $c) { id status } }',
      (fd) => ({ in: { domain: inc.domain, incidentId: inc.id, kind: fd.get('kind'), quantity: +fd.get('quantity'), reason: fd.get('reason').trim() || null } })));
  }
  if (!closed && inc.status !== 'ESCALATED' && can('escalate')) {
    forms.push(form('Escalader à la préfecture', 'escalate', [h('label', {}, 'Motif', h('input', { name: 'reason', required: true, maxlength: 500, testid: 'escalate-reason' }))],
      'mutation($id: ID!, $r: String!, $c: ID) { escalateIncident(id: $id, reason: $r, commandId: $c) { id } }', (fd) => ({ id: inc.id, r: fd.get('reason').trim() }), 'danger'));
  }
  if (!closed && inc.status !== 'STABILIZED' && can('stabilize')) {
    forms.push(form('Déclarer stabilisé', 'stabilize', [],
      'mutation($id: ID!, $c: ID) { stabilizeIncident(id: $id, commandId: $c) { id } }', () => ({ id: inc.id })));
  }
  if (!closed && can('close')) {
    forms.push(form('Clore', 'close', [h('label', {}, 'Bilan', h('input', { name: 'summary', required: true, maxlength: 1000, testid: 'close-summary' }))],
      'mutation($id: ID!, $s: String!, $c: ID) { closeIncident(id: $id, summary: $s, commandId: $c) { id } }', (fd) => ({ id: inc.id, s: fd.get('summary').trim() })));
  }
  if (closed && can('reopen')) {
    forms.push(form('Rouvrir', 'reopen', [h('label', {}, 'Motif', h('input', { name: 'reason', required: true, maxlength: 500, testid: 'reopen-reason' }))],
      'mutation($id: ID!, $r: String!, $c: ID) { reopenIncident(id: $id, reason: $r, commandId: $c) { id } }', (fd) => ({ id: inc.id, r: fd.get('reason').trim() })));
  }
  actions.replaceChildren(...(forms.length ? forms : [h('p', { class: 'empty' }, 'Votre rôle ne permet pas d\'agir sur cet incident.')]));
}

function form(label, name, fields, mutation, vars, cls) {
  const btn = h('button', { type: 'submit', class: cls || '', testid: `${name}-submit` }, label);
  const f = h('form', { testid: `${name}-form` }, ...fields, btn);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const old = f.querySelector('.action-error');
    if (old) old.remove();
    await act(btn, mutation, vars(new FormData(f)), async () => { f.reset(); state.detailSig = state.detailSig + '!'; await refreshAfterChange(); });
  });
  return f;
}

async function refreshAfterChange() {
  await Promise.allSettled([refreshIncident(), loadBoard()]);
}

// ---------- after-action ----------

async function loadTimeline() {
  const d = state.domain;
  let entries;
  try {
    const data = await query(state.session.token, 'query($d: String!) { timeline(domain: $d) { at actor role type streamId summary } }', { d });
    entries = data.timeline;
  } catch (e) {
    $('#timeline').replaceChildren(h('li', { class: 'error' }, e.message));
    return;
  }
  if (d !== state.domain) return;
  const wasAtEnd = +$('#replay-slider').value >= state.timeline.length - 1;
  state.timeline = entries;
  $('#timeline').replaceChildren(...entries.map((e, i) => h('li', { dataset: { testid: 'timeline-entry', index: i, type: e.type, streamId: e.streamId } },
    h('time', { datetime: e.at }, L.when(e.at)), h('span', { class: 'actor' }, `${e.actor} (${L.ROLE[e.role] || e.role || '?'})`), ' — ', e.summary)));
  const slider = $('#replay-slider');
  slider.max = String(Math.max(0, entries.length - 1));
  if (wasAtEnd) slider.value = slider.max;
  slider.disabled = entries.length === 0;
  slider.setAttribute('aria-valuetext', entries.length ? `${L.when(entries[+slider.value].at)} — ${entries[+slider.value].summary}` : 'aucun événement');
  if (wasAtEnd && entries.length) replaySoon();
}

function onSlide() { replaySoon(); }

const replaySoon = debounce(() => loadReplay(), 150);

async function loadReplay() {
  const slider = $('#replay-slider');
  const entry = state.timeline[+slider.value];
  if (!entry) return;
  const label = `${L.when(entry.at)} — après « ${entry.summary} »`;
  $('#replay-at').textContent = label;
  slider.setAttribute('aria-valuetext', label);
  $('#replay-error').textContent = '';
  const at = entry.at;
  try {
    const data = await query(state.session.token, `query($d: String!, $at: Time!) { replay(domain: $d, at: $at) {
      at incidents { id domain kind title severity status reportedAt } resources { id name kind status } alerts { id headline status } } }`, { d: state.domain, at });
    if (state.timeline[+slider.value] !== entry) return;
    const r = data.replay;
    $('#replay-incidents').replaceChildren(...r.incidents.map(i => h('li', { dataset: { testid: 'replay-incident', incidentId: i.id, status: i.status } },
      h('span', { class: `sev sev-${i.severity || 'NONE'}` }, L.SEVERITY[i.severity] || 'À qualifier'), ' ', i.title, ' — ', L.STATUS[i.status] || i.status)));
    $('#replay-resources').replaceChildren(...r.resources.map(x => h('li', { dataset: { testid: 'replay-resource' } }, `${x.name} — ${L.RSTATUS[x.status] || x.status}`)));
    $('#replay-alerts').replaceChildren(...r.alerts.map(a => h('li', { dataset: { testid: 'replay-alert' } }, `${a.headline} — ${L.ASTATUS[a.status] || a.status}`)));
    $('#view-after').dataset.replayAt = at;
  } catch (e) {
    $('#replay-error').textContent = `Rejeu indisponible : ${e.message}`;
  }
}

function reportPath(ext) { return `/report/${state.domain}.${ext}`; }

function setReportLinks() {
  $('#report-html').href = reportPath('html');
  $('#report-json').href = reportPath('json');
}

// downloadReport fetches the report with the bearer token (a plain link would carry
// none) and saves it.
async function downloadReport(ev, ext) {
  ev.preventDefault();
  try {
    const res = await fetch(reportPath(ext), { headers: { Authorization: `Bearer ${state.session.token}` } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `rapport-${state.domain.replace(/[^\w-]+/g, '_')}.${ext}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    $('#replay-error').textContent = `Rapport indisponible : ${e.message}`;
  }
}

// ---------- views ----------

function show(view) {
  state.view = view;
  for (const b of document.querySelectorAll('.tabs button')) {
    if (b.dataset.view === view) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  for (const v of ['board', 'alerts', 'approvals', 'after', 'demo', 'security']) $(`#view-${v}`).hidden = v !== view;
  clearInterval(state.demoTimer);
  if (view === 'demo') { loadDemo(); state.demoTimer = setInterval(loadDemo, 2000); }
  // The journal has no notices of its own: it is read again every 5 s while shown.
  if (view === 'security') { loadSecurity(); state.demoTimer = setInterval(loadSecurity, 5000); }
  if (view === 'after') loadTimeline();
  if (view === 'approvals') loadInbox();
  if (view === 'alerts') loadAlerts();
}

function fillStaticSelects() {
  options($('[data-testid="report-kind"]'), L.pairs(L.KIND), 'OTHER');
  options($('[data-testid="report-severity"]'), [['', 'À qualifier'], ...L.pairs(L.SEVERITY)], '');
  options($('[data-testid="alert-severity"]'), L.pairs(L.SEVERITY), 'SEVERE');
  options($('[data-testid="alert-urgency"]'), L.pairs(L.URGENCY), 'IMMEDIATE');
  options($('[data-testid="alert-certainty"]'), L.pairs(L.CERTAINTY), 'LIKELY');
  options($('[data-testid="alert-category"]'), L.pairs(L.CATEGORY), 'MET');
  $('#alert-channels').replaceChildren(...L.pairs(L.CHANNEL).map(([v, l]) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'channels', value: v, checked: v === 'CAP_FEED', testid: `alert-channel-${v}` }), l)));
  // The map's legend: a dot and a word per severity, then the incidents not qualified yet.
  $('#map-legend').replaceChildren(...[...L.pairs(L.SEVERITY), ['NONE', 'non qualifiée']]
    .flatMap(([k, l]) => [h('span', { class: `dot sev-${k}` }), ` ${l.toLowerCase()} `]));
}

// benchRender draws a board of n made-up incidents and returns how long it took,
// layout included, in milliseconds; then draws the real board again. For the
// benchmarks (docs/BENCHMARKS.md), not used by the page.
export function benchRender(n) {
  const real = state.board;
  const codes = state.map ? state.map.names().map(([c]) => c) : ['30189'];
  const sev = ['MINOR', 'MODERATE', 'SEVERE', 'EXTREME', null];
  const st = ACTIVE;
  const now = Date.now();
  const incidents = Array.from({ length: n }, (_, k) => ({
    id: `bench-${k}`, domain: `dep:30/com:${codes[k % codes.length]}`, kind: Object.keys(L.KIND)[k % 12], title: `Incident de test n° ${k}`,
    severity: sev[k % 5], status: st[k % 4], reportedAt: new Date(now - k * 60000).toISOString(), location: null, directedByPrefecture: k % 7 === 0,
  }));
  state.board = { ...real, incidents };
  const t0 = performance.now();
  renderBoard();
  void document.body.offsetHeight; // force style and layout
  const ms = performance.now() - t0;
  state.board = real;
  renderBoard();
  return ms;
}

init();
