package proxy

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

func TestSearchGuard(t *testing.T) {
	t.Parallel()
	const sud = "http://hl7.org/fhir/sid/icd-10-cm|F11.20"
	cases := []struct {
		name, path string
		rules      RequestRules
		status     int    // 0: forwarded
		forwarded  string // the query the upstream gets, url-decoded
	}{
		{"has refused", "/fhir/Patient?_has:Condition:patient:code=F10.20", RequestRules{}, 400, ""},
		{"has allowed by config", "/fhir/Patient?_has:Condition:patient:code=F10.20", RequestRules{AllowHas: true}, 0, "_has:Condition:patient:code=F10.20"},
		{"chain refused", "/fhir/Condition?subject:Patient.name=smith", RequestRules{}, 400, ""},
		{"chain without type refused", "/fhir/Condition?patient.identifier=123", RequestRules{}, 400, ""},
		{"chain allowed by config", "/fhir/Condition?patient.identifier=123", RequestRules{AllowChains: true}, 0, "patient.identifier=123"},
		{"type modifier is no chain", "/fhir/Condition?subject:Patient=p1", RequestRules{}, 0, "subject:Patient=p1"},
		{"summary count refused", "/fhir/Condition?_summary=count", RequestRules{}, 400, ""},
		{"summary count in other case refused", "/fhir/Condition?_Summary=COUNT", RequestRules{}, 400, ""},
		{"has in other case refused", "/fhir/Patient?_HAS:Condition:patient:code=F10.20", RequestRules{}, 400, ""},
		{"include in other case on a sensitive code refused", "/fhir/Condition?code=F10.20&_INCLUDE=Condition:patient", RequestRules{}, 400, ""},
		{"summary count allowed by config", "/fhir/Condition?_summary=count", RequestRules{AllowSummaryCount: true}, 0, "_summary=count"},
		{"summary elements total stripped", "/fhir/Condition?subject=p1&_summary=true&_elements=code&_total=accurate", RequestRules{}, 0, "subject=p1"},
		{"filter refused", "/fhir/Condition?_filter=code%20eq%20F10.20", RequestRules{}, 400, ""},
		{"sensitive code with include refused", "/fhir/Condition?code=F10.20&_include=Condition:patient", RequestRules{}, 400, ""},
		{"sensitive system|code with revinclude refused", "/fhir/Condition?code=" + url.QueryEscape(sud) + "&_revinclude=Provenance:target", RequestRules{}, 400, ""},
		{"sensitive code among alternatives", "/fhir/Condition?code=I10,F11.20&_include=Condition:subject", RequestRules{}, 400, ""},
		{"security label with include refused", "/fhir/Condition?_security=SUD&_include=Condition:patient", RequestRules{}, 400, ""},
		{"text filter with include refused", "/fhir/Condition?code:text=alcohol&_include=Condition:patient", RequestRules{}, 400, ""},
		{"system-level sensitive code with include refused", "/fhir?_type=Condition&code=F10.20&_include=Condition:patient", RequestRules{}, 400, ""},
		{"sensitive code without include forwarded", "/fhir/Condition?code=F10.20", RequestRules{}, 0, "code=F10.20"},
		{"ordinary code with include forwarded", "/fhir/Condition?code=I10&_include=Condition:patient", RequestRules{}, 0, "code=I10&_include=Condition:patient"},
		{"count only refused", "/fhir/Condition?subject=p1&_count=0", RequestRules{}, 400, ""},
		{"count only allowed with summary count", "/fhir/Condition?subject=p1&_count=0", RequestRules{AllowSummaryCount: true}, 0, "subject=p1&_count=0"},
		{"count forwarded", "/fhir/Condition?subject=p1&_count=10", RequestRules{}, 0, "subject=p1&_count=10"},
		{"space before _has refused", "/fhir/Patient?%20_has:Condition:patient:code=F10.20", RequestRules{}, 400, ""},
		{"plus before _elements refused", "/fhir/Condition?code=I10&+_elements=subject", RequestRules{}, 400, ""},
		{"tab after a name refused", "/fhir/Condition?_summary%09=count", RequestRules{}, 400, ""},
		{"no-break space before _has refused", "/fhir/Patient?%C2%A0_has:Condition:patient:code=F10.20", RequestRules{}, 400, ""},
		{"em space before _elements refused", "/fhir/Condition?code=I10&%E2%80%83_elements=subject", RequestRules{}, 400, ""},
		{"next line control after _elements refused", "/fhir/Condition?code=I10&_elements%C2%85=subject", RequestRules{}, 400, ""},
		{"zero-width space in a name refused", "/fhir/Condition?%E2%80%8Bcode=I10", RequestRules{}, 400, ""},
		{"count zero written 00 refused", "/fhir/Condition?subject=p1&_count=00", RequestRules{}, 400, ""},
		{"count minus zero refused", "/fhir/Condition?subject=p1&_count=-0", RequestRules{}, 400, ""},
		{"count not a number refused", "/fhir/Condition?subject=p1&_count=0.0", RequestRules{}, 400, ""},
		{"hyphenated parameter forwarded", "/fhir/Observation?value-quantity=5", RequestRules{}, 0, "value-quantity=5"},
		{"text modifier in capitals with include refused", "/fhir/Condition?code:TEXT=alcohol&_include=Condition:patient", RequestRules{}, 400, ""},
		{"padded sensitive code with include refused", "/fhir/Condition?code=%20F10.20&_include=Condition:patient", RequestRules{}, 400, ""},
		{"system export refused", "/fhir/$export", RequestRules{}, 403, ""},
		{"patient export refused", "/fhir/Patient/$export", RequestRules{}, 403, ""},
		{"group export refused", "/fhir/Group/g1/$export", RequestRules{}, 403, ""},
		{"export status refused", "/fhir/$export-poll-status?_jobId=1", RequestRules{}, 403, ""},
		{"export allowed by config", "/fhir/Patient/$export", RequestRules{AllowExport: true}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`), func(o *Options, _ *Deps) { o.Requests = c.rules })
			resp, body := h.get(c.path, tokAll)
			if c.status != 0 {
				if resp.StatusCode != c.status || !strings.Contains(body, "OperationOutcome") {
					t.Fatalf("%d %s, want %d", resp.StatusCode, body, c.status)
				}
				select {
				case r := <-h.seen:
					t.Fatalf("a refused search reached the upstream: %s", r.URL.Path)
				default:
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			r := <-h.seen
			if got, _ := url.QueryUnescape(r.URL.RawQuery); got != c.forwarded {
				t.Fatalf("upstream got query %q, want %q", got, c.forwarded)
			}
		})
	}
}

// tokAll may do anything SMART scopes allow, without the label-writer role.
const tokAll = "Organization/org-a|TREAT|user/*.*"

func TestPostSearchFormGuarded(t *testing.T) {
	t.Parallel()
	forms := make(chan string, 4)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		forms <- string(b)
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
	})
	post := func(form string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/fhir/Patient/_search", strings.NewReader(form))
		req.Header.Set("Authorization", "Bearer "+tokAll)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := post("_has:Condition:patient:code=F10.20"); resp.StatusCode != 400 {
		t.Fatalf("_has in a form: %d %s", resp.StatusCode, body)
	}
	select {
	case <-h.seen:
		t.Fatal("refused form search reached the upstream")
	default:
	}
	if resp, body := post("name=smith&_elements=name"); resp.StatusCode != 200 {
		t.Fatalf("form: %d %s", resp.StatusCode, body)
	}
	if b := <-forms; b != "name=smith" {
		t.Fatalf("upstream got form %q", b)
	}
}

func TestSensitiveCode(t *testing.T) {
	t.Parallel()
	s := testServer(t, RequestRules{})
	for v, want := range map[string]bool{
		"F10.20": true, "F11.20": true, "http://hl7.org/fhir/sid/icd-10-cm|F10.20": true,
		"I10": false, "http://hl7.org/fhir/sid/icd-10-cm|I10": false, "Patient/p1": false, "": false,
		"http://example.org/other|F10.20": false,
	} {
		for _, typ := range []string{"Condition", ""} {
			if got := s.sensitiveCode(typ, v); got != want {
				t.Errorf("%s %q: %v, want %v", typ, v, got, want)
			}
		}
	}
}

// BenchmarkGuardQuery is the request-side check of a search with an
// include, every filter value classified by the labeller (the worst case).
func BenchmarkGuardQuery(b *testing.B) {
	s := &Server{opts: Options{Requests: RequestRules{}.withDefaults()}, labeller: labels.Default()}
	q, _ := url.ParseQuery("code=I10&subject=Patient/p1&clinical-status=active&_include=Condition:patient&_count=50")
	req := fhirRequest{Interaction: Search, Type: "Condition"}
	for b.Loop() {
		if _, f := s.guardQuery(req, q, false); f != nil {
			b.Fatal(f)
		}
	}
}

// FuzzGuardQuery: no query panics the guard, and no forwarded query keeps a
// _has, a chain, _summary=count or an upstream paging handle.
func FuzzGuardQuery(f *testing.F) {
	s := &Server{opts: Options{Requests: RequestRules{}.withDefaults()}, labeller: labels.Default()}
	for _, q := range []string{"_has:Condition:patient:code=F10.20", "code=F10.20&_include=Condition:patient", "subject:Patient.name=x", "_summary=count", "_getpages=1", "a=b"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		out, fl := s.guardQuery(fhirRequest{Interaction: Search, Type: "Condition"}, q, false)
		if fl != nil {
			return
		}
		for name, vs := range out {
			lower := strings.ToLower(name)
			if strings.HasPrefix(lower, "_has") || strings.Contains(name, ".") || lower == "_getpages" || lower == "_cursor" ||
				(lower == "_summary" && len(vs) > 0) {
				t.Fatalf("forwarded %q=%q", name, vs)
			}
		}
	})
}
