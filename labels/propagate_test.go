package labels_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// part2Labeller knows one Part 2 program, as the synthetic data has it.
func part2Labeller(t testing.TB, cache int) *labels.Labeller {
	t.Helper()
	l, err := labels.NewLabeller(labels.Options{
		Rules: labels.DefaultRules(),
		Programs: []labels.Program{{
			Name:        "clinic",
			References:  []string{"Organization/p2", "Practitioner/doc"},
			Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"},
			Sources:     []string{"http://p2.example.org/fhir"},
		}},
		CacheSize: cache,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPart2Source(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		part2    bool
	}{
		{"serviceProvider", `{"resourceType":"Encounter","id":"e","serviceProvider":{"reference":"Organization/p2"}}`, true},
		{"absolute versioned reference", `{"resourceType":"Encounter","serviceProvider":{"reference":"https://x.org/fhir/Organization/p2/_history/3"}}`, true},
		{"performer array", `{"resourceType":"Observation","performer":[{"reference":"Practitioner/other"},{"reference":"Organization/p2"}]}`, true},
		{"requester", `{"resourceType":"MedicationRequest","requester":{"reference":"Practitioner/doc"}}`, true},
		{"nested participant individual", `{"resourceType":"Encounter","participant":[{"individual":{"reference":"Practitioner/doc"}}]}`, true},
		{"logical reference by NPI", `{"resourceType":"Procedure","performer":[{"actor":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}}]}`, true},
		{"meta.source", `{"resourceType":"Observation","meta":{"source":"http://p2.example.org/fhir#req-1"}}`, true},
		{"meta.source look-alike", `{"resourceType":"Observation","meta":{"source":"http://p2.example.org/fhirx"}}`, false},
		{"look-alike id", `{"resourceType":"Encounter","serviceProvider":{"reference":"Organization/p22"}}`, false},
		{"not a source member", `{"resourceType":"Observation","subject":{"reference":"Organization/p2"}}`, false},
		{"other hospital", `{"resourceType":"Condition","recorder":{"reference":"Practitioner/er"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F10.10"}]}}`, false},
		{"directory entry", `{"resourceType":"PractitionerRole","organization":{"reference":"Organization/p2"}}`, false},
		// Spellings of the program's reference a server may resolve.
		{"trailing slash", `{"resourceType":"Encounter","serviceProvider":{"reference":"Organization/p2/"}}`, true},
		{"percent-encoded id", `{"resourceType":"Encounter","serviceProvider":{"reference":"Organization/%702"}}`, true},
		{"percent-encoded type", `{"resourceType":"Encounter","serviceProvider":{"reference":"Organi%7Aation/p2"}}`, true},
		{"white space", `{"resourceType":"Encounter","serviceProvider":{"reference":" Organization/p2 "}}`, true},
		{"query and fragment", `{"resourceType":"Encounter","serviceProvider":{"reference":"https://x.org/fhir/Organization/p2?_format=json#x"}}`, true},
		{"doubled slash, unversioned _history", `{"resourceType":"Encounter","serviceProvider":{"reference":"Organization//p2/_history"}}`, true},
		{"look-alike id with a slash", `{"resourceType":"Encounter","serviceProvider":{"reference":"Organization/p2/x"}}`, false},
		// Who recorded or holds the record, in the members QA found
		// unlabelled (searches by the program listed its patients).
		{"Claim facility", `{"resourceType":"Claim","facility":{"reference":"Organization/p2"}}`, true},
		{"Claim payee party", `{"resourceType":"Claim","payee":{"type":{"text":"provider"},"party":{"reference":"Organization/p2"}}}`, true},
		{"Claim provider", `{"resourceType":"Claim","provider":{"reference":"Organization/p2"}}`, true},
		{"Claim insurer", `{"resourceType":"Claim","insurer":{"reference":"Organization/p2"}}`, true},
		{"ExplanationOfBenefit careTeam provider", `{"resourceType":"ExplanationOfBenefit","careTeam":[{"sequence":1,"provider":{"reference":"Practitioner/doc"}}]}`, true},
		{"ExplanationOfBenefit provider", `{"resourceType":"ExplanationOfBenefit","provider":{"reference":"Organization/p2"}}`, true},
		{"ExplanationOfBenefit facility", `{"resourceType":"ExplanationOfBenefit","facility":{"reference":"Organization/p2"}}`, true},
		{"Invoice issuer", `{"resourceType":"Invoice","issuer":{"reference":"Organization/p2"}}`, true},
		{"Account owner", `{"resourceType":"Account","owner":{"reference":"Organization/p2"}}`, true},
		{"Task owner", `{"resourceType":"Task","owner":{"reference":"Practitioner/doc"}}`, true},
		{"Consent provision actor", `{"resourceType":"Consent","provision":{"actor":[{"role":{"text":"IRCP"},"reference":{"reference":"Organization/p2"}}]}}`, true},
		{"Consent nested provision actor", `{"resourceType":"Consent","provision":{"provision":[{"provision":[{"actor":[{"reference":{"reference":"Organization/p2"}}]}]}]}}`, true},
		{"Consent performer", `{"resourceType":"Consent","performer":[{"reference":"Organization/p2"}]}`, true},
		{"Consent organization", `{"resourceType":"Consent","organization":[{"reference":"Organization/p2"}]}`, true},
		{"Provenance agent who", `{"resourceType":"Provenance","agent":[{"who":{"reference":"Practitioner/doc"}}]}`, true},
		{"Provenance agent onBehalfOf", `{"resourceType":"Provenance","agent":[{"who":{"reference":"Practitioner/other"},"onBehalfOf":{"reference":"Organization/p2"}}]}`, true},
		{"AuditEvent agent who", `{"resourceType":"AuditEvent","agent":[{"who":{"reference":"Organization/p2"}}]}`, true},
		{"AuditEvent source observer", `{"resourceType":"AuditEvent","source":{"observer":{"reference":"Organization/p2"}}}`, true},
		{"Communication recipient", `{"resourceType":"Communication","recipient":[{"reference":"Organization/p2"}]}`, true},
		{"Communication sender", `{"resourceType":"Communication","sender":{"reference":"Practitioner/doc"}}`, true},
		{"CommunicationRequest recipient", `{"resourceType":"CommunicationRequest","recipient":[{"reference":"Organization/p2"}]}`, true},
		{"CommunicationRequest sender", `{"resourceType":"CommunicationRequest","sender":{"reference":"Organization/p2"}}`, true},
		{"MedicationDispense destination", `{"resourceType":"MedicationDispense","destination":{"reference":"Organization/p2"}}`, true},
		{"Coverage payor", `{"resourceType":"Coverage","payor":[{"reference":"Organization/p2"}]}`, true},
		{"Coverage policyHolder", `{"resourceType":"Coverage","policyHolder":{"reference":"Organization/p2"}}`, true},
		{"Coverage payor by NPI", `{"resourceType":"Coverage","payor":[{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}]}`, true},
		{"Provenance agent, another practitioner", `{"resourceType":"Provenance","agent":[{"who":{"reference":"Practitioner/other"}}]}`, false},
		{"directory entry, new member", `{"resourceType":"HealthcareService","providedBy":{"reference":"Organization/p2"},"location":[{"reference":"Location/x"}]}`, false},
		{"Patient's managing organization", `{"resourceType":"Patient","managingOrganization":{"reference":"Organization/p2"}}`, false},
	}
	l := part2Labeller(t, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := l.Label([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got := r.Labels.Has(labels.Part2Policy)
			if got != tt.part2 || (got && (!r.Labels.Has(labels.SUD) || !r.Labels.Has(labels.NoRedisclosure) || r.Program != "clinic")) {
				t.Fatalf("labels %v program %q, want Part 2 = %v", r.Labels, r.Program, tt.part2)
			}
			if got {
				checkEdits(t, l, []byte(tt.in), r)
				for _, why := range r.Reasons {
					if why.Basis != "42CFRPart2" {
						t.Errorf("reason without basis: %+v", why)
					}
				}
			}
		})
	}
}

func TestProgramValidation(t *testing.T) {
	t.Parallel()
	_, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "a"}, {Name: "b", References: []string{"nope"}, Identifiers: []string{"novalue|"}},
	}})
	for _, want := range []string{`"a": no references`, `"nope" is not Type/id`, `"novalue|" is not system|value`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
}

