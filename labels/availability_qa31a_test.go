package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProviderAvailabilityQA31A: a provider's Schedule (every actor a
// practitioner, role, location, service, organization or device) and a
// Slot (a Schedule's free or busy time, which names no patient: FHIR R4
// Slot) are availability, directory data, even when a Part 2 program is
// named elsewhere in them: in an extension (event-location, a site's
// own), in a contained resource or as meta.source. a9ced4a exempted only
// the Schedule's actor, so a provider's calendar naming the program in an
// extension, and any Slot doing so, became a Part 2 record of no patient,
// which the proxy withholds from every caller, the program's own
// consented clinicians too. One that names a patient anywhere (an
// extension, a reference by identifier alone below the top level, a
// contained resource, which may be the patient) is still the program's
// record of that patient.
func TestProviderAvailabilityQA31A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{
		Name: "clinic", References: []string{"Practitioner/doc", "Location/loc2"},
		Sources: []string{"https://ehr.example/p2"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	const ext = `"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Location/loc2"}}]`
	const patExt = `{"url":"https://ehr.example/booked-for","valueReference":{"reference":"Patient/p1"}}`
	for _, c := range []struct {
		name, in string
		part2    bool
	}{
		{"schedule, program in an extension", `{"resourceType":"Schedule","id":"s",` + ext + `,"actor":[{"reference":"Practitioner/other"}]}`, false},
		{"schedule, program as its source", `{"resourceType":"Schedule","id":"s","meta":{"source":"https://ehr.example/p2"},"actor":[{"reference":"Practitioner/other"}]}`, false},
		{"schedule with a contained resource", `{"resourceType":"Schedule","id":"s","contained":[{"resourceType":"Location","id":"l","partOf":{"reference":"Location/loc2"}}],"extension":[{"url":"https://ehr.example/where","valueReference":{"reference":"#l"}}],"actor":[{"reference":"Practitioner/other"}]}`, true},
		{"schedule, escaped actor member", `{"resourceType":"Schedule","id":"s",` + ext + `,"act\u006fr":[{"reference":"Practitioner/other"}]}`, false},
		{"schedule of a patient", `{"resourceType":"Schedule","id":"s",` + ext + `,"actor":[{"reference":"Patient/p1"}]}`, true},
		{"schedule naming a patient in an extension", `{"resourceType":"Schedule","id":"s","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Location/loc2"}},` + patExt + `],"actor":[{"reference":"Practitioner/other"}]}`, true},
		{"schedule without actor", `{"resourceType":"Schedule","id":"s",` + ext + `}`, true},
		{"slot, program in an extension", `{"resourceType":"Slot","id":"sl","schedule":{"reference":"Schedule/s"},"status":"busy",` + ext + `,"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`, false},
		{"slot, program as its source", `{"resourceType":"Slot","id":"sl","meta":{"source":"https://ehr.example/p2#x"},"schedule":{"reference":"Schedule/s"},"status":"busy","start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`, false},
		{"slot with its own identifier", `{"resourceType":"Slot","id":"sl","identifier":[{"system":"urn:slots","value":"9"}],"schedule":{"reference":"Schedule/s"},"status":"free",` + ext + `,"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`, false},
		{"slot naming a patient", `{"resourceType":"Slot","id":"sl","schedule":{"reference":"Schedule/s"},"status":"busy","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Location/loc2"}},` + patExt + `],"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`, true},
		{"slot naming a patient by identifier", `{"resourceType":"Slot","id":"sl","meta":{"source":"https://ehr.example/p2"},"schedule":{"reference":"Schedule/s"},"status":"busy","extension":[{"url":"https://ehr.example/booked-for","valueReference":{"type":"Patient","identifier":{"system":"urn:mrn","value":"1"}}}],"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`, true},
		{"slot with a contained patient", `{"resourceType":"Slot","id":"sl","meta":{"source":"https://ehr.example/p2"},"contained":[{"resourceType":"Patient","id":"p"}],"schedule":{"reference":"Schedule/s"},"status":"busy","extension":[{"url":"https://ehr.example/booked-for","valueReference":{"reference":"#p"}}],"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`, true},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.Part2Policy) != c.part2 || (r.Program != "") != c.part2 {
			t.Errorf("%s: program %q, patient %q, labels %v, %v; want Part 2 %v", c.name, r.Program, r.Patient, r.Labels, err, c.part2)
		}
	}
}
