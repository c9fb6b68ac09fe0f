package synth

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// decoded unmarshals a resource for inspection in tests.
func decoded(t *testing.T, r Resource) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.JSON, &m); err != nil {
		t.Fatalf("%s: invalid JSON: %v", r.Ref(), err)
	}
	return m
}

// refOf returns m[key].reference, or "" when absent.
func refOf(m map[string]any, key string) string {
	o, _ := m[key].(map[string]any)
	s, _ := o["reference"].(string)
	return s
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		a, b  Options
		equal bool
	}{
		{"same seed", Options{Seed: 7}, Options{Seed: 7}, true},
		{"same seed, explicit default size", Options{Seed: 7}, Options{Seed: 7, Patients: DefaultPatients}, true},
		{"other seed", Options{Seed: 7}, Options{Seed: 8}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := Generate(tt.a), Generate(tt.b)
			same := len(a.Resources) == len(b.Resources)
			for i := 0; same && i < len(a.Resources); i++ {
				same = bytes.Equal(a.Resources[i].JSON, b.Resources[i].JSON) &&
					a.Resources[i].Part2 == b.Resources[i].Part2 &&
					slices.Equal(a.Resources[i].Topics, b.Resources[i].Topics)
			}
			if same != tt.equal {
				t.Fatalf("datasets identical = %v, want %v", same, tt.equal)
			}
		})
	}
}

func TestGenerateLargerDatasetKeepsEarlierPatients(t *testing.T) {
	t.Parallel()
	small, large := Generate(Options{Seed: 3, Patients: 4}), Generate(Options{Seed: 3, Patients: 12})
	if len(large.Resources) <= len(small.Resources) {
		t.Fatalf("12 patients gave %d resources, 4 gave %d", len(large.Resources), len(small.Resources))
	}
	for i, r := range small.Resources {
		if !bytes.Equal(r.JSON, large.Resources[i].JSON) {
			t.Fatalf("resource %d (%s) differs between 4 and 12 patients", i, r.Ref())
		}
	}
}

func TestGenerateResourcesAreWellFormed(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{0, 42, -9} {
		d := Generate(Options{Seed: seed, Patients: 12})
		seen := map[string]bool{}
		for _, r := range d.Resources {
			m := decoded(t, r)
			if m["resourceType"] != r.Type || m["id"] != r.ID {
				t.Errorf("seed %d: %s: JSON says %v/%v", seed, r.Ref(), m["resourceType"], m["id"])
			}
			if seen[r.Ref()] {
				t.Errorf("seed %d: duplicate %s", seed, r.Ref())
			}
			seen[r.Ref()] = true
			if got := ownerOf(m); got != r.Patient {
				t.Errorf("seed %d: %s: references patient %q, ground truth %q", seed, r.Ref(), got, r.Patient)
			}
		}
	}
}

// ownerOf returns the patient a decoded resource belongs to.
func ownerOf(m map[string]any) string {
	if m["resourceType"] == "Patient" {
		return "Patient/" + m["id"].(string)
	}
	for _, key := range []string{"subject", "patient"} {
		if ref := refOf(m, key); strings.HasPrefix(ref, "Patient/") {
			return ref
		}
	}
	return ""
}

func TestGenerateOrdersDirectoryFirst(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 1})
	first := slices.IndexFunc(d.Resources, func(r Resource) bool { return r.Patient != "" })
	if first < 0 || d.Resources[first].Ref() != "Patient/pat-0" {
		t.Fatalf("first patient resource is %v, want Patient/pat-0", first)
	}
	for _, r := range d.Resources[first:] {
		if r.Patient == "" {
			t.Errorf("%s without a patient after the directory", r.Ref())
		}
	}
	for _, ref := range []string{d.Part2Org, d.HospitalOrg, d.HIEOrg, Part2PractitionerRef, HospitalPractitionerRef, EDPractitionerRef, HIEPractitionerRef} {
		if _, ok := d.Find(ref); !ok {
			t.Errorf("directory lacks %s", ref)
		}
	}
}

