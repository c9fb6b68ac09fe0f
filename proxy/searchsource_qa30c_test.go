package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// A Patient is never withheld, so a search of Patients by the meta.source
// of a Part 2 program's records listed the program's patients (the
// Patients it recorded carry its source), as Patient?organization=<the
// program> would, which is refused. Such a search is refused too, with an
// answer that depends on the request alone; a search by another source,
// or of types whose program records are withheld, goes on.
func TestPatientSearchByProgramSourceRefusedQA30C(t *testing.T) {
	t.Parallel()
	const src = "http://riverside.example/fhir"
	pat := `{"resourceType":"Patient","id":"p2","meta":{"versionId":"1","source":"` + src + `"},"name":[{"family":"X"}]}`
	var mu sync.Mutex
	var seen []string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RawQuery)
		mu.Unlock()
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"x/Patient/p2","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
	}, func(o *Options, d *Deps) {
		l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100,
			Programs: []labels.Program{{Name: "clinic", Sources: []string{src}}}})
		if err != nil {
			t.Fatal(err)
		}
		d.Labeller = l
	})
	reached := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
	e := url.QueryEscape
	var refusal string
	for _, path := range []string{
		"/fhir/Patient?_source=" + e(src),
		"/fhir/Patient?_source=" + e("HTTP://Riverside.example/fhir/"),
		"/fhir/Patient?_source=" + e(src+"#feed-7"),
		"/fhir/Patient?_source=" + e("http://lab.example,"+src),
		"/fhir/Patient?_SOURCE=" + e(src),
		"/fhir/Patient?_source:below=" + e("http://riverside.example"),
		"/fhir/Patient?_source:missing=false",
		"/fhir/Patient?_sort=-_source",
		"/fhir/Patient?name=x&_sort=name,_source",
		"/fhir?_source=" + e(src),
		"/fhir?_type=Condition,Patient&_source=" + e(src),
		"/fhir?_type=&_source=" + e(src),
		"/fhir/Practitioner/doc/Patient?_source=" + e(src),
		"/fhir?_type=%20patient&_source=" + e(src),
	} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") || strings.Contains(body, "riverside") {
			t.Errorf("%s: %d %s, want 403", path, resp.StatusCode, body)
		}
		if r := reached(); len(r) != 0 {
			t.Errorf("%s reached the upstream: %v", path, r)
		}
		if strings.Contains(path, "_source=") && !strings.Contains(path, ":") && !strings.Contains(path, "_SOURCE") {
			if refusal == "" {
				refusal = body
			} else if body != refusal {
				t.Errorf("%s: %s, while another program source answered %s", path, body, refusal)
			}
		}
	}
	// A POST _search's form and a batch entry's url meet the same rule.
	if resp, body := h.send(http.MethodPost, "/fhir/Patient/_search", tokOther, "application/x-www-form-urlencoded", "_source="+e(src)); resp.StatusCode != http.StatusForbidden || len(reached()) != 0 {
		t.Errorf("POST _search by the program's source: %d %s, want 403", resp.StatusCode, body)
	}
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient?_source=` + e(src) + `"}}]}`
	if resp, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json", batch); resp.StatusCode != http.StatusForbidden || strings.Contains(body, `"Patient"`) || len(reached()) != 0 {
		t.Errorf("a batch entry by the program's source: %d %s, want it refused", resp.StatusCode, body)
	}
	// Another source, and searches that answer no Patient (the program's
	// records among their matches are withheld): forwarded.
	for _, path := range []string{
		"/fhir/Patient?_source=" + e("http://lab.example/fhir"),
		"/fhir/Condition?_source=" + e(src),
		"/fhir?_type=Condition&_source=" + e(src),
		"/fhir/Patient?_sort=name",
	} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusOK || len(reached()) != 1 {
			t.Errorf("%s: %d %s, want it forwarded", path, resp.StatusCode, body)
		}
	}
}
