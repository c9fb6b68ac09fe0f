package proxy

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// handleUpstream serves a search whose next page is a handle at the base
// (HAPI's ?_getpages=): its first page for any query with parameters of
// its own, the handle's page for the handle. first and second are the
// match entries of each.
func handleUpstream(h **harness, first, second []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Patient/p1" { // a compartment's owner, read first
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		if r.URL.Query().Get("_getpages") != "" {
			if r.URL.Path != "/fhir/R4" {
				http.NotFound(w, r)
				return
			}
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(second, ",")+`]}`)(w, r)
			return
		}
		next := (*h).base() + "?_getpages=4f0a&_getpagesoffset=" + itoa(len(first)) + "&_bundletype=searchset"
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"`+next+`"}],"entry":[`+strings.Join(first, ",")+`]}`)(w, r)
	}
}

// pagesThrough follows the next links of a search from path as token,
// and returns each page's ids and the last status.
func pagesThrough(t *testing.T, h *harness, path, token string) ([][]string, int) {
	t.Helper()
	var pages [][]string
	for range 10 {
		resp, out := h.get(path, token)
		if resp.StatusCode != http.StatusOK {
			return pages, resp.StatusCode
		}
		ids, _ := searchIDs(t, out)
		pages = append(pages, ids)
		next := pageLinksOf(t, out)["next"]
		if next == "" {
			return pages, http.StatusOK
		}
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		path = u.RequestURI()
	}
	t.Fatalf("more than 10 pages")
	return nil, 0
}

// part2Obs is an Observation of a Part 2 program: withheld from tokOther.
func part2Obs(id string) string {
	return `{"resourceType":"Observation","id":"` + id + `","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/p1"}}`
}

// TestHandlePageJudgedByItsSearch: a page the upstream names by a handle
// of its base (HAPI's ?_getpages=) is judged by the search that began the
// chain, which its page token carries (origin.go), not as a search of the
// server's base. Before, a token with type scopes only was refused there
// (403), and every member of a cut match counted as read, so o3, cut at
// its value, was withheld from a search by code.
func TestHandlePageJudgedByItsSearch(t *testing.T) {
	t.Parallel()
	first := []string{match(cutObs("o1", "150")), match(plainObs("o2", ""))}
	second := []string{match(cutObs("o3", "150")), match(plainObs("o4", ""))}
	noRefill := func(o *Options, _ *Deps) { o.Requests.RefillPages = 1 }
	for _, c := range []struct {
		name, query, token string
		want               [][]string
	}{
		{"a search by code keeps the cut match the handle's page holds", "code=1234-5", tokOther,
			[][]string{{"o1", "o2"}, {"o3", "o4"}}},
		{"a search by the cut value still withholds it", "value-quantity=gt100", tokOther,
			[][]string{{"o2"}, {"o4"}}},
		{"a token with the type's scope only reads the handle's page", "code=1234-5", "Organization/org-b|TREAT|user/Observation.read",
			[][]string{{"o1", "o2"}, {"o3", "o4"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var h *harness
			h = newHarness(t, handleUpstream(&h, first, second), noRefill)
			pages, status := pagesThrough(t, h, "/fhir/Observation?"+c.query, c.token)
			if status != http.StatusOK || !slices.EqualFunc(pages, c.want, slices.Equal) {
				t.Errorf("%d %v, want %v", status, pages, c.want)
			}
		})
	}
	// A compartment search reads the references to its patient: on the
	// handle's page too, o5's cut subject is what the search selected on.
	t.Run("a compartment search reads the subject on the handle's page", func(t *testing.T) {
		t.Parallel()
		cutSubject := `{"resourceType":"Observation","id":"o5",` + processInlineMeta + `,"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/p1",` + inlineLabel("HIV") + `}}`
		var h *harness
		h = newHarness(t, handleUpstream(&h, first, []string{match(cutSubject), match(plainObs("o4", ""))}), noRefill)
		pages, status := pagesThrough(t, h, "/fhir/Patient/p1/Observation?code=1234-5", tokOther)
		if want := [][]string{{"o1", "o2"}, {"o4"}}; status != http.StatusOK || !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("%d %v, want %v", status, pages, want)
		}
	})
	// A token with another type's scope is refused the search itself, so
	// it never holds a link to the handle's page (a page token is bound to
	// its caller's scopes: another caller's answers 404, paging_test.go).
	t.Run("another type's scope", func(t *testing.T) {
		t.Parallel()
		var h *harness
		h = newHarness(t, handleUpstream(&h, first, second), noRefill)
		if _, status := pagesThrough(t, h, "/fhir/Observation?code=1234-5", "Organization/org-b|TREAT|user/Condition.read"); status != http.StatusForbidden {
			t.Errorf("status %d, want 403", status)
		}
	})
	// Refilled: the first page lost o0 (Part 2) and takes o3 from the
	// handle's page, judged by the search's code, not withheld.
	t.Run("refilled from the handle's page", func(t *testing.T) {
		t.Parallel()
		var h *harness
		h = newHarness(t, handleUpstream(&h, append([]string{match(part2Obs("o0"))}, first...), second))
		pages, status := pagesThrough(t, h, "/fhir/Observation?code=1234-5", tokOther)
		if want := [][]string{{"o1", "o2", "o3"}, {"o4"}}; status != http.StatusOK || !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("%d %v, want %v", status, pages, want)
		}
	})
}

// TestSearchOrigin: what a page token of a handle carries, from the
// request that began the search.
func TestSearchOrigin(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		method, path, query string
		form                url.Values
		want                string
	}{
		{"GET", "Observation", "code=1234-5&_count=2", nil, "/Observation?code=1234-5&_count=2"},
		{"GET", "", "_type=Observation", nil, "?_type=Observation"},
		{"GET", "Patient/p1/$everything", "", nil, "/Patient/p1/$everything"},
		{"POST", "Observation/_search", "_count=2", url.Values{"code": {"1234-5"}}, "/Observation?_count=2&code=1234-5"},
		{"POST", "Observation/_search", "", nil, ""},             // its form is not known
		{"GET", "", "_getpages=4f0a&_getpagesoffset=2", nil, ""}, // a handle's own page
		{"GET", "Observation/o1", "", nil, ""},                   // no search
		{"GET", "Observation", "code=%zz", nil, ""},              // cannot be read
	} {
		req, err := parseFHIRPath(c.method, c.path)
		if err != nil {
			t.Fatal(err)
		}
		ex := &exchange{req: req, query: queryForLedger(req.Path, c.query), searchForm: c.form}
		if got := ex.searchOrigin(); got != c.want {
			t.Errorf("%s %s?%s: %q, want %q", c.method, c.path, c.query, got, c.want)
		}
		if c.want == "" {
			continue
		}
		if _, _, ok := parseOrigin(c.want); !ok {
			t.Errorf("%q does not read back", c.want)
		}
	}
	if namesHandle("/Observation?code=x") || !namesHandle("?_getpages=1") || !namesHandle("/Observation?_cursor=a") {
		t.Error("namesHandle")
	}
}

// TestOriginKeepsTokensOpening: a token carries an origin only while it
// still opens with it; a link long enough to fill a token alone goes
// without one, as before origins.
func TestOriginKeepsTokensOpening(t *testing.T) {
	t.Parallel()
	srv := testServer(t, RequestRules{PagingTTL: time.Minute, PagingKey: []byte(strings.Repeat("k", 32))})
	caller := authn.Caller{Issuer: "iss", Subject: "alice", Client: "app", Scopes: []string{"user/*.read"}}
	origin := "/Observation?code=" + strings.Repeat("a", maxOrigin-20)
	for _, c := range []struct {
		name   string
		rel    string
		origin bool
	}{
		{"a short handle link", "?_getpages=4f0a&_getpagesoffset=2", true},
		{"a long handle link", "/Observation?_cursor=4f0a&x=" + strings.Repeat("b", maxOriginTokenPlain-len(origin)), false},
	} {
		tok, err := srv.mintWindow(caller, pageWindow{rel: c.rel, origin: origin}, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, w, f := srv.openWindow(caller, tok, time.Now())
		if f != nil {
			t.Fatalf("%s: a token of %d bytes does not open: %v", c.name, len(tok), f)
		}
		if got := w.origin != ""; got != c.origin || w.rel != c.rel {
			t.Errorf("%s: origin carried %v, want %v", c.name, got, c.origin)
		}
	}
}
