package medplum_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/test/medplum"
)

// bundle is the part of a FHIR Bundle these tests read.
type bundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        *int   `json:"total"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		FullURL  string                `json:"fullUrl"`
		Resource resource              `json:"resource"`
		Search   struct{ Mode string } `json:"search"`
	} `json:"entry"`
}

func (b bundle) link(relation string) string {
	for _, l := range b.Link {
		if l.Relation == relation {
			return l.URL
		}
	}
	return ""
}

// refs lists the entries as Type/id.
func (b bundle) refs() []string {
	var out []string
	for _, e := range b.Entry {
		out = append(out, e.Resource.ResourceType+"/"+e.Resource.ID)
	}
	return out
}

type resource struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated"`
		Security    []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"security"`
	} `json:"meta"`
	FhirVersion string `json:"fhirVersion"`
}

// get fetches url and decodes its JSON body into out (when out is not nil).
func get(t *testing.T, url string, out any) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/fhir+json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %s: decoding %s: %v", url, resp.Status, body, err)
		}
	}
	return resp
}

func getBundle(t *testing.T, url string) bundle {
	t.Helper()
	var b bundle
	if resp := get(t, url, &b); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return b
}

func patient(id string, extra string) []byte {
	return []byte(fmt.Sprintf(`{"resourceType":"Patient","id":%q%s}`, id, extra))
}

func withSubject(resourceType, id, patientID, extra string) []byte {
	return []byte(fmt.Sprintf(`{"resourceType":%q,"id":%q,"subject":{"reference":"Patient/%s"}%s}`,
		resourceType, id, patientID, extra))
}

// TestServer runs its subtests in parallel against one server; each uses its own ids.
func TestServer(t *testing.T) {
	t.Parallel()
	began := time.Now()
	srv := medplum.Start(t)
	t.Logf("Start took %s", time.Since(began))
	if !strings.HasPrefix(srv.BaseURL, "http://127.0.0.1:") || !strings.HasSuffix(srv.BaseURL, "/fhir/R4") {
		t.Fatalf("BaseURL = %q", srv.BaseURL)
	}

	t.Run("CreateWithClientIDThenRead", func(t *testing.T) {
		t.Parallel()
		srv.Put(t, patient("create-1", `,"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"name":[{"family":"Read"}]`))
		var p resource
		resp := get(t, srv.BaseURL+"/Patient/create-1", &p)
		if resp.StatusCode != http.StatusOK || p.ID != "create-1" || p.ResourceType != "Patient" {
			t.Fatalf("read back: %s %+v", resp.Status, p)
		}
		if want := `W/"` + p.Meta.VersionID + `"`; p.Meta.VersionID == "" || resp.Header.Get("ETag") != want {
			t.Errorf("ETag = %q, meta.versionId = %q", resp.Header.Get("ETag"), p.Meta.VersionID)
		}
		if len(p.Meta.Security) != 1 || p.Meta.Security[0].Code != "R" {
			t.Errorf("meta.security not kept: %+v", p.Meta.Security)
		}
	})

	t.Run("PagingLinksAndFullURL", func(t *testing.T) {
		t.Parallel()
		var patients [][]byte
		for i := range 5 {
			patients = append(patients, patient(fmt.Sprintf("page-%d", i), `,"identifier":[{"system":"urn:test:paging","value":"x"}]`))
		}
		srv.Put(t, patients...)
		next := srv.BaseURL + "/Patient?identifier=" + url.QueryEscape("urn:test:paging|") + "&_count=2"
		var seen []string
		for page := 0; next != ""; page++ {
			b := getBundle(t, next)
			if b.Type != "searchset" || b.Total == nil || *b.Total != 5 {
				t.Fatalf("page %d: type %q total %v", page, b.Type, b.Total)
			}
			if want := min(2, 5-2*page); len(b.Entry) != want {
				t.Fatalf("page %d: %d entries, want %d", page, len(b.Entry), want)
			}
			for _, e := range b.Entry {
				if want := srv.BaseURL + "/Patient/" + e.Resource.ID; e.FullURL != want {
					t.Errorf("fullUrl = %q, want %q", e.FullURL, want)
				}
				seen = append(seen, e.Resource.ID)
			}
			if self := b.link("self"); !strings.HasPrefix(self, srv.BaseURL+"/Patient?") {
				t.Errorf("page %d: self link %q", page, self)
			}
			if prev := b.link("previous"); (page > 0) != (prev != "") {
				t.Errorf("page %d: previous link %q", page, prev)
			}
			next = b.link("next")
			if next != "" && !strings.HasPrefix(next, srv.BaseURL+"/Patient?") {
				t.Fatalf("page %d: next link %q is not absolute on %s", page, next, srv.BaseURL)
			}
			if page > 3 {
				t.Fatal("more pages than expected")
			}
		}
		slices.Sort(seen)
		if want := []string{"page-0", "page-1", "page-2", "page-3", "page-4"}; !slices.Equal(seen, want) {
			t.Errorf("paged through %v, want %v", seen, want)
		}
	})

	t.Run("Include", func(t *testing.T) {
		t.Parallel()
		srv.Put(t,
			patient("inc-p", ""),
			withSubject("MedicationRequest", "inc-m", "inc-p", `,"status":"active","intent":"order"`))
		b := getBundle(t, srv.BaseURL+"/MedicationRequest?_id=inc-m&_include=MedicationRequest:subject")
		if got, want := b.refs(), []string{"MedicationRequest/inc-m", "Patient/inc-p"}; !slices.Equal(got, want) {
			t.Fatalf("entries %v, want %v", got, want)
		}
		if b.Entry[0].Search.Mode != "match" || b.Entry[1].Search.Mode != "include" {
			t.Errorf("search modes %q, %q", b.Entry[0].Search.Mode, b.Entry[1].Search.Mode)
		}
		if b.Entry[1].FullURL != srv.BaseURL+"/Patient/inc-p" {
			t.Errorf("included fullUrl %q", b.Entry[1].FullURL)
		}
	})

	t.Run("Everything", func(t *testing.T) {
		t.Parallel()
		srv.Put(t,
			patient("ev-1", ""),
			patient("ev-2", ""),
			withSubject("Condition", "ev-c1", "ev-1", ""),
			withSubject("Encounter", "ev-e1", "ev-1", `,"status":"finished","class":{"code":"AMB"}`),
			withSubject("Observation", "ev-o1", "ev-1", `,"status":"final","code":{"text":"x"}`),
			withSubject("Condition", "ev-c2", "ev-2", ""),
			withSubject("Observation", "ev-o2", "ev-2", `,"status":"final","code":{"text":"x"}`))
		b := getBundle(t, srv.BaseURL+"/Patient/ev-1/$everything")
		got := b.refs()
		slices.Sort(got)
		want := []string{"Condition/ev-c1", "Encounter/ev-e1", "Observation/ev-o1", "Patient/ev-1"}
		if !slices.Equal(got, want) {
			t.Fatalf("$everything = %v, want %v", got, want)
		}
		for _, e := range b.Entry {
			if e.FullURL != srv.BaseURL+"/"+e.Resource.ResourceType+"/"+e.Resource.ID {
				t.Errorf("fullUrl %q", e.FullURL)
			}
		}
	})

	t.Run("PatientParamMatchesSubject", func(t *testing.T) {
		t.Parallel()
		srv.Put(t,
			patient("pp-1", ""),
			withSubject("Observation", "pp-o1", "pp-1", `,"status":"final","code":{"text":"x"}`),
			withSubject("Condition", "pp-c1", "pp-1", ""))
		for _, q := range []string{
			"/Observation?patient=Patient/pp-1", "/Observation?patient=pp-1", "/Observation?subject=Patient/pp-1",
		} {
			if got := getBundle(t, srv.BaseURL+q).refs(); !slices.Equal(got, []string{"Observation/pp-o1"}) {
				t.Errorf("%s = %v", q, got)
			}
		}
		if got := getBundle(t, srv.BaseURL+"/Condition?patient=Patient/pp-1").refs(); !slices.Equal(got, []string{"Condition/pp-c1"}) {
			t.Errorf("Condition?patient = %v", got)
		}
	})

	t.Run("Metadata", func(t *testing.T) {
		t.Parallel()
		var cs resource
		if resp := get(t, srv.BaseURL+"/metadata", &cs); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metadata: %s", resp.Status)
		}
		if cs.ResourceType != "CapabilityStatement" || cs.FhirVersion != "4.0.1" {
			t.Errorf("metadata = %+v", cs)
		}
	})

	t.Run("HistoryOfUpdatedResource", func(t *testing.T) {
		t.Parallel()
		srv.Put(t, patient("hist-1", `,"gender":"male"`))
		srv.Put(t, patient("hist-1", `,"gender":"female"`))
		b := getBundle(t, srv.BaseURL+"/Patient/hist-1/_history")
		if b.Type != "history" || len(b.Entry) != 2 || b.Total == nil || *b.Total != 2 {
			t.Fatalf("history: type %q, %d entries, total %v", b.Type, len(b.Entry), b.Total)
		}
		v0, v1 := b.Entry[0].Resource.Meta.VersionID, b.Entry[1].Resource.Meta.VersionID
		if v0 == "" || v0 == v1 {
			t.Errorf("versionIds %q, %q", v0, v1)
		}
		var current resource
		get(t, srv.BaseURL+"/Patient/hist-1", &current)
		if current.Meta.VersionID != v0 {
			t.Errorf("newest history entry %q is not the current version %q", v0, current.Meta.VersionID)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		for path, status := range map[string]int{
			"/Patient/does-not-exist":  http.StatusNotFound,
			"/Patient?no-such-param=x": http.StatusBadRequest,
			"/NoSuchType/1":            http.StatusNotFound,
		} {
			var oo resource
			if resp := get(t, srv.BaseURL+path, &oo); resp.StatusCode != status || oo.ResourceType != "OperationOutcome" {
				t.Errorf("GET %s: %s %q, want %d OperationOutcome", path, resp.Status, oo.ResourceType, status)
			}
		}
	})

	// Medplum stores JSON numbers as JavaScript numbers: trailing zeros are lost. The proxy
	// must not rely on this upstream to check byte-for-byte decimal preservation.
	t.Run("DecimalsAreRewritten", func(t *testing.T) {
		t.Parallel()
		srv.Put(t, withSubject("Observation", "dec-1", "dec-p", `,"status":"final","code":{"text":"w"},"valueQuantity":{"value":60.40,"unit":"kg"}`))
		resp, err := http.Get(srv.BaseURL + "/Observation/dec-1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `"value":60.4,`) {
			t.Errorf("decimal handling changed, update README: %s", body)
		}
	})

	t.Run("NoGzipByDefault", func(t *testing.T) {
		t.Parallel()
		resp := getRaw(t, srv.BaseURL+"/metadata", "gzip")
		if enc := resp.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("Content-Encoding %q without WithGzip", enc)
		}
	})
}

