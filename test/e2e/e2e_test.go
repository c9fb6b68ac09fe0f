package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func init() {
	register("SearchWithholdsSUDWithoutConsent", testSearchWithholdsSUDWithoutConsent)
	register("ConsentedCallerSeesLabels", testConsentedCallerSeesLabels)
	register("DeniedReadLooksMissing", testDeniedReadLooksMissing)
	register("PagingThroughProxyLinks", testPagingThroughProxyLinks)
	register("IncludeEverythingAndHistory", testIncludeEverythingAndHistory)
	register("OrdinaryDataUnchanged", testOrdinaryDataUnchanged)
	register("LedgerListsDisclosures", testLedgerListsDisclosures)
	register("EdgeRefusals", testEdgeRefusals)
	register("GzipToClients", testGzipToClients)
}

// leaked returns the SUD resources of the patient that appear in got.
func leaked(sud map[string]bool, got []string) []string {
	var out []string
	for _, id := range got {
		if sud[id] {
			out = append(out, id)
		}
	}
	return out
}

func testSearchWithholdsSUDWithoutConsent(t *testing.T, e *env) {
	sud := e.sensitive(sudPatient)
	if len(sud) == 0 {
		t.Fatal("generator gave the SUD patient no SUD records")
	}
	for _, typ := range []string{"Condition", "MedicationRequest", "Encounter", "Observation"} {
		url := "/fhir/" + typ + "?subject=" + sudPatient + "&_count=200"
		for caller, wantSUD := range map[string]bool{"consented": true, "other": false, "nopurpose": false, "marketing": false} {
			r := e.get(t, url, caller)
			if r.Status != http.StatusOK {
				t.Fatalf("%s %s: status %d %s", caller, url, r.Status, r.Body)
			}
			b := r.json(t)
			got := leaked(sud, ids(t, b))
			if !wantSUD && len(got) > 0 {
				t.Errorf("%s saw SUD records %v in %s", caller, got, typ)
			}
			if !wantSUD && hasSUDOfType(sud, typ) && !totalCountsOnlyMatches(b) {
				t.Errorf("%s: Bundle.total %v counts the withheld %s entries", caller, b["total"], typ)
			}
			if wantSUD && hasSUDOfType(sud, typ) && len(got) == 0 {
				t.Errorf("consented caller saw no SUD %s records", typ)
			}
		}
	}
}

func hasSUDOfType(sud map[string]bool, typ string) bool {
	for id := range sud {
		if strings.HasPrefix(id, typ+"/") {
			return true
		}
	}
	return false
}

func testConsentedCallerSeesLabels(t *testing.T, e *env) {
	for id := range e.sensitive(sudPatient) {
		if !strings.HasPrefix(id, "Condition/") {
			continue
		}
		r := e.get(t, "/fhir/"+id, "consented")
		if r.Status != http.StatusOK {
			t.Fatalf("consented read %s: %d %s", id, r.Status, r.Body)
		}
		if !bytes.Contains(r.Body, []byte(`"code":"SUD"`)) || !bytes.Contains(r.Body, []byte(`"code":"R"`)) {
			t.Errorf("%s disclosed without SUD/R labels: %s", id, r.Body)
		}
		return
	}
	t.Fatal("no SUD Condition to read")
}

