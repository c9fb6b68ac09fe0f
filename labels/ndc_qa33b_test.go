package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 33, area B: pharmacy claims and dispenses carry the NDC only,
// and no rule named an NDC, so a claim for Suboxone, Sublocade, Odefsey,
// Yeztugo or Cabenuva was ordinary; nor were the RxNorm codes of the
// antiretrovirals outside the eCR and Synthea sets (Triumeq, Cabenuva,
// Juluca, Sunlenca, Yeztugo ...) labelled. Each NDC is matched in the
// four spellings records carry; Buprenex (pain) and ordinary drugs stay
// ordinary.

const qa33bNDC = "http://hl7.org/fhir/sid/ndc"

func TestNDCAndNewerArvsQA33B(t *testing.T) {
	t.Parallel()
	hiv := labels.Label{System: labels.SystemActCode, Code: "HIV"}
	type c struct {
		system, code, name string
		want               []labels.Label
	}
	sud := []labels.Label{labels.SUD, qa33bOpioidUD, labels.Restricted}
	hr := []labels.Label{hiv, labels.Restricted}
	cases := []c{
		{qa33bNDC, "12496-1202-3", "Suboxone film, hyphenated", sud},
		{qa33bNDC, "1249612023", "Suboxone film, 10 digits", sud},
		{qa33bNDC, "12496120203", "Suboxone film, 11 digits", sud},
		{qa33bNDC, "12496030001", "Sublocade, 11 digits", sud},
		{qa33bNDC, "12496-1202-03", "Suboxone film, 11 digits 5-4-2", sud},
		{qa33bNDC, "00054-0188-13", "Hikma buprenorphine / naloxone tablets, 11 digits 5-4-2", sud},
		{qa33bNDC, "49702-0258-37", "Triumeq PD, 11 digits 5-4-2", hr},
		{qa33bNDC, "00054018813", "Hikma buprenorphine / naloxone tablets, 11 digits", sud},
		{qa33bNDC, "0904-7154-04", "buprenorphine 2 MG sublingual tablets", sud},
		{qa33bNDC, "61958-2101-1", "Odefsey", hr},
		{qa33bNDC, "61958210101", "Odefsey, 11 digits", hr},
		{qa33bNDC, "6195834011", "Yeztugo, 10 digits", hr},
		{qa33bNDC, "49702024015", "Cabenuva, 11 digits", hr},
		{qa33bNDC, "00378544093", "Mylan emtricitabine / rilpivirine / tenofovir DF, 11 digits", hr},
		{qa32eRxNorm, "1546888", "Triumeq (RxNorm)", hr},
		{qa32eRxNorm, "2475416", "Cabenuva (RxNorm)", hr},
		{qa32eRxNorm, "1989506", "Juluca (RxNorm)", hr},
		{qa32eRxNorm, "2625911", "lenacapavir (RxNorm)", hr},
		{qa32eRxNorm, "2717197", "Yeztugo (RxNorm)", hr},
		{qa32eRxNorm, "1102273", "rilpivirine 25 MG (RxNorm)", hr},
	}
	ordinary := []c{
		{qa33bNDC, "0409-2012-32", "buprenorphine 0.3 MG/ML cartridge (pain)", nil},
		{qa33bNDC, "00409201232", "buprenorphine 0.3 MG/ML cartridge (pain), 11 digits", nil},
		{qa33bNDC, "82619-101-01", "fenofibrate", nil},
		{qa33bNDC, "00597014560", "Ofev", nil},
		{qa32eRxNorm, "1592742", "nintedanib (RxNorm)", nil},
	}
	l := labels.Default()
	stmt := func(system, code string) string {
		return `{"resourceType":"MedicationDispense","id":"d1","status":"completed","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
	}
	claim := func(system, code string) string {
		return `{"resourceType":"ExplanationOfBenefit","id":"e1","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}]}`
	}
	for _, x := range cases {
		for shape, in := range map[string]string{"dispense": stmt(x.system, x.code), "claim": claim(x.system, x.code)} {
			r, err := l.Label([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range x.want {
				if !r.Labels.Has(w) {
					t.Errorf("%s of %s (%s): labels %v, want %v", shape, x.name, x.code, r.Labels, x.want)
					break
				}
			}
		}
	}
	for _, x := range ordinary {
		r, err := l.Label([]byte(stmt(x.system, x.code)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(hiv) || r.Labels.Has(labels.SUD) || r.Labels.Has(labels.Restricted) {
			t.Errorf("dispense of %s (%s): labels %v, want ordinary", x.name, x.code, r.Labels)
		}
	}
}
