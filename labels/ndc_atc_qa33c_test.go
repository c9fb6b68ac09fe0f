package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 33, area C: NDC codes were compared as written, so a package
// matched only in the spellings a rule listed (round 33 B listed each four
// ways), and the NDC OID, https or a trailing slash named no NDC at all;
// ATC rules matched only http://www.whocc.no/atc and upper case, so the
// ATC OID, a trailing slash, lower-case codes and HL7 Germany's
// http://fhir.de/CodeSystem/bfarm/atc (and .../dimdi/atc) were ordinary.
// Now an NDC is compared in its 11-digit 5-4-2 form (ten digits without
// hyphens read in the three layouts), and ATC codes in upper case under
// any of its spellings.

func qa33cDispense(system, code string) string {
	return `{"resourceType":"MedicationDispense","id":"d1","status":"completed","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
}

func qa33cClaim(system, code string) string {
	return `{"resourceType":"ExplanationOfBenefit","id":"e1","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}]}`
}

func TestNDCSpellingsQA33C(t *testing.T) {
	t.Parallel()
	hiv := labels.Label{System: labels.SystemActCode, Code: "HIV"}
	sex := labels.Label{System: labels.SystemActCode, Code: "SEX"}
	systems := []string{
		labels.SystemNDC, "urn:oid:2.16.840.1.113883.6.69", "URN:OID:2.16.840.1.113883.6.69",
		"2.16.840.1.113883.6.69", "https://hl7.org/fhir/sid/ndc/", "HTTP://HL7.ORG/FHIR/SID/NDC",
		"http://www.hl7.org/fhir/sid/ndc", " http://hl7.org/fhir/sid/ndc|2026 ", "http://www.nlm.nih.gov/research/umls/ndc",
	}
	cases := []struct {
		codes []string
		name  string
		want  labels.Label
	}{
		// 5-3-2: the rules list 49702-258-37.
		{[]string{"49702-258-37", "49702-0258-37", "49702025837", "4970225837", " 49702-258-37 "}, "Triumeq PD (5-3-2)", hiv},
		// 4-4-2: the rules list 0378-5440-93.
		{[]string{"0378-5440-93", "00378-5440-93", "00378544093", "0378544093"}, "Mylan emtricitabine / rilpivirine / tenofovir DF (4-4-2)", hiv},
		// 5-4-1: the rules list 61958-2101-1.
		{[]string{"61958-2101-1", "61958-2101-01", "61958210101", "6195821011"}, "Odefsey (5-4-1)", hiv},
		{[]string{"12496-1202-3", "12496-1202-03", "12496120203", "1249612023"}, "Suboxone film (5-4-1)", labels.SUD},
		{[]string{"84670-014-01", "84670-0014-01", "84670001401", "8467001401"}, "mifepristone 200 MG (5-3-2)", sex},
	}
	l := labels.Default()
	for _, x := range cases {
		for _, sys := range systems {
			for _, code := range x.codes {
				for shape, in := range map[string]string{"dispense": qa33cDispense(sys, code), "claim": qa33cClaim(sys, code)} {
					r, err := l.Label([]byte(in))
					if err != nil {
						t.Fatal(err)
					}
					if !r.Labels.Has(x.want) || !r.Labels.Has(labels.Restricted) {
						t.Errorf("%s of %s as %q under %q: labels %v, want %v and R", shape, x.name, code, sys, r.Labels, x.want)
					}
				}
			}
		}
	}
	// Ordinary packages stay ordinary in every spelling, and so does what
	// is no NDC: a rule's package with a digit too few or too many, or
	// another segment layout, is another code.
	ordinary := []string{
		"0409-2012-32", "00409-2012-32", "00409201232", "0409201232", // Buprenex (pain)
		"82619-101-01", "82619-0101-01", "82619010101", "8261910101", // fenofibrate
		"00597-0145-60", "00597014560", "0597014560", // Ofev
		"49702-258-3", "49702-258-370", "4970-258-37", "497022583", "497020258370", "49702-258", "49702--258-37", "49702-258-37-1", "",
	}
	for _, sys := range systems[:5] {
		for _, code := range ordinary {
			r, err := l.Label([]byte(qa33cDispense(sys, code)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Labels.Sensitive() {
				t.Errorf("ordinary %q under %q: labels %v, want none sensitive", code, sys, r.Labels)
			}
		}
	}
	// A consent names an NDC code by its system's canonical URL too.
	for _, sys := range systems[1:] {
		if got := labels.CodeSystem(sys); got != labels.SystemNDC {
			t.Errorf("CodeSystem(%q) = %q, want %q", sys, got, labels.SystemNDC)
		}
	}
}

func TestATCSpellingsQA33C(t *testing.T) {
	t.Parallel()
	hiv := labels.Label{System: labels.SystemActCode, Code: "HIV"}
	systems := []string{
		labels.SystemATC, "urn:oid:2.16.840.1.113883.6.73", "2.16.840.1.113883.6.73",
		"http://www.whocc.no/atc/", "https://www.whocc.no/atc", "http://whocc.no/atc", "HTTP://WWW.WHOCC.NO/ATC",
		"http://fhir.de/CodeSystem/bfarm/atc", "http://fhir.de/CodeSystem/dimdi/atc", "http://fhir.de/CodeSystem/bfarm/atc|2025",
	}
	cases := []struct {
		code string
		want labels.Label
	}{
		{"J05AR20", hiv}, {"j05ar20", hiv}, {"J05ar13", hiv}, {" J05AJ04 ", hiv}, {"j05ax31", hiv},
		{"N07BC51", labels.SUD}, {"n07bc02", labels.SUD}, {"n07bb01", labels.SUD},
	}
	l := labels.Default()
	for _, sys := range systems {
		for _, x := range cases {
			r, err := l.Label([]byte(qa33cDispense(sys, x.code)))
			if err != nil {
				t.Fatal(err)
			}
			if !r.Labels.Has(x.want) || !r.Labels.Has(labels.Restricted) {
				t.Errorf("%q under %q: labels %v, want %v and R", x.code, sys, r.Labels, x.want)
			}
		}
		// Buprenorphine for pain, ritonavir and nicotine stay ordinary.
		for _, code := range []string{"N02AE01", "n02ae01", "J05AE03", "j05ae03", "N07BA01", "n07ba01"} {
			r, err := l.Label([]byte(qa33cDispense(sys, code)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Labels.Sensitive() {
				t.Errorf("ordinary %q under %q: labels %v, want none sensitive", code, sys, r.Labels)
			}
		}
	}
	for _, sys := range systems[1:] {
		if got := labels.CodeSystem(sys); got != labels.SystemATC {
			t.Errorf("CodeSystem(%q) = %q, want %q", sys, got, labels.SystemATC)
		}
	}
}
