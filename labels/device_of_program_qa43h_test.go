package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestDeviceOfProgramQA43H (QA round 43, helper H; helper A's note): a
// record authored or performed by a Device the Part 2 program owns
// (owner Organization/p2 or its department u1), one at the program's
// site (location l1, managed by u1) or a component of such a device
// (parent) stayed ordinary: a Device was no directory entry, so the
// record's author, performer or sender read nothing of it. An intake
// kiosk's QuestionnaireResponse and a scanner's DocumentReference are
// the program's records; an ordinary hospital's device leaves them
// ordinary, and a Device naming the program is still its record.
func TestDeviceOfProgramQA43H(t *testing.T) {
	t.Parallel()
	const zeta = "Zeta House"
	answers := func(device string) string {
		return `{"resourceType":"QuestionnaireResponse","id":"q1","status":"completed","subject":{"reference":"Patient/p1"},` +
			`"author":{"reference":"` + device + `"},"item":[{"linkId":"1","answer":[{"valueString":"no"}]}]}`
	}
	checkProgramRecords(t, labels.Program{Name: zeta, References: []string{"Organization/p2"}}, map[string]string{
		"Organization/u1": `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"Organization/h1": `{"resourceType":"Organization","id":"h1","name":"General"}`,
		"Location/l1":     `{"resourceType":"Location","id":"l1","managingOrganization":{"reference":"Organization/u1"}}`,
		"Location/lh":     `{"resourceType":"Location","id":"lh","managingOrganization":{"reference":"Organization/h1"}}`,
		"Device/kiosk":    `{"resourceType":"Device","id":"kiosk","owner":{"reference":"Organization/p2"}}`,
		"Device/k2":       `{"resourceType":"Device","id":"k2","owner":{"reference":"Organization/u1"}}`,
		"Device/k3":       `{"resourceType":"Device","id":"k3","location":{"reference":"Location/l1"}}`,
		"Device/k4":       `{"resourceType":"Device","id":"k4","parent":{"reference":"Device/k2"}}`,
		"Device/kh":       `{"resourceType":"Device","id":"kh","owner":{"reference":"Organization/h1"},"location":{"reference":"Location/lh"}}`,
		"Device/kh2":      `{"resourceType":"Device","id":"kh2","parent":{"reference":"Device/kh"}}`,
		"Practitioner/q":  `{"resourceType":"Practitioner","id":"q","qualification":[{"code":{"text":"LADC"},"issuer":{"reference":"Organization/p2"}}]}`,
	}, []programRecord{
		{"answers from the program's kiosk", answers("Device/kiosk"), zeta},
		{"answers from its department's kiosk", answers("Device/k2"), zeta},
		{"answers from a kiosk at its site", answers("Device/k3"), zeta},
		{"answers from a component of its kiosk", answers("Device/k4"), zeta},
		{"note its scanner authored", `{"resourceType":"DocumentReference","id":"n1","status":"current","subject":{"reference":"Patient/p1"},` +
			`"author":[{"reference":"Device/k2"}],"content":[{"attachment":{"contentType":"text/plain","data":"aGk="}}]}`, zeta},
		{"procedure its device performed", `{"resourceType":"Procedure","id":"pr1","status":"completed","subject":{"reference":"Patient/p1"},` +
			`"performer":[{"actor":{"reference":"Device/k3"}}]}`, zeta},
		{"answers from an ordinary hospital's kiosk", answers("Device/kh"), ""},
		{"answers from a component of it", answers("Device/kh2"), ""},
		{"answers entered by a clinician the program licensed", answers("Practitioner/q"), ""},
		{"the patient's device owned by the department", `{"resourceType":"Device","id":"dx","patient":{"reference":"Patient/p1"},"owner":{"reference":"Organization/u1"}}`, zeta},
		{"the patient's device owned by the program", `{"resourceType":"Device","id":"dx","patient":{"reference":"Patient/p1"},"owner":{"reference":"Organization/p2"}}`, zeta},
		{"the patient's device of an ordinary hospital", `{"resourceType":"Device","id":"dx","patient":{"reference":"Patient/p1"},"owner":{"reference":"Organization/h1"}}`, ""},
	})
}
