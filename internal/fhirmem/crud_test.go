package fhirmem

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestCreateUpdateDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	obs := `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/pat-1"},"valueQuantity":{"value":60.40}}`
	tests := []struct {
		name, method, path, body, contentType string
		status                                int
		etag                                  string
	}{
		{"create without id", "POST", "/Observation", obs, "application/fhir+json", 201, `W/"1"`},
		{"create with free id", "POST", "/Observation", `{"resourceType":"Observation","id":"new-1"}`, "application/json", 201, `W/"1"`},
		{"create with taken id", "POST", "/Observation", `{"resourceType":"Observation","id":"pat-0-obs-1"}`, "", 409, ""},
		{"create wrong type", "POST", "/Observation", `{"resourceType":"Condition"}`, "", 400, ""},
		{"create xml", "POST", "/Observation", `<Observation/>`, "application/fhir+xml", 415, ""},
		{"create not JSON", "POST", "/Observation", `{`, "", 400, ""},
		{"put new", "PUT", "/Condition/put-1", `{"resourceType":"Condition","id":"put-1"}`, "", 201, `W/"1"`},
		{"put update", "PUT", "/Patient/pat-4", `{"resourceType":"Patient","id":"pat-4","active":false}`, "", 200, `W/"2"`},
		{"put id mismatch", "PUT", "/Patient/pat-4", `{"resourceType":"Patient","id":"pat-3"}`, "", 400, ""},
		{"put without id", "PUT", "/Patient/pat-4", `{"resourceType":"Patient"}`, "", 400, ""},
		{"put wrong type", "PUT", "/Patient/pat-4", `{"resourceType":"Person","id":"pat-4"}`, "", 400, ""},
		{"delete", "DELETE", "/Immunization/pat-1-imm-1", "", "", 204, ""},
		{"delete missing", "DELETE", "/Immunization/pat-1-imm-1", "", "", 404, ""},
	}
	for _, tt := range tests {
		hdr := map[string]string{}
		if tt.contentType != "" {
			hdr["Content-Type"] = tt.contentType
		}
		got := f.do(t, tt.method, tt.path, strings.NewReader(tt.body), hdr)
		if got.status != tt.status {
			t.Fatalf("%s: status %d, want %d: %s", tt.name, got.status, tt.status, got.body)
		}
		if tt.etag != "" && got.header.Get("ETag") != tt.etag {
			t.Errorf("%s: ETag %q, want %q", tt.name, got.header.Get("ETag"), tt.etag)
		}
		if got.status >= 400 {
			outcomeCode(t, got.body)
			continue
		}
		if got.status == 204 {
			if read := f.get(t, tt.path); read.status != 404 {
				t.Errorf("%s: read after delete gave %d", tt.name, read.status)
			}
			continue
		}
		loc := got.header.Get("Location")
		if !strings.HasPrefix(loc, f.base+"/") || !strings.HasSuffix(loc, "/_history/"+tt.etag[3:4]) {
			t.Errorf("%s: Location %q", tt.name, loc)
		}
		read := f.get(t, strings.TrimPrefix(loc[:strings.Index(loc, "/_history/")], f.base))
		if read.status != 200 || !bytes.Equal(read.body, got.body) || !json.Valid(read.body) {
			t.Errorf("%s: read back %d %s, created %s", tt.name, read.status, read.body, got.body)
		}
		if tt.method == "PUT" && !bytes.Equal(got.body, []byte(tt.body)) {
			t.Errorf("%s: stored bytes changed: %s", tt.name, got.body)
		}
	}
}

func TestCreateWithoutIDInsertsOnlyTheID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := ` {"resourceType":"Observation","valueQuantity":{"value":60.40}}`
	got := f.do(t, http.MethodPost, "/Observation", strings.NewReader(body), nil)
	var ix struct{ ID string }
	if err := json.Unmarshal(got.body, &ix); err != nil || ix.ID == "" {
		t.Fatalf("created %s (%v)", got.body, err)
	}
	want := ` {"id":"` + ix.ID + `",` + body[2:]
	if string(got.body) != want {
		t.Errorf("created %s, want %s", got.body, want)
	}
}

