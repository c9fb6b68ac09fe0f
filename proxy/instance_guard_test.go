package proxy

import (
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// instanceUpstream serves Condition/sud1 (withheld from tokOther) with an
// ordinary older version, its $meta with its labels, and 404 for anything
// else, as a FHIR server would.
func instanceUpstream(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
	oldVersion := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	switch p {
	case "Condition/sud1":
		fhirJSONHandler(200, sudCondition)(w, r)
	case "Condition/sud1/_history/1":
		fhirJSONHandler(200, oldVersion)(w, r)
	case "Condition/sud1/_history":
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","entry":[{"resource":`+oldVersion+`,"request":{"method":"POST","url":"Condition"}}]}`)(w, r)
	case "Condition/sud1/$meta":
		fhirJSONHandler(200, `{"resourceType":"Parameters","parameter":[{"name":"return","valueMeta":{"versionId":"3","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}}]}`)(w, r)
	default:
		fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"`+p+` not found"}]}`)(w, r)
	}
}

// TestInstanceRequestsOfWithheldAnswerAsMissing: $meta, a vread of an older
// ordinary version and the instance history of a resource whose current
// version is withheld answer exactly as they do for a resource that does
// not exist (the ids aside); in a batch they are refused whatever the data.
func TestInstanceRequestsOfWithheldAnswerAsMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, instanceUpstream)
	for _, suffix := range []string{"/$meta", "/_history/1", "/_history"} {
		r1, b1 := h.get("/fhir/Condition/sud1"+suffix, tokOther)
		r2, b2 := h.get("/fhir/Condition/zz91"+suffix, tokOther)
		if r1.StatusCode != 404 || r1.StatusCode != r2.StatusCode || strings.ReplaceAll(b1, "sud1", "zz91") != b2 {
			t.Errorf("%s: withheld %d %s\nmissing %d %s", suffix, r1.StatusCode, b1, r2.StatusCode, b2)
		}
		if strings.Contains(b1, "SUD") || strings.Contains(b1, "Low back pain") {
			t.Errorf("%s leaked: %s", suffix, b1)
		}
		for _, r := range []*http.Response{r1, r2} {
			r.Header.Del("Date")
			r.Header.Del("X-Request-Id")
		}
		if !equalHeaders(r1.Header, r2.Header) {
			t.Errorf("%s: headers differ:\n%v\n%v", suffix, r1.Header, r2.Header)
		}
	}
	// The consented caller gets them.
	if r, b := h.get("/fhir/Condition/sud1/_history/1", tokConsented); r.StatusCode != 200 || !strings.Contains(b, "Low back pain") {
		t.Errorf("vread for a caller who may read the resource: %d %s", r.StatusCode, b)
	}
	if r, b := h.get("/fhir/Condition/sud1/$meta", tokConsented); r.StatusCode != 200 || !strings.Contains(b, "valueMeta") {
		t.Errorf("$meta for a caller who may read the resource: %d %s", r.StatusCode, b)
	}
	for _, url := range []string{"Condition/sud1/$meta", "Condition/zz91/_history/1", "Condition/zz91/_history"} {
		resp, body := h.post("/fhir", tokOther, `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"`+url+`"}}]}`)
		if resp.StatusCode != 400 || !strings.Contains(body, "in a batch is not supported") {
			t.Errorf("batch %s: %d %s", url, resp.StatusCode, body)
		}
	}
}

// gzipAlways compresses every answer of h, as Medplum does whatever the
// request's Accept-Encoding says.
func gzipAlways(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(rec.Body.Bytes())
		_ = zw.Close()
	}
}

// TestStoredVersionReadThroughGzip: the stored version the proxy reads
// before a vread, an instance operation or a write is decoded like any
// response: an upstream that gzips it is no reason to fail (it answered
// 502 against Medplum).
func TestStoredVersionReadThroughGzip(t *testing.T) {
	t.Parallel()
	h := newHarness(t, gzipAlways(instanceUpstream))
	if r, b := h.get("/fhir/Condition/sud1/_history/1", tokConsented); r.StatusCode != 200 || !strings.Contains(b, "Low back pain") {
		t.Errorf("vread through a gzipping upstream: %d %s", r.StatusCode, b)
	}
	r1, b1 := h.get("/fhir/Condition/sud1/$meta", tokOther)
	r2, b2 := h.get("/fhir/Condition/zz91/$meta", tokOther)
	if r1.StatusCode != 404 || r2.StatusCode != 404 || strings.ReplaceAll(b1, "sud1", "zz91") != b2 {
		t.Errorf("withheld %d %s\nmissing %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	const otherWriter = "Organization/org-b|TREAT|user/*.*"
	if r, b := h.send(http.MethodDelete, "/fhir/Condition/sud1", otherWriter, "", ""); r.StatusCode != 404 {
		t.Errorf("delete of a withheld resource through a gzipping upstream: %d %s", r.StatusCode, b)
	}
	if r, b := h.send(http.MethodDelete, "/fhir/Condition/sud1", tokAll, "", ""); r.StatusCode != 200 {
		t.Errorf("delete by a caller who may read it, through a gzipping upstream: %d %s", r.StatusCode, b)
	}
}

// TestTypeHistoryWithholdsEveryVersionOfAWithheldResource: a type history
// page holding a withheld current version and an older ordinary one of
// the same resource shows neither (QA: the older one showed the resource
// exists while its read answered 404), and the ledger has both withheld.
func TestTypeHistoryWithholdsEveryVersionOfAWithheldResource(t *testing.T) {
	t.Parallel()
	oldVersion := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	hist := `{"resourceType":"Bundle","type":"history","entry":[
	 {"resource":` + sudCondition + `,"request":{"method":"PUT","url":"Condition/sud1"}},
	 {"resource":` + oldVersion + `,"request":{"method":"POST","url":"Condition"}},
	 {"resource":` + bpObs + `,"request":{"method":"PUT","url":"Observation/bp1"}}]}`
	h := newHarness(t, currentReads(fhirJSONHandler(200, hist), currentOf(sudCondition, bpObs)))
	resp, body := h.get("/fhir/Condition/_history", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "sud1") || strings.Contains(body, "Low back pain") || !strings.Contains(body, "bp1") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if len(h.ledger.entries) != 1 || len(h.ledger.entries[0].Withheld) != 2 {
		t.Fatalf("ledger: %+v", h.ledger.entries)
	}
	if _, body := h.get("/fhir/Condition/_history", tokConsented); !strings.Contains(body, "Low back pain") || !strings.Contains(body, "Opioid dependence") {
		t.Fatalf("a caller who may read it lost a version: %s", body)
	}
}

// The history of a resource the caller may read keeps its readable
// versions and removes a withheld older one; it answered 404 for the whole
// history (QA), though the resource reads 200.
func TestInstanceHistoryOfAReadableResourceKeepsItsReadableVersions(t *testing.T) {
	t.Parallel()
	current := strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1)
	sudVersion := strings.Replace(sudCondition, `"versionId":"3"`, `"versionId":"2"`, 1)
	hist := `{"resourceType":"Bundle","type":"history","entry":[
	 {"resource":` + current + `,"request":{"method":"PUT","url":"Condition/sud1"}},
	 {"resource":` + sudVersion + `,"request":{"method":"PUT","url":"Condition/sud1"}}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_history") {
			fhirJSONHandler(200, hist)(w, r)
			return
		}
		fhirJSONHandler(200, current)(w, r) // the current version, read first
	})
	resp, body := h.get("/fhir/Condition/sud1/_history", tokOther)
	if resp.StatusCode != 200 || !strings.Contains(body, "Low back pain") || strings.Contains(body, "Opioid dependence") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if _, body := h.get("/fhir/Condition/sud1/_history", tokConsented); !strings.Contains(body, "Opioid dependence") {
		t.Fatalf("a caller who may read it lost a version: %s", body)
	}
}
