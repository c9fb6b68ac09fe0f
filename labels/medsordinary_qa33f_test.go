package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestOrdinaryMedicationsQA33F: the drugs round 33's medication rules
// leave ordinary stay so, by every code system the rules now read:
// ritonavir's tablet and ingredient (Paxlovid's), tenofovir disoproxil
// alone and lamivudine (hepatitis B too), naloxone alone in every form
// the CDC Opioid Prescribing Guideline's Naloxone medications set lists
// (HL7/cdc-opioid-cpg, RxNorm 2024-03-04), and the buprenorphine forms
// for pain of its Buprenorphine medications set (patches, buccal films,
// Buprenex and its cartridge, 0.2 and 0.4 MG sublingual tablets, the
// veterinary products), and their ATC codes.
func TestOrdinaryMedicationsQA33F(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	const rx, atc = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://www.whocc.no/atc"
	codes := map[string][]string{
		rx: {
			"900575", "85762", // ritonavir 100 MG Oral Tablet, ritonavir
			"349251", "68244", // tenofovir disoproxil fumarate 300 MG Oral Tablet, lamivudine
			// naloxone alone
			"1725064", "1870935", "2540709", "2589618", "2680741", "1191212", "1191222", "1191228", "1191234",
			"1191250", "1659929", "1725059", "1855730", "1870933", "2540703", "2589612", "2596175", "2637879",
			"2673091", "2679504", "2685612",
			// buprenorphine for pain and veterinary buprenorphine
			"1432971", "1542999", "904874", "904878", "904882", "1432969", "1542997",
			"1716063", "1716067", "1716071", "1716075", "1716079", "1716083", "1716090",
			"1716057", "1716065", "1716069", "1716073", "1716077", "1716081", "1716086",
			"1594650", "1594655", "205533", "238129", "1655032", "246474", "250426", "2599846", "2599851",
		},
		atc: {"J05AE03", "J05AE30", "J05AF05", "J05AF07", "J05AF13", "V03AB15", "N02AE01", "N07BA01"},
	}
	for system, list := range codes {
		for _, code := range list {
			for _, res := range []string{
				`{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`,
				`{"resourceType":"MedicationDispense","status":"completed","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`,
			} {
				r, err := l.Label([]byte(res))
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Labels) != 0 {
					t.Errorf("%s|%s: labels %v; want ordinary", system, code, r.Labels)
				}
			}
		}
	}
}
