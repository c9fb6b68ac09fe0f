package proxy

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/jsonmerge"
	"github.com/ds4p/ds4p/labels"
)

// storeUpstream keeps resources by path, answers reads with them and stores
// updates (PUT, and PUT entries of a batch), giving each a new versionId
// and honouring If-Match / request.ifMatch against the current version.
type storeUpstream struct {
	mu      sync.Mutex
	res     map[string]string // "Type/id" -> JSON
	version map[string]int
	ifMatch []string // the If-Match each write carried
	patches []string // the PATCH bodies that reached it
}

func newStoreUpstream(resources map[string]string) *storeUpstream {
	u := &storeUpstream{res: map[string]string{}, version: map[string]int{}}
	for k, v := range resources {
		u.res[k], u.version[k] = v, 1
	}
	return u
}

func (u *storeUpstream) get(key string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.res[key]
}

func (u *storeUpstream) handler(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	path := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/fhir/R4"), "/")
	switch {
	case r.Method == http.MethodGet:
		if b, ok := u.res[path]; ok {
			fhirJSONHandler(200, b)(w, r)
			return
		}
		fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	case r.Method == http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		status, out := u.put(path, string(b), r.Header.Get("If-Match"))
		fhirJSONHandler(status, out)(w, r)
	case r.Method == http.MethodPatch: // JSON Patch, on the stored version
		b, _ := io.ReadAll(r.Body)
		u.patches = append(u.patches, string(b))
		patched, err := jsonmerge.ApplyPatch([]byte(u.res[path]), b)
		if err != nil {
			fhirJSONHandler(422, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing"}]}`)(w, r)
			return
		}
		status, out := u.put(path, string(patched), r.Header.Get("If-Match"))
		fhirJSONHandler(status, out)(w, r)
	case r.Method == http.MethodPost && path == "":
		var bundle struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
				Request  struct{ Method, URL, IfMatch string }
			} `json:"entry"`
		}
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &bundle) != nil {
			fhirJSONHandler(400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`)(w, r)
			return
		}
		var entries []string
		for _, e := range bundle.Entry {
			status, out := u.put(e.Request.URL, string(e.Resource), e.Request.IfMatch)
			entries = append(entries, `{"resource":`+out+`,"response":{"status":"`+strconv.Itoa(status)+`"}}`)
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
	default:
		http.Error(w, "not here", http.StatusMethodNotAllowed)
	}
}

// put stores body under key with the next version (u.mu held).
func (u *storeUpstream) put(key, body, ifMatch string) (int, string) {
	u.ifMatch = append(u.ifMatch, ifMatch)
	if ifMatch != "" && ifMatch != `W/"`+strconv.Itoa(u.version[key])+`"` {
		return http.StatusPreconditionFailed, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"conflict"}]}`
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return 400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`
	}
	u.version[key]++
	meta, _ := m["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["versionId"] = strconv.Itoa(u.version[key])
	m["meta"] = meta
	out, _ := json.Marshal(m)
	u.res[key] = string(out)
	return 200, string(out)
}

// The stored EOB: version 1, an ordinary and an SUD diagnosis.
var storedEOB = strings.Replace(mixedEOB, `"id":"eob1",`, `"id":"eob1","meta":{"versionId":"1"},`, 1)

// A caller who may read an EOB only in part (its SUD diagnosis and the
// narrative are cut) reads it, changes it and writes it back: its change is
// stored, and so is everything it was not shown; the labels the read added
// (REDACTED) are not stored, and the upstream is asked to store it only
// over the version that was merged.
func TestUpdateOfAPartialViewKeepsWhatWasCut(t *testing.T) {
	t.Parallel()
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	resp, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokOtherWriter)
	if resp.StatusCode != 200 || strings.Contains(view, "F11.20") || !strings.Contains(view, `"REDACTED"`) {
		t.Fatalf("read: %d %s", resp.StatusCode, view)
	}
	edited := strings.Replace(view, `"outcome":"complete"`, `"outcome":"partial"`, 1)
	if edited == view {
		t.Fatalf("the view has no outcome to change: %s", view)
	}
	resp, body := h.send(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, "application/fhir+json", edited)
	if resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	stored := up.get("ExplanationOfBenefit/eob1")
	for _, want := range []string{"F11.20", "opioid dependence", `"partial"`, `"I10"`} {
		if !strings.Contains(stored, want) {
			t.Errorf("stored without %q: %s", want, stored)
		}
	}
	if strings.Contains(stored, "REDACTED") {
		t.Errorf("the read's REDACTED label was stored: %s", stored)
	}
	if got := up.ifMatch; len(got) != 1 || got[0] != `W/"1"` {
		t.Errorf("If-Match sent %q, want W/\"1\"", got)
	}
	// What the caller gets back is its view of what was stored.
	if strings.Contains(body, "F11.20") || strings.Contains(body, "opioid") || !strings.Contains(body, `"partial"`) {
		t.Errorf("the update's answer: %s", body)
	}
	// Writing it again over the version it read: the upstream refuses
	// (the caller's If-Match is its own and is kept).
	resp, _ = h.do(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, "application/fhir+json", edited, "If-Match", `W/"1"`)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d, want 412", resp.StatusCode)
	}
}

// Deleting the diagnoses it sees deletes those only; the cut one stays.
func TestUpdateDeletingWhatWasSeenKeepsTheCutElements(t *testing.T) {
	t.Parallel()
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	_, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokOtherWriter)
	var m map[string]any
	if err := json.Unmarshal([]byte(view), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "diagnosis")
	b, _ := json.Marshal(m)
	if resp, body := h.send(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, "application/fhir+json", string(b)); resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	stored := up.get("ExplanationOfBenefit/eob1")
	if !strings.Contains(stored, "F11.20") || strings.Contains(stored, `"I10"`) {
		t.Fatalf("stored: %s", stored)
	}
}

// A Patient's Part 2 enrolment is cut silently (no REDACTED mark): an
// update of the rest keeps it, and neither the answer nor its status
// tells the caller it exists.
func TestUpdateKeepsASilentlyCutEnrolment(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/p2","display":"Riverside Recovery"}}`
	plain := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"name":[{"family":"Doe"}]}`
	for _, c := range []struct{ name, stored string }{{"enrolled", pat}, {"not enrolled", plain}} {
		up := newStoreUpstream(map[string]string{"Patient/p1": c.stored})
		h := newHarness(t, up.handler, withProgram)
		_, view := h.get("/fhir/Patient/p1", tokOtherWriter)
		if strings.Contains(view, "Riverside") {
			t.Fatalf("%s: the read shows the enrolment: %s", c.name, view)
		}
		edited := strings.Replace(view, `"Doe"`, `"Doe-Smith"`, 1)
		resp, body := h.send(http.MethodPut, "/fhir/Patient/p1", tokOtherWriter, "application/fhir+json", edited)
		if resp.StatusCode != 200 || strings.Contains(body, "Riverside") || strings.Contains(body, "REDACTED") || !strings.Contains(body, "Doe-Smith") {
			t.Fatalf("%s: update: %d %s", c.name, resp.StatusCode, body)
		}
		stored := up.get("Patient/p1")
		if strings.Contains(c.stored, "Riverside") != strings.Contains(stored, "Organization/p2") || !strings.Contains(stored, "Doe-Smith") {
			t.Errorf("%s: stored %s", c.name, stored)
		}
	}
}

// The same update as a batch entry: the entry's resource is merged and
// its request gets the version as ifMatch.
func TestBatchUpdateOfAPartialViewKeepsWhatWasCut(t *testing.T) {
	t.Parallel()
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	_, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokOtherWriter)
	edited := strings.Replace(view, `"outcome":"complete"`, `"outcome":"partial"`, 1)
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + edited + `,"request":{"method":"PUT","url":"ExplanationOfBenefit/eob1"}}]}`
	resp, body := h.send(http.MethodPost, "/fhir", tokOtherWriter, "application/fhir+json", batch)
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, body)
	}
	stored := up.get("ExplanationOfBenefit/eob1")
	if !strings.Contains(stored, "F11.20") || !strings.Contains(stored, `"partial"`) || strings.Contains(stored, "REDACTED") {
		t.Errorf("stored: %s", stored)
	}
	if got := up.ifMatch; len(got) != 1 || got[0] != `W/"1"` {
		t.Errorf("ifMatch sent %q", got)
	}
	if strings.Contains(body, "F11.20") {
		t.Errorf("the batch answer shows the cut diagnosis: %s", body)
	}
}

// A caller that sees the resource whole is not merged: its body is stored
// as written, without If-Match.
func TestUpdateOfAWholeViewIsStoredAsWritten(t *testing.T) {
	t.Parallel()
	plain := `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"}}`
	up := newStoreUpstream(map[string]string{"Observation/o1": plain, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	edited := strings.Replace(plain, `"final"`, `"amended"`, 1)
	if resp, body := h.send(http.MethodPut, "/fhir/Observation/o1", tokOtherWriter, "application/fhir+json", edited); resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if got := up.ifMatch; len(got) != 1 || got[0] != "" {
		t.Errorf("If-Match sent %q, want none", got)
	}
}

// Three diagnoses, the middle one SUD: the caller sees two, and its JSON
// Patch paths count what it sees. /diagnosis/1 is the asthma diagnosis for
// it, the SUD one in the stored version: applied there it would change (or
// remove) what the caller was never shown.
var storedEOB3 = strings.Replace(storedEOB, `{"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`,
	`{"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},`+
		`{"sequence":3,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J45.909"}]}}`, 1)

func TestJSONPatchOfAPartialViewAppliesToWhatTheCallerSaw(t *testing.T) {
	t.Parallel()
	if !strings.Contains(storedEOB3, "J45.909") {
		t.Fatal("the test's EOB has no third diagnosis")
	}
	for _, c := range []struct {
		name, patch string
		check       func(stored string) bool
	}{
		{"replace", `[{"op":"replace","path":"/diagnosis/1/sequence","value":7}]`,
			func(st string) bool {
				return strings.Contains(st, `"sequence":7`) && strings.Contains(st, `"sequence":2`)
			}},
		{"remove", `[{"op":"remove","path":"/diagnosis/1"}]`,
			func(st string) bool { return !strings.Contains(st, "J45.909") && strings.Contains(st, "F11.20") }},
	} {
		up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB3, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
		h := newHarness(t, up.handler)
		resp, body := h.send(http.MethodPatch, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, "application/json-patch+json", c.patch)
		if resp.StatusCode != 200 || strings.Contains(body, "F11.20") {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		stored := up.get("ExplanationOfBenefit/eob1")
		if !c.check(stored) || !strings.Contains(stored, "opioid dependence") || strings.Contains(stored, "REDACTED") {
			t.Errorf("%s: stored %s", c.name, stored)
		}
		if len(up.patches) != 0 || len(up.ifMatch) != 1 || up.ifMatch[0] != `W/"1"` {
			t.Errorf("%s: the upstream got patches %q, If-Match %q; want an update over version 1", c.name, up.patches, up.ifMatch)
		}
	}
	// A path only the cut element has is not there for the caller.
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB3, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	if resp, body := h.send(http.MethodPatch, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, "application/json-patch+json", `[{"op":"remove","path":"/diagnosis/2"}]`); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("patch of the cut element's index: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(up.get("ExplanationOfBenefit/eob1"), "J45.909") || len(up.ifMatch) != 0 {
		t.Error("a refused patch wrote")
	}
	// In a batch, as a Binary: the entry becomes an update of the merge.
	bin := `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` +
		base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/diagnosis/1/sequence","value":7}]`)) + `"}`
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + bin + `,"request":{"method":"PATCH","url":"ExplanationOfBenefit/eob1"}}]}`
	if resp, body := h.send(http.MethodPost, "/fhir", tokOtherWriter, "application/fhir+json", batch); resp.StatusCode != 200 || strings.Contains(body, "F11.20") {
		t.Fatalf("batch: %d %s", resp.StatusCode, body)
	}
	if st := up.get("ExplanationOfBenefit/eob1"); !strings.Contains(st, `"sequence":7`) || !strings.Contains(st, `"sequence":2`) || !strings.Contains(st, "F11.20") {
		t.Errorf("batch: stored %s", st)
	}
}

// A caller that sees the resource whole: its JSON Patch goes upstream as
// a patch.
func TestJSONPatchOfAWholeViewIsForwarded(t *testing.T) {
	t.Parallel()
	plain := `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"}}`
	up := newStoreUpstream(map[string]string{"Observation/o1": plain, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	if resp, body := h.send(http.MethodPatch, "/fhir/Observation/o1", tokOtherWriter, "application/json-patch+json", `[{"op":"replace","path":"/status","value":"amended"}]`); resp.StatusCode != 200 {
		t.Fatalf("patch: %d %s", resp.StatusCode, body)
	}
	if len(up.patches) != 1 || !strings.Contains(up.get("Observation/o1"), "amended") {
		t.Errorf("patches %q, stored %s", up.patches, up.get("Observation/o1"))
	}
}

// The merge puts back what the caller was not shown; an update that moves
// the claim to a patient whose consent admits the caller would have the
// next read show it. Such an update, or patch, is refused and nothing is
// written; the same caller's other changes go through.
func TestUpdateThatWouldShowWhatWasCutIsRefused(t *testing.T) {
	t.Parallel()
	ofP3 := strings.Replace(storedEOB, `"Patient/p1"`, `"Patient/p3"`, 1)
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": ofP3,
		"Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Patient/p3": `{"resourceType":"Patient","id":"p3"}`})
	h := newHarness(t, up.handler)
	_, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokAll)
	if strings.Contains(view, "F11.20") || !strings.Contains(view, `"Patient/p3"`) {
		t.Fatalf("org-a's view of p3's claim: %s", view)
	}
	moved := strings.Replace(view, `"Patient/p3"`, `"Patient/p1"`, 1)
	if resp, body := h.send(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokAll, "application/fhir+json", moved); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("moving the claim to a consenting patient: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.send(http.MethodPatch, "/fhir/ExplanationOfBenefit/eob1", tokAll, "application/json-patch+json",
		`[{"op":"replace","path":"/patient/reference","value":"Patient/p1"}]`); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("patching the claim to a consenting patient: %d %s", resp.StatusCode, body)
	}
	if got := up.get("ExplanationOfBenefit/eob1"); got != ofP3 || len(up.ifMatch) != 0 {
		t.Fatalf("a refused update wrote: %s", got)
	}
	// Moved to p1 and reading it back: still not shown, since nothing moved.
	if _, body := h.get("/fhir/ExplanationOfBenefit/eob1", tokConsented); strings.Contains(body, "F11.20") {
		t.Fatalf("p3's SUD diagnosis is now readable as p1's: %s", body)
	}
	other := strings.Replace(view, `"outcome":"complete"`, `"outcome":"partial"`, 1)
	if resp, body := h.send(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokAll, "application/fhir+json", other); resp.StatusCode != 200 {
		t.Fatalf("an update that changes nothing the decision rests on: %d %s", resp.StatusCode, body)
	}
	if got := up.get("ExplanationOfBenefit/eob1"); !strings.Contains(got, "F11.20") || !strings.Contains(got, `"partial"`) || !strings.Contains(got, `"Patient/p3"`) {
		t.Fatalf("stored: %s", got)
	}
}

