package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// The header values every exchange shares (fhir.go) hold one value each,
// with no room after it: two responses that each Add to one of them get
// arrays of their own, and neither sees the other's value nor changes
// the shared one.
func TestSharedHeaderValuesStayShared(t *testing.T) {
	for name, v := range map[string][]string{
		"Content-Type": fhirJSONValue, "Cache-Control": noStoreValue, "Vary": varyAcceptEncodingValue,
		"Content-Encoding": gzipValue, "Accept": acceptFHIRJSONValue,
	} {
		if len(v) != 1 || cap(v) != 1 {
			t.Fatalf("%s: shared value %q has length %d, capacity %d; want 1 and 1", name, v, len(v), cap(v))
		}
		was := v[0]
		a, b := http.Header{name: v}, http.Header{name: v}
		a.Add(name, "a")
		b.Add(name, "b")
		if got := a.Values(name); len(got) != 2 || got[0] != was || got[1] != "a" {
			t.Errorf("%s: first header %q; want [%q a]", name, got, was)
		}
		if got := b.Values(name); len(got) != 2 || got[0] != was || got[1] != "b" {
			t.Errorf("%s: second header %q; want [%q b]", name, got, was)
		}
		if len(v) != 1 || v[0] != was {
			t.Errorf("%s: the shared value became %q", name, v)
		}
	}
}

// A caller's response header is its own: changing the values a read
// answered with (as a middleware might) changes nothing of the next
// read's, and the upstream request asks for FHIR JSON every time.
func TestResponseHeaderValuesNotShared(t *testing.T) {
	accepts := make(chan string, 4)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepts <- r.Header.Get("Accept")
		fhirJSONHandler(200, bpObs)(w, r)
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20}, Deps{
		Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	for i := range 2 {
		req := httptest.NewRequest(http.MethodGet, "/fhir/Observation/bp1", nil)
		req.Header.Set("Authorization", "Bearer "+tokConsented)
		req.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("read %d: status %d: %s", i, rec.Code, rec.Body)
		}
		if a := <-accepts; a != "application/fhir+json" {
			t.Errorf("read %d: the upstream was asked for %q", i, a)
		}
		hd := rec.Header()
		for k, want := range map[string]string{"Content-Type": fhirJSON, "Cache-Control": "no-store", "Vary": "Accept-Encoding"} {
			if got := hd.Values(k); len(got) != 1 || got[0] != want {
				t.Fatalf("read %d: %s %q; want [%q]", i, k, got, want)
			}
			hd[k][0] = "changed by the caller"
		}
	}
}
