package proxy

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// A Part 2 SUD diagnosis (ICD-10-CM F11.20, opioid dependence) and an
// ordinary one, both of Patient/p1. sudMarker appears only in the former.
const (
	sudMarker    = "F11.20"
	sudCondition = `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20","display":"Opioid dependence"}]}}`
	bpObs        = `{"resourceType":"Observation","id":"bp1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"},"valueQuantity":{"value":60.40,"unit":"kg"},"note":[{"text":"caf\u00e9 \u2014 ok"}]}`
)

func bundle(base string, total int, withLinks bool, resources ...string) string {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset",`)
	if total >= 0 {
		b.WriteString(`"total":` + itoa(total) + `,`)
	}
	if withLinks {
		b.WriteString(`"link":[{"relation":"self","url":"` + base + `/Condition?subject=p1"},{"relation":"next","url":"` + base + `/Condition?subject=p1&_offset=2"}],`)
	}
	b.WriteString(`"entry":[`)
	for i, r := range resources {
		if i > 0 {
			b.WriteString(",")
		}
		var m struct{ ResourceType, ID string }
		_ = json.Unmarshal([]byte(r), &m)
		b.WriteString(`{"fullUrl":"` + base + "/" + m.ResourceType + "/" + m.ID + `","resource":` + r + `,"search":{"mode":"match"}}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestReadDecidedByConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, sudCondition))
	resp, body := h.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"code":"SUD"`) || !strings.Contains(body, `"code":"R"`) {
		t.Fatalf("consented read: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/Condition/sud1", tokOther)
	if resp.StatusCode != 404 || strings.Contains(body, sudMarker) {
		t.Fatalf("other caller read: %d %s", resp.StatusCode, body)
	}
	if got, want := body, string(notFoundBody("Condition", "sud1")); got != want {
		t.Fatalf("denied body %s, want the canonical not-found %s", got, want)
	}
}

func TestDeniedReadIsIndistinguishableFromMissing(t *testing.T) {
	t.Parallel()
	denied := newHarness(t, fhirJSONHandler(200, sudCondition))
	missing := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("X-Upstream-Debug", "row not found in table conditions")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Condition sud1 deleted by dr x"}]}`))
	})
	r1, b1 := denied.get("/fhir/Condition/sud1", tokOther)
	r2, b2 := missing.get("/fhir/Condition/sud1", tokOther)
	if r1.StatusCode != r2.StatusCode || b1 != b2 {
		t.Fatalf("denied %d %s\nmissing %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	for _, hdr := range []*http.Response{r1, r2} {
		hdr.Header.Del("Date")
		hdr.Header.Del("X-Request-Id")
	}
	if !equalHeaders(r1.Header, r2.Header) {
		t.Fatalf("headers differ:\n%v\n%v", r1.Header, r2.Header)
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a.Get(k) != b.Get(k) {
			return false
		}
	}
	return true
}

func TestSearchsetEnforcement(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("_offset") != "" { // the next page, read to refill this one (refill.go): empty
			fhirJSONHandler(200, bundle(h.base(), -1, false))(w, r)
			return
		}
		fhirJSONHandler(200, bundle(h.base(), 2, true, sudCondition, bpObs))(w, r)
	})
	resp, body := h.get("/fhir/Condition?subject=p1", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if strings.Contains(body, sudMarker) || strings.Contains(body, "sud1") {
		t.Fatalf("withheld entry leaked: %s", body)
	}
	if strings.Contains(body, `"total"`) {
		t.Fatalf("total left in place: %s", body)
	}
	if strings.Contains(body, h.base()) || !strings.Contains(body, `"url":"`+h.proxy.URL+`/fhir/_page/`) { // page tokens: paging.go
		t.Fatalf("links not rewritten to the proxy: %s", body)
	}
	if !strings.Contains(body, `"fullUrl":"`+h.proxy.URL+`/fhir/Observation/bp1"`) {
		t.Fatalf("fullUrl not rewritten: %s", body)
	}
	if !strings.Contains(body, bpObs) {
		t.Fatalf("ordinary entry not byte-for-byte: %s", body)
	}
	assertValidJSON(t, body)
	if len(h.ledger.entries) != 1 || len(h.ledger.entries[0].Withheld) != 1 || len(h.ledger.entries[0].Disclosed) != 1 {
		t.Fatalf("ledger: %+v", h.ledger.entries)
	}
	// The ledger says why: the rule that withheld the SUD condition (SUD
	// data under state law, not from a Part 2 program), by name; nothing
	// for what was disclosed.
	e := h.ledger.entries[0]
	if r := e.Withheld[0].Reasons; !slices.Equal(r, []string{"withheld.state-law"}) {
		t.Errorf("ledger: withheld for %q, want withheld.state-law", r)
	}
	if r := e.Disclosed[0].Reasons; r != nil {
		t.Errorf("ledger: disclosed with reasons %q", r)
	}
}

