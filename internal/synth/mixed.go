package synth

import (
	"slices"
	"time"
)

// Element is the ground truth of one element of a MixedResource.
type Element struct {
	// Path names the element, e.g. "diagnosis[1]".
	Path string
	// Topics are the element's sensitivity topics; empty for an ordinary element.
	Topics []string
	// Part2 is true when the element is a Part 2 record.
	Part2 bool
	// Strings are byte strings, as they appear in the resource's JSON,
	// that betray the element: its codes quoted ("\"F11.20\"") and its
	// displays. A sensitive element's strings occur in the resource only
	// inside that element and its narrative.
	Strings []string
}

// MixedResource is a resource that mixes ordinary and sensitive elements,
// the case element-level segmentation exists for. The embedded Resource is
// the resource as a whole and is ordinary (no Topics): only SensitiveElem is.
type MixedResource struct {
	Resource
	SensitiveElem Element
	OrdinaryElem  Element
}

// Mixed returns, for every patient of d with substance use disorder data,
// a hospital ExplanationOfBenefit ("<patient id>-eob-mix") whose first
// diagnosis is ordinary (essential hypertension, I10) and whose second is
// opioid dependence (F11.20); its narrative lists both, as a generated
// narrative does. The resources are not part of d.Resources, so Generate's
// output stays as it was; they depend only on d, in dataset order.
func (d *Dataset) Mixed() []MixedResource {
	var out []MixedResource
	seen := map[string]bool{}
	for _, r := range d.Resources {
		if r.Patient == "" || seen[r.Patient] || !slices.Contains(r.Topics, TopicSUD) {
			continue
		}
		seen[r.Patient] = true
		out = append(out, mixedClaim(r.Patient))
	}
	return out
}

var mixedClaimDate = time.Date(2026, time.January, 15, 10, 0, 0, 0, zone)

// mixedClaim builds the ExplanationOfBenefit of patient ref.
func mixedClaim(patient string) MixedResource {
	id := refID(patient) + "-eob-mix"
	plain, sud := dxHypertension, dxOpioidDependence
	line := func(seq int, dx diagnosis) obj {
		return obj{{"sequence", seq}, {"diagnosisCodeableConcept", codeable(dx.text, dx.codes...)}}
	}
	hospital := actorByID("general-hospital")
	body := append(header("ExplanationOfBenefit", id, metaOf(mixedClaimDate.Add(24*time.Hour), HospitalSource),
		[2]string{"status", "active"},
		[2]string{"use", "claim"},
		[2]string{"provider", hospital.name},
		[2]string{"diagnosis 1", plain.text + " (" + plain.codes[0].code + ")"},
		[2]string{"diagnosis 2", sud.text + " (" + sud.codes[0].code + ")"}), obj{
		{"status", "active"},
		{"type", codeable("Institutional", concept{"http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"})},
		{"use", "claim"},
		{"patient", reference(patient, "")},
		{"created", dateTime(mixedClaimDate)},
		{"insurer", obj{{"display", "Pioneer Valley Health Plan"}}},
		{"provider", reference(HospitalOrgRef, hospital.name)},
		{"outcome", "complete"},
		{"diagnosis", arr{line(1, plain), line(2, sud)}},
		{"insurance", arr{obj{{"focal", true}, {"coverage", obj{{"display", "Pioneer Valley Health Plan PPO"}}}}}},
	}...)
	return MixedResource{
		Resource:      Resource{Type: "ExplanationOfBenefit", ID: id, Patient: patient, JSON: encode(body)},
		SensitiveElem: Element{Path: "diagnosis[1]", Topics: []string{TopicSUD}, Strings: dxStrings(sud)},
		OrdinaryElem:  Element{Path: "diagnosis[0]", Strings: dxStrings(plain)},
	}
}

// dxStrings are a diagnosis's codes, quoted, and displays.
func dxStrings(dx diagnosis) []string {
	out := []string{dx.text}
	for _, c := range dx.codes {
		out = append(out, `"`+c.code+`"`)
		if !slices.Contains(out, c.display) {
			out = append(out, c.display)
		}
	}
	return out
}
