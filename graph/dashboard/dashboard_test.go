package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"vigie/graph/dashboard"
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	defer r.Body.Close()
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = z
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assetPaths are the versioned asset URLs the page names.
func assetPaths(t *testing.T, page []byte) []string {
	t.Helper()
	re := regexp.MustCompile(`"(/assets/v-[0-9a-f]{12}/[^"]+)"`)
	var out []string
	for _, m := range re.FindAllSubmatch(page, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatalf("the page names no versioned asset:\n%s", page)
	}
	return out
}

func TestDashboardHandlerServesThePageAndItsAssetsWithTheirTypes(t *testing.T) {
	h := dashboard.Handler()
	r := get(t, h, "/")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", r.StatusCode)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET / Content-Type = %q", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET / Cache-Control = %q, want no-cache (revalidated, so an upgrade shows at once)", cc)
	}
	page := body(t, r)
	want := map[string]string{
		".js":      "text/javascript; charset=utf-8",
		".css":     "text/css; charset=utf-8",
		".svg":     "image/svg+xml",
		".geojson": "application/geo+json",
	}
	paths := assetPaths(t, page)
	// The outlines are fetched by the map module, not named by the page.
	paths = append(paths, strings.Replace(paths[0], paths[0][strings.LastIndex(paths[0], "/")+1:], "communes.geojson", 1))
	for _, p := range paths {
		r := get(t, h, p)
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", p, r.StatusCode)
			continue
		}
		ext := p[strings.LastIndex(p, "."):]
		if ct := r.Header.Get("Content-Type"); ct != want[ext] {
			t.Errorf("GET %s Content-Type = %q, want %q", p, ct, want[ext])
		}
		if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s Cache-Control = %q", p, cc)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", p)
		}
		b := body(t, r)
		if ext == ".geojson" {
			var fc struct {
				Type     string
				Features []struct {
					Properties map[string]string
				}
			}
			if err := json.Unmarshal(b, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) < 300 {
				t.Errorf("communes.geojson: %v, type %q, %d features", err, fc.Type, len(fc.Features))
			} else if p := fc.Features[0].Properties; p["code"] == "" || p["nom"] == "" || len(p) != 2 {
				t.Errorf("communes.geojson properties = %v, want code and nom only", p)
			}
		}
	}
	// Unknown paths, old versions and other methods.
	for _, p := range []string{"/nope", "/assets/app.js", "/assets/v-000000000000/app.js", "/assets/"} {
		if r := get(t, h, p); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, r.StatusCode)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}

func TestDashboardHandlerSetsAStrictContentSecurityPolicy(t *testing.T) {
	h := dashboard.Handler()
	for _, p := range []string{"/", "/nope"} {
		r := get(t, h, p)
		csp := r.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "require-trusted-types-for 'script'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: CSP %q lacks %q", p, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
			t.Errorf("GET %s: CSP %q allows inline, eval or any origin", p, csp)
		}
	}
	// No inline script, style or handler in the page, which the CSP would block anyway.
	page := string(body(t, get(t, h, "/")))
	for _, m := range regexp.MustCompile(`<script[^>]*>([^<]*)</script>`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[0], ` src="`) || strings.TrimSpace(m[1]) != "" {
			t.Errorf("the page has an inline script: %q", m[0])
		}
	}
	for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<style`), regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`\sstyle=`)} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the page has inline code or style: %q", m)
		}
	}
}

func TestDashboardHandlerGzipsAndRevalidates(t *testing.T) {
	h := dashboard.Handler()
	page := body(t, get(t, h, "/"))
	var js string
	for _, p := range assetPaths(t, page) {
		if strings.HasSuffix(p, "/app.js") {
			js = p
		}
	}
	plain := get(t, h, js)
	plainBody := body(t, plain)
	z := get(t, h, js, "Accept-Encoding", "gzip, deflate, br")
	if z.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(z.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("app.js with Accept-Encoding gzip: Content-Encoding %q, Vary %q", z.Header.Get("Content-Encoding"), z.Header.Get("Vary"))
	}
	if !bytes.Equal(body(t, z), plainBody) {
		t.Error("the gzipped app.js is not app.js")
	}
	if r := get(t, h, js, "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused (q=0)")
	}
	etag := plain.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := get(t, h, "/", "If-None-Match", get(t, h, "/").Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with its ETag = %d, want 304", r.StatusCode)
	}
	// The whole script, compressed, stays within the budget of 300 KB.
	total := 0
	for _, p := range assetPaths(t, page) {
		if strings.HasSuffix(p, ".js") {
			r := get(t, h, p, "Accept-Encoding", "gzip")
			b, _ := io.ReadAll(r.Body)
			total += len(b)
		}
	}
	t.Logf("script, gzipped: %d bytes", total)
	if total > 300<<10 {
		t.Errorf("script is %d bytes gzipped, over the 300 KB budget", total)
	}
}

// Nothing is fetched from elsewhere: no http:// or https:// URL in any embedded file,
// except XML namespaces (SVG's, in the favicon and the map module).
func TestDashboardAssetsNameNoExternalURL(t *testing.T) {
	allowed := map[string]bool{"http://www.w3.org/2000/svg": true}
	url := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*`)
	scheme := regexp.MustCompile(`(?i)https?://[^\s"'<>)]*`)
	n := 0
	err := fs.WalkDir(dashboard.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(dashboard.Files(), p)
		if err != nil {
			return err
		}
		for _, m := range scheme.FindAllString(string(b), -1) {
			if !allowed[m] {
				t.Errorf("%s names %s", p, m)
			}
		}
		if strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".css") {
			for _, m := range url.FindAllString(string(b), -1) {
				if !allowed["http:"+m] && !allowed[m] && !strings.HasPrefix(m, "//www.w3.org/2000/svg") {
					t.Errorf("%s names a protocol-relative URL %s", p, m)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("only %d embedded files", n)
	}
}
