package proxy

import (
	"context"
	"io"
	"net/http"
	"net/url"
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