func TestAllEntriesWithheldLeavesValidBundle(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h.base(), 1, false, sudCondition))(w, r)
	})
	// As a search that matched nothing answers: total 0 (the default,
	// enforcement.total: decrement), no entries.
	_, body := h.get("/fhir/Condition?subject=p1", tokOther)
	if body != `{"resourceType":"Bundle","type":"searchset","total":0}` {
		t.Fatalf("body %s", body)
	}
}

func TestTotalKeptWhenNothingWithheld(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h.base(), 1, false, bpObs))(w, r)
	})
	_, body := h.get("/fhir/Observation?subject=p1", tokOther)
	if !strings.Contains(body, `"total":1`) {
		t.Fatalf("total dropped although nothing was withheld: %s", body)
	}
	// _summary=count: a total with no entries could count withheld items.
	h2 := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":3}`))
	_, body = h2.get("/fhir/Condition?subject=p1&_summary=count", tokOther)
	if strings.Contains(body, "total") {
		t.Fatalf("count-only total passed: %s", body)
	}
}

func TestNestedBundleEntriesEnforced(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		inner := bundle(h.base(), -1, false, sudCondition, bpObs)
		outer := `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":` + inner + `,"response":{"status":"200"}}]}`
		fhirJSONHandler(200, outer)(w, r)
	})
	resp, body := h.get("/fhir/Bundle?_id=1", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, sudMarker) || !strings.Contains(body, "bp1") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	assertValidJSON(t, body)
}

func TestEscapedKeysAreSeen(t *testing.T) {
	t.Parallel()
	// "entr\u0079" is "entry" to every JSON client; the proxy must see it too.
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, strings.Replace(bundle(h.base(), -1, false, sudCondition), `"entry"`, `"entr\u0079"`, 1))(w, r)
	})
	_, body := h.get("/fhir/Condition?subject=p1", tokOther)
	if strings.Contains(body, sudMarker) {
		t.Fatalf("escaped key hid an entry from the proxy: %s", body)
	}
}

func TestFailClosed(t *testing.T) {
	t.Parallel()
	big := strings.Repeat(" ", 2<<20) + sudCondition
	// The bomb is compressed once here: compressing 4 MiB in the handler under
	// the race detector on a loaded machine could outlast the upstream timeout
	// and turn the expected 502 into a 504.
	var bz bytes.Buffer
	zw := gzip.NewWriter(&bz)
	_, _ = zw.Write([]byte(`{"resourceType":"Condition","note":"` + sudMarker))
	_, _ = zw.Write(bytes.Repeat([]byte("A"), 4<<20))
	_ = zw.Close()
	bomb := bz.Bytes()
	cases := []struct {
		name    string
		handler http.HandlerFunc
		status  int
	}{
		{"truncated", fhirJSONHandler(200, sudCondition[:len(sudCondition)-20]), 502},
		{"not json", fhirJSONHandler(200, `<Condition>`+sudMarker+`</Condition>`), 502},
		{"xml content type", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+xml")
			_, _ = w.Write([]byte(`<Condition><code value="` + sudMarker + `"/></Condition>`))
		}, 502},
		{"html error page", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`<h1>Error near ` + sudMarker + `</h1>`))
		}, 502},
		{"duplicate keys", fhirJSONHandler(200, `{"resourceType":"Condition","id":"x","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"code":{"text":"ok"}}`), 502},
		{"oversize", fhirJSONHandler(200, big), 502},
		{"unknown encoding", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Content-Encoding", "br")
			_, _ = w.Write([]byte(sudCondition))
		}, 502},
		{"gzip bomb", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb)
		}, 502},
		{"slow upstream", func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(3 * time.Second)
			fhirJSONHandler(200, sudCondition)(w, nil)
		}, 504},
		{"upstream 500 with text", fhirJSONHandler(500, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"failed on `+sudMarker+`"}]}`), 500},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, c.handler)
			resp, body := h.get("/fhir/Condition/x", tokOther)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if strings.Contains(body, sudMarker) {
				t.Errorf("upstream body leaked: %s", body)
			}
			if !strings.Contains(body, `"resourceType":"OperationOutcome"`) {
				t.Errorf("not an OperationOutcome: %s", body)
			}
		})
	}
}

func TestUnreachableUpstream(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, sudCondition))
	h.upstream.Close()
	resp, body := h.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode != 502 || !strings.Contains(body, "OperationOutcome") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestLedgerFailureWithholds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, sudCondition))
	h.ledger.fail = true
	resp, body := h.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode != 500 || strings.Contains(body, sudMarker) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestPolicyFailureWithholds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Decider = failingDecider{} })
	resp, body := h.get("/fhir/Observation/bp1", tokConsented)
	if resp.StatusCode != 500 || strings.Contains(body, "60.40") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestGzipUpstreamDecodedAndClientGzip(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte(bundle(h.base(), -1, false, sudCondition, bpObs, bpObs, bpObs, bpObs, bpObs, bpObs, bpObs)))
		_ = zw.Close()
	})
	req, _ := http.NewRequest("GET", h.proxy.URL+"/fhir/Observation?subject=p1", nil)
	req.Header.Set("Authorization", "Bearer "+tokOther)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("client asked for gzip, got %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(zr)
	if strings.Contains(buf.String(), sudMarker) || !strings.Contains(buf.String(), "60.40") {
		t.Fatalf("body %s", buf.String())
	}
}

// TestUpstreamErrorCarriesNoUpstreamHeaders: an upstream 4xx/5xx answers
// with the proxy's own OperationOutcome and none of the upstream's
// validators or locations, which could name the version or place of a
// resource the caller may not see.
func TestUpstreamErrorCarriesNoUpstreamHeaders(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 409, 412, 500, 503} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("ETag", `W/"7"`)
			w.Header().Set("Last-Modified", "Mon, 02 Nov 2026 10:00:00 GMT")
			w.Header().Set("Content-Location", h0(r)+"/Observation/bp1/_history/7")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"conflict","diagnostics":"version 7 of bp1"}]}`))
		})
		resp, body := h.get("/fhir/Observation/bp1", tokOther)
		if resp.StatusCode != status || !strings.Contains(body, "OperationOutcome") || strings.Contains(body, "version 7") {
			t.Fatalf("status %d: answered %d %s", status, resp.StatusCode, body)
		}
		for _, k := range []string{"ETag", "Last-Modified", "Content-Location", "Location"} {
			if v := resp.Header.Get(k); v != "" {
				t.Errorf("status %d: the upstream's %s %q reached the caller", status, k, v)
			}
		}
	}
}

