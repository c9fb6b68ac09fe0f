package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/synth"
)

func init() {
	register("Part2RecordsLabelledBySource", testPart2RecordsLabelledBySource)
	register("HospitalSUDIsNotPart2", testHospitalSUDIsNotPart2)
	register("PropagationAcrossResponses", testPropagationAcrossResponses)
	register("PropagationFromColdCache", testPropagationFromColdCache)
}

// writeLabelConfig writes the proxy's configuration file: the synthetic
// data's Part 2 program, by organisation, location, clinician, NPI and
// meta.source.
func (e *env) writeLabelConfig() (string, error) {
	cfg := `labels:
  part2_programs:
    - name: riverside-recovery
      references: ["` + synth.Part2OrgRef + `", "` + synth.Part2PractitionerRef + `", "Location/part2-clinic-site"]
      identifiers: ["http://hl7.org/fhir/sid/us-npi|` + synth.Part2NPI + `"]
      sources: ["` + synth.Part2Source + `"]
`
	path := filepath.Join(e.work, "ds4p.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// securityCodes returns the meta.security codes of a resource.
func securityCodes(res map[string]any) map[string]bool {
	out := map[string]bool{}
	meta, _ := res["meta"].(map[string]any)
	sec, _ := meta["security"].([]any)
	for _, s := range sec {
		if m, ok := s.(map[string]any); ok {
			code, _ := m["code"].(string)
			out[code] = true
		}
	}
	return out
}

// testPart2RecordsLabelledBySource reads every Part 2 record of the SUD
// patient as the consented caller: each carries 42CFRPart2, SUD, R and
// NORDSCLCD, whatever its codes (the Encounter has no diagnosis code, the
// drug screen's LOINC code is on no SUD value set).
func testPart2RecordsLabelledBySource(t *testing.T, e *env) {
	n := 0
	for _, r := range e.ds.ByPatient(sudPatient) {
		if !r.Part2 {
			continue
		}
		n++
		got := e.get(t, "/fhir/"+r.Type+"/"+r.ID, "consented")
		if got.Status != http.StatusOK {
			t.Fatalf("%s/%s: status %d", r.Type, r.ID, got.Status)
		}
		codes := securityCodes(got.json(t))
		for _, want := range []string{"42CFRPart2", "SUD", "R", "NORDSCLCD"} {
			if !codes[want] {
				t.Errorf("%s/%s lacks %s: %v", r.Type, r.ID, want, codes)
			}
		}
	}
	if n < 4 {
		t.Fatalf("only %d Part 2 records for %s", n, sudPatient)
	}
}

// testHospitalSUDIsNotPart2 checks that SUD diagnosed in the hospital ED
// is labelled SUD without 42CFRPart2.
func testHospitalSUDIsNotPart2(t *testing.T, e *env) {
	n := 0
	for _, r := range e.ds.Resources {
		if r.Type != "Condition" || r.Part2 || !strings.HasSuffix(r.ID, "-ed-sud-cond") {
			continue
		}
		n++
		e.consentFor(t, r.Patient)
		got := e.get(t, "/fhir/Condition/"+r.ID, "consented")
		if got.Status != http.StatusOK {
			t.Fatalf("Condition/%s: status %d", r.ID, got.Status)
		}
		codes := securityCodes(got.json(t))
		if !codes["SUD"] || codes["42CFRPart2"] || codes["NORDSCLCD"] {
			t.Errorf("hospital SUD Condition/%s: labels %v, want SUD without 42CFRPart2", r.ID, codes)
		}
	}
	if n == 0 {
		t.Skip("the seed gave no patient an ED SUD diagnosis")
	}
}

// testPropagationAcrossResponses reads the SUD Condition of a hospital ED
// visit, then the visit's Encounter on its own: the Encounter has no SUD
// code, only a reasonReference to the Condition, and inherits SUD from the
// label cache.
func testPropagationAcrossResponses(t *testing.T, e *env) {
	for _, r := range e.ds.Resources {
		if r.Type != "Condition" || !strings.HasSuffix(r.ID, "-ed-sud-cond") {
			continue
		}
		enc := strings.TrimSuffix(r.ID, "-sud-cond") + "-enc"
		e.consentFor(t, r.Patient)
		if got := e.get(t, "/fhir/Condition/"+r.ID, "consented"); got.Status != http.StatusOK {
			t.Fatalf("Condition/%s: status %d", r.ID, got.Status)
		}
		got := e.get(t, "/fhir/Encounter/"+enc, "consented")
		if got.Status != http.StatusOK {
			t.Fatalf("Encounter/%s: status %d", enc, got.Status)
		}
		if codes := securityCodes(got.json(t)); !codes["SUD"] {
			t.Errorf("Encounter/%s did not inherit SUD from its reason Condition: %v", enc, codes)
		}
		if got := e.get(t, "/fhir/Encounter/"+enc, "other"); got.Status != http.StatusNotFound {
			t.Errorf("Encounter/%s for a caller without consent: status %d, want 404", enc, got.Status)
		}
		return
	}
	t.Skip("the seed gave no patient an ED SUD diagnosis")
}

// testPropagationFromColdCache starts a proxy of its own, whose label cache
// has seen nothing, and reads an ED Encounter whose reason is an SUD
// Condition: the proxy reads the Condition from Medplum first, so the
// Encounter inherits SUD and is withheld from a caller without consent on
// the very first read (before the fetch it was disclosed: the cache only
// knew what had passed through it). An ordinary Encounter of the same
// patient is the control: the caller may read ordinary data.
func testPropagationFromColdCache(t *testing.T, e *env) {
	var edEnc, plainEnc string
	for _, r := range e.ds.Resources {
		if r.Type == "Condition" && strings.HasSuffix(r.ID, "-ed-sud-cond") && edEnc == "" {
			edEnc = strings.TrimSuffix(r.ID, "-sud-cond") + "-enc"
			for _, o := range e.ds.ByPatient(r.Patient) {
				if o.Type == "Encounter" && len(o.Topics) == 0 && !o.Part2 && o.ID != edEnc && !bytes.Contains(o.JSON, []byte("reasonReference")) {
					plainEnc = o.ID
					break
				}
			}
		}
	}
	if edEnc == "" || plainEnc == "" {
		t.Fatal("the seed gave no patient an ED SUD diagnosis and an ordinary encounter")
	}
	cs := startConsentServer(t, e)
	out, err := exec.Command(e.bin, "token", "--data", cs.data, "--sub", "dr-cold", "--org", "Organization/cold-cache-clinic",
		"--purpose", "TREAT", "--scope", "user/*.read").Output()
	if err != nil {
		t.Fatalf("ds4p token: %v", err)
	}
	caller := strings.TrimSpace(string(out))
	if r := e.do(t, http.MethodGet, cs.base+"/fhir/Encounter/"+plainEnc, caller, nil); r.Status != http.StatusOK {
		t.Fatalf("ordinary Encounter/%s: %d, want 200 (the control)", plainEnc, r.Status)
	}
	r := e.do(t, http.MethodGet, cs.base+"/fhir/Encounter/"+edEnc, caller, nil)
	if r.Status != http.StatusNotFound || bytes.Contains(r.Body, []byte(edEnc+`","`)) {
		t.Fatalf("Encounter/%s, whose SUD reason the proxy never saw: %d %s, want 404", edEnc, r.Status, r.Body)
	}
}

// consentFor stores, for patient, the consent the harness stores for the
// SUD patient: orgConsented may see everything for treatment.
func (e *env) consentFor(t *testing.T, patient string) {
	t.Helper()
	if err := e.postConsent(patient); err != nil {
		t.Fatal(err)
	}
}

// sameExceptLabels reports whether proxied is upstream byte for byte, apart
// from meta.security labels ds4p added to a resource that had none: the
// labels of disclosed sensitive data (MH, SDV ...) travel with it.
func sameExceptLabels(upstream, proxied []byte) bool {
	if bytes.Equal(upstream, proxied) {
		return true
	}
	if _, _, had, _ := securityOf(upstream); had {
		return false
	}
	s, e, ok, err := securityOf(proxied)
	if !ok || err != nil {
		return false
	}
	// The labeller writes security as the last member of meta (after a
	// comma) or as meta's only member (meta inserted after id).
	key := bytes.LastIndex(proxied[:s], []byte(`"security"`))
	cut := append([]byte{}, proxied[:key]...)
	rest := proxied[e:]
	if n := len(cut); n > 0 && cut[n-1] == ',' {
		cut = cut[:n-1]
	} else if bytes.HasSuffix(cut, []byte(`,"meta":{`)) && len(rest) > 0 && rest[0] == '}' {
		cut, rest = cut[:len(cut)-len(`,"meta":{`)], rest[1:]
	}
	return bytes.Equal(upstream, append(cut, rest...))
}

// securityOf finds meta.security in a resource.
func securityOf(b []byte) (start, end int, ok bool, err error) {
	ms, _, ok, err := fjson.Lookup(b, 0, "meta")
	if !ok || err != nil || b[ms] != '{' {
		return 0, 0, false, err
	}
	return fjson.Lookup(b, ms, "security")
}
