package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 33, area B: a medication coded in WHO ATC, as European and IPS
// records code them, was ordinary whatever it was: a statement of
// Biktarvy (J05AR20), Cabenuva's cabotegravir (J05AJ04), lenacapavir
// (J05AX31), Suboxone (N07BC51), methadone for opioid dependence (N07BC02)
// or disulfiram (N07BB01). The HIV groups and the drugs used in alcohol
// and opioid dependence are labelled now; the hepatitis B drugs, ritonavir,
// oseltamivir and methadone or buprenorphine for pain (N02A) stay ordinary.

const qa33bATC = "http://www.whocc.no/atc"

func qa33bATCStatement(code string) string {
	return `{"resourceType":"MedicationStatement","id":"s1","status":"active","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + qa33bATC + `","code":"` + code + `"}]}}`
}

func TestATCMedicationsQA33B(t *testing.T) {
	t.Parallel()
	hiv := labels.Label{System: labels.SystemActCode, Code: "HIV"}
	cases := []struct {
		code, name string
		want       []labels.Label
	}{
		{"J05AR20", "bictegravir / emtricitabine / tenofovir alafenamide", []labels.Label{hiv, labels.Restricted}},
		{"J05AR13", "abacavir / dolutegravir / lamivudine (Triumeq)", []labels.Label{hiv, labels.Restricted}},
		{"J05AR03", "tenofovir disoproxil / emtricitabine (Truvada, PrEP)", []labels.Label{hiv, labels.Restricted}},
		{"J05AJ04", "cabotegravir", []labels.Label{hiv, labels.Restricted}},
		{"J05AG05", "rilpivirine", []labels.Label{hiv, labels.Restricted}},
		{"J05AE10", "darunavir", []labels.Label{hiv, labels.Restricted}},
		{"J05AF09", "emtricitabine", []labels.Label{hiv, labels.Restricted}},
		{"J05AX31", "lenacapavir", []labels.Label{hiv, labels.Restricted}},
		{"J05AX29", "fostemsavir", []labels.Label{hiv, labels.Restricted}},
		{"N07BC51", "buprenorphine, combinations", []labels.Label{labels.SUD, qa33bOpioidUD, labels.Restricted}},
		{"N07BC02", "methadone (opioid dependence)", []labels.Label{labels.SUD, qa33bOpioidUD, labels.Restricted}},
		{"N07BC04", "lofexidine", []labels.Label{labels.SUD, qa33bOpioidUD, labels.Restricted}},
		{"N07BB01", "disulfiram", []labels.Label{labels.SUD, qa33bAlcoholUD, labels.Restricted}},
		{"N07BB03", "acamprosate", []labels.Label{labels.SUD, qa33bAlcoholUD, labels.Restricted}},
		{"N07BB04", "naltrexone", []labels.Label{labels.SUD, labels.Restricted}},
	}
	ordinary := map[string]string{
		"J05AE03": "ritonavir (Paxlovid's too)",
		"J05AF05": "lamivudine (hepatitis B too)",
		"J05AF07": "tenofovir disoproxil (hepatitis B too)",
		"J05AF13": "tenofovir alafenamide (Vemlidy)",
		"J05AF10": "entecavir",
		"J05AH02": "oseltamivir",
		"J05AP55": "sofosbuvir / velpatasvir",
		"N02AE01": "buprenorphine for pain",
		"N02AC52": "methadone for pain",
		"N07BA03": "varenicline",
		"C10AA01": "simvastatin",
	}
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(qa33bATCStatement(c.code)))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !r.Labels.Has(w) {
				t.Errorf("%s (%s): labels %v, want %v", c.name, c.code, r.Labels, c.want)
				break
			}
		}
		if c.code == "N07BB04" && r.Labels.Has(qa33bAlcoholUD) {
			t.Errorf("naltrexone (N07BB04): labels %v, want SUD without ETHUD (it treats opioid use disorder too)", r.Labels)
		}
	}
	for code, name := range ordinary {
		r, err := l.Label([]byte(qa33bATCStatement(code)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(hiv) || r.Labels.Has(labels.SUD) || r.Labels.Has(labels.Restricted) {
			t.Errorf("%s (%s): labels %v, want ordinary", name, code, r.Labels)
		}
	}
}
