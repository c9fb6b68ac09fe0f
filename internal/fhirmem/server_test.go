package fhirmem

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestLoadValidatesAndIsAtomic(t *testing.T) {
	t.Parallel()
	good := []byte(`{"resourceType":"Patient","id":"ok"}`)
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", `{"resourceType":`},
		{"array", `[{"resourceType":"Patient","id":"a"}]`},
		{"no resourceType", `{"id":"a"}`},
		{"lowercase type", `{"resourceType":"patient","id":"a"}`},
		{"no id", `{"resourceType":"Patient"}`},
		{"bad id", `{"resourceType":"Patient","id":"a b"}`},
		{"empty id", `{"resourceType":"Patient","id":""}`},
		{"numeric id", `{"resourceType":"Patient","id":7}`},
		{"key case", `{"RESOURCETYPE":"Patient","id":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New("/fhir")
			if err := s.Load(good, []byte(tt.body)); err == nil || !strings.Contains(err.Error(), "loading resource 1") {
				t.Fatalf("Load error = %v, want one naming resource 1", err)
			}
			if s.Len() != 0 {
				t.Errorf("failed Load stored %d resources", s.Len())
			}
		})
	}
}

func TestReadIsByteIdentical(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	odd := []byte("{\n  \"resourceType\" : \"Observation\",\n  \"id\": \"odd\",\n  \"valueQuantity\": {\"value\": 60.40, \"unit\": \"kg\"},\n" +
		"  \"note\": [{\"text\": \"caf\\u00e9 <b>&amp;</b> \u00e9\"}],\n  \"subject\": {\"reference\": \"Patient/pat-1\"}\n}\n")
	if err := f.srv.Load(odd); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref  string
		want []byte
	}{
		{"Observation/odd", odd},
	}
	for _, r := range f.data.Resources {
		tests = append(tests, struct {
			ref  string
			want []byte
		}{r.Ref(), r.JSON})
	}
	for _, tt := range tests {
		got := f.get(t, "/"+tt.ref)
		if got.status != http.StatusOK || !bytes.Equal(got.body, tt.want) {
			t.Fatalf("GET %s: status %d, body differs from what was loaded", tt.ref, got.status)
		}
		if ct := got.header.Get("Content-Type"); ct != "application/fhir+json" {
			t.Errorf("GET %s: Content-Type %q", tt.ref, ct)
		}
		if et := got.header.Get("ETag"); et != `W/"1"` {
			t.Errorf("GET %s: ETag %q", tt.ref, et)
		}
	}
	b := parseBundle(t, f.get(t, "/Observation?_id=odd"))
	if len(b.Entry) != 1 || !bytes.Equal(b.Entry[0].Resource, bytes.TrimSpace(odd)) {
		t.Errorf("search entry does not embed the loaded bytes: %s", b.Entry[0].Resource)
	}
	if f.srv.Requests() != int64(len(tests)+1) {
		t.Errorf("Requests() = %d, want %d", f.srv.Requests(), len(tests)+1)
	}
}

func TestErrorsAreOperationOutcomes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		code               string
	}{
		{"missing resource", "GET", "/Patient/nobody", nil, 404, "not-found"},
		{"missing version", "GET", "/Patient/pat-0/_history/2", nil, 404, "not-found"},
		{"bad version", "GET", "/Patient/pat-0/_history/x", nil, 404, "not-found"},
		{"missing history", "GET", "/Patient/nobody/_history", nil, 404, "not-found"},
		{"missing everything", "GET", "/Patient/nobody/$everything", nil, 404, "not-found"},
		{"bad type", "GET", "/patient/pat-0", nil, 404, "not-found"},
		{"bad id", "GET", "/Patient/a%20b", nil, 404, "not-found"},
		{"outside base", "GET", "http://HOST/fhirx/Patient/pat-0", nil, 404, "not-found"},
		{"unknown path", "GET", "/Patient/pat-0/extra/deep/path", nil, 404, "not-found"},
		{"method", "PATCH", "/Patient/pat-0", nil, 405, "not-supported"},
		{"xml format", "GET", "/Patient/pat-0?_format=xml", nil, 406, "not-supported"},
		{"xml accept", "GET", "/Patient/pat-0", map[string]string{"Accept": "application/fhir+xml"}, 406, "not-supported"},
		{"bad count", "GET", "/Observation?_count=-1", nil, 400, "invalid"},
		{"bad offset", "GET", "/Observation?_offset=x", nil, 400, "invalid"},
		{"strict unknown param", "GET", "/Observation?code=8480-6", map[string]string{"Prefer": "handling=strict"}, 400, "invalid"},
		{"strict bad include", "GET", "/Observation?_include=Observation:performer", map[string]string{"Prefer": "handling=strict"}, 400, "invalid"},
	}
	for _, tt := range tests {
		path := strings.Replace(tt.path, "http://HOST", f.http.URL, 1)
		got := f.do(t, tt.method, path, nil, tt.header)
		if got.status != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, got.status, tt.status, got.body)
			continue
		}
		if code := outcomeCode(t, got.body); code != tt.code {
			t.Errorf("%s: issue code %q, want %q", tt.name, code, tt.code)
		}
		if ct := got.header.Get("Content-Type"); ct != "application/fhir+json" {
			t.Errorf("%s: Content-Type %q", tt.name, ct)
		}
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	got := f.get(t, "/metadata")
	var cs struct {
		ResourceType, FHIRVersion, Kind string
		Rest                            []struct {
			Resource []struct {
				Type string
			}
		}
	}
	if err := json.Unmarshal(got.body, &cs); err != nil || got.status != http.StatusOK {
		t.Fatalf("status %d, %v", got.status, err)
	}
	types := map[string]bool{}
	for _, r := range cs.Rest[0].Resource {
		types[r.Type] = true
	}
	if cs.ResourceType != "CapabilityStatement" || cs.FHIRVersion != "4.0.1" || !types["Patient"] || !types["Observation"] {
		t.Errorf("CapabilityStatement %+v", cs)
	}
}

func TestConcurrentReadsAndWrites(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	client := f.http.Client()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "c" + strconv.Itoa(i)
			for j := range 10 {
				req, _ := http.NewRequest(http.MethodGet, f.base+"/Patient/pat-0/$everything", nil)
				if i%2 == 0 {
					body := `{"resourceType":"Observation","id":"` + id + `","subject":{"reference":"Patient/pat-0"},"n":` + strconv.Itoa(j) + `}`
					req, _ = http.NewRequest(http.MethodPut, f.base+"/Observation/"+id, strings.NewReader(body))
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("%s %s: %v", req.Method, req.URL, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 300 {
					t.Errorf("%s %s: status %d", req.Method, req.URL, resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if b := parseBundle(t, f.get(t, "/Observation/c0/_history")); b.Total == nil || *b.Total != 10 {
		t.Errorf("history of Observation/c0 has %v versions, want 10", b.Total)
	}
}

func TestHeadAndAllowAndRootBase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	head := f.do(t, http.MethodHead, "/Patient/pat-0", nil, nil)
	want, _ := f.srv.Get("Patient", "pat-0")
	if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %q", head.status, len(head.body), head.header.Get("Content-Length"))
	}
	if got := f.do(t, http.MethodPost, "/Patient/pat-0", nil, nil); got.status != 405 || got.header.Get("Allow") != "GET, PUT, DELETE" {
		t.Errorf("POST on an instance: %d, Allow %q", got.status, got.header.Get("Allow"))
	}
	root := New("/")
	if root.BasePath() != "" {
		t.Fatalf("BasePath() = %q for /", root.BasePath())
	}
	if err := root.Load(want); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(root)
	defer hs.Close()
	resp, err := hs.Client().Get(hs.URL + "/Patient/pat-0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, want) {
		t.Errorf("root-based server: %d", resp.StatusCode)
	}
}