// A FHIRPath Patch reaches the stored resource as it is: of a resource the
// caller sees in part it is refused (it could move the cut diagnosis to a
// consenting patient); of one it sees whole it is forwarded; of a Patient,
// while Part 2 programs are configured, it is refused whatever the Patient
// holds, so the refusal cannot tell a silently cut enrolment.
func TestFHIRPathPatchOnlyOfWhatTheCallerSeesWhole(t *testing.T) {
	t.Parallel()
	movePatient := `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},` +
		`{"name":"path","valueString":"ExplanationOfBenefit.patient"},{"name":"value","valueReference":{"reference":"Patient/p1"}}]}]}`
	ofP3 := strings.Replace(storedEOB, `"Patient/p1"`, `"Patient/p3"`, 1)
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": ofP3, "ExplanationOfBenefit/eob2": strings.Replace(strings.Replace(ofP3, "F11.20", "J45.909", 1), "eob1", "eob2", 1),
		"Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Patient/p3": `{"resourceType":"Patient","id":"p3"}`})
	h := newHarness(t, up.handler)
	if resp, body := h.send(http.MethodPatch, "/fhir/ExplanationOfBenefit/eob1", tokAll, "application/fhir+json", movePatient); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("FHIRPath Patch of a redacted claim: %d %s", resp.StatusCode, body)
	}
	if len(up.patches) != 0 {
		t.Fatalf("the patch reached the upstream: %q", up.patches)
	}
	// The claim without the SUD diagnosis is seen whole: forwarded (this
	// fake applies only JSON Patch, so it answers 422 itself).
	h.send(http.MethodPatch, "/fhir/ExplanationOfBenefit/eob2", tokAll, "application/fhir+json", strings.Replace(movePatient, "ExplanationOfBenefit.patient", "ExplanationOfBenefit.outcome", 1))
	if len(up.patches) != 1 {
		t.Fatalf("a FHIRPath Patch of a claim seen whole was not forwarded: %q", up.patches)
	}
	for _, stored := range []string{
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/p2"}}`,
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`,
	} {
		up := newStoreUpstream(map[string]string{"Patient/p1": stored})
		h := newHarness(t, up.handler, withProgram)
		patch := `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.name"}]}]}`
		resp, body := h.send(http.MethodPatch, "/fhir/Patient/p1", tokOtherWriter, "application/fhir+json", patch)
		if resp.StatusCode != http.StatusUnprocessableEntity || strings.Contains(body, "part") && strings.Contains(body, "REDACTED") {
			t.Fatalf("FHIRPath Patch of a Patient with programs configured: %d %s", resp.StatusCode, body)
		}
	}
}

