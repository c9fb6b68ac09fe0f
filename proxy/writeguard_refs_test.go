package proxy

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// refsPatient and refsObs are ordinary: every caller may read them.
const (
	refsPatient = `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`
	refsObs     = `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"}}`
	// refsEncounter is a Part 2 encounter: withheld from tokOther.
	refsEncounter = `{"resourceType":"Encounter","id":"e-p2","status":"finished","subject":{"reference":"Patient/p1"},"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}]}`
)

// refUpstream behaves as a FHIR server enforcing referential integrity
// would, as far as these tests need: GET Type/id from resources (404
// otherwise), a compartment search answering 404 for an unknown owner,
// and writes (counted) stored and echoed with 201/200 and a Location. A GET
// carrying If-Match answers 412 unless it matches the stored version, as a
// server evaluating preconditions on reads does.
type refUpstream struct {
	mu        sync.Mutex
	resources map[string]string
	writes    []string
	reads     map[string]int
}

func newRefUpstream() *refUpstream {
	return &refUpstream{reads: map[string]int{}, resources: map[string]string{
		"Patient/p1": refsPatient, "Condition/sud1": sudCondition, "Observation/o1": refsObs, "Encounter/e-p2": refsEncounter,
		"Condition/sud1/_history/3": sudCondition, // its current version, read by version too
	}}
}

func (u *refUpstream) handle(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
	u.mu.Lock()
	defer u.mu.Unlock()
	notFound := fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)
	if r.Method != http.MethodGet {
		b, _ := io.ReadAll(r.Body)
		u.writes = append(u.writes, r.Method+" "+key)
		switch {
		case r.Method == http.MethodPost && key == "/fhir/R4":
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[]}`)(w, r)
		case r.Method == http.MethodPost:
			w.Header().Set("Location", "http://"+r.Host+"/fhir/R4/"+key+"/new1/_history/1")
			w.Header().Set("ETag", `W/"1"`)
			fhirJSONHandler(201, strings.Replace(string(b), `"id":"o1"`, `"id":"new1"`, 1))(w, r)
		default:
			fhirJSONHandler(200, u.resources[key])(w, r)
		}
		return
	}
	u.reads[key]++
	segs := strings.Split(key, "/")
	if len(segs) == 3 { // compartment search
		if _, ok := u.resources[segs[0]+"/"+segs[1]]; !ok {
			notFound(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
		return
	}
	body, ok := u.resources[key]
	if !ok {
		notFound(w, r)
		return
	}
	if im := r.Header.Get("If-Match"); im != "" && !strings.Contains(body, `"versionId":"`+strings.Trim(strings.TrimPrefix(im, "W/"), `"`)+`"`) {
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	fhirJSONHandler(200, body)(w, r)
}

func (u *refUpstream) writeCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.writes)
}

func (u *refUpstream) readsOf(key string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reads[key]
}

// sendH is send with extra request headers.
func (h *harness) sendH(method, path, token, contentType, body string, hdr ...string) (*http.Response, string) {
	h.t.Helper()
	return h.do(method, path, token, contentType, body, hdr...)
}

func obsWithFocus(ref string) string {
	return `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"},"focus":[{"reference":"` + ref + `"}]}`
}

func entryBundle(typ string, entries ...string) string {
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
}

