package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestStoredBundleVersions: a vread and the history of a stored Bundle
// are judged as its read is. Each answered 502 to every caller; and an
// older version (v1) its EHR stored unlabelled, labelled R as a whole
// since (v2, the current one), must not give org-b the entries the read
// of v2 withholds from it, whatever ids v1's entries have (a collection's read answers 200 without them,
// and so does its history, its versions' shells). A document whose current Composition org-b may
// not read answers as missing, as its read does; the consented org-a gets
// every version.
func TestStoredBundleVersions(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"collection", "document"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			v1 := strings.ReplaceAll(qa36eDoc("b1", typ, `{"versionId":"1"}`, false), `c1`, `c0`)
			v2 := qa36eDoc("b1", typ, `{"versionId":"2","security":[`+qa36eR+`]}`, false)
			hist := `{"resourceType":"Bundle","type":"history","total":2,"entry":[` +
				`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + v2 + `,"request":{"method":"PUT","url":"Bundle/b1"},"response":{"status":"200 OK"}},` +
				`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + v1 + `,"request":{"method":"POST","url":"Bundle"},"response":{"status":"201 Created"}}]}`
			plain := qa36eBundle("b2", typ, `{"versionId":"1"}`, false, bpObs)
			if typ == "document" {
				plain = qa36eBundle("b2", typ, `{"versionId":"1"}`, false, strings.Replace(qa36eComp, "Problems", "Weights", 1), bpObs)
			}
			plainHist := `{"resourceType":"Bundle","type":"history","total":1,"entry":[` +
				`{"fullUrl":"http://up/fhir/R4/Bundle/b2","resource":` + plain + `,"request":{"method":"POST","url":"Bundle"},"response":{"status":"201 Created"}}]}`
			h := newHarness(t, routes(map[string]string{
				"/fhir/R4/Bundle/b1":            v2,
				"/fhir/R4/Bundle/b1/_history/1": v1,
				"/fhir/R4/Bundle/b1/_history/2": v2,
				"/fhir/R4/Bundle/b1/_history":   hist,
				"/fhir/R4/Bundle/b2":            plain,
				"/fhir/R4/Bundle/b2/_history/1": plain,
				"/fhir/R4/Bundle/b2/_history":   plainHist,
			}))
			readStatus, _ := h.get("/fhir/Bundle/b1", tokOther)
			for _, path := range []string{"/fhir/Bundle/b1/_history/1", "/fhir/Bundle/b1/_history/2", "/fhir/Bundle/b1/_history"} {
				resp, body := h.get(path, tokOther)
				if strings.Contains(body, "Opioid") || strings.Contains(body, "Problems") {
					t.Errorf("org-b %s: %d %s", path, resp.StatusCode, body)
				}
				// Its history answers as its read does (QA round 38, area
				// E: a 404 told what the read's 200 does not).
				want := readStatus.StatusCode
				if resp.StatusCode != want {
					t.Errorf("org-b %s: want %d, got %d %s", path, want, resp.StatusCode, body)
				}
				resp, body = h.get(path, tokConsented)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") {
					t.Errorf("org-a %s: %d %s", path, resp.StatusCode, body)
				}
			}
			for _, path := range []string{"/fhir/Bundle/b2/_history/1", "/fhir/Bundle/b2/_history"} {
				resp, body := h.get(path, tokOther)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "weight") {
					t.Errorf("org-b %s of an ordinary Bundle: %d %s", path, resp.StatusCode, body)
				}
			}
		})
	}
}