// QA: moving a claim shown in part to another patient disclosed its cut
// SUD diagnosis to whoever that patient admits; and whether the move was
// refused told which kind of consent would admit the cut content. Now any
// change of patient is refused while parts are withheld, the same answer
// whoever the new patient admits.
func TestPartialViewUpdateMayNotChangeThePatient(t *testing.T) {
	t.Parallel()
	ofP3 := strings.Replace(storedEOB, `"Patient/p1"`, `"Patient/p3"`, 1)
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": ofP3,
		"Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Patient/p2": `{"resourceType":"Patient","id":"p2"}`, "Patient/p3": `{"resourceType":"Patient","id":"p3"}`})
	h := newHarness(t, up.handler)
	_, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokAll)
	var answers []string
	for _, to := range []string{"Patient/p1", "Patient/p2"} { // p1 admits org-a, p2 no one
		resp, body := h.send(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokAll, "application/fhir+json", strings.Replace(view, `"Patient/p3"`, `"`+to+`"`, 1))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("moved to %s: %d %s", to, resp.StatusCode, body)
		}
		answers = append(answers, body)
		resp, body = h.send(http.MethodPatch, "/fhir/ExplanationOfBenefit/eob1", tokAll, "application/json-patch+json", `[{"op":"replace","path":"/patient/reference","value":"`+to+`"}]`)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("patched to %s: %d %s", to, resp.StatusCode, body)
		}
		answers = append(answers, body)
	}
	if answers[0] != answers[2] || answers[1] != answers[3] || answers[0] != answers[1] {
		t.Errorf("the refusals differ by the new patient:\n%s", strings.Join(answers, "\n"))
	}
	if got := up.get("ExplanationOfBenefit/eob1"); got != ofP3 {
		t.Fatalf("a refused update wrote: %s", got)
	}
}

