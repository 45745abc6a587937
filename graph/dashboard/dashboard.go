// Package dashboard serves the crisis-cell dashboard: static assets embedded in the
// binary (HTML, CSS, ES modules, the communes' outlines), nothing fetched from
// elsewhere at run time.
//
// The page at / names its assets under /assets/v-<hash>/, hash of every embedded
// file, so they are cached for good (immutable) and a new binary's page never mixes
// with an old script; the page itself is revalidated at each load (ETag). Compressible
// files are gzipped once, at the first request. Every answer carries a strict
// Content-Security-Policy: scripts and styles from this origin only, no inline script
// or style, connections to this origin only (GraphQL over HTTP and websocket), no
// framing.
package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed static
var files embed.FS

// CSP is the Content-Security-Policy of every answer. 'self' in connect-src covers the
// websocket of the same origin (ws: and wss: since CSP 3).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; " +
	"frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

// AssetPrefix is where the assets are served, followed by "v-<hash>/".
const AssetPrefix = "/assets/"

type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

type site struct {
	version string            // "v-" + the first 12 hex digits of the files' hash
	index   *asset            // the page, with its asset paths versioned
	assets  map[string]*asset // by path under the version ("app.js")
}

var (
	once   sync.Once
	loaded *site
)

// Handler serves the dashboard: the page at / and its assets.
func Handler() http.Handler {
	once.Do(func() { loaded = load() })
	return loaded
}

// Files is the embedded file tree (static/…), for tests.
func Files() fs.FS {
	sub, _ := fs.Sub(files, "static")
	return sub
}

func load() *site {
	root := Files()
	h := sha256.New()
	bodies := map[string][]byte{}
	var names []string
	_ = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		bodies[p] = b
		names = append(names, p)
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(bodies[n])
	}
	s := &site{version: "v-" + hex.EncodeToString(h.Sum(nil))[:12], assets: map[string]*asset{}}
	for _, n := range names {
		if rest, ok := strings.CutPrefix(n, "assets/"); ok {
			s.assets[rest] = newAsset(n, bodies[n])
		}
	}
	page := bytes.ReplaceAll(bodies["index.html"], []byte(`"`+AssetPrefix), []byte(`"`+AssetPrefix+s.version+"/"))
	s.index = newAsset("index.html", page)
	return s
}

func newAsset(name string, body []byte) *asset {
	sum := sha256.Sum256(body)
	a := &asset{body: body, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	if compressible(a.ctype) && len(body) > 512 {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = w.Write(body)
		_ = w.Close()
		if b.Len() < len(body) {
			a.gz = b.Bytes()
		}
	}
	return a
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".geojson":
		return "application/geo+json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".webmanifest":
		return "application/manifest+json"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	hdr.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(self), payment=()")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var a *asset
	cache := "no-cache" // the page: revalidated at each load (ETag), so an upgrade shows at once
	switch p := r.URL.Path; {
	case p == "/" || p == "/index.html":
		a = s.index
	case strings.HasPrefix(p, AssetPrefix+s.version+"/"):
		a = s.assets[strings.TrimPrefix(p, AssetPrefix+s.version+"/")]
		cache = "public, max-age=31536000, immutable"
	}
	if a == nil {
		hdr.Set("Cache-Control", "no-store")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	hdr.Set("Content-Type", a.ctype)
	hdr.Set("Cache-Control", cache)
	hdr.Set("ETag", a.etag)
	hdr.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hdr.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip listed without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