// getRaw fetches url with the given Accept-Encoding and without Go's transparent decoding.
func getRaw(t *testing.T, url, acceptEncoding string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestGzip(t *testing.T) {
	t.Parallel()
	began := time.Now()
	srv := medplum.Start(t, medplum.WithGzip())
	t.Logf("Start(WithGzip) took %s", time.Since(began))
	srv.Put(t, patient("gz-1", ""))

	assertGzippedPatient(t, getRaw(t, srv.BaseURL+"/Patient/gz-1", "gzip"), "gz-1")

	plain := getRaw(t, srv.BaseURL+"/Patient/gz-1", "")
	if enc := plain.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q without Accept-Encoding", enc)
	}
}

// TestGzipAlways: the server gzips even a request that does not ask for it.
func TestGzipAlways(t *testing.T) {
	t.Parallel()
	srv := medplum.Start(t, medplum.WithGzipAlways())
	srv.Put(t, patient("gz-2", ""))
	assertGzippedPatient(t, getRaw(t, srv.BaseURL+"/Patient/gz-2", ""), "gz-2")
}

// assertGzippedPatient checks that resp is the gzipped Patient id.
func assertGzippedPatient(t *testing.T, resp *http.Response, id string) {
	t.Helper()
	if enc := resp.Header.Get("Content-Encoding"); enc != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", enc)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	var p resource
	if err := json.NewDecoder(zr).Decode(&p); err != nil || p.ID != id {
		t.Fatalf("decoded %+v, %v", p, err)
	}
}