// h0 is the base URL the upstream was asked on.
func h0(r *http.Request) string { return "http://" + r.Host + "/fhir/R4" }

func TestUpstreamRequestIsClean(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	h.get("/fhir/Observation/bp1?_pretty=true", tokOther, "Connection", "X-Forwarded-For, Accept", "If-None-Match", `W/"1"`, "Cookie", "s=1",
		"Accept-Encoding", "gzip, br")
	r := <-h.seen
	if r.URL.Path != "/fhir/R4/Observation/bp1" || r.URL.RawQuery != "_pretty=true" {
		t.Errorf("upstream got %s?%s", r.URL.Path, r.URL.RawQuery)
	}
	for _, k := range []string{"Authorization", "Cookie", "If-None-Match"} {
		if r.Header.Get(k) != "" {
			t.Errorf("upstream received the caller's %s header", k)
		}
	}
	// Neither the caller's nor the transport's own: the upstream answers
	// uncompressed, which the proxy reads without inflating.
	if ae := r.Header.Get("Accept-Encoding"); ae != "" {
		t.Errorf("upstream received Accept-Encoding %q", ae)
	}
	if r.Header.Get("X-Forwarded-For") == "" || r.Header.Get("Accept") != "application/fhir+json" {
		t.Errorf("headers the proxy sets were lost: %v", r.Header)
	}
}

func TestLocationRewritten(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", h.base()+"/Observation/bp1/_history/1")
		fhirJSONHandler(201, bpObs)(w, r)
	})
	resp, _ := h.get("/fhir/Observation/bp1", tokOther)
	if got := resp.Header.Get("Location"); got != h.proxy.URL+"/fhir/Observation/bp1/_history/1" {
		t.Fatalf("Location %q", got)
	}
}

func TestAuthAndAdminScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	if resp, _ := h.get("/fhir/Observation/bp1", ""); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if resp, _ := h.get("/fhir/Observation/bp1", "bad"); resp.StatusCode != 401 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	if resp, _ := h.get("/admin/audit?patient=Patient/p1", tokOther); resp.StatusCode != 403 {
		t.Fatalf("non-admin on admin API: %d", resp.StatusCode)
	}
	if resp, _ := h.get("/admin/audit?patient=Patient/p1", tokAdmin); resp.StatusCode != 200 {
		t.Fatalf("admin: %d", resp.StatusCode)
	}
}

func assertValidJSON(t *testing.T, s string) {
	t.Helper()
	if !json.Valid([]byte(s)) {
		t.Fatalf("invalid JSON out: %s", s)
	}
}

// TestEscapedContainedKeyIsSeen: "cont\u0061ined" is "contained" to every
// JSON client; a read whose contained resources are spelt so must have them
// decided like any other, also when the resource is the whole body.
func TestEscapedContainedKeyIsSeen(t *testing.T) {
	t.Parallel()
	for _, key := range []string{`"contained"`, `"cont\u0061ined"`, `"\u0063ontained"`} {
		med := `{"resourceType":"MedicationRequest","id":"m1","subject":{"reference":"Patient/p1"},` + key + `:[` + sudCondition + `]}`
		h := newHarness(t, fhirJSONHandler(200, med))
		resp, body := h.get("/fhir/MedicationRequest/m1", tokOther)
		if strings.Contains(body, "F11.20") || strings.Contains(body, "Opioid") {
			t.Errorf("key %s: the contained SUD Condition reached a caller without consent: %d %s", key, resp.StatusCode, body)
		}
	}
}
