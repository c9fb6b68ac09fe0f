package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func init() { register("SyntheaThroughProxy", testSyntheaThroughProxy) }

// TestSyntheaThroughProxy pages through $everything of every Synthea patient,
// directly and through the proxy, and checks that every resource the proxy
// lets out is byte-for-byte what the FHIR server holds, and that little is
// withheld from ordinary records.
func testSyntheaThroughProxy(t *testing.T, e *env) {
	if len(e.synthea) == 0 {
		t.Skip("../shared/data/synthea-10 is absent: Synthea round trip not run")
	}
	var patients []string
	for _, r := range e.synthea {
		var m struct{ ResourceType, ID string }
		if err := json.Unmarshal(r, &m); err == nil && m.ResourceType == "Patient" {
			patients = append(patients, m.ID)
		}
	}
	direct, proxied := 0, 0
	for _, id := range patients {
		path := "/Patient/" + id + "/$everything?_count=500"
		want := e.pages(t, e.upstream.BaseURL+path, "")
		got := e.pages(t, e.proxy+"/fhir"+path, e.tokens["other"])
		for key, body := range got {
			if w, ok := want[key]; !ok || !sameExceptLabels(w, body) {
				t.Errorf("%s differs from the upstream's bytes:\nupstream %s\nproxy    %s", key, w, body)
			}
		}
		direct += len(want)
		proxied += len(got)
	}
	if direct < 1000 {
		t.Fatalf("only %d Synthea resources reached", direct)
	}
	if proxied < direct*95/100 {
		t.Errorf("proxy passed %d of %d ordinary Synthea resources", proxied, direct)
	}
	t.Logf("Synthea: %d patients, %d resources upstream, %d through the proxy", len(patients), direct, proxied)
}

// pages follows next links from url and returns each resource's raw bytes by
// "Type/id".
func (e *env) pages(t *testing.T, url, token string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for n := 0; url != ""; n++ {
		if n > 200 {
			t.Fatal("paging does not end")
		}
		r := e.do(t, http.MethodGet, url, token, nil, "Accept", "application/fhir+json")
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, r.Status, r.Body)
		}
		var b struct {
			Link []struct {
				Relation, URL string
			}
			Entry []struct {
				Resource json.RawMessage
			}
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		for _, en := range b.Entry {
			var m struct{ ResourceType, ID string }
			_ = json.Unmarshal(en.Resource, &m)
			out[m.ResourceType+"/"+m.ID] = en.Resource
		}
		url = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				url = l.URL
			}
		}
		if token != "" && url != "" && !strings.HasPrefix(url, e.proxy) {
			t.Fatalf("next link %s bypasses the proxy", url)
		}
	}
	return out
}
