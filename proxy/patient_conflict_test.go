package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// Resources whose subject and patient name different patients (p1, whose
// consent releases sensitive data to org-a, and p2). conflictMarker
// appears only in them.
const (
	conflictMarker = "ZQX-CONFLICT"
	conflictObs    = `{"resourceType":"Observation","id":"mix1","status":"final","subject":{"reference":"Patient/p1"},"patient":{"reference":"Patient/p2"},"code":{"text":"weight"},"note":[{"text":"` + conflictMarker + `"}]}`
	conflictSUD    = `{"resourceType":"Condition","id":"mix2","subject":{"reference":"Patient/p1"},"patient":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}],"text":"` + conflictMarker + `"}}`
	bpObs2         = `{"resourceType":"Observation","id":"bp2","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"height"}}`
)

// routes answers each upstream path with its body, 404 for any other.
func routes(bodies map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
			return
		}
		fhirJSONHandler(http.StatusOK, b)(w, r)
	}
}

// TestPatientConflictSearchsetWithholdsOnlyTheItem: a searchset with one
// entry whose subject and patient name different patients is answered
// (no longer 502) with that entry withheld exactly as a denied one is: the
// same bytes as the same searchset with a denied entry in its place, total
// decremented alike, nothing of it in links or fullUrls; for a caller who
// may read everything of p1 too. The ledger records it as withheld, the
// log line counts it and names neither it nor a patient.
func TestPatientConflictSearchsetWithholdsOnlyTheItem(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b := map[string]string{
			"conflict": bundle(h.base(), 3, false, bpObs, conflictObs, bpObs2),
			"sud":      bundle(h.base(), 3, false, bpObs, conflictSUD, bpObs2),
			"denied":   bundle(h.base(), 3, false, bpObs, sudCondition, bpObs2),
			"links":    bundle(h.base(), 3, true, bpObs, conflictObs, bpObs2),
		}[r.URL.Query().Get("_id")]
		fhirJSONHandler(http.StatusOK, b)(w, r)
	}, func(_ *Options, d *Deps) {
		d.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	})
	denyResp, denied := h.get("/fhir/Observation?_id=denied", tokOther)
	if denyResp.StatusCode != http.StatusOK || strings.Contains(denied, "sud1") {
		t.Fatalf("the denied comparison: %d %s", denyResp.StatusCode, denied)
	}
	for _, c := range []struct{ name, query, token string }{
		{"ordinary, another org", "conflict", tokOther},
		{"ordinary, the consented org", "conflict", tokConsented},
		{"sensitive, another org", "sud", tokOther},
		{"sensitive, the org p1 consented to", "sud", tokConsented},
	} {
		resp, body := h.get("/fhir/Observation?_id="+c.query, c.token)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		if strings.Contains(body, conflictMarker) || strings.Contains(body, "mix") {
			t.Errorf("%s: the conflicting entry leaked: %s", c.name, body)
		}
		if body != denied {
			t.Errorf("%s: not answered as a denied entry is:\n%s\nwant\n%s", c.name, body, denied)
		}
		resp.Header.Del("Date")
		resp.Header.Del("X-Request-Id")
		denyResp.Header.Del("Date")
		denyResp.Header.Del("X-Request-Id")
		if !equalHeaders(resp.Header, denyResp.Header) {
			t.Errorf("%s: headers differ from a deny's:\n%v\n%v", c.name, resp.Header, denyResp.Header)
		}
	}
	resp, body := h.get("/fhir/Observation?_id=links", tokConsented)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, conflictMarker) || strings.Contains(body, "mix1") ||
		strings.Contains(body, `"total"`) || !strings.Contains(body, `"id":"bp1"`) || !strings.Contains(body, `"id":"bp2"`) {
		t.Fatalf("with page links: %d %s", resp.StatusCode, body)
	}
	assertValidJSON(t, body)

	entries, _ := h.ledger.Find(context.Background(), audit.Query{})
	withheld := 0
	for _, e := range entries {
		for _, it := range e.Disclosed {
			if strings.HasPrefix(it.ID, "mix") {
				t.Errorf("ledger: %s/%s recorded as disclosed", it.Type, it.ID)
			}
		}
		for _, it := range e.Withheld {
			if strings.HasPrefix(it.ID, "mix") {
				withheld++
				if len(it.Reasons) != 1 || it.Reasons[0] != conflictRule {
					t.Errorf("ledger: %s/%s withheld for %q, want %s", it.Type, it.ID, it.Reasons, conflictRule)
				}
				if e.Patient != "" {
					t.Errorf("ledger: %s/%s withheld under %s, one of the patients it names", it.Type, it.ID, e.Patient)
				}
			}
		}
	}
	if withheld != 5 {
		t.Errorf("ledger: %d conflicting items recorded as withheld, want 5: %+v", withheld, entries)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "name different patients") || !strings.Contains(logs.String(), "items=1") {
		t.Errorf("no log line counting the withheld item: %s", logs.String())
	}
	for _, phi := range []string{"mix1", "mix2", "Patient/p", conflictMarker} {
		if strings.Contains(logs.String(), phi) {
			t.Errorf("the log names %q: %s", phi, logs.String())
		}
	}
}

