package labels_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

func TestLabelMalformed(t *testing.T) {
	t.Parallel()
	deep := `{"resourceType":"Basic","extension":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}`
	tests := []struct {
		name, in, err string
	}{
		{name: "empty", in: ``, err: "not a JSON object"},
		{name: "array", in: `[{"resourceType":"Condition"}]`, err: "not a JSON object"},
		{name: "truncated", in: `{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"5602001"`, err: "unexpected end"},
		{name: "trailing data", in: `{"resourceType":"Condition"} {}`, err: "data after the resource"},
		{name: "bad string", in: `{"resourceType":"Condition","id":"a` + "\x01" + `"}`, err: "control character"},
		{name: "no resourceType", in: `{"id":"x"}`, err: "no resourceType"},
		{name: "resourceType not a string", in: `{"resourceType":7}`, err: `"resourceType" is not a string`},
		{name: "duplicate resourceType", in: `{"resourceType":"Condition","resourceType":"Patient"}`, err: `duplicate "resourceType"`},
		{name: "duplicate id", in: `{"resourceType":"Condition","id":"a","id":"b"}`, err: `duplicate "id"`},
		{name: "duplicate meta", in: `{"resourceType":"Condition","meta":{},"meta":{"security":[]}}`, err: `duplicate "meta"`},
		{name: "duplicate security", in: `{"resourceType":"Condition","meta":{"security":[],"security":[]}}`, err: `duplicate "security"`},
		{name: "duplicate security via escape", in: `{"resourceType":"Condition","meta":{"security":[],"s\u0065curity":[]}}`, err: `duplicate "security"`},
		{name: "duplicate code in coding", in: `{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"1","code":"5602001"}]}}`, err: `duplicate "code"`},
		{name: "duplicate subject", in: `{"resourceType":"Condition","subject":{"reference":"Patient/a"},"subject":{"reference":"Patient/b"}}`, err: `duplicate "subject"`},
		{name: "meta not an object", in: `{"resourceType":"Condition","meta":[]}`, err: `"meta" is not an object`},
		{name: "security not an array", in: `{"resourceType":"Condition","meta":{"security":{}}}`, err: `"meta.security" is not an array`},
		{name: "security entry not an object", in: `{"resourceType":"Condition","meta":{"security":["R"]}}`, err: "non-object"},
		{name: "security code not a string", in: `{"resourceType":"Condition","meta":{"security":[{"system":"x","code":1}]}}`, err: "not a string"},
		{name: "too deep", in: deep, err: "nested deeper than 128"},
	}
	l := labels.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := l.Label([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Label = %+v, %v; want error containing %q", r, err, tt.err)
			}
			if !strings.HasPrefix(err.Error(), "labels: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestLabelPatient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "subject", in: `{"resourceType":"Condition","subject":{"reference":"Patient/123"}}`, want: "Patient/123"},
		{name: "patient", in: `{"resourceType":"Immunization","patient":{"reference":"Patient/P001","display":"John Doe"}}`, want: "Patient/P001"},
		{name: "beneficiary", in: `{"resourceType":"Coverage","beneficiary":{"reference":"Patient/b-1"}}`, want: "Patient/b-1"},
		{name: "patient resource", in: `{"resourceType":"Patient","id":"p.1"}`, want: "Patient/p.1"},
		{name: "patient resource ignores its links", in: `{"resourceType":"Patient","id":"p1","link":[{"other":{"reference":"Patient/p2"}}]}`, want: "Patient/p1"},
		{name: "patient resource without id", in: `{"resourceType":"Patient"}`, want: ""},
		{name: "absolute url", in: `{"resourceType":"Observation","subject":{"reference":"https://fhir.example.org/r4/Patient/abc-9"}}`, want: "Patient/abc-9"},
		{name: "versioned", in: `{"resourceType":"Observation","subject":{"reference":"Patient/abc/_history/3"}}`, want: "Patient/abc"},
		{name: "escaped reference", in: `{"resourceType":"Observation","subject":{"reference":"Patient\/abc"}}`, want: "Patient/abc"},
		{name: "same patient twice", in: `{"resourceType":"Claim","patient":{"reference":"Patient/a"},"subject":{"reference":"https://x/Patient/a"}}`, want: "Patient/a"},
		{name: "group subject", in: `{"resourceType":"Observation","subject":{"reference":"Group/g1"}}`, want: ""},
		{name: "look-alike type", in: `{"resourceType":"Observation","subject":{"reference":"OtherPatient/1"}}`, want: ""},
		{name: "urn uuid", in: `{"resourceType":"Observation","subject":{"reference":"urn:uuid:1f7b0b64-0c35-4f2f-9cb0-2a1d1d3c0e11"}}`, want: ""},
		{name: "contained", in: `{"resourceType":"Observation","subject":{"reference":"#p"}}`, want: ""},
		{name: "search url", in: `{"resourceType":"Observation","subject":{"reference":"Patient?identifier=x|1"}}`, want: ""},
		{name: "bad id", in: `{"resourceType":"Observation","subject":{"reference":"Patient/a b"}}`, want: ""},
		{name: "identifier only", in: `{"resourceType":"Observation","subject":{"identifier":{"value":"1"}}}`, want: ""},
		// Not on Encounter's compartment path (subject), but a Patient it
		// refers to: it is that patient's, not no one's.
		{name: "nested reference counts when nothing else names one", in: `{"resourceType":"Encounter","participant":[{"individual":{"reference":"Patient/x"}}]}`, want: "Patient/x"},
		{name: "no reference", in: `{"resourceType":"Organization","id":"o1"}`, want: ""},
	}
	l := labels.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := l.Label([]byte(tt.in))
			if err != nil || r.Patient != tt.want {
				t.Fatalf("Patient = %q, %v; want %q", r.Patient, err, tt.want)
			}
		})
	}
}

