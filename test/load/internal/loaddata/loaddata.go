// Package loaddata is what every program of the load test agrees on: one
// generated population (internal/synth) and the three requests the load
// test sends, so that the static upstream serves, and the Medplum loader
// stores, the same resources.
package loaddata

import (
	"github.com/ds4p/ds4p/internal/synth"
)

const (
	// Seed and Patients select the population: 40 patients hold about
	// 1,580 resources, 1,031 of them Observations, 3.5 MB in all.
	Seed     = 1
	Patients = 40
	// SearchCount is the page size of the search: a 1,000-entry searchset.
	SearchCount = 1000
	// EverythingPatient is the patient of $everything (it has Part 2 data).
	EverythingPatient = "pat-0"
	// ReadPatient's first ordinary Observation is the resource read.
	ReadPatient = "Patient/pat-1"
)

// Request paths below the FHIR base (no leading slash).
const (
	SearchPath     = "Observation?_count=1000"
	EverythingPath = "Patient/" + EverythingPatient + "/$everything"
)

// Dataset returns the population.
func Dataset() *synth.Dataset {
	return synth.Generate(synth.Options{Seed: Seed, Patients: Patients})
}

// ReadResource returns the resource of the read: the first Observation of
// ReadPatient without sensitive data.
func ReadResource(d *synth.Dataset) synth.Resource {
	for _, r := range d.ByPatient(ReadPatient) {
		if r.Type == "Observation" && !r.Sensitive() {
			return r
		}
	}
	panic("loaddata: no ordinary Observation for " + ReadPatient)
}

// ReadPath returns the path of the read.
func ReadPath(d *synth.Dataset) string {
	r := ReadResource(d)
	return r.Type + "/" + r.ID
}

// SearchResources returns the first SearchCount Observations, in dataset
// order: the page a search answers.
func SearchResources(d *synth.Dataset) []synth.Resource {
	var out []synth.Resource
	for _, r := range d.Resources {
		if r.Type == "Observation" && len(out) < SearchCount {
			out = append(out, r)
		}
	}
	return out
}

// EverythingResources returns what $everything answers: the Patient and
// its compartment.
func EverythingResources(d *synth.Dataset) []synth.Resource {
	return d.ByPatient("Patient/" + EverythingPatient)
}