// A Patient's Part 2 enrolment is cut silently: a JSON Patch of an
// enrolled Patient and of one without an enrolment go the same way, give
// the same answers and store the same member order.
func TestPatientWritesGoOneWayWhileProgramsAreConfigured(t *testing.T) {
	t.Parallel()
	enrolled := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"name":[{"family":"Doe"}],"birthDate":"1970-01-01","managingOrganization":{"reference":"Organization/p2"}}`
	plain := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"name":[{"family":"Doe"}],"birthDate":"1970-01-01"}`
	type outcome struct{ status, body, stored string }
	run := func(stored string) []outcome {
		up := newStoreUpstream(map[string]string{"Patient/p1": stored})
		h := newHarness(t, up.handler, withProgram)
		var out []outcome
		for _, p := range []string{
			`[{"op":"add","path":"/gender","value":"female"}]`,
			`[{"op":"remove","path":"/deceasedBoolean"}]`,
			`[{"op":"add","path":"/name/01","value":{"family":"X"}}]`,
		} {
			resp, body := h.send(http.MethodPatch, "/fhir/Patient/p1", tokOtherWriter, "application/json-patch+json", p)
			out = append(out, outcome{resp.Status, body, strings.Replace(up.get("Patient/p1"), `,"managingOrganization":{"reference":"Organization/p2"}`, "", 1)})
		}
		resp, body := h.send(http.MethodPut, "/fhir/Patient/p1", tokOtherWriter, "application/fhir+json", `{"resourceType":"Patient","id":"p1","generalPractitioner":{"reference":"Practitioner/x"}}`)
		out = append(out, outcome{resp.Status, body, ""})
		if len(up.patches) != 0 {
			t.Errorf("a Patient's JSON Patch reached the upstream as a patch: %q", up.patches)
		}
		return out
	}
	a, b := run(enrolled), run(plain)
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("write %d differs:\nenrolled %+v\nplain    %+v", i, a[i], b[i])
		}
	}
	if !strings.Contains(a[0].stored, `"gender":"female"`) || a[0].status != "200 OK" || a[1].status != "422 Unprocessable Entity" {
		t.Errorf("the patched Patient: %+v", a[0])
	}
}

