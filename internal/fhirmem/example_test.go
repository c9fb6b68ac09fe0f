package fhirmem_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/ds4p/ds4p/internal/fhirmem"
	"github.com/ds4p/ds4p/internal/synth"
)

// A server loaded with synthetic patients serves their resources byte for
// byte over real HTTP.
func Example() {
	data := synth.Generate(synth.Options{Seed: 1, Patients: 3})
	srv := fhirmem.New("/fhir", fhirmem.WithGzip())
	if err := srv.Load(data.Raw()...); err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/fhir/MedicationRequest/pat-0-p2-medrx")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want, _ := data.Find("MedicationRequest/pat-0-p2-medrx")
	fmt.Println(resp.StatusCode, resp.Header.Get("ETag"), string(body) == string(want.JSON))
	// Output: 200 W/"1" true
}