// TestWriteReferenceToWithheldAnswersAsMissing: a write whose body refers
// to a resource the caller may not read answers byte for byte as one that
// refers to a resource that does not exist (400), in every form of write,
// and neither reaches the upstream; a caller who may read the target
// writes.
func TestWriteReferenceToWithheldAnswersAsMissing(t *testing.T) {
	t.Parallel()
	const fj, jp = "application/fhir+json", "application/json-patch+json"
	fhirPathPatch := func(ref string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"insert"},{"name":"path","valueString":"Observation.focus"},{"name":"index","valueInteger":0},{"name":"value","valueReference":{"reference":"` + ref + `"}}]}]}`
	}
	fhirPathReplace := func(ref string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.focus[0].reference"},{"name":"value","valueString":"` + ref + `"}]}]}`
	}
	binPatch := func(ref string) string {
		doc := `[{"op":"add","path":"/focus","value":[{"reference":"` + ref + `"}]}]`
		return `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + base64.StdEncoding.EncodeToString([]byte(doc)) + `"}`
	}
	cases := []struct {
		name, method, path, ctype string
		body                      func(ref string) string
	}{
		{"create", "POST", "/fhir/Observation", fj, obsWithFocus},
		{"create, escaped key", "POST", "/fhir/Observation", fj, func(ref string) string {
			return strings.Replace(obsWithFocus(ref), `"focus":[{"reference"`, `"focus":[{"refer\u0065nce"`, 1)
		}},
		{"create, in an extension", "POST", "/fhir/Observation", fj, func(ref string) string {
			return strings.Replace(obsWithFocus("Patient/p1"), `"status"`, `"extension":[{"url":"http://x.example/e","valueReference":{"reference":"`+ref+`"}}],"status"`, 1)
		}},
		{"create, versioned", "POST", "/fhir/Observation", fj, func(ref string) string { return obsWithFocus(ref + "/_history/3") }},
		{"create, absolute upstream", "POST", "/fhir/Observation", fj, nil}, // set below: needs the upstream's URL
		{"update", "PUT", "/fhir/Observation/o1", fj, obsWithFocus},
		{"json patch", "PATCH", "/fhir/Observation/o1", jp, func(ref string) string {
			return `[{"op":"add","path":"/focus","value":[{"reference":"` + ref + `"}]}]`
		}},
		{"json patch of a reference string", "PATCH", "/fhir/Observation/o1", jp, func(ref string) string {
			return `[{"op":"replace","path":"/focus/0/reference","value":"` + ref + `"}]`
		}},
		{"fhirpath patch", "PATCH", "/fhir/Observation/o1", fj, fhirPathPatch},
		{"fhirpath patch of a reference string", "PATCH", "/fhir/Observation/o1", fj, fhirPathReplace},
		{"fhirpath patch, value as parts", "PATCH", "/fhir/Observation/o1", fj, func(ref string) string {
			return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.focus[0]"},{"name":"value","part":[{"name":"reference","valueString":"` + ref + `"}]}]}]}`
		}},
		{"fhirpath patch, backtick name", "PATCH", "/fhir/Observation/o1", fj, func(ref string) string {
			return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.focus[0].` + "`reference`" + `"},{"name":"value","valueString":"` + ref + `"}]}]}`
		}},
		{"validate", "POST", "/fhir/Observation/$validate", fj, obsWithFocus},
		{"validate, in Parameters", "POST", "/fhir/Observation/$validate", fj, func(ref string) string {
			return `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":` + obsWithFocus(ref) + `}]}`
		}},
		{"batch create", "POST", "/fhir", fj, func(ref string) string {
			return entryBundle("batch", `{"request":{"method":"POST","url":"Observation"},"resource":`+obsWithFocus(ref)+`}`)
		}},
		{"transaction update", "POST", "/fhir", fj, func(ref string) string {
			return entryBundle("transaction", `{"request":{"method":"PUT","url":"Observation/o1"},"resource":`+obsWithFocus(ref)+`}`)
		}},
		{"transaction binary patch", "POST", "/fhir", fj, func(ref string) string {
			return entryBundle("transaction", `{"request":{"method":"PATCH","url":"Observation/o1"},"resource":`+binPatch(ref)+`}`)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := newRefUpstream()
			h := newHarness(t, up.handle)
			body := c.body
			if body == nil {
				body = func(ref string) string { return obsWithFocus(h.base() + "/" + ref) }
			}
			r1, b1 := h.send(c.method, c.path, tokOtherWriter, c.ctype, body("Condition/sud1"))
			r2, b2 := h.send(c.method, c.path, tokOtherWriter, c.ctype, body("Condition/zz91"))
			if r1.StatusCode != 400 || r2.StatusCode != 400 || strings.ReplaceAll(b1, "sud1", "zz91") != b2 || !strings.Contains(b1, "Condition/sud1, which is not known") {
				t.Fatalf("withheld %d %s\nmissing %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
			}
			for _, r := range []*http.Response{r1, r2} {
				r.Header.Del("Date")
				r.Header.Del("X-Request-Id")
			}
			if !equalHeaders(r1.Header, r2.Header) {
				t.Fatalf("headers differ:\n%v\n%v", r1.Header, r2.Header)
			}
			if n := up.writeCount(); n != 0 {
				t.Fatalf("a refused write reached the upstream: %v", up.writes)
			}
			// The consented caller may read Condition/sud1: its write goes.
			if r, b := h.send(c.method, c.path, tokAll, c.ctype, body("Condition/sud1")); r.StatusCode >= 300 || up.writeCount() != 1 {
				t.Fatalf("consented write: %d %s, %d writes", r.StatusCode, b, up.writeCount())
			}
		})
	}
}

