package synth_test

import (
	"fmt"

	"github.com/ds4p/ds4p/internal/synth"
)

// Patient 0 always holds Part 2 records from the SUD treatment program.
func ExampleGenerate() {
	d := synth.Generate(synth.Options{Seed: 1})
	for _, r := range d.ByPatient(synth.PatientRef(0)) {
		if r.Part2 {
			fmt.Println(r.Ref(), r.Topics)
		}
	}
	// Output:
	// Encounter/pat-0-p2-enc [SUD]
	// Condition/pat-0-p2-cond [SUD]
	// MedicationRequest/pat-0-p2-medrx [SUD]
	// Observation/pat-0-p2-uds [SUD]
}