// TestPartialViewUpdateMayNotDropTheProgramsSource: a record is a Part 2
// program's by its meta.source alone. org-a sees it in part (the
// attachment's data removed) and PUTs its view without meta.source; before,
// the decision facts were compared without meta, the update was stored,
// and org-c, whose consent denies it Part 2 data, read the record. The
// update is refused and org-c still reads nothing.
func TestPartialViewUpdateMayNotDropTheProgramsSource(t *testing.T) {
	t.Parallel()
	const src = "http://riverside.example/fhir"
	const tokC = "Organization/org-c|TREAT|user/*.read"
	doc := `{"resourceType":"DocumentReference","id":"d1","meta":{"versionId":"1","source":"` + src + `","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"status":"current",` +
		`"subject":{"reference":"Patient/p1"},"type":{"text":"progress note"},` +
		`"content":[{"attachment":{"contentType":"text/plain","data":"c2VjcmV0IG5vdGU="}}]}`
	up := newStoreUpstream(map[string]string{"DocumentReference/d1": doc, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	noPart2ForC := `{"resourceType":"Consent","id":"c-q","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"deny","provision":[
	  {"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]},
	  {"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-c"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	   "provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}]}]}}`
	h := newHarness(t, up.handler, func(o *Options, d *Deps) {
		l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100,
			Programs: []labels.Program{{Name: "clinic", Sources: []string{src}}}})
		if err != nil {
			t.Fatal(err)
		}
		d.Labeller = l
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {{ID: "c-q", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(), JSON: []byte(noPart2ForC)}}}}
	})
	if resp, body := h.get("/fhir/DocumentReference/d1", tokC); resp.StatusCode != 404 {
		t.Fatalf("org-c before: %d %s", resp.StatusCode, body)
	}
	resp, view := h.get("/fhir/DocumentReference/d1", tokAll)
	if resp.StatusCode != 200 || strings.Contains(view, "c2VjcmV0IG5vdGU=") || !strings.Contains(view, `"source":"`+src+`"`) {
		t.Fatalf("org-a's view: %d %s", resp.StatusCode, view)
	}
	edited := strings.Replace(view, `"source":"`+src+`",`, ``, 1)
	if edited == view {
		t.Fatalf("no source to drop in %s", view)
	}
	if resp, body := h.send(http.MethodPut, "/fhir/DocumentReference/d1", tokAll, "application/fhir+json", edited); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
		t.Errorf("an update dropping the program's source: %d %s, want 403", resp.StatusCode, body)
	}
	if got := up.get("DocumentReference/d1"); !strings.Contains(got, `"source":"`+src+`"`) {
		t.Errorf("stored: %s", got)
	}
	if resp, body := h.get("/fhir/DocumentReference/d1", tokC); resp.StatusCode != 404 {
		t.Errorf("org-c after: %d %s", resp.StatusCode, body)
	}
}