// TestWriteReferencesRefusedOrSkipped: conditional references are refused
// whatever is stored, without a read; unreadable relative forms are
// refused; contained, urn: and other servers' references are not read;
// too many targets are refused before any is read; each target is read
// once.
func TestWriteReferencesRefusedOrSkipped(t *testing.T) {
	t.Parallel()
	const fj, jp = "application/fhir+json", "application/json-patch+json"
	cond := "Condition?code=F11.20&subject=Patient/p1"
	many := make([]string, 0, 101)
	for i := range 101 {
		many = append(many, `{"reference":"Condition/c`+strconv.Itoa(i)+`"}`)
	}
	cases := []struct {
		name, method, path, ctype, body string
		status                          int // 0: forwarded
		msg                             string
	}{
		{"conditional", "POST", "/fhir/Observation", fj, obsWithFocus(cond), 400, "conditional reference"},
		{"conditional, absolute", "POST", "/fhir/Observation", fj, obsWithFocus("http://elsewhere.example/fhir/" + cond), 400, "conditional reference"},
		{"conditional in a transaction", "POST", "/fhir", fj, entryBundle("transaction", `{"request":{"method":"POST","url":"Observation"},"resource":`+obsWithFocus(cond)+`}`), 400, "conditional reference"},
		{"conditional in a json patch", "PATCH", "/fhir/Observation/o1", jp, `[{"op":"replace","path":"/subject/reference","value":"Patient?identifier=x"}]`, 400, "conditional reference"},
		{"not Type/id", "POST", "/fhir/Observation", fj, obsWithFocus("Condition/sud1/extra"), 400, "cannot check"},
		{"too many", "POST", "/fhir/Observation", fj, strings.Replace(obsWithFocus("Patient/p1"), `"focus":[`, `"focus":[`+strings.Join(many, ",")+`,`, 1), 400, "too many references"},
		{"contained", "POST", "/fhir/Observation", fj, strings.Replace(obsWithFocus("#c1"), `"status"`, `"contained":[{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}}],"status"`, 1), 0, ""},
		{"another server", "POST", "/fhir/Observation", fj, obsWithFocus("https://other.example/fhir/Condition/sud1"), 0, ""},
		{"urn:uuid in a transaction", "POST", "/fhir", fj, entryBundle("transaction",
			`{"fullUrl":"urn:uuid:0c3e4a4e-1b8f-4d0e-9e7e-2a1b2c3d4e5f","request":{"method":"POST","url":"Condition"},"resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}}`,
			`{"request":{"method":"POST","url":"Observation"},"resource":`+obsWithFocus("urn:uuid:0c3e4a4e-1b8f-4d0e-9e7e-2a1b2c3d4e5f")+`}`), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := newRefUpstream()
			h := newHarness(t, up.handle)
			resp, body := h.send(c.method, c.path, tokAll, c.ctype, c.body)
			if c.status == 0 {
				if resp.StatusCode >= 300 || up.writeCount() != 1 {
					t.Fatalf("%d %s, %d writes", resp.StatusCode, body, up.writeCount())
				}
				if n := up.readsOf("Patient/p1"); n != 1 {
					t.Errorf("Patient/p1 read %d times, want once", n)
				}
				return
			}
			if resp.StatusCode != c.status || !strings.Contains(body, c.msg) || up.writeCount() != 0 {
				t.Fatalf("%d %s, %d writes; want %d %q", resp.StatusCode, body, up.writeCount(), c.status, c.msg)
			}
			if c.path != "/fhir/Observation/o1" && (up.readsOf("Condition/sud1") != 0 || up.readsOf("Patient/p1") != 0) {
				t.Errorf("a refused write read its targets")
			}
		})
	}
}

// JSON Patch copy and move write what is already in the resource, where an
// earlier operation can have put any string: refused.
func TestJSONPatchCopyAndMoveRefused(t *testing.T) {
	t.Parallel()
	up := newRefUpstream()
	h := newHarness(t, up.handle)
	for _, op := range []string{"copy", "MOVE"} {
		body := `[{"op":"add","path":"/note","value":[{"text":"Condition/sud1"}]},{"op":"` + op + `","from":"/note/0/text","path":"/focus/0/reference"}]`
		resp, got := h.send(http.MethodPatch, "/fhir/Observation/o1", tokOtherWriter, "application/json-patch+json", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "copy and move") {
			t.Errorf("%s: %d %s", op, resp.StatusCode, got)
		}
	}
	if up.writeCount() != 0 {
		t.Fatalf("%d writes reached the upstream", up.writeCount())
	}
}