const (
	sudCond   = `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p"}}`
	medByRsn  = `{"resourceType":"MedicationRequest","id":"m1","reasonReference":[{"reference":"Condition/c1"}],"subject":{"reference":"Patient/p"}}`
	p2Enc     = `{"resourceType":"Encounter","id":"e1","serviceProvider":{"reference":"Organization/p2"},"subject":{"reference":"Patient/p"}}`
	obsInEnc  = `{"resourceType":"Observation","id":"o1","encounter":{"reference":"Encounter/e1"},"subject":{"reference":"Patient/p"}}`
	edEnc     = `{"resourceType":"Encounter","id":"e2","reasonReference":[{"reference":"Condition/c1"}],"subject":{"reference":"Patient/p"}}`
	vitalInED = `{"resourceType":"Observation","id":"o2","encounter":{"reference":"Encounter/e2"},"subject":{"reference":"Patient/p"}}`
	provOfMed = `{"resourceType":"Provenance","id":"pv","target":[{"reference":"MedicationRequest/m1"}]}`
)

func TestLabelAllPropagation(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	in := [][]byte{[]byte(provOfMed), []byte(medByRsn), []byte(obsInEnc), []byte(vitalInED), []byte(edEnc), []byte(p2Enc), []byte(sudCond)}
	rs, err := l.LabelAll(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Provenance/pv":        {"SUD", "OPIOIDUD", "R"},                // target → chain of two content references
		"MedicationRequest/m1": {"SUD", "OPIOIDUD", "R"},                // reasonReference
		"Observation/o1":       {"42CFRPart2", "SUD", "R", "NORDSCLCD"}, // encounter of a Part 2 program
		"Encounter/e2":         {"SUD", "OPIOIDUD", "R"},                // reasonReference
		"Observation/o2":       nil,                                     // encounter without Part 2: nothing
		"Condition/c1":         {"SUD", "OPIOIDUD", "R"},                // by code; nothing flows back
		"Encounter/e1":         {"42CFRPart2", "SUD", "R", "NORDSCLCD"}, // by source
	}
	for k, r := range rs {
		key := r.Type + "/" + r.ID
		codes := map[string]bool{}
		for _, lb := range r.Labels {
			codes[lb.Code] = true
		}
		if len(codes) != len(want[key]) {
			t.Errorf("%s: labels %v, want %v", key, r.Labels, want[key])
		}
		for _, c := range want[key] {
			if !codes[c] {
				t.Errorf("%s: labels %v lack %s", key, r.Labels, c)
			}
		}
		if r.Changed {
			checkEdits(t, l, in[k], r)
		}
	}
	for _, why := range rs[1].Reasons {
		if why.Rule != "propagated:reasonReference" || why.Matched != "Condition/c1" {
			t.Errorf("MedicationRequest reason %+v", why)
		}
	}
}

