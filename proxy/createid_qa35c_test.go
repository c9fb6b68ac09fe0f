package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// keepIDUpstream answers a create as the in-memory Medplum the end-to-end
// tests run against does: the body's id is kept, and one a resource of
// that type has already answers 400 "Assigned ID is already in use". It
// holds Condition/sud1 (SUD, R) and records the bodies written.
type keepIDUpstream struct {
	mu      sync.Mutex
	written []string
}

func (u *keepIDUpstream) handler(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		(&writeUpstream{}).handler(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.written = append(u.written, string(b))
	u.mu.Unlock()
	var res map[string]any
	_ = json.Unmarshal(b, &res)
	if strings.HasSuffix(r.URL.Path, "/R4") { // a batch
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"201 Created"}}]}`)(w, r)
		return
	}
	switch res["id"] {
	case "sud1":
		fhirJSONHandler(400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","details":{"text":"Assigned ID is already in use"}}]}`)(w, r)
		return
	case nil:
		res["id"] = "new1"
	}
	out, _ := json.Marshal(res)
	w.Header().Set("Location", "Condition/new1/_history/1")
	fhirJSONHandler(201, string(out))(w, r)
}

// TestCreateWithIDAnswersAlikeQA35C: a create whose body names the id of a
// resource the caller may not read answers as one naming an id nobody has,
// on a server that keeps a create's id (against FHIR's create, which has
// the server ignore it): the id is not forwarded, on its own or in a
// batch entry. POST Condition with "id":"sud1" answered 400 ("Assigned ID
// is already in use") for org-b, which may not read Condition/sud1, and
// 201 with "id":"nope".
func TestCreateWithIDAnswersAlikeQA35C(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	create := func(id string) string {
		return `{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"Patient/p1"},"code":{"text":"headache"}}`
	}
	up := &keepIDUpstream{}
	h := newHarness(t, up.handler)
	withheld, wb := h.send(http.MethodPost, "/fhir/Condition", tokOtherWriter, fj, create("sud1"))
	missing, mb := h.send(http.MethodPost, "/fhir/Condition", tokOtherWriter, fj, create("nope"))
	if withheld.StatusCode != missing.StatusCode || withheld.StatusCode != http.StatusCreated {
		t.Fatalf("a create naming a withheld id: %d %s; naming a missing one: %d %s", withheld.StatusCode, wb, missing.StatusCode, mb)
	}
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"fullUrl":"urn:uuid:1","request":{"method":"POST","url":"Condition"},"resource":` + create("sud1") + `}]}`
	if resp, got := h.send(http.MethodPost, "/fhir", tokOtherWriter, fj, batch); resp.StatusCode != http.StatusOK {
		t.Fatalf("batch: %d %s", resp.StatusCode, got)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.written) != 3 {
		t.Fatalf("want three writes upstream: %q", up.written)
	}
	for _, w := range up.written {
		if strings.Contains(w, `"id"`) {
			t.Fatalf("a create's id reached the upstream: %s", w)
		}
		if !strings.Contains(w, `"code":{"text":"headache"}`) {
			t.Fatalf("the create's body was not forwarded whole: %s", w)
		}
	}
}