// TestPatientConflictReadAnswersAsDenied: a read of a resource naming
// different patients answers, for every caller, exactly as a missing
// resource does (as a denied read does), not 502; so does a read by the
// patient it names as its subject (no right of access to it) and by a
// token bound to that patient.
func TestPatientConflictReadAnswersAsDenied(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{"/fhir/R4/Observation/mix1": conflictObs, "/fhir/R4/Condition/mix2": conflictSUD}
	patientApp := func(o *Options, d *Deps) { d.Auth, o.PublicBaseURL = selfAuth{}, "https://ds4p.example.org/fhir" }
	h, missing := newHarness(t, routes(bodies)), newHarness(t, routes(nil))
	self, selfMissing := newHarness(t, routes(bodies), patientApp), newHarness(t, routes(nil), patientApp)
	for _, c := range []struct {
		name, path, token string
		h, missing        *harness
	}{
		{"ordinary, another org", "/fhir/Observation/mix1", tokOther, h, missing},
		{"ordinary, the consented org", "/fhir/Observation/mix1", tokConsented, h, missing},
		{"sensitive, the org p1 consented to", "/fhir/Condition/mix2", tokConsented, h, missing},
		{"the subject reading their own", "/fhir/Condition/mix2", "Patient/p1|PATRQT|p1", self, selfMissing},
		{"the other patient", "/fhir/Condition/mix2", "Patient/p2|PATRQT|p2", self, selfMissing},
	} {
		r1, b1 := c.h.get(c.path, c.token)
		r2, b2 := c.missing.get(c.path, c.token)
		if r1.StatusCode != http.StatusNotFound || b1 != b2 || strings.Contains(b1, conflictMarker) {
			t.Errorf("%s: %d %s\nwant as missing: %d %s", c.name, r1.StatusCode, b1, r2.StatusCode, b2)
		}
		for _, r := range []*http.Response{r1, r2} {
			r.Header.Del("Date")
			r.Header.Del("X-Request-Id")
		}
		if !equalHeaders(r1.Header, r2.Header) {
			t.Errorf("%s: headers differ from a missing resource's:\n%v\n%v", c.name, r1.Header, r2.Header)
		}
	}
}

// TestPatientConflictContainedWithholdsContainer: a contained resource
// naming different patients withholds its container, as a denied
// contained resource does; the rest of the searchset is delivered.
func TestPatientConflictContainedWithholdsContainer(t *testing.T) {
	t.Parallel()
	host := func(contained string) string {
		return `{"resourceType":"Observation","id":"host1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"panel"},"contained":[` + contained + `],"hasMember":[{"reference":"#c1"}]}`
	}
	conflicting := `{"resourceType":"Observation","id":"c1","status":"final","subject":{"reference":"Patient/p1"},"patient":{"reference":"Patient/p2"},"code":{"text":"weight"},"note":[{"text":"` + conflictMarker + `"}]}`
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, _ *http.Request) {
		fhirJSONHandler(http.StatusOK, bundle(h.base(), 2, false, bpObs, host(conflicting)))(w, nil)
	})
	resp, body := h.get("/fhir/Observation?subject=p1", tokConsented)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, conflictMarker) || strings.Contains(body, "host1") || !strings.Contains(body, bpObs) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestPatientConflictBatchResponseAsDenied: in a batch-response the entry
// is answered as a denied one is (a missing resource), the others as they
// were.
func TestPatientConflictBatchResponseAsDenied(t *testing.T) {
	t.Parallel()
	batch := func(r string) string {
		return `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":` + bpObs + `,"response":{"status":"200 OK"}},{"resource":` + r + `,"response":{"status":"200 OK"}}]}`
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b := batch(conflictSUD)
		if r.URL.Query().Get("_id") == "denied" {
			b = batch(sudCondition)
		}
		fhirJSONHandler(http.StatusOK, b)(w, r)
	})
	_, denied := h.get("/fhir/Bundle?_id=denied", tokOther)
	resp, body := h.get("/fhir/Bundle?_id=conflict", tokConsented)
	if resp.StatusCode != http.StatusOK || body != denied || strings.Contains(body, conflictMarker) {
		t.Fatalf("%d %s\nwant as denied: %s", resp.StatusCode, body, denied)
	}
}

// TestPatientConflictDecideSimulation: /admin/decide explains the item as
// withheld, with the reason, even when the request names a patient for
// the items that name none (such an item names two, not none) and the
// simulated caller is one that patient's consent permits.
func TestPatientConflictDecideSimulation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(http.StatusOK, bpObs))
	req := strings.TrimSuffix(decideBody("Organization/org-a", "TREAT", "", "", conflictSUD, bpObs), "}") + `,"patient":"Patient/p1"}`
	resp, body := h.post("/admin/decide", tokAdmin, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var got DecideResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 2 {
		t.Fatalf("%s", body)
	}
	d := got.Items[0].Decision
	if d.Permitted() || len(d.Reasons) != 1 || d.Reasons[0].Rule != conflictRule {
		t.Errorf("the conflicting item: %+v", got.Items[0])
	}
	if got.Items[0].Patient == "Patient/p1" || got.Items[0].Patient == "Patient/p2" {
		t.Errorf("the conflicting item decided as %s's", got.Items[0].Patient)
	}
	if !got.Items[1].Decision.Permitted() {
		t.Errorf("the ordinary item: %+v", got.Items[1])
	}
}

// TestPatientConflictWriteRefused: a write whose body names different
// patients stays refused (it would be withheld from every read), with a
// message that says why; the upstream never sees it.
func TestPatientConflictWriteRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(http.StatusCreated, conflictObs))
	resp, body := h.do(http.MethodPost, "/fhir/Observation", "Organization/org-a|TREAT|user/*.read user/*.write", "application/fhir+json", conflictObs)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "different patients") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	select {
	case r := <-h.seen:
		t.Fatalf("the upstream got %s %s", r.Method, r.URL)
	default:
	}
}