func TestLabelAllNeverDowngrades(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	med := `{"resourceType":"MedicationRequest","id":"m1","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"V"}]},"reasonReference":[{"reference":"Condition/c1"}]}`
	rs, err := l.LabelAll([][]byte{[]byte(med), []byte(sudCond)})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := rs[0].Labels.Confidentiality(); c != "V" || rs[0].Labels.Has(labels.Restricted) || !rs[0].Labels.Has(labels.SUD) {
		t.Fatalf("labels %v, want V kept and SUD added", rs[0].Labels)
	}
}

func TestCacheAcrossResponses(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 10)
	// Before the target was ever seen: nothing to inherit (the documented limit).
	rs, _ := l.LabelAll([][]byte{[]byte(medByRsn)})
	if rs[0].Labels.Has(labels.SUD) {
		t.Fatal("inherited from a Condition never seen")
	}
	if _, err := l.LabelAll([][]byte{[]byte(sudCond), []byte(p2Enc)}); err != nil {
		t.Fatal(err)
	}
	rs, _ = l.LabelAll([][]byte{[]byte(medByRsn), []byte(obsInEnc)})
	if !rs[0].Labels.Has(labels.SUD) || !rs[1].Labels.Has(labels.Part2Policy) {
		t.Fatalf("labels from cache: %v, %v", rs[0].Labels, rs[1].Labels)
	}
	// A new version without the sensitive code replaces the cached labels.
	fixed := strings.Replace(strings.Replace(sudCond, "F11.20", "I10", 1), `"versionId":"1"`, `"versionId":"2"`, 1)
	if _, err := l.LabelAll([][]byte{[]byte(fixed)}); err != nil {
		t.Fatal(err)
	}
	rs, _ = l.LabelAll([][]byte{[]byte(medByRsn)})
	if rs[0].Labels.Has(labels.SUD) {
		t.Fatalf("inherited from a superseded version: %v", rs[0].Labels)
	}
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	l, _ := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 3})
	for k := range 10 {
		cond := strings.Replace(sudCond, `"id":"c1"`, `"id":"c`+string(rune('a'+k))+`"`, 1)
		if _, err := l.LabelAll([][]byte{[]byte(cond)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.CacheLen(); n != 3 {
		t.Fatalf("cache holds %d, want 3", n)
	}
}

func TestLabelAllConcurrent(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 50)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := l.LabelAll([][]byte{[]byte(sudCond), []byte(medByRsn), []byte(p2Enc), []byte(obsInEnc)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			if err := l.SetRules(labels.DefaultRules()); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
}

func TestRuleFileErrors(t *testing.T) {
	t.Parallel()
	good := "topic: T\nsources: [s]\nrules:\n  - id: a\n    system: s\n    codes: [x]\n    labels: [HIV, R]\n"
	tests := []struct {
		name, file, want string
	}{
		{"unknown key", "topic: T\nsources: [s]\nrules:\n  - id: a\n    sytem: s\n", "bad.yaml: line 5: field sytem not found"},
		{"bad rule", "topic: T\nsources: [s]\nrules:\n  - id: ok\n    system: s\n    codes: [x]\n    labels: [R]\n  - id: b\n    system: s\n    labels: [R, V]\n", `bad.yaml:8: rule "b": no codes, prefixes or ranges; more than one confidentiality label`},
		{"no sources", "topic: T\nrules:\n  - id: a\n    system: s\n    codes: [x]\n    labels: [R]\n", "bad.yaml:1: no sources"},
		{"duplicate id", strings.Replace(good, "T", "U", 1), `rule "a": id already used in a.yaml`},
		{"bad range", "topic: T\nsources: [s]\nrules:\n  - id: a\n    system: s\n    ranges: [[Z, A]]\n    labels: [R]\n", `bad.yaml:4: rule "a": bad range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{"a.yaml": {Data: []byte(good)}, "bad.yaml": {Data: []byte(tt.file)}}
			rules, err := labels.LoadRules(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) || rules != nil {
				t.Fatalf("LoadRules = %d rules, %v; want an error containing %q", len(rules), err, tt.want)
			}
		})
	}
}

func TestWatchReloadsAndKeepsLastGood(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Written aside and renamed into place, as an editor or a deployment
	// does: the watcher polls every 10 ms and must never see half a file.
	tmp := t.TempDir()
	write := func(s string) {
		staged := filepath.Join(tmp, "x.yaml")
		if err := os.WriteFile(staged, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(staged, filepath.Join(dir, "x.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	write("topic: X\nsources: [test]\nrules:\n  - id: x\n    system: s\n    codes: [a]\n    labels: [HIV, R]\n")
	rules, err := labels.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := labels.New(rules...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan error, 10)
	go labels.Watch(ctx, l, dir, 10*time.Millisecond, func(_ int, err error) { reports <- err })
	obs := func(code string) labels.Set {
		r, _ := l.Label([]byte(`{"resourceType":"Observation","code":{"coding":[{"system":"s","code":"` + code + `"}]}}`))
		return r.Labels
	}
	// The first poll loads the directory once more (Watch keeps no
	// fingerprint from before it ran).
	if err := <-reports; err != nil {
		t.Fatalf("first poll: %v", err)
	}
	write("topic: X\nsources: [test]\nrules:\n  - id: x\n    system: s\n    codes: [b]\n    labels: [HIV, R]\n# changed\n")
	if err := <-reports; err != nil || !obs("b").Has(labels.Label{System: labels.SystemActCode, Code: "HIV"}) {
		t.Fatalf("reload: %v, labels %v", err, obs("b"))
	}
	write("topic: X\nrules: [oops\n")
	if err := <-reports; err == nil || !strings.Contains(err.Error(), "x.yaml") {
		t.Fatalf("bad file reported as %v", err)
	}
	if !obs("b").Has(labels.Label{System: labels.SystemActCode, Code: "HIV"}) {
		t.Fatal("a bad file replaced the last good rules")
	}
}

// The members QA found naming a withheld resource from a disclosed one
// pass the target's labels on: Communication.about, RiskAssessment.basis,
// ClinicalImpression.finding, Task.input, MedicationDispense's
// prescription and Claim.procedure (an element of a segmentable member).
func TestLabelAllPropagationMoreMembers(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	referrers := []string{
		`{"resourceType":"Communication","id":"a","about":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"RiskAssessment","id":"b","basis":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"ClinicalImpression","id":"c","finding":[{"itemReference":{"reference":"Condition/c1"}}]}`,
		`{"resourceType":"Task","id":"d","input":[{"type":{"text":"x"},"valueReference":{"reference":"Condition/c1"}}]}`,
		`{"resourceType":"MedicationDispense","id":"e","authorizingPrescription":[{"reference":"MedicationRequest/m1"}]}`,
		// The second round QA found.
		`{"resourceType":"MedicationRequest","id":"g","priorPrescription":{"reference":"MedicationRequest/m1"}}`,
		`{"resourceType":"ChargeItem","id":"h","service":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"Claim","id":"i","prescription":{"reference":"MedicationRequest/m1"}}`,
		`{"resourceType":"Claim","id":"j","originalPrescription":{"reference":"MedicationRequest/m1"}}`,
		`{"resourceType":"Claim","id":"k","item":[{"sequence":1,"encounter":[{"reference":"Encounter/e2"}]}]}`,
		`{"resourceType":"QuestionnaireResponse","id":"l","item":[{"linkId":"1","item":[{"linkId":"1.1","answer":[{"valueReference":{"reference":"Condition/c1"}}]}]}]}`,
		`{"resourceType":"Linkage","id":"m","item":[{"type":"source","resource":{"reference":"Condition/c1"}}]}`,
		`{"resourceType":"Communication","id":"n","inResponseTo":[{"reference":"Communication/a"}]}`,
		`{"resourceType":"Communication","id":"o","payload":[{"contentReference":{"reference":"Condition/c1"}}]}`,
		`{"resourceType":"CommunicationRequest","id":"o2","payload":[{"contentReference":{"reference":"Condition/c1"}}]}`,
		`{"resourceType":"MeasureReport","id":"p","evaluatedResource":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"Goal","id":"q","outcomeReference":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"Condition","id":"r","stage":[{"assessment":[{"reference":"Condition/c1"}]}]}`,
		`{"resourceType":"DocumentReference","id":"s","relatesTo":[{"code":"appends","target":{"reference":"Condition/c1"}}]}`,
		`{"resourceType":"Composition","id":"t","relatesTo":[{"code":"appends","targetReference":{"reference":"Condition/c1"}}]}`,
		`{"resourceType":"RequestGroup","id":"u","action":[{"resource":{"reference":"MedicationRequest/m1"}}]}`,
		`{"resourceType":"DocumentManifest","id":"v","content":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"EpisodeOfCare","id":"w","referralRequest":[{"reference":"MedicationRequest/m1"}]}`,
		`{"resourceType":"ServiceRequest","id":"x","replaces":[{"reference":"MedicationRequest/m1"}]}`,
	}
	in := [][]byte{[]byte(sudCond), []byte(medByRsn), []byte(edEnc)}
	for _, r := range referrers {
		in = append(in, []byte(r))
	}
	claim := `{"resourceType":"Claim","id":"f","procedure":[{"sequence":1,"procedureReference":{"reference":"Condition/c1"}},{"sequence":2,"procedureCodeableConcept":{"text":"x-ray"}}]}`
	in = append(in, []byte(claim))
	rs, err := l.LabelAll(in)
	if err != nil {
		t.Fatal(err)
	}
	for k := 3; k < len(rs)-1; k++ {
		if !rs[k].Labels.Has(labels.SUD) {
			t.Errorf("%s/%s: labels %v, want SUD from its reference", rs[k].Type, rs[k].ID, rs[k].Labels)
		}
	}
	c := rs[len(rs)-1]
	if c.Labels.Has(labels.SUD) || len(c.Elements) != 1 || !c.Elements[0].Labels.Has(labels.SUD) {
		t.Errorf("Claim: labels %v, elements %+v; want the SUD procedure element labelled alone", c.Labels, c.Elements)
	}
}

// References inside extensions pass the target's labels on, at any depth
// and under members that carry no meaning of their own; a reference
// elsewhere under such a member (an Observation's subject) does not.
func TestLabelAllPropagationThroughExtensions(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	tests := []struct {
		name, in string
		sud      bool
	}{
		{"top-level extension", `{"resourceType":"Observation","id":"x1","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/workflow-reasonReference","valueReference":{"reference":"Condition/c1"}}]}`, true},
		{"modifierExtension", `{"resourceType":"Observation","id":"x2","modifierExtension":[{"url":"http://example.org/x","valueReference":{"reference":"Condition/c1"}}]}`, true},
		{"nested in an element", `{"resourceType":"Observation","id":"x3","note":[{"text":"n","extension":[{"url":"http://example.org/about","extension":[{"url":"ref","valueReference":{"reference":"Condition/c1"}}]}]}]}`, true},
		{"absolute", `{"resourceType":"Observation","id":"x4","extension":[{"url":"http://example.org/x","valueReference":{"reference":"https://ehr.example.org/fhir/Condition/c1"}}]}`, true},
		{"an extension without a reference", `{"resourceType":"Observation","id":"x5","extension":[{"url":"http://example.org/x","valueString":"Condition/c1"}]}`, false},
		{"subject, not an extension", `{"resourceType":"Observation","id":"x6","subject":{"reference":"Condition/c1"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := l.LabelAll([][]byte{[]byte(sudCond), []byte(tt.in)})
			if err != nil {
				t.Fatal(err)
			}
			if got := rs[1].Labels.Has(labels.SUD); got != tt.sud {
				t.Fatalf("labels %v, want SUD = %v", rs[1].Labels, tt.sud)
			}
		})
	}
}

// The spellings of a reference a FHIR server may resolve pass the target's
// labels on: QA found each ignored, and the order disclosed unlabelled.
func TestLabelAllPropagationReferenceSpellings(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	for _, ref := range []string{
		"Condition/c1/", " Condition/c1", "Condition/c1 ", "Condition/c1?x=1", "Condition/c1#frag",
		"Condition//c1", "Condition/c1/_history", "Condition/%63%31", "%43ondition/c1",
		"http://host/fhir/Condition/c1/", "http://host/fhir/Condition/c1?_format=json", "http://host/fhir/Condition/c1#x",
		`Condition\/c1\/`,
	} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			med := `{"resourceType":"MedicationRequest","id":"m","reasonReference":[{"reference":"` + ref + `"}],"subject":{"reference":"Patient/p/"}}`
			rs, err := l.LabelAll([][]byte{[]byte(sudCond), []byte(med)})
			if err != nil {
				t.Fatal(err)
			}
			if !rs[1].Labels.Has(labels.SUD) {
				t.Errorf("labels %v, want SUD from Condition/c1", rs[1].Labels)
			}
			if rs[1].Patient != "Patient/p" {
				t.Errorf("patient %q, want Patient/p", rs[1].Patient)
			}
		})
	}
}