func TestGuaranteedPatients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		patient   string
		part2     bool
		topics    []string // topics that must be present
		noTopics  []string // topics that must be absent
		wantIDs   []string
		onlyPlain bool
		minPlain  int
	}{
		{patient: "Patient/pat-0", part2: true, topics: []string{TopicSUD}, noTopics: []string{TopicMH, TopicHIV, TopicSDV},
			wantIDs: []string{"pat-0-p2-enc", "pat-0-p2-cond", "pat-0-p2-medrx", "pat-0-p2-uds"}, minPlain: 5},
		{patient: "Patient/pat-1", onlyPlain: true, minPlain: 5},
		{patient: "Patient/pat-2", topics: []string{TopicMH, TopicHIV}, noTopics: []string{TopicSUD, TopicSDV},
			wantIDs: []string{"pat-2-mh-dep-cond", "pat-2-mh-anx-cond", "pat-2-mh-phq9", "pat-2-mh-medrx",
				"pat-2-hiv-cond", "pat-2-hiv-vl", "pat-2-hiv-cd4", "pat-2-hiv-medrx"}, minPlain: 5},
	}
	for _, seed := range []int64{0, 1, 2, 99, -5} {
		d := Generate(Options{Seed: seed, Patients: 3})
		for _, tt := range tests {
			rs := d.ByPatient(tt.patient)
			topics, plain, part2 := map[string]bool{}, 0, false
			ids := map[string]bool{}
			for _, r := range rs {
				ids[r.ID] = true
				part2 = part2 || r.Part2
				for _, tp := range r.Topics {
					topics[tp] = true
				}
				if !r.Sensitive() && !r.Part2 {
					plain++
				}
			}
			if tt.part2 != part2 {
				t.Errorf("seed %d %s: has Part 2 data = %v, want %v", seed, tt.patient, part2, tt.part2)
			}
			for _, tp := range tt.topics {
				if !topics[tp] {
					t.Errorf("seed %d %s: lacks topic %s", seed, tt.patient, tp)
				}
			}
			for _, tp := range tt.noTopics {
				if topics[tp] {
					t.Errorf("seed %d %s: has unexpected topic %s", seed, tt.patient, tp)
				}
			}
			if tt.onlyPlain && len(topics) > 0 {
				t.Errorf("seed %d %s: has sensitive topics %v", seed, tt.patient, topics)
			}
			if plain < tt.minPlain {
				t.Errorf("seed %d %s: %d ordinary resources, want >= %d", seed, tt.patient, plain, tt.minPlain)
			}
			for _, id := range tt.wantIDs {
				if !ids[id] {
					t.Errorf("seed %d %s: lacks %s", seed, tt.patient, id)
				}
			}
		}
	}
}

func TestPart2RecordsPointAtTheProgram(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 11})
	get := func(ref string) map[string]any {
		r, ok := d.Find(ref)
		if !ok {
			t.Fatalf("missing %s", ref)
		}
		if !r.Part2 || !slices.Contains(r.Topics, TopicSUD) {
			t.Errorf("%s: Part2=%v topics=%v, want Part 2 SUD", ref, r.Part2, r.Topics)
		}
		return decoded(t, r)
	}
	enc := get("Encounter/pat-0-p2-enc")
	cond := get("Condition/pat-0-p2-cond")
	rx := get("MedicationRequest/pat-0-p2-medrx")
	uds := get("Observation/pat-0-p2-uds")
	tests := []struct {
		name, got, want string
	}{
		{"encounter serviceProvider", refOf(enc, "serviceProvider"), d.Part2Org},
		{"condition encounter", refOf(cond, "encounter"), "Encounter/pat-0-p2-enc"},
		{"condition recorder", refOf(cond, "recorder"), Part2PractitionerRef},
		{"medication requester", refOf(rx, "requester"), Part2PractitionerRef},
		{"medication encounter", refOf(rx, "encounter"), "Encounter/pat-0-p2-enc"},
		{"medication reason", rx["reasonReference"].([]any)[0].(map[string]any)["reference"].(string), "Condition/pat-0-p2-cond"},
		{"screen encounter", refOf(uds, "encounter"), "Encounter/pat-0-p2-enc"},
		{"meta.source", enc["meta"].(map[string]any)["source"].(string), Part2Source},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	for ref, code := range map[string]string{
		"Condition/pat-0-p2-cond":          `"code":"F11.20"`,
		"MedicationRequest/pat-0-p2-medrx": `"code":"1597568"`,
		"Observation/pat-0-p2-uds":         `"code":"19295-5"`,
	} {
		r, _ := d.Find(ref)
		if !bytes.Contains(r.JSON, []byte(code)) {
			t.Errorf("%s lacks %s", ref, code)
		}
	}
}