// TestLabelCompartmentPatient: a resource that names its patient on a path
// of the FHIR R4 Patient compartment other than subject, patient or
// beneficiary belongs to that patient (QA: an Appointment, a Task, a
// ResearchSubject, a Group and a Schedule of another patient were read by
// a patient-context token and recorded with no patient); one that names
// several has them all in Patients; a Practitioner on such a path is not
// the patient.
func TestLabelCompartmentPatient(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"appointment participant", `{"resourceType":"Appointment","participant":[{"actor":{"reference":"Practitioner/dr"}},{"actor":{"reference":"Patient/p-sud"}}]}`, []string{"Patient/p-sud"}},
		{"appointment two patients", `{"resourceType":"Appointment","participant":[{"actor":{"reference":"Patient/a"}},{"actor":{"reference":"Patient/b"}},{"actor":{"reference":"Patient/a"}}]}`, []string{"Patient/a", "Patient/b"}},
		{"appointment response", `{"resourceType":"AppointmentResponse","actor":{"reference":"Patient/p"}}`, []string{"Patient/p"}},
		{"schedule", `{"resourceType":"Schedule","actor":[{"reference":"Location/l"},{"reference":"Patient/p"}]}`, []string{"Patient/p"}},
		{"task for", `{"resourceType":"Task","for":{"reference":"Patient/p"},"owner":{"reference":"Practitioner/x"}}`, []string{"Patient/p"}},
		{"research subject", `{"resourceType":"ResearchSubject","individual":{"reference":"Patient/p"}}`, []string{"Patient/p"}},
		{"group members", `{"resourceType":"Group","member":[{"entity":{"reference":"Patient/a"}},{"entity":{"reference":"Patient/b"}},{"entity":{"reference":"Patient/c"}},{"entity":{"reference":"Patient/d"}},{"entity":{"reference":"Patient/e"}}]}`, []string{"Patient/a", "Patient/b", "Patient/c", "Patient/d", "Patient/e"}},
		{"person link", `{"resourceType":"Person","link":[{"target":{"reference":"Patient/p"}}]}`, []string{"Patient/p"}},
		{"provenance target", `{"resourceType":"Provenance","target":[{"reference":"Condition/c"},{"reference":"Patient/p"}]}`, []string{"Patient/p"}},
		{"audit event entity", `{"resourceType":"AuditEvent","agent":[{"who":{"reference":"Practitioner/x"}}],"entity":[{"what":{"reference":"Patient/p"}}]}`, []string{"Patient/p"}},
		{"communication sender", `{"resourceType":"Communication","sender":{"reference":"Patient/p"},"recipient":[{"reference":"Practitioner/x"}]}`, []string{"Patient/p"}},
		{"observation performer", `{"resourceType":"Observation","subject":{"reference":"Patient/a"},"performer":[{"reference":"Patient/b"}]}`, []string{"Patient/a", "Patient/b"}},
		{"subject first", `{"resourceType":"Observation","performer":[{"reference":"Patient/b"}],"subject":{"reference":"Patient/a"}}`, []string{"Patient/a", "Patient/b"}},
		{"extension not beside a compartment patient", `{"resourceType":"Observation","subject":{"reference":"Patient/a"},"extension":[{"url":"u","valueReference":{"reference":"Patient/b"}}]}`, []string{"Patient/a"}},
		{"extension when nothing else", `{"resourceType":"Basic","extension":[{"url":"u","valueReference":{"reference":"Patient/b"}}]}`, []string{"Patient/b"}},
		{"escaped", `{"resourceType":"Task","for":{"reference":"Pati\u0065nt\/p"}}`, []string{"Patient/p"}},
		{"practitioner actor only", `{"resourceType":"Appointment","participant":[{"actor":{"reference":"Practitioner/dr"}}]}`, nil},
		{"practitioner", `{"resourceType":"Practitioner","id":"dr","name":[{"family":"X"}]}`, nil},
		{"medication", `{"resourceType":"Medication","id":"m","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1"}]}}`, nil},
		{"patient resource keeps to itself", `{"resourceType":"Patient","id":"a","link":[{"other":{"reference":"Patient/b"},"type":"seealso"}]}`, []string{"Patient/a"}},
	}
	l := labels.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, all := range []bool{false, true} {
				var r labels.Result
				var err error
				if all {
					var rs []labels.Result
					if rs, err = l.LabelAll([][]byte{[]byte(tt.in)}); err == nil {
						r = rs[0]
					}
				} else {
					r, err = l.Label([]byte(tt.in))
				}
				if err != nil {
					t.Fatal(err)
				}
				want, patients := "", []string(nil)
				if len(tt.want) > 0 {
					want = tt.want[0]
				}
				if len(tt.want) > 1 {
					patients = tt.want
				}
				if r.Patient != want || !slices.Equal(r.Patients, patients) {
					t.Fatalf("LabelAll %v: Patient = %q, Patients = %q; want %q, %q", all, r.Patient, r.Patients, want, patients)
				}
				for _, p := range tt.want {
					if !r.HasPatient(p) {
						t.Fatalf("HasPatient(%q) = false", p)
					}
				}
			}
		})
	}
}