// TestProgramSpellings: configured spellings that loaded and never matched
// are refused, and data spellings of a program's identifier and source
// that name it match (QA round 18: the program's records went unlabelled).
func TestProgramSpellings(t *testing.T) {
	t.Parallel()
	for _, bad := range []labels.Program{
		{Name: "x", References: []string{" Organization/p2"}},
		{Name: "x", References: []string{"organization/p2"}},
		{Name: "x", Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312 "}},
		{Name: "x", Identifiers: []string{"http://hl7.org/fhir/sid/us-npi | 1847002312"}},
	} {
		if _, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{bad}}); err == nil {
			t.Errorf("program %+v accepted", bad)
		}
	}
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{
		Name: "clinic", Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"},
		Sources: []string{"https://Riverside.example:443/fhir/"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]bool{
		`{"resourceType":"Procedure","performer":[{"actor":{"identifier":{"system":"urn:oid:2.16.840.1.113883.4.6","value":"1847002312"}}}]}`:    true,
		`{"resourceType":"Procedure","performer":[{"actor":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":" 1847002312 "}}}]}`: true,
		`{"resourceType":"Observation","meta":{"source":"https://riverside.example/fhir/Observation/1"}}`:                                        true,
		`{"resourceType":"Observation","meta":{"source":"HTTPS://RIVERSIDE.example:443/fhir"}}`:                                                  true,
		`{"resourceType":"Observation","meta":{"source":"https://riverside.example/fhir?x=1"}}`:                                                  true,
		`{"resourceType":"Observation","meta":{"source":"https://riverside.example/fhir/"}}`:                                                     true,
		`{"resourceType":"Observation","meta":{"source":"https://riverside.example/fhirx"}}`:                                                     false,
		`{"resourceType":"Observation","meta":{"source":"https://riverside.example.attacker/fhir"}}`:                                             false,
		`{"resourceType":"Observation","meta":{"source":"https://riverside.example:8443/fhir"}}`:                                                 false,
	} {
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Labels.Has(labels.Part2Policy); got != want {
			t.Errorf("%s: Part 2 %v, want %v", in, got, want)
		}
	}
}