func TestHistoryAndVread(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v1, _ := f.srv.Get("Observation", "pat-0-obs-1")
	v2 := []byte(`{"resourceType":"Observation","id":"pat-0-obs-1","status":"amended","subject":{"reference":"Patient/pat-0"}}`)
	if got := f.do(t, http.MethodPut, "/Observation/pat-0-obs-1", bytes.NewReader(v2), nil); got.status != 200 {
		t.Fatalf("update: %d %s", got.status, got.body)
	}
	tests := []struct {
		path string
		want []byte
		etag string
	}{
		{"/Observation/pat-0-obs-1/_history/1", v1, `W/"1"`},
		{"/Observation/pat-0-obs-1/_history/2", v2, `W/"2"`},
		{"/Observation/pat-0-obs-1", v2, `W/"2"`},
	}
	for _, tt := range tests {
		got := f.get(t, tt.path)
		if got.status != 200 || !bytes.Equal(got.body, tt.want) || got.header.Get("ETag") != tt.etag {
			t.Errorf("GET %s: %d ETag %q", tt.path, got.status, got.header.Get("ETag"))
		}
	}
	h := parseBundle(t, f.get(t, "/Observation/pat-0-obs-1/_history"))
	if h.Type != "history" || *h.Total != 2 || len(h.Entry) != 2 {
		t.Fatalf("history: type %q total %d entries %d", h.Type, *h.Total, len(h.Entry))
	}
	if !bytes.Equal(h.Entry[0].Resource, v2) || !bytes.Equal(h.Entry[1].Resource, v1) {
		t.Error("history is not newest first with the stored bytes")
	}
	if h.Entry[0].Response == nil || h.Entry[0].Response.ETag != `W/"2"` || h.Entry[0].Request.URL != "Observation/pat-0-obs-1" {
		t.Errorf("history entry request/response: %+v %+v", h.Entry[0].Request, h.Entry[0].Response)
	}
}

func TestUpdateMovesResourceBetweenCompartments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	moved := `{"resourceType":"Observation","id":"pat-0-p2-uds","subject":{"reference":"Patient/pat-1"}}`
	if got := f.do(t, http.MethodPut, "/Observation/pat-0-p2-uds", strings.NewReader(moved), nil); got.status != 200 {
		t.Fatalf("update: %d", got.status)
	}
	in := func(patient string) bool {
		b := parseBundle(t, f.get(t, "/Patient/"+patient+"/$everything?_count=1000"))
		return slices.Contains(b.refs(t, "match"), "Observation/pat-0-p2-uds")
	}
	if in("pat-0") || !in("pat-1") {
		t.Errorf("after the update: in pat-0 %v, in pat-1 %v; want only pat-1", in("pat-0"), in("pat-1"))
	}
}

func TestPatientIndexReadsReferenceShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, want string
	}{
		{`{"resourceType":"Patient","id":"p"}`, "p"},
		{`{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p"}}`, "p"},
		{`{"resourceType":"Immunization","id":"i","patient":{"reference":"http://x/fhir/Patient/p"}}`, "p"},
		{`{"resourceType":"Coverage","id":"c","beneficiary":{"reference":"Patient/p/_history/3"}}`, "p"},
		{`{"resourceType":"Account","id":"a","subject":[{"reference":"Device/d"},{"reference":"Patient/p"}]}`, "p"},
		{`{"resourceType":"Observation","id":"o","subject":{"reference":"Group/p"}}`, ""},
		{`{"resourceType":"Observation","id":"o","subject":{"reference":"#contained"}}`, ""},
		{`{"resourceType":"Observation","id":"o","subject":{"reference":"NotPatient/p"}}`, ""},
		{`{"resourceType":"Observation","id":"o","subject":"odd"}`, ""},
	}
	for _, tt := range tests {
		ix, err := index([]byte(tt.body))
		if err != nil || ix.patient != tt.want {
			t.Errorf("index(%s) = %q, %v; want %q", tt.body, ix.patient, err, tt.want)
		}
	}
}