// TestLabelPatientIdentifier: a subject, patient or beneficiary given only
// by a logical identifier is reported as system|value for the caller to
// resolve; a reference that names the patient wins, and a typed reference to
// another resource type names no patient.
func TestLabelPatientIdentifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "subject identifier", in: `{"resourceType":"Observation","subject":{"identifier":{"system":"urn:mrn","value":"42"}}}`, want: "urn:mrn|42"},
		{name: "typed patient", in: `{"resourceType":"Coverage","beneficiary":{"type":"Patient","identifier":{"system":"urn:mrn","value":"42"}}}`, want: "urn:mrn|42"},
		{name: "escaped value", in: `{"resourceType":"Observation","subject":{"identifier":{"system":"urn:mrn","value":"4\u0032"}}}`, want: "urn:mrn|42"},
		{name: "typed group", in: `{"resourceType":"Observation","subject":{"type":"Group","identifier":{"system":"urn:mrn","value":"42"}}}`, want: ""},
		{name: "no system", in: `{"resourceType":"Observation","subject":{"identifier":{"value":"42"}}}`, want: ""},
		{name: "empty value", in: `{"resourceType":"Observation","subject":{"identifier":{"system":"urn:mrn","value":""}}}`, want: ""},
		{name: "reference wins", in: `{"resourceType":"Observation","subject":{"reference":"Patient/p","identifier":{"system":"urn:mrn","value":"42"}}}`, want: ""},
		{name: "same identifier twice", in: `{"resourceType":"Claim","patient":{"identifier":{"system":"urn:mrn","value":"1"}},"subject":{"identifier":{"system":"urn:mrn","value":"1"}}}`, want: "urn:mrn|1"},
	}
	l := labels.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := l.Label([]byte(tt.in))
			if err != nil || r.PatientIdentifier != tt.want {
				t.Fatalf("PatientIdentifier = %q, %v; want %q", r.PatientIdentifier, err, tt.want)
			}
			if tt.want != "" && r.Patient != "" {
				t.Fatalf("Patient = %q beside an identifier", r.Patient)
			}
		})
	}
}

