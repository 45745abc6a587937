// The map: the communes' outlines (embedded GeoJSON, no tiles, no network beyond this
// origin) in an SVG, with an equirectangular projection fitted to the département;
// incident markers by severity, resources that have a position, alert areas.
import { s } from './dom.js';
import { SEVERITY, SEVERITY_RANK, STATUS } from './labels.js';

const K = 1000; // SVG units per degree of latitude

export async function loadCommunes() {
  const res = await fetch(new URL('./communes.geojson', import.meta.url));
  if (!res.ok) throw new Error(`contours des communes : HTTP ${res.status}`);
  return res.json();
}

// communeCode: "dep:30/com:30189" -> "30189"
export const communeCode = (domain) => {
  const m = /\/com:(\w+)$/.exec(domain || '');
  return m ? m[1] : '';
};

function rings(geometry) {
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

export class GardMap {
  // opts.descId and opts.testid name the map's description and layer, when a page
  // shows more than one map (the approval dialog shows the alert's area).
  constructor(container, geo, onSelect, opts = {}) {
    const descId = opts.descId || 'map-desc';
    this.onSelect = onSelect;
    this.byCode = new Map();
    let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
    for (const f of geo.features) {
      for (const poly of rings(f.geometry)) for (const [lon, lat] of poly[0]) {
        if (lon < minLon) minLon = lon; if (lon > maxLon) maxLon = lon;
        if (lat < minLat) minLat = lat; if (lat > maxLat) maxLat = lat;
      }
    }
    this.cos = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    this.minLon = minLon; this.maxLat = maxLat;
    const w = (maxLon - minLon) * this.cos * K, hgt = (maxLat - minLat) * K;
    const pad = 4;
    // Two layers of the same viewBox: the outlines, drawn once and touched only when the
    // selection changes, and above them what changes with every notice (markers, alert
    // areas). Redrawing a marker then never makes the browser lay the outlines out again.
    const viewBox = `${-pad} ${-pad} ${(w + 2 * pad).toFixed(1)} ${(hgt + 2 * pad).toFixed(1)}`;
    this.svg = s('svg', { viewBox, class: 'base', 'aria-hidden': 'true' });
    this.viewBox = viewBox;
    this.top = s('svg', { viewBox, class: 'overlay', role: 'img', 'aria-labelledby': descId, 'data-testid': opts.testid || 'map-svg' });
    this.desc = s('title', { id: descId }, 'Carte des communes');
    const base = s('g', { class: 'communes' });
    for (const f of geo.features) {
      const code = f.properties.code;
      let d = '';
      let best = null;
      const box = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
      for (const poly of rings(f.geometry)) {
        for (const ring of poly) d += this.path(ring);
        for (const [lon, lat] of poly[0]) {
          const x = this.x(lon), y = this.y(lat);
          box.minX = Math.min(box.minX, x); box.maxX = Math.max(box.maxX, x);
          box.minY = Math.min(box.minY, y); box.maxY = Math.max(box.maxY, y);
        }
        const c = this.centroid(poly[0]);
        if (!best || c.area > best.area) best = c;
      }
      const el = s('path', { d, class: 'commune', 'data-code': code }, s('title', {}, `${f.properties.nom} (${code})`));
      base.append(el);
      this.byCode.set(code, { nom: f.properties.nom, el, c: best || { x: 0, y: 0 }, box });
    }
    this.svg.append(base);
    this.areas = s('g', { class: 'areas' });
    this.markers = s('g', { class: 'markers' });
    this.top.append(this.desc, this.areas, this.markers);
    this.top.addEventListener('click', (ev) => {
      const m = ev.target.closest('[data-incident-id]');
      if (m && this.onSelect) this.onSelect(m.dataset.incidentId);
    });
    this.selected = '';
    this.active = new Set();
    container.replaceChildren(this.svg, this.top);
  }

  x(lon) { return (lon - this.minLon) * this.cos * K; }
  y(lat) { return (this.maxLat - lat) * K; }

  path(ring) {
    let d = '';
    for (let i = 0; i < ring.length; i++) {
      d += (i ? 'L' : 'M') + this.x(ring[i][0]).toFixed(1) + ' ' + this.y(ring[i][1]).toFixed(1);
    }
    return d + 'Z';
  }

  // centroid of a ring in SVG units (shoelace), with its area.
  centroid(ring) {
    let a = 0, cx = 0, cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const x0 = this.x(ring[j][0]), y0 = this.y(ring[j][1]), x1 = this.x(ring[i][0]), y1 = this.y(ring[i][1]);
      const f = x0 * y1 - x1 * y0;
      a += f; cx += (x0 + x1) * f; cy += (y0 + y1) * f;
    }
    if (Math.abs(a) < 1e-9) return { x: this.x(ring[0][0]), y: this.y(ring[0][1]), area: 0 };
    return { x: cx / (3 * a), y: cy / (3 * a), area: Math.abs(a / 2) };
  }

  // zoomTo frames the commune of domain and the given [lon, lat] points (an alert's
  // area); with neither, the whole département.
  zoomTo(domain, points) {
    const xs = [], ys = [];
    for (const [lon, lat] of points || []) { xs.push(this.x(lon)); ys.push(this.y(lat)); }
    const c = this.byCode.get(communeCode(domain));
    if (c && c.box.minX <= c.box.maxX) { xs.push(c.box.minX, c.box.maxX); ys.push(c.box.minY, c.box.maxY); }
    if (!xs.length) { this.setViewBox(this.viewBox); return; }
    const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
    const pad = Math.max(8, 0.15 * Math.max(maxX - minX, maxY - minY));
    this.setViewBox(`${(minX - pad).toFixed(1)} ${(minY - pad).toFixed(1)} ${(maxX - minX + 2 * pad).toFixed(1)} ${(maxY - minY + 2 * pad).toFixed(1)}`);
  }

  setViewBox(v) {
    this.svg.setAttribute('viewBox', v);
    this.top.setAttribute('viewBox', v);
  }

  // name: a commune by its name; one the outlines do not know by its code, said so.
  name(code) { const c = this.byCode.get(code); return c ? c.nom : `commune ${code}`; }
  names() { return [...this.byCode.entries()].map(([code, c]) => [code, c.nom]); }

  // show draws the board's state: domain is the selected territory.
  show(domain, incidents, resources, alerts) {
    const sel = communeCode(domain);
    const active = new Set(incidents.map(i => communeCode(i.domain)));
    // Only the outlines whose state changed are touched.
    if (sel !== this.selected) {
      const was = this.byCode.get(this.selected), now = this.byCode.get(sel);
      if (was) was.el.classList.remove('selected');
      if (now) now.el.classList.add('selected');
      this.selected = sel;
    }
    for (const code of this.active) if (!active.has(code) && this.byCode.has(code)) this.byCode.get(code).el.classList.remove('active');
    for (const code of active) if (!this.active.has(code) && this.byCode.has(code)) this.byCode.get(code).el.classList.add('active');
    this.active = active;
    const areas = [];
    for (const a of alerts || []) {
      if (!a.polygon || a.polygon.length < 3) continue;
      const d = this.path(a.polygon.map(p => [p.lon, p.lat]));
      areas.push(s('path', { d, class: 'alert-area', 'data-alert-id': a.id }, s('title', {}, `Alerte : ${a.headline}`)));
    }
    this.areas.replaceChildren(...areas);
    const perCommune = new Map();
    const marks = [];
    // Severe last, so they are drawn on top.
    const sorted = [...incidents].sort((a, b) => (SEVERITY_RANK[a.severity] || 0) - (SEVERITY_RANK[b.severity] || 0));
    for (const inc of sorted) {
      let x, y;
      if (inc.location) {
        x = this.x(inc.location.lon); y = this.y(inc.location.lat);
      } else {
        // No position: around the commune's centre, on a small spiral.
        const code = communeCode(inc.domain);
        const c = this.byCode.get(code);
        if (!c) continue;
        const n = perCommune.get(code) || 0;
        perCommune.set(code, n + 1);
        const r = n === 0 ? 0 : 14 + 9 * Math.sqrt(n), t = n * 2.4;
        x = c.c.x + r * Math.cos(t); y = c.c.y + r * Math.sin(t);
      }
      const sev = inc.severity || 'NONE';
      const label = `${inc.title} — ${SEVERITY[inc.severity] || 'non qualifiée'}, ${STATUS[inc.status] || inc.status}`;
      marks.push(s('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: inc.status === 'ESCALATED' ? 17 : 12, class: `marker sev-${sev}`, 'data-incident-id': inc.id, 'data-testid': 'map-incident' }, s('title', {}, label)));
    }
    for (const r of resources || []) {
      if (!r.location) continue;
      marks.push(s('rect', { x: (this.x(r.location.lon) - 8).toFixed(1), y: (this.y(r.location.lat) - 8).toFixed(1), width: 16, height: 16, class: 'marker res' }, s('title', {}, r.name)));
    }
    this.markers.replaceChildren(...marks);
    this.desc.textContent = `Carte : ${incidents.length} incident(s) en cours` + (sel ? ` ; commune sélectionnée ${this.name(sel)}` : '');
  }
}

