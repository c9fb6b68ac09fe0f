// Package fjsontest finds the shared third-party test data and builds FHIR
// Bundles from it for tests and benchmarks.
//
// The data lives beside the checkout, in ../shared/data relative to the
// module root (see /work/shared/data/README.md). Tests that need it call
// DataDir, which skips the test with a clear message when it is absent, so
// that a fresh clone still passes its self-contained tests.
package fjsontest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// DataPath returns the shared data folder sub (e.g. "synthea-10") and
// whether it exists.
func DataPath(sub string) (string, bool) {
	root, err := moduleRoot()
	if err != nil {
		return "", false
	}
	dir := filepath.Join(root, "..", "shared", "data", sub)
	st, err := os.Stat(dir)
	return dir, err == nil && st.IsDir()
}

// DataDir returns the shared data folder sub, or skips tb when it is absent.
func DataDir(tb testing.TB, sub string) string {
	tb.Helper()
	dir, ok := DataPath(sub)
	if !ok {
		tb.Skipf("shared test data %q is absent (expected in ../shared/data beside the checkout); skipping", sub)
	}
	return dir
}

// moduleRoot walks up from the working directory to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("fjsontest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Resource is one FHIR resource read from an NDJSON file.
type Resource struct {
	File string // base name of the NDJSON file
	Line int    // 1-based line number
	JSON []byte
}

// SyntheaResources returns every resource of the synthea-10 NDJSON files,
// or skips tb when the data is absent.
func SyntheaResources(tb testing.TB) []Resource {
	tb.Helper()
	rs, err := LoadNDJSON(DataDir(tb, "synthea-10"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(rs) == 0 {
		tb.Skip("synthea-10 holds no resources; skipping")
	}
	return rs
}

// LoadNDJSON returns the resources of every *.ndjson file in dir, in file
// name order; log.ndjson, which holds bulk export events, is left out.
func LoadNDJSON(dir string) ([]Resource, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []Resource
	for _, f := range files {
		if filepath.Base(f) == "log.ndjson" {
			continue
		}
		rs, err := readNDJSON(f)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// readNDJSON returns the non-empty lines of one NDJSON file.
func readNDJSON(path string) ([]Resource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Resource
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for n := 1; sc.Scan(); n++ {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, Resource{File: filepath.Base(path), Line: n, JSON: slices.Clone(line)})
		}
	}
	return out, sc.Err()
}

// BenchResources returns resources for benchmarks: synthea-10 interleaved by
// type when present, else generated ones, and the name of the source.
func BenchResources() ([][]byte, string) {
	if dir, ok := DataPath("synthea-10"); ok {
		if rs, err := LoadNDJSON(dir); err == nil && len(rs) > 0 {
			return Interleave(rs), "synthea-10"
		}
	}
	return Generated(64), "generated"
}

// Bundle returns a searchset Bundle of n entries whose resources cycle
// through resources, interleaving types the way a search with _include
// would. With no resources it generates plain Condition and Observation
// entries instead.
func Bundle(resources [][]byte, n int) []byte {
	if len(resources) == 0 {
		resources = Generated(64)
	}
	b := []byte(`{"resourceType":"Bundle","id":"bench","type":"searchset","total":` + strconv.Itoa(n) + `,"entry":[`)
	for k := range n {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"fullUrl":"urn:uuid:entry-`...)
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, `","resource":`...)
		b = append(b, resources[k%len(resources)]...)
		b = append(b, `,"search":{"mode":"match"}}`...)
	}
	return append(b, "]}"...)
}

// Interleave returns the resources of rs ordered round-robin by file, so
// that any prefix mixes every resource type.
func Interleave(rs []Resource) [][]byte {
	byFile := map[string][][]byte{}
	var files []string
	for _, r := range rs {
		if _, ok := byFile[r.File]; !ok {
			files = append(files, r.File)
		}
		byFile[r.File] = append(byFile[r.File], r.JSON)
	}
	var out [][]byte
	for k := 0; len(out) < len(rs); k++ {
		for _, f := range files {
			if k < len(byFile[f]) {
				out = append(out, byFile[f][k])
			}
		}
	}
	return out
}

// Generated returns n synthetic resources shaped like US Core data, for
// benchmarks that run without the shared data.
func Generated(n int) [][]byte {
	out := make([][]byte, n)
	for k := range n {
		id := strconv.Itoa(k)
		if k%2 == 0 {
			out[k] = []byte(`{"resourceType":"Condition","id":"cond-` + id + `","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-encounter-diagnosis"]},` +
				`"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},` +
				`"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},` +
				`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis","display":"Encounter Diagnosis"}]}],` +
				`"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2 (disorder)"}],"text":"Diabetes mellitus type 2 (disorder)"},` +
				`"subject":{"reference":"Patient/p-` + strconv.Itoa(k%10) + `"},"encounter":{"reference":"Encounter/e-` + id + `"},` +
				`"onsetDateTime":"2019-01-19T22:58:16-05:00","recordedDate":"2019-01-19T22:58:16-05:00"}`)
			continue
		}
		out[k] = []byte(`{"resourceType":"Observation","id":"obs-` + id + `","status":"final",` +
			`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital signs"}]}],` +
			`"code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}],"text":"Body weight"},` +
			`"subject":{"reference":"Patient/p-` + strconv.Itoa(k%10) + `"},"effectiveDateTime":"2019-01-19T22:58:16-05:00",` +
			`"valueQuantity":{"value":60.40,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`)
	}
	return out
}