func testDeniedReadLooksMissing(t *testing.T, e *env) {
	var sudID string
	for id := range e.sensitive(sudPatient) {
		if strings.HasPrefix(id, "Condition/") {
			sudID = id
			break
		}
	}
	denied := e.get(t, "/fhir/"+sudID, "other")
	missing := e.get(t, "/fhir/Condition/does-not-exist-42", "other")
	if denied.Status != http.StatusNotFound || missing.Status != http.StatusNotFound {
		t.Fatalf("denied %d, missing %d; want 404 for both", denied.Status, missing.Status)
	}
	id := strings.TrimPrefix(sudID, "Condition/")
	if got, want := string(denied.Body), strings.ReplaceAll(string(missing.Body), "does-not-exist-42", id); got != want {
		t.Errorf("bodies differ:\ndenied  %s\nmissing %s", got, want)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "ETag", "Last-Modified", "Location", "Content-Location"} {
		if denied.Header.Get(h) != missing.Header.Get(h) {
			t.Errorf("header %s differs: denied %q, missing %q", h, denied.Header.Get(h), missing.Header.Get(h))
		}
	}
	mine := e.get(t, "/fhir/"+sudID, "consented").json(t)
	vid, _ := mine["meta"].(map[string]any)["versionId"].(string)
	if vid == "" {
		t.Fatal("no versionId on the consented read")
	}
	if r := e.get(t, "/fhir/"+sudID+"/_history/"+vid, "consented"); r.Status != http.StatusOK {
		t.Errorf("consented vread: %d", r.Status)
	}
	if r := e.get(t, "/fhir/"+sudID+"/_history/"+vid, "other"); r.Status != http.StatusNotFound || bytes.Contains(r.Body, []byte(vid)) {
		t.Errorf("vread of a withheld resource: %d %s", r.Status, r.Body)
	}
}

func testPagingThroughProxyLinks(t *testing.T, e *env) {
	sud := e.sensitive(sudPatient)
	for caller, wantSUD := range map[string]bool{"consented": true, "other": false} {
		url := "/fhir/Condition?subject=" + sudPatient + "&_count=1"
		var seen []string
		for pages := 0; url != ""; pages++ {
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			r := e.get(t, url, caller)
			if r.Status != http.StatusOK {
				t.Fatalf("%s page %d: %d %s", caller, pages, r.Status, r.Body)
			}
			b := r.json(t)
			seen = append(seen, ids(t, b)...)
			url = nextLink(t, b)
			if url != "" && !strings.HasPrefix(url, e.proxy+"/fhir/") {
				t.Fatalf("next link %q does not point at the proxy", url)
			}
			if strings.Contains(string(r.Body), e.upstream.BaseURL) {
				t.Fatalf("page names the upstream base %s", e.upstream.BaseURL)
			}
		}
		got := leaked(sud, seen)
		if wantSUD == (len(got) == 0) {
			t.Errorf("%s paged through %d resources, SUD among them: %v", caller, len(seen), got)
		}
	}
}

func nextLink(t *testing.T, b map[string]any) string {
	links, _ := b["link"].([]any)
	for _, l := range links {
		m := l.(map[string]any)
		if m["relation"] == "next" {
			return m["url"].(string)
		}
	}
	return ""
}

func testIncludeEverythingAndHistory(t *testing.T, e *env) {
	sud := e.sensitive(sudPatient)
	urls := []string{
		"/fhir/MedicationRequest?subject=" + sudPatient + "&_include=MedicationRequest:subject",
		"/fhir/Condition?_id=" + strings.Join(sudIDs(sud, "Condition"), ",") + "&_include=Condition:subject",
		"/fhir/" + sudPatient + "/$everything",
	}
	for id := range sud {
		urls = append(urls, "/fhir/"+id+"/_history")
		break
	}
	for _, url := range urls {
		other := e.get(t, url, "other")
		if strings.HasSuffix(url, "/_history") {
			// The history of one withheld resource answers as a missing one
			// (leak_test.go).
			if other.Status != http.StatusNotFound {
				t.Errorf("other %s: %d %s, want 404 as for a missing resource", url, other.Status, other.Body)
			}
		} else if other.Status != http.StatusOK {
			t.Fatalf("other %s: %d %s", url, other.Status, other.Body)
		} else if got := leaked(sud, ids(t, other.json(t))); len(got) > 0 {
			t.Errorf("other caller saw %v via %s", got, url)
		}
		mine := e.get(t, url, "consented")
		if got := leaked(sud, ids(t, mine.json(t))); len(got) == 0 {
			t.Errorf("consented caller saw no SUD record via %s", url)
		}
	}
}

