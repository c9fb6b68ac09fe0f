package fhirmem

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/synth"
)

// refsOf returns "Type/id" of resources of typ in the dataset, filtered.
func refsOf(d *synth.Dataset, typ string, keep func(synth.Resource) bool) []string {
	var out []string
	for _, r := range d.Resources {
		if r.Type == typ && keep(r) {
			out = append(out, r.Ref())
		}
	}
	return out
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	all := func(synth.Resource) bool { return true }
	of := func(p string) func(synth.Resource) bool {
		return func(r synth.Resource) bool { return r.Patient == p }
	}
	pat0Obs := refsOf(f.data, "Observation", of("Patient/pat-0"))
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all of a type", "/Encounter?_count=1000", refsOf(f.data, "Encounter", all)},
		{"patient reference", "/Observation?patient=Patient/pat-0&_count=1000", pat0Obs},
		{"patient id", "/Observation?patient=pat-0&_count=1000", pat0Obs},
		{"subject", "/Observation?subject=Patient/pat-0&_count=1000", pat0Obs},
		{"absolute reference", "/Observation?subject=http://other/fhir/Patient/pat-0&_count=1000", pat0Obs},
		{"two patients", "/Condition?patient=pat-0,pat-2&_count=1000", append(
			refsOf(f.data, "Condition", of("Patient/pat-0")), refsOf(f.data, "Condition", of("Patient/pat-2"))...)},
		{"patient param on Immunization", "/Immunization?patient=pat-1", refsOf(f.data, "Immunization", of("Patient/pat-1"))},
		{"group subject matches nothing", "/Observation?subject=Group/pat-0", nil},
		{"unknown patient", "/Observation?patient=nobody", nil},
		{"ids", "/Observation?_id=pat-0-p2-uds,pat-1-obs-1,nope", []string{"Observation/pat-0-p2-uds", "Observation/pat-1-obs-1"}},
		{"id and patient", "/Observation?_id=pat-0-p2-uds,pat-1-obs-1&patient=pat-1", []string{"Observation/pat-1-obs-1"}},
		{"patient by id", "/Patient?_id=pat-3", []string{"Patient/pat-3"}},
		{"unknown param ignored", "/Patient?_id=pat-3&name=x", []string{"Patient/pat-3"}},
		{"empty type", "/Consent", nil},
	}
	for _, tt := range tests {
		b := parseBundle(t, f.get(t, tt.query))
		got := b.refs(t, "match")
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %d %v, want %d %v", tt.name, len(got), got, len(tt.want), tt.want)
		}
		if b.Type != "searchset" || b.Total == nil || *b.Total != len(tt.want) {
			t.Errorf("%s: type %q total %v, want searchset %d", tt.name, b.Type, b.Total, len(tt.want))
		}
		for _, e := range b.Entry {
			if !strings.HasPrefix(e.FullURL, f.base+"/") {
				t.Errorf("%s: fullUrl %q is not absolute under %s", tt.name, e.FullURL, f.base)
			}
		}
	}
}

func TestSearchByPost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	form := url.Values{"patient": {"Patient/pat-0"}, "_count": {"1000"}}
	post := parseBundle(t, f.postForm(t, "/Observation/_search", form))
	get := parseBundle(t, f.get(t, "/Observation?"+form.Encode()))
	if len(post.Entry) == 0 || !slices.Equal(post.refs(t, "match"), get.refs(t, "match")) {
		t.Fatalf("POST _search found %d, GET found %d", len(post.Entry), len(get.Entry))
	}
	if self := post.link("self"); self != f.base+"/Observation?patient=Patient/pat-0&_count=1000" {
		t.Errorf("self link %q", self)
	}
}

func TestSearchPagingLinksWorkEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	want := refsOf(f.data, "Observation", func(r synth.Resource) bool { return r.Patient == "Patient/pat-0" })
	var got []string
	next, pages := f.base+"/Observation?patient=pat-0&_count=7", 0
	for next != "" {
		b := parseBundle(t, f.get(t, next))
		pages++
		if *b.Total != len(want) {
			t.Fatalf("page %d: total %d, want %d", pages, *b.Total, len(want))
		}
		if pages > 1 && b.link("previous") == "" {
			t.Errorf("page %d has no previous link", pages)
		}
		if pages == 1 && b.link("previous") != "" {
			t.Errorf("first page has a previous link")
		}
		if self := b.link("self"); self != next {
			t.Errorf("page %d: self %q, requested %q", pages, self, next)
		}
		got = append(got, b.refs(t, "match")...)
		next = b.link("next")
	}
	if !slices.Equal(got, want) || pages != (len(want)+6)/7 {
		t.Fatalf("paged %d pages, %d resources; want %d", pages, len(got), len(want))
	}
	prev := parseBundle(t, f.get(t, f.base+"/Observation?patient=pat-0&_count=7&_offset=10"))
	if p := prev.link("previous"); p != f.base+"/Observation?patient=pat-0&_count=7&_offset=3" {
		t.Errorf("previous link %q", p)
	}
	beyond := parseBundle(t, f.get(t, f.base+"/Observation?patient=pat-0&_offset=100000"))
	if len(beyond.Entry) != 0 || beyond.link("next") != "" || *beyond.Total != len(want) {
		t.Errorf("past the end: %d entries, next %q", len(beyond.Entry), beyond.link("next"))
	}
}

