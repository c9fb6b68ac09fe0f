package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 22 (area A): a Binary's access is governed by its
// securityContext (FHIR R4). A Binary labelled only N whose securityContext
// is a Part 2 DocumentReference was disclosed to a caller who may not read
// the DocumentReference: it was decided as ordinary data about no patient.

const (
	scDocRef = `{"resourceType":"DocumentReference","id":"d1","meta":{"versionId":"1","security":[` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},` +
		`"status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/b1"}}]}`
	scSecret = "U0VDUkVULVBBUlQyLU5PVEU="
)

func scBinary(id, ctx string) string {
	return `{"resourceType":"Binary","id":"` + id + `","meta":{"versionId":"1","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},` +
		`"contentType":"application/pdf","securityContext":{"reference":"` + ctx + `"},"data":"` + scSecret + `"}`
}

// scUpstream answers reads from resources and any search of Binary with
// a searchset of search (match entries, and the DocumentReference as an
// include when include).
func scUpstream(resources map[string]string, search []string, include bool) http.HandlerFunc {
	routed := newRouted(resources)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/R4/Binary" {
			routed.handle(w, r)
			return
		}
		var entries []string
		for _, s := range search {
			entries = append(entries, `{"fullUrl":"Binary/x","resource":`+s+`,"search":{"mode":"match"}}`)
		}
		if include {
			entries = append(entries, `{"fullUrl":"DocumentReference/d1","resource":`+scDocRef+`,"search":{"mode":"include"}}`)
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","total":` + string(rune('0'+len(search))) + `,"entry":[` + strings.Join(entries, ",") + `]}`))
	}
}

// TestBinarySecurityContextGoverns: a caller without the patient's consent
// gets 404 for the Binary exactly as for a missing one; a consented caller
// gets it with the Part 2 labels and NORDSCLCD.
func TestBinarySecurityContextGoverns(t *testing.T) {
	t.Parallel()
	res := map[string]string{
		"Binary/b1":            scBinary("b1", "DocumentReference/d1"),
		"DocumentReference/d1": scDocRef,
	}
	for _, cache := range []bool{false, true} {
		opts := []harnessOpt{}
		if cache {
			opts = append(opts, withCache)
		}
		h := newHarness(t, scUpstream(res, nil, false), opts...)
		if cache { // the cache learns d1 from a read of it first
			if resp, _ := h.get("/fhir/DocumentReference/d1", tokConsented); resp.StatusCode != http.StatusOK {
				t.Fatalf("DocumentReference read: %d", resp.StatusCode)
			}
		}
		resp, body := h.get("/fhir/Binary/b1", tokOther)
		if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("Binary", "b1")) || strings.Contains(body, scSecret) {
			t.Fatalf("cache %v: Binary of a Part 2 document, caller without consent: %d %s", cache, resp.StatusCode, body)
		}
		_, missing := h.get("/fhir/Binary/nope", tokOther)
		if strings.ReplaceAll(missing, "nope", "b1") != body {
			t.Fatalf("withheld Binary answers %s, a missing one %s", body, missing)
		}
		resp, body = h.get("/fhir/Binary/b1/_history/1", tokOther)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, scSecret) {
			t.Fatalf("cache %v: vread, caller without consent: %d %s", cache, resp.StatusCode, body)
		}
		resp, body = h.get("/fhir/Binary/b1", tokConsented)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, scSecret) {
			t.Fatalf("cache %v: consented caller: %d %s", cache, resp.StatusCode, body)
		}
		for _, want := range []string{`"code":"NORDSCLCD"`, `"code":"42CFRPart2"`, `"code":"R"`} {
			if !strings.Contains(body, want) {
				t.Errorf("cache %v: consented caller's Binary lacks %s: %s", cache, want, body)
			}
		}
	}
}

// TestBinarySecurityContextUnknownWithheld: a Binary whose securityContext
// is missing on the server, or another server's, cannot be told whose
// record it is: withheld from every caller, as a missing one.
func TestBinarySecurityContextUnknownWithheld(t *testing.T) {
	t.Parallel()
	res := map[string]string{
		"Binary/b2":            scBinary("b2", "DocumentReference/gone"),
		"Binary/b3":            scBinary("b3", "https://other.example/fhir/DocumentReference/d1"),
		"DocumentReference/d1": scDocRef,
	}
	h := newHarness(t, scUpstream(res, nil, false))
	for _, id := range []string{"b2", "b3"} {
		for _, tok := range []string{tokOther, tokConsented} {
			resp, body := h.get("/fhir/Binary/"+id, tok)
			if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("Binary", id)) {
				t.Fatalf("Binary/%s (%s): %d %s", id, tok, resp.StatusCode, body)
			}
		}
	}
}

// TestBinarySecurityContextSearch: in a searchset, the Binary is decided
// as its securityContext (read, or in the same Bundle as an include).
func TestBinarySecurityContextSearch(t *testing.T) {
	t.Parallel()
	res := map[string]string{"DocumentReference/d1": scDocRef}
	for _, include := range []bool{false, true} {
		h := newHarness(t, scUpstream(res, []string{scBinary("b1", "DocumentReference/d1")}, include))
		resp, body := h.get("/fhir/Binary?_id=b1", tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, scSecret) || strings.Contains(body, `"id":"b1"`) || !strings.Contains(body, `"total":0`) {
			t.Fatalf("include %v, caller without consent: %d %s", include, resp.StatusCode, body)
		}
		resp, body = h.get("/fhir/Binary?_id=b1", tokConsented)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, scSecret) || !strings.Contains(body, `"code":"NORDSCLCD"`) {
			t.Fatalf("include %v, consented caller: %d %s", include, resp.StatusCode, body)
		}
	}
}

// TestBinaryWriteSecurityContextWithheld: a write of a Binary whose
// securityContext is a resource the caller may not read answers as one
// naming a missing resource (the write guard reads every reference, this
// one too), and does not reach the upstream; a caller who may read it
// writes.
func TestBinaryWriteSecurityContextWithheld(t *testing.T) {
	t.Parallel()
	const plain = `{"resourceType":"Binary","id":"b5","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"contentType":"text/plain","data":"aGk="}`
	up := newRouted(map[string]string{"DocumentReference/d1": scDocRef, "Binary/b5": plain})
	h := newHarness(t, up.handle)
	put := func(ctx, tok string) (int, string) {
		resp, body := h.do(http.MethodPut, "/fhir/Binary/b5", tok, "application/fhir+json", scBinary("b5", ctx))
		return resp.StatusCode, body
	}
	const otherWriter, consentedWriter = "Organization/org-b|TREAT|user/*.*", "Organization/org-a|TREAT|user/*.*"
	st, withheld := put("DocumentReference/d1", otherWriter)
	stMissing, missing := put("DocumentReference/d9", otherWriter)
	if st != http.StatusBadRequest || stMissing != st || strings.ReplaceAll(missing, "d9", "d1") != withheld {
		t.Fatalf("withheld target: %d %s; missing target: %d %s", st, withheld, stMissing, missing)
	}
	up.mu.Lock()
	stored := up.resources["Binary/b5"]
	up.mu.Unlock()
	if stored != plain {
		t.Fatal("a refused write reached the upstream")
	}
	if st, body := put("DocumentReference/d1", consentedWriter); st >= 300 {
		t.Fatalf("consented caller's write: %d %s", st, body)
	}
}
