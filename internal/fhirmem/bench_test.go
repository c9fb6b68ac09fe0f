package fhirmem

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ds4p/ds4p/internal/synth"
)

// BenchmarkSearch measures the server's own cost of answering a search
// for a 1,000-entry page, without a network.
func BenchmarkSearch(b *testing.B) {
	srv := New("/fhir")
	if err := srv.Load(synth.Generate(synth.Options{Seed: 1, Patients: 40}).Raw()...); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/fhir/Observation?_count=1000", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}
