package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestWrittenButWithheldAnswersWhatTheUpstreamDid: a create whose echoed
// result the caller may not read answers the upstream's 201 with its
// Location (on the proxy's base) and ETag and no body, not 404 with an
// empty id; a read keeps answering as missing.
func TestWrittenButWithheldAnswersWhatTheUpstreamDid(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("http://upstream.example/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: &fakeConsents{}})
	if err != nil {
		t.Fatal(err)
	}
	resp := func(req fhirRequest, status int) (*http.Response, *exchange) {
		ex := &exchange{req: req, publicBase: "https://ds4p.example/fhir"}
		h := http.Header{}
		h.Set("Location", "http://upstream.example/fhir/R4/Condition/new1/_history/1")
		h.Set("ETag", `W/"1"`)
		h.Set("Content-Type", "application/fhir+json")
		return &http.Response{StatusCode: status, Header: h, Body: http.NoBody}, ex
	}
	r, ex := resp(fhirRequest{Interaction: Create, Type: "Condition", Path: "Condition"}, 201)
	if !s.answerWrittenWithheld(r, ex) {
		t.Fatal("a create's withheld result not answered as written")
	}
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 201 || len(b) != 0 || r.Header.Get("Location") != "https://ds4p.example/fhir/Condition/new1/_history/1" || r.Header.Get("ETag") != `W/"1"` {
		t.Fatalf("%d %v %q", r.StatusCode, r.Header, b)
	}
	for _, c := range []struct {
		req    fhirRequest
		status int
	}{
		{fhirRequest{Interaction: Read, Type: "Condition", ID: "sud1"}, 200},
		{fhirRequest{Interaction: Operation, Type: "Condition", Operation: "$validate"}, 200},
		{fhirRequest{Interaction: Update, Type: "Condition", ID: "sud1"}, 404},
	} {
		if r, ex := resp(c.req, c.status); s.answerWrittenWithheld(r, ex) {
			t.Errorf("%+v %d answered as written", c.req, c.status)
		}
	}
}

// Through the proxy: a caller without consent who creates an SUD Condition
// gets the upstream's 201, a Location on the proxy's base and no body
// (before: 404 "Condition/ is not known", and clients retried the write).
func TestCreateOfWithheldResultAnswers201(t *testing.T) {
	t.Parallel()
	up := newRefUpstream()
	h := newHarness(t, up.handle)
	body := strings.Replace(sudCondition, `"id":"sud1",`, ``, 1)
	resp, got := h.send(http.MethodPost, "/fhir/Condition", tokOtherWriter, "application/fhir+json", body)
	if resp.StatusCode != http.StatusCreated || got != "" || !strings.HasPrefix(resp.Header.Get("Location"), h.proxy.URL+"/fhir/Condition/") {
		t.Fatalf("create: %d %v %q", resp.StatusCode, resp.Header, got)
	}
	if up.writeCount() != 1 {
		t.Fatalf("%d writes upstream, want 1", up.writeCount())
	}
	// A consented caller still gets the echoed resource with its labels.
	resp, got = h.send(http.MethodPost, "/fhir/Condition", "Organization/org-a|TREAT|user/*.*", "application/fhir+json", body)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(got, `"code":"SUD"`) {
		t.Fatalf("consented create: %d %s", resp.StatusCode, got)
	}
}

// In a transaction, an entry that created a resource the caller may not
// read keeps its status, location (on the proxy's base) and etag, without
// the resource; an entry that read a withheld resource answers as a
// missing one; the entries keep their positions.
func TestTransactionEntryWrittenButWithheld(t *testing.T) {
	t.Parallel()
	var base string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/fhir/R4/Patient/p1":
			fhirJSONHandler(200, refsPatient)(w, r)
		case r.Method == http.MethodPost && r.URL.Path == "/fhir/R4":
			created := strings.Replace(sudCondition, `"id":"sud1"`, `"id":"new1"`, 1)
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"transaction-response","entry":[`+
				`{"resource":`+created+`,"response":{"status":"201 Created","location":"`+base+`/Condition/new1/_history/1","etag":"W/\"1\"","lastModified":"2026-12-04T10:00:00Z"}},`+
				`{"resource":`+sudCondition+`,"response":{"status":"200 OK"}},`+
				`{"resource":`+bpObs+`,"response":{"status":"201 Created","location":"`+base+`/Observation/bp1/_history/1"}}]}`)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	})
	base = h.base()
	newCond := strings.Replace(sudCondition, `"id":"sud1",`, ``, 1)
	req := entryBundle("transaction",
		`{"resource":`+newCond+`,"request":{"method":"POST","url":"Condition"}}`,
		`{"request":{"method":"GET","url":"Condition/sud1"}}`,
		`{"resource":`+bpObs+`,"request":{"method":"POST","url":"Observation"}}`)
	resp, got := h.send(http.MethodPost, "/fhir", tokOtherWriter, "application/fhir+json", req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("transaction: %d %s", resp.StatusCode, got)
	}
	var b struct {
		Entry []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal([]byte(got), &b); err != nil || len(b.Entry) != 3 {
		t.Fatalf("%v %s", err, got)
	}
	want0 := `{"response":{"status":"201 Created","location":"` + h.proxy.URL + `/fhir/Condition/new1/_history/1","etag":"W/\"1\"","lastModified":"2026-12-04T10:00:00Z"}}`
	if string(b.Entry[0]) != want0 {
		t.Errorf("created, withheld entry: %s\nwant %s", b.Entry[0], want0)
	}
	if string(b.Entry[1]) != string(goneEntry) {
		t.Errorf("read of a withheld resource: %s, want %s", b.Entry[1], goneEntry)
	}
	if !strings.Contains(string(b.Entry[2]), `"id":"bp1"`) {
		t.Errorf("created, ordinary entry: %s", b.Entry[2])
	}
	if strings.Contains(got, "F11.20") || strings.Contains(got, "sud1") {
		t.Errorf("withheld data in the answer: %s", got)
	}
}
