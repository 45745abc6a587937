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
const ALERT_FIELDS = 'id domain status event headline author approvedBy exercise channels capUrl deliveries { channel sent delivered failed }';
// Fields of the alerts' extensions, asked for when the gateway has them.
const ALERT_EXTRA = 'polygon { lat lon } reason areaDesc description instruction severity urgency';

const state = {
  session: null,
  live: null,
  geo: null,
  map: null,
  domain: '',
  view: 'board',
  board: { incidents: [], resources: [], alerts: [], counts: [], shelters: null },
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
};

// ---------- sign-in ----------

async function init() {
  $('#signin-form').addEventListener('submit', onSignIn);
  $('#signout').addEventListener('click', signOut);
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => show(b.dataset.view));
  $('#domain').addEventListener('change', (e) => selectDomain(e.target.value));
  $('#incident-close').addEventListener('click', () => $('#incident-dialog').close());
  $('#incident-dialog').addEventListener('close', () => { state.openIncident = null; });
  $('#report-form').addEventListener('submit', onReport);
  $('#incidents-body').addEventListener('click', (e) => {
    const b = e.target.closest('[data-testid="open-incident"]');
    if (b) openIncident(b.closest('[data-incident-id]').dataset.incidentId);
  });
  $('#alert-form').addEventListener('submit', onDraftAlert);
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
  const saved = sessionStorage.getItem('vigie.domain');
  const first = $('#domain').options[0] ? $('#domain').options[0].value : '';
  const pick = saved && [...$('#domain').options].some(o => o.value === saved) ? saved : first;
  $('#domain').value = pick;
  await selectDomain(pick);
  performance.mark('vigie-ready');
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
  state.unsubs = [
    state.live.subscribe('subscription($d: String!) { boardChanged(domain: $d) { domain streamId type at } }', { d }, (data) => onBoardNotice(data.boardChanged)),
  ];
  // alertChanged of this domain when the inbox does not already listen to it.
  if (!state.session.grants.some(g => g.domain === d) || !(s.canAnywhere('alert', 'approve') || s.canAnywhere('alert', 'validate_fr_alert'))) {
    state.unsubs.push(state.live.subscribe('subscription($d: String!) { alertChanged(domain: $d) { id status headline domain } }', { d },
      (data) => onAlertNotice(data.alertChanged), () => {}));
  }
  const c = s.can(d, 'incident', 'report') && !isDep(d);
  $('#report-form').hidden = !c;
  $('#alert-form').hidden = !(s.can(d, 'alert', 'draft') && !isDep(d));
  $('#communes-panel').hidden = !isDep(d);
  $('[data-view="after"]').hidden = !s.can(d, 'timeline', 'read');
  setReportLinks();
  state.board = { incidents: [], resources: [], alerts: [], counts: [], shelters: null };
  state.alertStatus = new Map();
  await refreshAll();
}

function refreshAll() {
  const jobs = [loadBoard(), loadAlerts(), loadInbox()];
  if (state.view === 'after') jobs.push(loadTimeline());
  if (state.openIncident) jobs.push(refreshIncident());
  return Promise.allSettled(jobs);
}

// ---------- notices ----------

const boardSoon = debounce(() => loadBoard(), 120);
const alertsSoon = debounce(() => { loadAlerts(); loadInbox(); }, 120);
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
  try {
    const data = await query(state.session.token, `query Board($d: String!) {
      ${list}
      resources(domain: $d) { ${RESOURCE_FIELDS} }
      incidentCounts(domain: $d) { key value }
      shelters(domain: $d) { shelters capacity occupancy }
    }`, { d });
    if (seq !== state.boardSeq || d !== state.domain) return; // a newer answer is coming
    Object.assign(state.board, { incidents: data.incidents, resources: data.resources, counts: data.incidentCounts, shelters: data.shelters });
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
  const sevName = ['—', 'Mineure', 'Modérée', 'Sévère', 'Extrême'];
  const sevKey = ['NONE', 'MINOR', 'MODERATE', 'SEVERE', 'EXTREME'];
  const list = [...per.values()].sort((a, b) => b.esc - a.esc || b.max - a.max || b.n - a.n);
  $('#communes-body').replaceChildren(...list.map(c => h('tr', { dataset: { testid: 'commune-row', code: c.code } },
    h('td', {}, h('button', { type: 'button', testid: 'open-commune', onclick: () => { $('#domain').value = `${state.domain}/com:${c.code}`; selectDomain($('#domain').value); } }, communeName(c.code))),
    h('td', {}, String(c.n)),
    h('td', {}, h('span', { class: `sev sev-${sevKey[c.max]}` }, sevName[c.max])),
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
      h('h3', {}, `${L.RKIND[kind] || kind} — ${Object.entries(counts).map(([s, n]) => `${n} ${L.RSTATUS[s] || s}`).join(', ')}`),
      h('ul', {}, list.map(r => h('li', { dataset: { testid: 'resource', resourceId: r.id, status: r.status } },
        h('span', { class: `rstatus ${r.status}` }, L.RSTATUS[r.status] || r.status), ' ', r.name,
        r.incidentId && byId.get(r.incidentId) ? h('span', { class: 'commune-name' }, `sur : ${byId.get(r.incidentId).title}`) : null)))));
  }
  $('#resources').replaceChildren(...(out.length ? out : [h('p', { class: 'empty' }, 'Aucun moyen enregistré.')]));
}