func TestLabelFields(t *testing.T) {
	t.Parallel()
	in := `{"meta":{"versionId":"7","security":[{"code":"R","system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality"},{"code":"local-only"}]},"id":"c\u002d1","resourceType":"Condition"}`
	r, err := labels.Default().Label([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := labels.NewSet(labels.Restricted, labels.Label{Code: "local-only"})
	if r.Type != "Condition" || r.ID != "c-1" || r.VersionID != "7" || !r.Existing.Equal(want) || r.Changed {
		t.Fatalf("Label = %+v", r)
	}
}

func TestRuleMatching(t *testing.T) {
	t.Parallel()
	l, err := labels.New(
		labels.Rule{ID: "exact", System: "s", Codes: []string{"A1"}, Exclude: []string{"A1"}, Labels: []labels.Label{{System: "x", Code: "never"}}},
		labels.Rule{ID: "prefix", System: "s", Prefixes: []string{"B"}, Exclude: []string{"B2"}, Labels: []labels.Label{{System: "x", Code: "b"}}},
		labels.Rule{ID: "range", System: "s", Ranges: [][2]string{{"C10", "C19"}}, ExcludePrefixes: []string{"C17"}, Labels: []labels.Label{{System: "x", Code: "c"}}},
		labels.Rule{ID: "typed", System: "s", Codes: []string{"D"}, Types: []string{"Observation"}, Labels: []labels.Label{{System: "x", Code: "d"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ, code, want string // want: the code of the one derived label, or ""
	}{
		{"Condition", "A1", ""},
		{"Condition", "B", "b"},
		{"Condition", "B1.5", "b"},
		{"Condition", "B2", ""},
		{"Condition", "b1", ""},
		{"Condition", "C10", "c"},
		{"Condition", "C10.1", "c"},
		{"Condition", "C19.99", "c"},
		{"Condition", "C17.210", ""},
		{"Condition", "C17", ""},
		{"Condition", "C1", ""},
		{"Condition", "C20", ""},
		{"Condition", "C09.9", ""},
		{"Condition", "D", ""},
		{"Observation", "D", "d"},
	}
	for _, tt := range tests {
		in := `{"resourceType":"` + tt.typ + `","code":{"coding":[{"system":"s","code":"` + tt.code + `"}]}}`
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(r.Labels) == 1 {
			got = r.Labels[0].Code
		}
		if got != tt.want || len(r.Labels) > 1 || r.Changed != (tt.want != "") {
			t.Errorf("%s %s: Labels %v Changed %v, want %q", tt.typ, tt.code, r.Labels, r.Changed, tt.want)
		}
	}
}

func TestNewRejectsBadRules(t *testing.T) {
	t.Parallel()
	ok := labels.Rule{ID: "ok", System: "s", Codes: []string{"1"}, Labels: []labels.Label{labels.SUD}}
	tests := []struct {
		name string
		rule labels.Rule
		err  string
	}{
		{name: "no id", rule: labels.Rule{System: "s", Codes: []string{"1"}, Labels: ok.Labels}, err: "empty id"},
		{name: "no system", rule: labels.Rule{ID: "r", Codes: []string{"1"}, Labels: ok.Labels}, err: "empty system"},
		{name: "no criteria", rule: labels.Rule{ID: "r", System: "s", Labels: ok.Labels}, err: "no codes, prefixes or ranges"},
		{name: "empty prefix", rule: labels.Rule{ID: "r", System: "s", Prefixes: []string{""}, Labels: ok.Labels}, err: "empty prefix"},
		{name: "reversed range", rule: labels.Rule{ID: "r", System: "s", Ranges: [][2]string{{"F19", "F10"}}, Labels: ok.Labels}, err: "bad range"},
		{name: "no labels", rule: labels.Rule{ID: "r", System: "s", Codes: []string{"1"}}, err: "no labels"},
		{name: "bad confidentiality", rule: labels.Rule{ID: "r", System: "s", Codes: []string{"1"}, Labels: []labels.Label{{System: labels.LegacyConfidentiality, Code: "X"}}}, err: "not a confidentiality code"},
		{name: "mistyped sensitivity", rule: labels.Rule{ID: "r", System: "s", Codes: []string{"1"}, Labels: []labels.Label{{System: labels.SystemActCode, Code: "MHX"}}}, err: `not a code of http://terminology.hl7.org/CodeSystem/v3-ActCode that ds4p knows (did you mean "MH"?)`},
		{name: "sensitivity in the wrong case", rule: labels.Rule{ID: "r", System: "s", Codes: []string{"1"}, Labels: []labels.Label{{System: labels.LegacyActCode, Code: "hiv"}}}, err: `(did you mean "HIV"?)`},
		{name: "two confidentialities", rule: labels.Rule{ID: "r", System: "s", Codes: []string{"1"}, Labels: []labels.Label{labels.Restricted, {System: labels.SystemConfidentiality, Code: "V"}}}, err: "more than one confidentiality"},
		{name: "duplicate id", rule: ok, err: `duplicate id "ok"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := labels.New(ok, tt.rule)
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "labels: ") {
				t.Fatalf("New = %v, want error containing %q", err, tt.err)
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := labels.New(labels.Rule{ID: "a"}, labels.Rule{ID: "b", System: "s"})
	for _, want := range []string{`rule 0 ("a"): empty system`, `rule 1 ("b"): no codes`, "no labels"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New error %v lacks %q", err, want)
		}
	}
}

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	tests := []struct {
		system, code string
		sud          bool
	}{
		{labels.SystemICD10CM, "F10.20", true},
		{labels.SystemICD10CM, "F11.20", true},
		{labels.SystemICD10CM, "F16.20", true},
		{labels.SystemICD10CM, "F18.10", true},
		{labels.SystemICD10CM, "F19.99", true},
		{labels.SystemICD10CM, "F1120", true},
		{labels.SystemICD10CM, "F17.210", false},
		{labels.SystemICD10CM, "F17", false},
		{labels.SystemICD10CM, "F20.9", false},
		{labels.SystemICD10CM, "F09", false},
		{labels.SystemICD10CM, "Z71.42", false},
		{labels.SystemICD10, "F11.2", true},
		{labels.SystemICD10, "F17.2", false},
		{labels.SystemSNOMED, "5602001", true},
		{labels.SystemSNOMED, "75544000", true},
		{labels.SystemSNOMED, "191816009", true},
		{labels.SystemSNOMED, "44054006", false},
		{labels.SystemSNOMED, "56020010", false},
		{"http://loinc.org", "F11.20", false},
	}
	for _, tt := range tests {
		in := `{"resourceType":"Condition","code":{"coding":[{"system":"` + tt.system + `","code":"` + tt.code + `"}]}}`
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Labels.Has(labels.SUD) && r.Labels.Has(labels.Restricted); got != tt.sud {
			t.Errorf("%s|%s: SUD+R = %v, want %v (labels %v)", tt.system, tt.code, got, tt.sud, r.Labels)
		}
	}
}

func TestReasonsOnlyForKeptLabels(t *testing.T) {
	t.Parallel()
	in := `{"resourceType":"Condition","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"V"}]},` +
		`"code":{"coding":[{"system":"http://snomed.info/sct","code":"5602001"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.10"}]}}`
	r, err := labels.Default().Label([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var sud []labels.Reason
	for _, why := range r.Reasons {
		if why.Label == labels.Restricted {
			t.Errorf("reason for R, which gave way to V: %+v", why)
		}
		if why.Label == labels.SUD {
			sud = append(sud, why)
		}
	}
	if len(sud) != 2 {
		t.Fatalf("Reasons = %+v, want one SUD reason per matching coding", r.Reasons)
	}
	for k, want := range []string{"code.coding[0]", "code.coding[1]"} {
		if sud[k].Path != want {
			t.Errorf("SUD reason %d = %+v, want SUD at %s", k, sud[k], want)
		}
	}
}

// The buprenorphine/naloxone film QA ordered (RxNorm 1010600) is SUD
// information, as the other MOUD products listed are.
func TestBuprenorphineNaloxoneFilmIsSUD(t *testing.T) {
	t.Parallel()
	r, err := labels.Default().Label([]byte(`{"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p"},` +
		`"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1010600"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Labels.Has(labels.SUD) {
		t.Fatalf("labels %v, want SUD", r.Labels)
	}
}