// sensitiveMarkers are codes and words that only sensitive resources may
// contain: a leak oracle for the generator's own ground truth.
var sensitiveMarkers = []string{
	`"F11.`, `"F10.`, `"F32.9"`, `"F41.1"`, `"B20"`, `"T74.11XA"`, `"Z91.410"`,
	`"75544000"`, `"66590003"`, `"15167005"`, `"5602001"`, `"35489007"`, `"21897009"`, `"86406008"`,
	`"1597568"`, `"1010604"`, `"864706"`, `"312941"`, `"310385"`, `"1999667"`,
	`"19295-5"`, `"3426-4"`, `"25836-8"`, `"24467-3"`, `"44261-6"`,
	"buprenorphine", "methadone", "HIV", "Opioid", "Alcohol", "depress", "abuse",
}

func TestOrdinaryResourcesCarryNoSensitiveContent(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{0, 5, 123} {
		d := Generate(Options{Seed: seed, Patients: 30})
		sensitive := 0
		for _, r := range d.Resources {
			if r.Sensitive() {
				sensitive++
				continue
			}
			for _, m := range sensitiveMarkers {
				if bytes.Contains(r.JSON, []byte(m)) {
					t.Errorf("seed %d: ordinary %s contains %s", seed, r.Ref(), m)
				}
			}
		}
		if sensitive == 0 {
			t.Errorf("seed %d: no sensitive resources", seed)
		}
	}
}

func TestGroundTruthMatchesSource(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 4, Patients: 25})
	for _, r := range d.Resources {
		if r.Patient == "" {
			continue
		}
		src := decoded(t, r)["meta"].(map[string]any)["source"]
		want := HospitalSource
		if r.Part2 {
			want = Part2Source
		}
		if src != want {
			t.Errorf("%s: meta.source %v, want %s (Part2=%v)", r.Ref(), src, want, r.Part2)
		}
		if r.Part2 && !slices.Contains(r.Topics, TopicSUD) {
			t.Errorf("%s: Part 2 record without SUD topic", r.Ref())
		}
	}
}

var trailingZeroDecimal = regexp.MustCompile(`"value":[0-9]+\.[0-9]*0[,}]`)

func TestDecimalsKeepTrailingZeros(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 2})
	found := 0
	for _, r := range d.Resources {
		found += len(trailingZeroDecimal.FindAll(r.JSON, -1))
	}
	if found == 0 {
		t.Fatal(`no decimal such as "value":60.40 in the dataset`)
	}
}

func TestSensitiveConditionNarrativesNameTheDiagnosis(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 8})
	tests := []struct{ ref, text string }{
		{"Condition/pat-0-p2-cond", "Opioid dependence"},
		{"Condition/pat-2-mh-dep-cond", "Major depressive disorder"},
		{"Condition/pat-2-hiv-cond", "HIV disease"},
	}
	for _, tt := range tests {
		r, ok := d.Find(tt.ref)
		if !ok {
			t.Fatalf("missing %s", tt.ref)
		}
		div := decoded(t, r)["text"].(map[string]any)["div"].(string)
		if !strings.Contains(div, tt.text) || !strings.HasPrefix(div, xhtmlOpen) {
			t.Errorf("%s narrative %q does not name %q", tt.ref, div, tt.text)
		}
	}
}

func TestByPatient(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 1, Patients: 5})
	tests := []struct {
		ref   string
		empty bool
	}{
		{"Patient/pat-0", false},
		{"Patient/pat-4", false},
		{"Patient/pat-5", true},
		{"Organization/part2-clinic", true},
	}
	for _, tt := range tests {
		rs := d.ByPatient(tt.ref)
		if (len(rs) == 0) != tt.empty {
			t.Fatalf("ByPatient(%s) returned %d resources, empty want %v", tt.ref, len(rs), tt.empty)
		}
		if tt.empty {
			continue
		}
		if rs[0].Ref() != tt.ref {
			t.Errorf("ByPatient(%s) starts with %s", tt.ref, rs[0].Ref())
		}
		for _, r := range rs {
			if r.Patient != tt.ref {
				t.Errorf("ByPatient(%s) returned %s of %s", tt.ref, r.Ref(), r.Patient)
			}
		}
	}
	if got := len(d.Raw()); got != len(d.Resources) {
		t.Errorf("Raw returned %d bodies for %d resources", got, len(d.Resources))
	}
}
