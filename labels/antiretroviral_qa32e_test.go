package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 32, area E: an order, statement, dispense or administration of
// an antiretroviral tells that the patient has HIV (or takes PrEP against
// it), and the rules labelled two RxNorm codes: Tivicay, Isentress,
// Prezista, Sustiva, Truvada, Norvir ... went to a payer and to org-b as
// ordinary. Each shape an EHR sends is checked: the code in
// medicationCodeableConcept, a contained Medication, a Medication
// referenced in the same Bundle, and the Medication itself. Paxlovid's
// ritonavir tablet, tenofovir disoproxil alone (hepatitis B) and a statin
// stay ordinary.

const qa32eRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm"

func qa32eCC(code string) string {
	return `{"coding":[{"system":"` + qa32eRxNorm + `","code":"` + code + `"}]}`
}

// qa32eInline: a medication record of type typ naming the drug by code.
func qa32eInline(typ, code string) string {
	subj := `"subject":{"reference":"Patient/p1"}`
	extra := `"status":"active"`
	switch typ {
	case "MedicationRequest":
		extra += `,"intent":"order"`
	case "MedicationDispense", "MedicationAdministration":
		extra = `"status":"completed"`
	}
	if typ == "MedicationAdministration" {
		extra += `,"effectiveDateTime":"2026-01-01"`
	}
	return `{"resourceType":"` + typ + `","id":"m1",` + extra + `,` + subj + `,"medicationCodeableConcept":` + qa32eCC(code) + `}`
}

// qa32eContained: the drug as a contained Medication.
func qa32eContained(code string) string {
	return `{"resourceType":"MedicationRequest","id":"m2","status":"active","intent":"order","subject":{"reference":"Patient/p1"},` +
		`"contained":[{"resourceType":"Medication","id":"arv","code":` + qa32eCC(code) + `}],"medicationReference":{"reference":"#arv"}}`
}

func qa32eMedication(id, code string) string {
	return `{"resourceType":"Medication","id":"` + id + `","code":` + qa32eCC(code) + `}`
}

var qa32eHIV = labels.Label{System: labels.SystemActCode, Code: "HIV"}

func TestAntiretroviralsQA32E(t *testing.T) {
	t.Parallel()
	arvs := map[string]string{
		"1433873": "dolutegravir 50 MG Oral Tablet (eCR INSTIs)",
		"1999673": "Biktarvy (eCR INSTIs)",
		"744846":  "Isentress 400 MG (eCR INSTIs)",
		"2475205": "Vocabria (eCR INSTIs)",
		"1551999": "Tybost (eCR boosters)",
		"317150":  "ritonavir 100 MG Oral Capsule (eCR boosters)",
		"2043322": "Trogarzo (eCR postattachment)",
		"2380551": "Rukobia (eCR attachment)",
		"1359269": "darunavir 800 MG (Synthea)",
		"349477":  "efavirenz 600 MG (Synthea)",
		"597730":  "lopinavir / ritonavir (Synthea)",
		"476556":  "emtricitabine / tenofovir disoproxil, Truvada, PrEP (Synthea)",
		"2122519": "dolutegravir / lamivudine (Synthea)",
		"349491":  "lamivudine 300 MG (Synthea)",
	}
	ordinary := map[string]string{
		"900575": "ritonavir 100 MG Oral Tablet, Paxlovid's ritonavir",
		"349251": "tenofovir disoproxil fumarate 300 MG alone, hepatitis B too",
		"904467": "pravastatin sodium 20 MG Oral Tablet",
	}
	l := labels.Default()
	check := func(name, in string, want bool) {
		t.Helper()
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Labels.Has(qa32eHIV) != want || r.Labels.Has(labels.Restricted) != want {
			t.Errorf("%s: labels %v, want HIV and R %v", name, r.Labels, want)
		}
	}
	for code, name := range arvs {
		for _, typ := range []string{"MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration"} {
			check(typ+" of "+name, qa32eInline(typ, code), true)
		}
		check("contained "+name, qa32eContained(code), true)
		check("Medication "+name, qa32eMedication("arv", code), true)
	}
	for code, name := range ordinary {
		check("MedicationRequest of "+name, qa32eInline("MedicationRequest", code), false)
		check("contained "+name, qa32eContained(code), false)
	}

	// A referenced Medication in the same Bundle passes HIV to the order.
	order := `{"resourceType":"MedicationRequest","id":"m3","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/arv"}}`
	rs, err := l.LabelAll([][]byte{[]byte(order), []byte(qa32eMedication("arv", "1433879"))})
	if err != nil {
		t.Fatal(err)
	}
	if !rs[0].Labels.Has(qa32eHIV) || !rs[1].Labels.Has(qa32eHIV) {
		t.Errorf("order of a referenced Tivicay: %v, drug %v; want HIV both", rs[0].Labels, rs[1].Labels)
	}
	rs, err = l.LabelAll([][]byte{[]byte(order), []byte(qa32eMedication("arv", "900575"))})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Labels.Has(qa32eHIV) || rs[0].Labels.Has(labels.Restricted) {
		t.Errorf("order of a referenced Paxlovid ritonavir tablet: %v; want ordinary", rs[0].Labels)
	}
}

// TestAntiretroviralBillingQA32E: a claim whose only trace of HIV care is
// what it bills: PrEP drugs, counselling and supplying fees (CMS NCD
// 210.15) and antiretroviral injections. Ceftriaxone and a flu shot's
// administration stay ordinary.
func TestAntiretroviralBillingQA32E(t *testing.T) {
	t.Parallel()
	const hcpcs = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	claim := func(typ, code string) string {
		return `{"resourceType":"` + typ + `","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + hcpcs + `","code":"` + code + `"}]}}]}`
	}
	l := labels.Default()
	for _, c := range []struct {
		code string
		hiv  bool
	}{
		{"J0739", true}, {"J0750", true}, {"J0751", true}, {"J0799", true}, {"J0738", true},
		{"J0741", true}, {"J1746", true}, {"G0011", true}, {"G0012", true}, {"G0013", true},
		{"Q0516", true}, {"Q0519", true}, {"Q0521", true},
		{"J0696", false}, {"G0008", false},
	} {
		for _, typ := range []string{"Claim", "ExplanationOfBenefit"} {
			r, err := l.Label([]byte(claim(typ, c.code)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Labels.Has(qa32eHIV) != c.hiv || r.Labels.Has(labels.Restricted) != c.hiv {
				t.Errorf("%s billing HCPCS %s: labels %v, want HIV and R %v", typ, c.code, r.Labels, c.hiv)
			}
		}
	}
}

// TestAntiretroviralClassQA32E: a medication statement or an allergy that
// names the antiretroviral class in SNOMED CT (WHO SMART "ARV Drugs").
// Aspirin stays ordinary.
func TestAntiretroviralClassQA32E(t *testing.T) {
	t.Parallel()
	const sct = "http://snomed.info/sct"
	l := labels.Default()
	for _, c := range []struct {
		name, in string
		hiv      bool
	}{
		{"statement of an antiretroviral agent", `{"resourceType":"MedicationStatement","status":"active","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + sct + `","code":"788075003"}]}}`, true},
		{"allergy to antiretrovirals", `{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + sct + `","code":"713540004"}]}}`, true},
		{"allergy to aspirin", `{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + sct + `","code":"387458008"}]}}`, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(qa32eHIV) != c.hiv || r.Labels.Has(labels.Restricted) != c.hiv {
			t.Errorf("%s: labels %v, want HIV and R %v", c.name, r.Labels, c.hiv)
		}
	}
}
