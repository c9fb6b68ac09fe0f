package proxy

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

func TestItemFactsRead(t *testing.T) {
	t.Parallel()
	all := factNeeds{codes: true, reference: true, date: true}
	at := func(s string) *int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		ns := tm.UnixNano()
		return &ns
	}
	cases := []struct {
		name, typ, id, body string
		codes               []string
		time                *int64
	}{
		{"condition onset", "Condition", "c1",
			`{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://snomed.info/sct","code":"5602001"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],"onsetDateTime":"2020-06-01","recordedDate":"2021-01-01"}`,
			[]string{"http://snomed.info/sct|5602001", "http://hl7.org/fhir/sid/icd-10-cm|F11.20", "http://hl7.org/fhir/sid/icd-10-cm|F1120", "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"},
			at("2020-05-31T10:00:00Z")}, // the day's beginning in UTC+14
		{"observation effective instant with zone", "Observation", "o1",
			`{"resourceType":"Observation","id":"o1","code":{"coding":[{"system":"http://loinc.org","code":"1-8"}]},"effectiveDateTime":"2024-03-01T10:00:00+02:00"}`,
			[]string{"http://loinc.org|1-8"}, at("2024-03-01T08:00:00Z")},
		{"encounter period start", "Encounter", "e1",
			`{"resourceType":"Encounter","id":"e1","type":[{"coding":[{"system":"http://snomed.info/sct","code":"185349003"}]}],"period":{"start":"2023","end":"2023-02"}}`,
			[]string{"http://snomed.info/sct|185349003"}, at("2022-12-31T10:00:00Z")},
		{"medication request", "MedicationRequest", "m1",
			`{"resourceType":"MedicationRequest","id":"m1","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1010600"}]},"authoredOn":"2025-05-05T12:00:00Z"}`,
			[]string{"http://www.nlm.nih.gov/research/umls/rxnorm|1010600"}, at("2025-05-05T12:00:00Z")},
		{"no code, no date", "Patient", "p1", `{"resourceType":"Patient","id":"p1"}`, []string{}, nil},
		{"unparseable date", "Observation", "o2", `{"resourceType":"Observation","id":"o2","effectiveDateTime":"sometime"}`, []string{}, nil},
	}
	for _, c := range cases {
		f := itemFacts(all, c.typ, c.id, []byte(c.body))
		if !reflect.DeepEqual(f.Codes, c.codes) || f.Reference != c.typ+"/"+c.id {
			t.Errorf("%s: codes %v reference %q", c.name, f.Codes, f.Reference)
		}
		if (f.TimeNS == nil) != (c.time == nil) || (f.TimeNS != nil && *f.TimeNS != *c.time) {
			t.Errorf("%s: time %v, want %v", c.name, f.TimeNS, c.time)
		}
	}
	// Facts no provision names stay empty, so items still share classes.
	f := itemFacts(factNeeds{date: true}, "Condition", "c1", []byte(cases[0].body))
	if len(f.Codes) != 0 || f.Reference != "" || f.TimeNS == nil {
		t.Errorf("only the date was asked for: %+v", f)
	}
}

// TestConsentByCodeAndResourceApplyPrecisely: under a Part 2 consent that
// permits the recipient but denies one code (or one resource), only the
// item with that code (that id) is withheld; before item facts, both were.
// The patient's other consents-free classes are not split.
func TestConsentByCodeAndResourceApplyPrecisely(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	f11 := `{"resourceType":"Condition","id":"c-f11","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	f10 := `{"resourceType":"Condition","id":"c-f10","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F10.20"}]}}`
	for _, name := range []string{"deny-code", "deny-resource"} {
		raw, err := os.ReadFile("../consent/testdata/part2/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		body := decideBody("Organization/clinic-a", "TREAT", "", "["+string(raw)+"]", f11, f10)
		resp, out := h.post("/admin/decide", tokAdmin, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, out)
		}
		var got DecideResponse
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 2 || got.Classes != 2 {
			t.Fatalf("%s: %s", name, out)
		}
		if got.Items[0].Decision.Effect != "deny" || got.Items[1].Decision.Effect != "permit" {
			t.Errorf("%s: F11.20 %s, F10.20 %s; want deny, permit", name, got.Items[0].Decision.Effect, got.Items[1].Decision.Effect)
		}
	}
}

// TestPart2SourceInClass: a record of a Part 2 program (the labeller's
// source rules) reaches the policy with source "part2", and is a class of
// its own.
func TestPart2SourceInClass(t *testing.T) {
	t.Parallel()
	program := strings.Replace(bpObs, `"id":"bp1"`, `"id":"bp2","performer":[{"reference":"Organization/otp-clinic"}]`, 1)
	var h *harness
	var counter *countingDecider
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h.base(), -1, false, bpObs, program))(w, r)
	}, func(_ *Options, d *Deps) {
		l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{{Name: "otp", References: []string{"Organization/otp-clinic"}}}})
		if err != nil {
			t.Fatal(err)
		}
		d.Labeller = l
		counter = &countingDecider{Decider: d.Decider}
		d.Decider = counter
	})
	resp, body := h.get("/fhir/Observation?subject=p1", tokOther)
	if resp.StatusCode != 200 || !strings.Contains(body, `"bp1"`) || strings.Contains(body, `"bp2"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	sources := map[string]bool{}
	for _, in := range counter.inputs {
		sources[in.Item.Source] = true
	}
	if len(counter.inputs) != 2 || !sources[Part2Source] || !sources[""] {
		t.Fatalf("inputs %+v", counter.inputs)
	}
}

// TestConsentCodeReachesItemInOtherSpelling: a consent denying a code
// under its system's URL withholds an item coded under another spelling of
// that system (its OID, https, another case), which the labeller reads as
// the same system; the item's codes compared as written matched no such
// deny, and it was disclosed (QA round 26, area A's proposal).
func TestConsentCodeReachesItemInOtherSpelling(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	raw, err := os.ReadFile("../consent/testdata/part2/deny-code.json")
	if err != nil {
		t.Fatal(err)
	}
	cond := func(id, system string) string {
		return `{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"` + system + `","code":"F11.20"}]}}`
	}
	items := []string{cond("oid", "urn:oid:2.16.840.1.113883.6.90"), cond("https", "https://hl7.org/fhir/sid/icd-10-cm"),
		cond("case", "HTTP://HL7.ORG/fhir/sid/icd-10-cm"), cond("f10", "http://hl7.org/fhir/sid/icd-10-cm")}
	items[3] = strings.Replace(items[3], "F11.20", "F10.20", 1)
	resp, out := h.post("/admin/decide", tokAdmin, decideBody("Organization/clinic-a", "TREAT", "", "["+string(raw)+"]", items...))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	var got DecideResponse
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Items) != 4 {
		t.Fatalf("%v: %s", err, out)
	}
	for i, want := range []string{"deny", "deny", "deny", "permit"} {
		if got.Items[i].Decision.Effect != want {
			t.Errorf("item %d (%s): %s, want %s", i, items[i], got.Items[i].Decision.Effect, want)
		}
	}
}
