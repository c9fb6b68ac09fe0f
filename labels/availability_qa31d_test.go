package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAvailabilityNamingSomeoneQA31D: a Slot (or a provider's Schedule)
// of a Part 2 program is availability, exempt from the program's labels
// (339fa97), only while it names no patient; the exemption looked for a
// member named identifier and for references the walk reads as a
// patient's. An EHR's "booked for" extension naming the patient's MRN as
// a valueIdentifier, a Reference to the patient by type and display
// alone, or one to a RelatedPerson, a Group, or the Appointment or
// Encounter that names the patient passed as availability: the Slot went
// to every caller with the program named in it and the person it was
// booked for (42 CFR 2.13(c)). A Slot naming only providers, locations
// and its Schedule stays availability.
func TestAvailabilityNamingSomeoneQA31D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{
		Name: "clinic", References: []string{"Practitioner/doc", "Location/loc2"},
		Sources: []string{"https://ehr.example/p2"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	slot := func(ext string) string {
		return `{"resourceType":"Slot","id":"sl","meta":{"source":"https://ehr.example/p2"},"schedule":{"reference":"Schedule/s"},"status":"busy","extension":[` + ext + `],"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`
	}
	schedule := func(ext string) string {
		return `{"resourceType":"Schedule","id":"s","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Location/loc2"}},` + ext + `],"actor":[{"reference":"Practitioner/other"}]}`
	}
	for _, c := range []struct {
		name, in string
		part2    bool
	}{
		{"slot, MRN as valueIdentifier", slot(`{"url":"https://ehr.example/booked-for","valueIdentifier":{"system":"urn:mrn","value":"1"}}`), true},
		{"slot, patient by type and display", slot(`{"url":"https://ehr.example/booked-for","valueReference":{"type":"Patient","display":"John Doe"}}`), true},
		{"slot, related person", slot(`{"url":"https://ehr.example/booked-for","valueReference":{"reference":"RelatedPerson/rp1"}}`), true},
		{"slot, group", slot(`{"url":"https://ehr.example/booked-for","valueReference":{"reference":"Group/g1"}}`), true},
		{"slot, its appointment", slot(`{"url":"https://ehr.example/booked-by","valueReference":{"reference":"Appointment/a1"}}`), true},
		{"slot, an encounter", slot(`{"url":"https://ehr.example/for","valueReference":{"reference":"Encounter/e1"}}`), true},
		{"schedule, MRN as valueIdentifier", schedule(`{"url":"https://ehr.example/booked-for","valueIdentifier":{"system":"urn:mrn","value":"1"}}`), true},
		{"schedule, patient by type and display", schedule(`{"url":"https://ehr.example/booked-for","valueReference":{"type":"Patient","display":"John Doe"}}`), true},
		// Availability still.
		{"slot, a location", slot(`{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Location/loc2"}}`), false},
		{"slot, a practitioner by type", slot(`{"url":"https://ehr.example/with","valueReference":{"type":"Practitioner","reference":"Practitioner/doc"}}`), false},
		{"slot, a coded extension", slot(`{"url":"https://ehr.example/kind","valueCodeableConcept":{"coding":[{"system":"urn:k","code":"intake"}]}}`), false},
		{"schedule, a healthcare service", schedule(`{"url":"https://ehr.example/svc","valueReference":{"reference":"HealthcareService/hs1"}}`), false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.Part2Policy) != c.part2 || (r.Program != "") != c.part2 {
			t.Errorf("%s: program %q, labels %v, %v; want Part 2 %v", c.name, r.Program, r.Labels, err, c.part2)
		}
	}
}