func TestSearchLinksUseRequestHost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodGet, f.base+"/Observation?_count=2", nil)
	req.Host = "proxy.example.org:8443"
	r := f.send(t, req)
	b := parseBundle(t, r)
	for _, l := range append([]string{b.link("self"), b.link("next")}, b.Entry[0].FullURL) {
		if !strings.HasPrefix(l, "http://proxy.example.org:8443/fhir/") {
			t.Errorf("URL %q does not use the request Host", l)
		}
	}
}

func TestSummaryCountAndZeroCount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	n := len(refsOf(f.data, "Observation", func(synth.Resource) bool { return true }))
	for _, q := range []string{"/Observation?_summary=count", "/Observation?_count=0"} {
		b := parseBundle(t, f.get(t, q))
		if *b.Total != n || len(b.Entry) != 0 || b.link("next") != "" {
			t.Errorf("%s: total %d entries %d next %q, want total %d and nothing else", q, *b.Total, len(b.Entry), b.link("next"), n)
		}
	}
}

func TestIncludePatient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		query    string
		matches  int
		included []string
	}{
		{"/Observation?_id=pat-0-p2-uds&_include=Observation:patient", 1, []string{"Patient/pat-0"}},
		{"/Observation?_id=pat-0-p2-uds&_include=Observation:subject", 1, []string{"Patient/pat-0"}},
		{"/Observation?_id=pat-0-p2-uds,pat-0-obs-1,pat-2-hiv-vl&_include=Observation:patient", 3, []string{"Patient/pat-0", "Patient/pat-2"}},
		{"/Observation?_id=pat-0-p2-uds,pat-2-hiv-vl&_count=1&_include=Observation:patient", 1, []string{"Patient/pat-0"}},
		{"/Observation?_id=pat-0-p2-uds&_include=Observation:performer", 1, nil},
		{"/Observation?_id=pat-0-p2-uds&_include=Condition:patient", 1, nil},
	}
	for _, tt := range tests {
		b := parseBundle(t, f.get(t, tt.query))
		if got := b.refs(t, "match"); len(got) != tt.matches || *b.Total < tt.matches {
			t.Errorf("%s: %d matches (total %d), want %d", tt.query, len(got), *b.Total, tt.matches)
		}
		if got := b.refs(t, "include"); !slices.Equal(got, tt.included) {
			t.Errorf("%s: included %v, want %v", tt.query, got, tt.included)
		}
		if tt.included == nil && strings.Contains(b.link("self"), "_include") {
			t.Errorf("%s: unsupported _include echoed in self link %q", tt.query, b.link("self"))
		}
	}
}

func TestEverythingIsolatesPatients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 5 {
		ref := synth.PatientRef(i)
		var want []string
		for _, r := range f.data.ByPatient(ref) {
			want = append(want, r.Ref())
		}
		b := parseBundle(t, f.get(t, "/"+ref+"/$everything?_count=1000"))
		got := b.refs(t, "match")
		if !slices.Equal(got, want) {
			t.Errorf("%s/$everything: %d resources, want %d (%v)", ref, len(got), len(want), got)
		}
		for _, e := range b.Entry {
			for j := range 5 {
				other := synth.PatientRef(j)
				if j != i && strings.Contains(string(e.Resource), `"`+other+`"`) {
					t.Errorf("%s/$everything contains a resource of %s", ref, other)
				}
			}
		}
	}
	first := parseBundle(t, f.get(t, "/Patient/pat-0/$everything?_count=5"))
	next := first.link("next")
	if len(first.Entry) != 5 || !strings.HasPrefix(next, f.base+"/Patient/pat-0/$everything?_count=5&_offset=5") {
		t.Fatalf("paged $everything: %d entries, next %q", len(first.Entry), next)
	}
	if second := parseBundle(t, f.get(t, next)); len(second.Entry) == 0 || second.Entry[0].FullURL == first.Entry[0].FullURL {
		t.Error("next page of $everything repeats the first")
	}
}