function renderShelters() {
  const shelters = state.board.resources.filter(r => r.kind === 'SHELTER');
  const t = state.board.shelters;
  const items = shelters.map(r => h('li', { dataset: { testid: 'shelter', resourceId: r.id } },
    h('span', {}, r.name), ' ',
    h('meter', { min: 0, max: r.capacity || 1, value: r.occupancy || 0, high: (r.capacity || 1) * 0.85, optimum: 0, 'aria-label': `Occupation de ${r.name}` }),
    ` ${r.occupancy || 0} / ${r.capacity || '?'} places`));
  $('#shelters').replaceChildren(
    t ? h('p', { testid: 'shelter-totals' }, `${t.occupancy} personnes hébergées pour ${t.capacity} places (${t.shelters} centre${t.shelters > 1 ? 's' : ''})`) : '',
    items.length ? h('ul', { class: 'plain' }, items) : h('p', { class: 'empty' }, "Aucun centre d'hébergement."));
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
  const live = b.alerts.filter(a => ['PENDING_APPROVAL', 'APPROVED', 'FR_ALERT_REQUESTED', 'DISPATCHING', 'SENT'].includes(a.status)).length;
  const t = b.shelters;
  const items = [
    ['active', count('active') || b.incidents.length, 'incidents en cours', false],
    ['severe', severe, 'sévères ou extrêmes', severe > 0],
    ['escalated', count('status:escalated'), 'escaladés (préfecture)', count('status:escalated') > 0],
    ['engaged', engaged, `moyens engagés · ${available} disponibles`, false],
    ['shelter', t ? `${t.occupancy}/${t.capacity}` : '—', 'places d\'hébergement occupées', false],
    ['alerts', state.alertsError ? '—' : live, 'alertes en cours', false],
  ];
  $('#counters').replaceChildren(...items.map(([k, n, label, hot]) => h('li', { class: hot ? 'hot' : '', testid: `counter-${k}` },
    h('span', { class: 'n' }, String(n)), h('span', { class: 'k' }, label))));
}

function tickAges() {
  const now = Date.now();
  for (const el of document.querySelectorAll('.age[data-since]')) el.textContent = L.age(el.dataset.since, now);
}

// ---------- alerts ----------

function deliveriesText(a) {
  if (!a.deliveries || !a.deliveries.length) return '';
  return a.deliveries.map(d => `${L.CHANNEL[d.channel] || d.channel} : ${d.delivered} reçus / ${d.sent} envoyés${d.failed ? `, ${d.failed} échecs` : ''}`).join(' · ');
}

function alertCard(a, actions) {
  return h('article', { class: 'alert-card', dataset: { testid: 'alert-card', alertId: a.id, status: a.status } },
    h('p', {}, a.exercise ? h('span', { class: 'exercise' }, 'EXERCICE') : null, a.exercise ? ' ' : null,
      h('span', { class: `astatus ${a.status}`, testid: 'alert-status' }, L.ASTATUS[a.status] || a.status), ' — ',
      h('strong', { testid: 'alert-headline' }, a.headline)),
    h('p', { class: 'deliveries' }, `${a.event} · ${(a.channels || []).map(c => L.CHANNEL[c] || c).join(', ')} · rédigée par ${a.author}${a.approvedBy ? `, approuvée par ${a.approvedBy}` : ''}`),
    a.description ? h('p', {}, a.description) : null,
    a.instruction ? h('p', {}, h('em', {}, a.instruction)) : null,
    a.reason ? h('p', { class: 'error' }, `Motif : ${a.reason}`) : null,
    deliveriesText(a) ? h('p', { class: 'deliveries', testid: 'alert-deliveries' }, deliveriesText(a)) : null,
    actions && actions.length ? h('div', { class: 'actions' }, actions) : null);
}

