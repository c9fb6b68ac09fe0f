// Package synth generates deterministic synthetic FHIR R4 data for tests,
// benchmarks and the demo: a Part 2 SUD treatment program, a general
// hospital and an HIE, their practitioners, and patients whose records mix
// ordinary care with sensitive data (SUD from the Part 2 program and from
// the hospital ED, mental health, HIV, domestic violence).
//
// Every resource carries its ground truth: the sensitivity topics the
// generator meant it to have and whether it is a Part 2 record. Ground truth
// comes from how a resource was built, never from its codes, so tests can
// use it to judge a labeller. The same seed always gives byte-identical
// output, on every Go release: the generator uses its own PRNG.
//
// Guaranteed patients, whatever the seed:
//   - pat-0: Part 2 SUD treatment (resources pat-0-p2-enc, pat-0-p2-cond,
//     pat-0-p2-medrx, pat-0-p2-uds) and ordinary hospital data.
//   - pat-1: ordinary hospital data only.
//   - pat-2: mental health (pat-2-mh-*) and HIV (pat-2-hiv-*) data and
//     ordinary hospital data.
//
// Other patients draw their mix from the seed.
//
// Source is visible the way it is in real data: Part 2 records have
// meta.source Part2Source, name Part2OrgRef as Encounter.serviceProvider or
// Observation performer and Part2PractitionerRef as recorder or requester,
// and reference the Part 2 encounter. Hospital records (including SUD
// diagnosed in the ED) have meta.source HospitalSource. The Patient resource
// never reveals Part 2 enrolment, and resources without topics contain no
// sensitive code or wording.
package synth

import "strconv"

// Sensitivity topics used as ground truth in Resource.Topics.
const (
	TopicSUD = "SUD" // substance use disorder
	TopicMH  = "MH"  // mental health
	TopicHIV = "HIV" // HIV/AIDS
	TopicSDV = "SDV" // sexual and domestic violence
)

// DefaultPatients is the number of patients Generate makes when
// Options.Patients is zero or negative.
const DefaultPatients = 10

// Options configures Generate.
type Options struct {
	// Seed selects the data; the same seed gives byte-identical output.
	Seed int64
	// Patients is the number of patients, DefaultPatients when <= 0.
	Patients int
}

// Dataset is a generated population.
type Dataset struct {
	// Resources holds every resource: organisations, locations,
	// practitioners and practitioner roles first, then each patient's
	// resources, the Patient first.
	Resources []Resource
	// Part2Org is the reference of the Part 2 program.
	Part2Org string
	// HospitalOrg is the reference of the general hospital.
	HospitalOrg string
	// HIEOrg is the reference of the health information exchange.
	HIEOrg string
}

// Resource is one generated resource and its ground truth.
type Resource struct {
	Type, ID string
	// Patient is "Patient/<id>" when the resource belongs to a patient
	// (including the Patient itself), else "".
	Patient string
	// Topics lists the sensitivity topics the generator intended
	// (TopicSUD, TopicMH, TopicHIV, TopicSDV); empty for ordinary data.
	Topics []string
	// Part2 is true when the resource comes from the Part 2 program.
	Part2 bool
	// JSON is compact, valid FHIR R4 JSON with resourceType and id.
	JSON []byte
}

// Ref returns the resource's relative reference, "Type/id".
func (r Resource) Ref() string { return r.Type + "/" + r.ID }

// Sensitive reports whether the resource has any sensitivity topic.
func (r Resource) Sensitive() bool { return len(r.Topics) > 0 }

// Generate returns the dataset for o.
func Generate(o Options) *Dataset {
	n := o.Patients
	if n <= 0 {
		n = DefaultPatients
	}
	d := &Dataset{Part2Org: Part2OrgRef, HospitalOrg: HospitalOrgRef, HIEOrg: HIEOrgRef}
	d.Resources = directory()
	for i := range n {
		d.Resources = append(d.Resources, generatePatient(o.Seed, i)...)
	}
	return d
}

// PatientRef returns the reference of the patient with index i, e.g.
// "Patient/pat-0".
func PatientRef(i int) string { return "Patient/" + patientID(i) }

func patientID(i int) string { return "pat-" + strconv.Itoa(i) }

// ByPatient returns the resources that belong to the patient ref
// ("Patient/pat-0"), the Patient first, in dataset order.
func (d *Dataset) ByPatient(ref string) []Resource {
	var out []Resource
	for _, r := range d.Resources {
		if r.Patient == ref {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the resource with the given reference ("Type/id").
func (d *Dataset) Find(ref string) (Resource, bool) {
	for _, r := range d.Resources {
		if r.Ref() == ref {
			return r, true
		}
	}
	return Resource{}, false
}

// Raw returns the JSON of every resource in dataset order, ready for a
// FHIR server's bulk load.
func (d *Dataset) Raw() [][]byte {
	out := make([][]byte, len(d.Resources))
	for i, r := range d.Resources {
		out[i] = r.JSON
	}
	return out
}
