package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestDeviceMeasuredForProgramQA43H (QA round 43, helper H): an
// Observation whose device is the breathalyser the Part 2 program lends
// (Device/b2, owner its department u1; or at its site) stayed ordinary:
// device was read as nothing. It is the program's reading, and the
// patient's use of that device the program's record; an ordinary
// hospital's device leaves them ordinary.
func TestDeviceMeasuredForProgramQA43H(t *testing.T) {
	t.Parallel()
	const zeta = "Zeta House"
	reading := func(typ, device string) string {
		return `{"resourceType":"` + typ + `","id":"o1","status":"final","subject":{"reference":"Patient/p1"},` +
			`"code":{"text":"breath test"},"device":{"reference":"` + device + `"}}`
	}
	checkProgramRecords(t, labels.Program{Name: zeta, References: []string{"Organization/p2"}}, map[string]string{
		"Organization/u1": `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"Organization/h1": `{"resourceType":"Organization","id":"h1","name":"General"}`,
		"Location/l1":     `{"resourceType":"Location","id":"l1","managingOrganization":{"reference":"Organization/u1"}}`,
		"Device/b2":       `{"resourceType":"Device","id":"b2","owner":{"reference":"Organization/u1"}}`,
		"Device/b3":       `{"resourceType":"Device","id":"b3","location":{"reference":"Location/l1"}}`,
		"Device/bh":       `{"resourceType":"Device","id":"bh","owner":{"reference":"Organization/h1"}}`,
	}, []programRecord{
		{"reading of its department's breathalyser", reading("Observation", "Device/b2"), zeta},
		{"reading of a device at its site", reading("Observation", "Device/b3"), zeta},
		{"image its camera took", reading("Media", "Device/b2"), zeta},
		{"reading of an ordinary hospital's device", reading("Observation", "Device/bh"), ""},
		{"the patient uses the program's device", `{"resourceType":"DeviceUseStatement","id":"s1","status":"active","subject":{"reference":"Patient/p1"},"device":{"reference":"Device/b2"}}`, zeta},
		{"the patient uses an ordinary hospital's device", `{"resourceType":"DeviceUseStatement","id":"s1","status":"active","subject":{"reference":"Patient/p1"},"device":{"reference":"Device/bh"}}`, ""},
	})
}