// TestEnrolledAndPlainPatientsAnswerAlike: an enrolled Patient's narrative
// names the program and is cut with the enrolment; a caller that writes
// its own managingOrganization over the enrolment (PUT or JSON Patch)
// leaves nothing cut, so the restored narrative would be shown. Before, the
// update was refused (403) for the enrolled Patient and stored for the
// plain one, which told which Patients are a program's (QA round 11); now
// the narrative is left out and both answer alike.
func TestEnrolledAndPlainPatientsAnswerAlike(t *testing.T) {
	t.Parallel()
	enrolled := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jane Doe, Riverside Recovery</div>"},"name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/p2","display":"Riverside Recovery"}}`
	plain := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"name":[{"family":"Doe"}]}`
	answers := map[string][]string{}
	for name, st := range map[string]string{"enrolled": enrolled, "plain": plain} {
		for _, how := range []string{"PUT", "PATCH"} {
			up := newStoreUpstream(map[string]string{"Patient/p1": st, "Organization/general": `{"resourceType":"Organization","id":"general"}`})
			h := newHarness(t, up.handler, withProgram)
			_, view := h.get("/fhir/Patient/p1", tokOtherWriter)
			var resp *http.Response
			var body string
			if how == "PUT" {
				edited := strings.TrimSuffix(view, "}") + `,"managingOrganization":{"reference":"Organization/general"}}`
				resp, body = h.send(http.MethodPut, "/fhir/Patient/p1", tokOtherWriter, "application/fhir+json", edited)
			} else {
				resp, body = h.send(http.MethodPatch, "/fhir/Patient/p1", tokOtherWriter, "application/json-patch+json", `[{"op":"add","path":"/managingOrganization","value":{"reference":"Organization/general"}}]`)
			}
			answers[how] = append(answers[how], view+" => "+strconv.Itoa(resp.StatusCode))
			if resp.StatusCode != 200 {
				t.Errorf("%s %s: %d %s", name, how, resp.StatusCode, body)
			}
			got := up.get("Patient/p1")
			if strings.Contains(got, "Riverside") || !strings.Contains(got, "Organization/general") {
				t.Errorf("%s %s: stored %s", name, how, got)
			}
			if _, after := h.get("/fhir/Patient/p1", tokOtherWriter); strings.Contains(after, "Riverside") {
				t.Errorf("%s %s: the caller now reads %s", name, how, after)
			}
		}
	}
	for how, a := range answers {
		if len(a) != 2 || a[0] != a[1] {
			t.Errorf("%s: enrolled and plain Patients answer differently: %q", how, a)
		}
	}
}

// TestEnrolledAndPlainPatientsAnswerAlikeToEmptyAndWrongValues: an empty
// array or a null where an enrolled Patient's program was cut kept the
// program (merged back, cut again in the echo) but went to the server as
// written for a plain Patient, whose echo showed it (QA round 12). Both
// now mean the member left out, and a wrong kind is refused (422) for
// every Patient; the answers and what the caller reads after are the same.
func TestEnrolledAndPlainPatientsAnswerAlikeToEmptyAndWrongValues(t *testing.T) {
	t.Parallel()
	enrolled := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"name":[{"family":"Doe"}],"generalPractitioner":[{"reference":"Organization/p2"}],"managingOrganization":{"reference":"Organization/p2"}}`
	plain := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"name":[{"family":"Doe"}]}`
	writes := []struct{ name, method, contentType, body string }{
		{"gp []", "PUT", "application/fhir+json", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"generalPractitioner":[]}`},
		{"gp null", "PUT", "application/fhir+json", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"generalPractitioner":null}`},
		{"org null", "PUT", "application/fhir+json", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"managingOrganization":null}`},
		{"gp object", "PUT", "application/fhir+json", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"generalPractitioner":{"reference":"Practitioner/x"}}`},
		{"org array", "PUT", "application/fhir+json", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"managingOrganization":[{"reference":"Organization/general"}]}`},
		{"patch gp []", "PATCH", "application/json-patch+json", `[{"op":"add","path":"/generalPractitioner","value":[]}]`},
		{"patch gp object", "PATCH", "application/json-patch+json", `[{"op":"add","path":"/generalPractitioner","value":{"reference":"Practitioner/x"}}]`},
	}
	for _, w := range writes {
		var seen []string
		for _, st := range []string{enrolled, plain} {
			up := newStoreUpstream(map[string]string{"Patient/p1": st, "Practitioner/x": `{"resourceType":"Practitioner","id":"x"}`,
				"Organization/general": `{"resourceType":"Organization","id":"general"}`})
			h := newHarness(t, up.handler, withProgram)
			resp, body := h.send(w.method, "/fhir/Patient/p1", tokOtherWriter, w.contentType, w.body)
			_, after := h.get("/fhir/Patient/p1", tokOtherWriter)
			seen = append(seen, strconv.Itoa(resp.StatusCode)+" "+strings.ReplaceAll(body, `"versionId":"2"`, "")+" | "+strings.ReplaceAll(after, `"versionId":"2"`, ""))
			if st == enrolled && resp.StatusCode < 300 && !strings.Contains(up.get("Patient/p1"), "Organization/p2") {
				t.Errorf("%s: the enrolment was erased: %s", w.name, up.get("Patient/p1"))
			}
		}
		if seen[0] != seen[1] {
			t.Errorf("%s: enrolled and plain Patients answer differently:\n enrolled %s\n plain    %s", w.name, seen[0], seen[1])
		}
	}
}