function renderAlerts() {
  const s = state.session;
  const list = state.board.alerts;
  const err = state.alertsError ? [h('p', { class: 'empty', testid: 'alerts-unavailable' }, state.alertsError)] : [];
  const board = list.filter(a => !['CANCELLED', 'EXPIRED'].includes(a.status)).map(a => alertCard(a));
  $('#board-alerts').replaceChildren(...err, ...(board.length ? board : err.length ? [] : [h('p', { class: 'empty' }, 'Aucune alerte.')]));
  const full = list.map(a => {
    const acts = [];
    if (a.status === 'DRAFT' && s.can(a.domain, 'alert', 'submit')) {
      acts.push(h('button', { type: 'button', testid: 'submit-alert', onclick: (e) => act(e.target, 'mutation($id: ID!, $c: ID) { submitAlert(id: $id, commandId: $c) { id status } }', { id: a.id }, loadAlerts) }, 'Soumettre au maire'));
    }
    if (['DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'FR_ALERT_REQUESTED', 'DISPATCHING', 'SENT'].includes(a.status) && s.can(a.domain, 'alert', 'cancel')) {
      acts.push(reasonForm('Annuler l\'alerte', 'cancel-alert', 'mutation($id: ID!, $r: String!, $c: ID) { cancelAlert(id: $id, reason: $r, commandId: $c) { id status } }', a.id, loadAlerts, 'danger'));
    }
    if (a.capUrl) acts.push(h('a', { href: a.capUrl, testid: 'alert-cap' }, 'Message CAP'));
    return alertCard(a, acts);
  });
  $('#alerts-list').replaceChildren(...err, ...(full.length ? full : err.length ? [] : [h('p', { class: 'empty' }, 'Aucune alerte pour ce territoire.')]));
}

// act runs a mutation from a button, with an idempotency key kept until it succeeds.
async function act(button, mutation, vars, then) {
  const key = button.dataset.cmd || (button.dataset.cmd = uuid());
  button.disabled = true;
  const out = button.closest('.alert-card, .panel, form, dialog');
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
    ? 'Demandes de diffusion FR-Alert des communes : validez ou refusez avec un motif.'
    : 'Alertes rédigées par la cellule de crise, en attente de votre approbation.';
  const cards = list.map(a => {
    const acts = [];
    if (a.status === 'PENDING_APPROVAL' && s.can(a.domain, 'alert', 'approve')) {
      acts.push(h('button', { type: 'button', testid: 'approve-alert', onclick: (e) => act(e.target, 'mutation($id: ID!, $c: ID) { approveAlert(id: $id, commandId: $c) { id status } }', { id: a.id }, () => { loadInbox(); loadAlerts(); }) }, 'Approuver et diffuser'));
      acts.push(reasonForm('Refuser', 'reject-alert', 'mutation($id: ID!, $r: String!, $c: ID) { rejectAlert(id: $id, reason: $r, commandId: $c) { id status } }', a.id, () => { loadInbox(); loadAlerts(); }, 'danger'));
    }
    if (a.status === 'FR_ALERT_REQUESTED' && s.can(a.domain, 'alert', 'validate_fr_alert')) {
      acts.push(h('button', { type: 'button', testid: 'validate-fralert', onclick: (e) => act(e.target, 'mutation($id: ID!, $c: ID) { validateFrAlert(id: $id, commandId: $c) { id status } }', { id: a.id }, () => { loadInbox(); loadAlerts(); }) }, 'Valider la diffusion FR-Alert'));
      acts.push(reasonForm('Refuser FR-Alert', 'refuse-fralert', 'mutation($id: ID!, $r: String!, $c: ID) { refuseFrAlert(id: $id, reason: $r, commandId: $c) { id status } }', a.id, () => { loadInbox(); loadAlerts(); }, 'danger'));
    }
    const card = alertCard(a, acts);
    card.dataset.testid = 'approval-item';
    card.prepend(h('p', { class: 'commune-name' }, domainLabel(a.domain)));
    return card;
  });
  $('#approvals-list').replaceChildren(...(error ? [h('p', { class: 'empty', testid: 'approvals-unavailable' }, error)] : []),
    ...(cards.length ? cards : error ? [] : [h('p', { class: 'empty', testid: 'approvals-empty' }, 'Rien à valider.')]));
}

// ---------- report an incident ----------

async function onReport(ev) {
  ev.preventDefault();
  const f = ev.target;
  const fd = new FormData(f);
  const input = { domain: state.domain, kind: fd.get('kind'), title: fd.get('title').trim() };
  if (fd.get('severity')) input.severity = fd.get('severity');
  const key = f.dataset.cmd || (f.dataset.cmd = uuid());
  try {
    await query(state.session.token, 'mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }', { in: input, c: key });
    delete f.dataset.cmd;
    f.reset();
    loadBoard();
  } catch (e) {
    showError(f, e);
  }
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
      : h('p', { class: 'empty' }, 'Aucun moyen engagé.'));
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
  for (const v of ['board', 'alerts', 'approvals', 'after']) $(`#view-${v}`).hidden = v !== view;
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
    h('input', { type: 'checkbox', name: 'channels', value: v, checked: v === 'SMS' || v === 'CAP_FEED', testid: `alert-channel-${v}` }), l)));
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