// TestLargeSearch loads 1,000 Observations and reads them back in one page, timing both.
func TestLargeSearch(t *testing.T) {
	t.Parallel()
	began := time.Now()
	srv := medplum.Start(t)
	t.Logf("Start took %s", time.Since(began))

	const n = 1000
	observations := make([][]byte, 0, n)
	for i := range n {
		observations = append(observations, withSubject("Observation", fmt.Sprintf("big-%04d", i), fmt.Sprintf("big-p%d", i%10),
			`,"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":60.4,"unit":"kg"}`))
	}
	began = time.Now()
	srv.Put(t, observations...)
	t.Logf("PUT %d Observations took %s", n, time.Since(began))

	began = time.Now()
	b := getBundle(t, srv.BaseURL+"/Observation?_count=1000")
	t.Logf("search returning %d entries took %s", len(b.Entry), time.Since(began))
	if len(b.Entry) != n || b.Total == nil || *b.Total != n || b.link("next") != "" {
		t.Fatalf("%d entries, total %v, next %q", len(b.Entry), b.Total, b.link("next"))
	}

	began = time.Now()
	b = getBundle(t, srv.BaseURL+"/Observation?patient=Patient/big-p3&_count=1000")
	t.Logf("patient= search over %d Observations took %s", n, time.Since(began))
	if len(b.Entry) != n/10 {
		t.Errorf("patient= returned %d entries, want %d", len(b.Entry), n/10)
	}

	began = time.Now()
	b = getBundle(t, srv.BaseURL+"/Observation")
	t.Logf("default page took %s", time.Since(began))
	if len(b.Entry) != 20 || b.link("next") == "" {
		t.Errorf("default page: %d entries, next %q", len(b.Entry), b.link("next"))
	}
}
