package proxy

import (
	"net/http"
	"testing"
)

func TestParseFHIRPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method, path string
		want         fhirRequest
		ok           bool
	}{
		{"GET", "metadata", fhirRequest{Interaction: Capabilities}, true},
		{"GET", "Patient/1", fhirRequest{Interaction: Read, Type: "Patient", ID: "1"}, true},
		{"GET", "Patient/1/_history/2", fhirRequest{Interaction: VRead, Type: "Patient", ID: "1", VersionID: "2"}, true},
		{"GET", "Patient/1/_history", fhirRequest{Interaction: History, Type: "Patient", ID: "1"}, true},
		{"GET", "Condition", fhirRequest{Interaction: Search, Type: "Condition"}, true},
		{"POST", "Condition/_search", fhirRequest{Interaction: Search, Type: "Condition"}, true},
		{"GET", "Patient/1/$everything", fhirRequest{Interaction: Operation, Type: "Patient", ID: "1", Operation: "$everything"}, true},
		{"GET", "Patient/1/Condition", fhirRequest{Interaction: Search, Type: "Condition", ID: "1"}, true},
		{"POST", "", fhirRequest{Interaction: Batch}, true},
		{"PUT", "Patient/1", fhirRequest{Interaction: Update, Type: "Patient", ID: "1"}, true},
		{"DELETE", "Patient/1", fhirRequest{Interaction: Delete, Type: "Patient", ID: "1"}, true},
		{"GET", "Patient/../admin", fhirRequest{}, false},
		{"GET", "Patient/..", fhirRequest{}, false},
		{"GET", "patient/1", fhirRequest{}, false},
		{"GET", "Patient/a b", fhirRequest{}, false},
		{"GET", "Patient/1/2/3/4/5", fhirRequest{}, false},
		{"TRACE", "Patient/1", fhirRequest{}, false},
	}
	for _, c := range cases {
		got, err := parseFHIRPath(c.method, c.path)
		if (err == nil) != c.ok {
			t.Errorf("%s %s: err %v, want ok=%v", c.method, c.path, err, c.ok)
			continue
		}
		got.Path = ""
		if c.ok && got != c.want {
			t.Errorf("%s %s = %+v, want %+v", c.method, c.path, got, c.want)
		}
	}
}

func TestWantsJSON(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"": true, "application/fhir+json": true, "*/*": true, "application/json, text/plain": true,
		"application/fhir+xml": false, "text/html": false, "text/html,application/xhtml+xml,*/*;q=0.8": true,
	}
	headerCases(t, "Accept", cases, wantsJSON)
}

// headerCases asks fn of a request carrying each value of header (none for
// ""), and compares with the value's answer in cases.
func headerCases(t *testing.T, header string, cases map[string]bool, fn func(*http.Request) bool) {
	t.Helper()
	for v, want := range cases {
		r, _ := http.NewRequest("GET", "/fhir/Patient/1", nil)
		if v != "" {
			r.Header.Set(header, v)
		}
		if got := fn(r); got != want {
			t.Errorf("%s %q: %v, want %v", header, v, got, want)
		}
	}
}

// TestWantsJSONFormat: _format decides over Accept, however the query
// spells it (the fast path skips parsing only a query that cannot hold it).
func TestWantsJSONFormat(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"_format=json": true, "_format=xml": false, "%5Fformat=xml": false, "_%66ormat=xml": false,
		"a=1&_format=application/fhir%2Bxml": false, "_count=5": true, "a=%20&b=1": true, "_format=": true,
	}
	for q, want := range cases {
		r, _ := http.NewRequest("GET", "/fhir/Patient?"+q, nil)
		r.Header.Set("Accept", "application/fhir+json")
		if got := wantsJSON(r); got != want {
			t.Errorf("query %q: %v, want %v", q, got, want)
		}
	}
}

// TestAcceptsGzip and TestIsJSON: the header readers, over the spellings
// their fast paths and their parsers each take.
func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"": false, "gzip": true, "GZIP": true, "br, gzip": true, "gzip;q=0": false, "gzip; q=0": false,
		"gzip;q=0.5": true, "gzip;q=0.000": false, "gzip;Q=0": false, "gzip;q=nan": false, "gzip;q=x": false, "gzip;level=0": true,
		"br,": false, ",gzip": true, "identity": false, "x-gzip": false, "deflate, gzip;q=1.0, *;q=0": true,
	}
	headerCases(t, "Accept-Encoding", cases, acceptsGzip)
}

func TestIsJSON(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"application/fhir+json": true, "application/json": true, "application/json+fhir": true,
		"application/fhir+json; charset=utf-8": true, "Application/FHIR+JSON": true, "application/fhir+xml": false,
		"text/html": false, "": false, "application/fhir+json;;": false, "application/jsonx": false,
	}
	for ct, want := range cases {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestRemoveMembers(t *testing.T) {
	t.Parallel()
	src := []byte(`{"a":1,"total":5,"entry":[1],"z":2}`)
	ms := []member{{1, 5, 6}, {7, 15, 16}, {17, 25, 28}, {29, 33, 34}}
	cases := []struct {
		idx  []int
		want string
	}{
		{[]int{1}, `{"a":1,"entry":[1],"z":2}`},
		{[]int{1, 2}, `{"a":1,"z":2}`},
		{[]int{2, 3}, `{"a":1,"total":5}`},
		{[]int{0}, `{"total":5,"entry":[1],"z":2}`},
		{[]int{0, 1, 2, 3}, `{}`},
	}
	for _, c := range cases {
		got := string(applyRange(nil, src, 0, len(src), removeMembers(ms, c.idx)))
		if got != c.want {
			t.Errorf("remove %v = %s, want %s", c.idx, got, c.want)
		}
	}
}