func sudIDs(sud map[string]bool, typ string) []string {
	var out []string
	for id := range sud {
		if t, i, _ := strings.Cut(id, "/"); t == typ {
			out = append(out, i)
		}
	}
	return out
}

// TestOrdinaryDataUnchanged compares every ordinary resource of an
// ordinary-only patient read through the proxy with the upstream's bytes.
func testOrdinaryDataUnchanged(t *testing.T, e *env) {
	n := 0
	for _, r := range e.ds.ByPatient("Patient/pat-1") {
		if len(r.Topics) > 0 {
			continue
		}
		path := r.Type + "/" + r.ID
		direct := e.do(t, http.MethodGet, e.upstream.BaseURL+"/"+path, "", nil, "Accept", "application/fhir+json")
		proxied := e.get(t, "/fhir/"+path, "other")
		if proxied.Status != http.StatusOK || !bytes.Equal(direct.Body, proxied.Body) {
			t.Errorf("%s changed through the proxy (%d):\ndirect  %s\nproxied %s", path, proxied.Status, direct.Body, proxied.Body)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("compared only %d resources", n)
	}
}

func testLedgerListsDisclosures(t *testing.T, e *env) {
	marker := "Condition?subject=" + sudPatient + "&_count=7"
	e.get(t, "/fhir/"+marker, "consented")
	e.get(t, "/fhir/"+marker, "other")
	r := e.get(t, "/admin/audit?patient="+sudPatient+"&_count=1000", "admin")
	if r.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var got struct {
		Entries []struct {
			Caller    struct{ Org string } `json:"caller"`
			Query     string               `json:"query"`
			Disclosed []struct{ Type, ID string }
			Withheld  []struct{ Type, ID string }
		} `json:"entries"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	found := map[string]bool{}
	for _, en := range got.Entries {
		if en.Query != marker {
			continue
		}
		found[en.Caller.Org] = true
		switch en.Caller.Org {
		case orgConsented:
			if len(en.Disclosed) == 0 || len(en.Withheld) != 0 {
				t.Errorf("consented entry: %d disclosed, %d withheld", len(en.Disclosed), len(en.Withheld))
			}
		case orgOther:
			if len(en.Withheld) == 0 {
				t.Errorf("other caller's entry lists nothing withheld")
			}
		}
	}
	if !found[orgConsented] || !found[orgOther] {
		t.Fatalf("ledger lacks entries for both callers: %v (of %d entries)", found, len(got.Entries))
	}
	if e.get(t, "/admin/audit?patient="+sudPatient, "consented").Status != http.StatusForbidden {
		t.Error("a caller without ds4p/auditor read the ledger")
	}
}

func testEdgeRefusals(t *testing.T, e *env) {
	cases := []struct {
		name   string
		token  string
		url    string
		hdr    []string
		status int
	}{
		{"no token", "", "/fhir/Patient/pat-1", nil, http.StatusUnauthorized},
		{"garbage token", "abc.def.ghi", "/fhir/Patient/pat-1", nil, http.StatusUnauthorized},
		{"xml", e.tokens["other"], "/fhir/Patient/pat-1", []string{"Accept", "application/fhir+xml"}, http.StatusNotAcceptable},
		{"_format xml", e.tokens["other"], "/fhir/Patient/pat-1?_format=xml", nil, http.StatusNotAcceptable},
		{"dot segments", e.tokens["other"], "/fhir/Patient/%2e%2e/%2e%2e/admin", nil, http.StatusBadRequest},
	}
	for _, c := range cases {
		r := e.do(t, http.MethodGet, c.url, c.token, nil, c.hdr...)
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.Status, c.status, r.Body)
		}
		if !bytes.Contains(r.Body, []byte(`"resourceType":"OperationOutcome"`)) {
			t.Errorf("%s: body is not an OperationOutcome: %s", c.name, r.Body)
		}
	}
}

func testGzipToClients(t *testing.T, e *env) {
	req, _ := http.NewRequest(http.MethodGet, e.proxy+"/fhir/"+sudPatient+"/$everything", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["other"])
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
}
