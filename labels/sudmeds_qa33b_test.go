package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 33, area B: an order, statement, dispense or administration of a
// drug whose only use is substance use disorder treatment tells the
// disorder, and the rules named a handful of RxNorm codes: Zubsolv, the
// Suboxone brand films, Sublocade, Brixadi, Probuphine, buprenorphine
// sublingual tablets, the methadone concentrate of an opioid treatment
// program, Vivitrol, naltrexone tablets, disulfiram and acamprosate went to
// a payer and to org-b as ordinary. Pain forms of buprenorphine and
// methadone, naloxone alone and Contrave stay ordinary.

var (
	qa33bOpioidUD  = labels.Label{System: labels.SystemActCode, Code: "OPIOIDUD"}
	qa33bAlcoholUD = labels.Label{System: labels.SystemActCode, Code: "ETHUD"}
)

// qa33bSUDMeds: code -> name, and the granularity label it must carry
// beside SUD and R (nil: SUD without granularity).
var qa33bSUDMeds = map[string]struct {
	name string
	sub  *labels.Label
}{
	"351267":  {"buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet", &qa33bOpioidUD},
	"1431104": {"Zubsolv 5.7 MG / 1.4 MG", &qa33bOpioidUD},
	"1010606": {"Suboxone 8 MG / 2 MG film", &qa33bOpioidUD},
	"1544853": {"Bunavail 4.2 MG / 0.7 MG", &qa33bOpioidUD},
	"351264":  {"buprenorphine 2 MG Sublingual Tablet", &qa33bOpioidUD},
	"351265":  {"buprenorphine 8 MG Sublingual Tablet", &qa33bOpioidUD},
	"1797655": {"Probuphine implant", &qa33bOpioidUD},
	"1996189": {"Sublocade 100 MG", &qa33bOpioidUD},
	"1996192": {"buprenorphine 300 MG extended-release syringe", &qa33bOpioidUD},
	"2639044": {"Brixadi 128 MG", &qa33bOpioidUD},
	"2639021": {"buprenorphine 8 MG weekly syringe", &qa33bOpioidUD},
	"991147":  {"methadone 10 MG/ML oral concentrate", &qa33bOpioidUD},
	"991149":  {"Methadose 10 MG/ML concentrate", &qa33bOpioidUD},
	"864978":  {"methadone 40 MG dispersible tablet", &qa33bOpioidUD},
	"1990745": {"Diskets 40 MG", &qa33bOpioidUD},
	"1483744": {"naltrexone 50 MG Oral Tablet", nil},
	"637213":  {"naltrexone 380 MG Injection (Vivitrol)", nil},
	"197623":  {"disulfiram 250 MG Oral Tablet", &qa33bAlcoholUD},
	"197624":  {"disulfiram 500 MG Oral Tablet", &qa33bAlcoholUD},
	"835726":  {"acamprosate calcium 333 MG DR Oral Tablet", &qa33bAlcoholUD},
}

// qa33bOrdinaryMeds stay ordinary: pain care and overdose reversal.
var qa33bOrdinaryMeds = map[string]string{
	"904876":  "Butrans 20 MCG/HR patch",
	"1716069": "Belbuca 0.45 MG buccal film",
	"238129":  "Buprenex 0.3 MG/ML injection",
	"864718":  "methadone 5 MG Oral Tablet",
	"864761":  "methadone 1 MG/ML Oral Solution",
	"1725059": "naloxone 40 MG/ML Nasal Spray (Narcan)",
	"1191222": "naloxone 0.4 MG/ML Injectable Solution",
	"312289":  "naloxone / pentazocine Oral Tablet",
	"1551468": "bupropion / naltrexone (Contrave)",
	"904467":  "pravastatin sodium 20 MG Oral Tablet",
}

func TestSUDMedicationsQA33B(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	label := func(name, in string) labels.Set {
		t.Helper()
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r.Labels
	}
	for code, m := range qa33bSUDMeds {
		shapes := map[string]string{
			"contained":  qa32eContained(code),
			"Medication": qa32eMedication("d", code),
		}
		for _, typ := range []string{"MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration"} {
			shapes[typ] = qa32eInline(typ, code)
		}
		for shape, in := range shapes {
			got := label(shape+" of "+m.name, in)
			if !got.Has(labels.SUD) || !got.Has(labels.Restricted) || (m.sub != nil && !got.Has(*m.sub)) {
				t.Errorf("%s of %s (%s): labels %v, want SUD, R and %v", shape, m.name, code, got, m.sub)
			}
		}
	}
	for code, name := range qa33bOrdinaryMeds {
		for shape, in := range map[string]string{"MedicationRequest": qa32eInline("MedicationRequest", code), "contained": qa32eContained(code)} {
			if got := label(shape+" of "+name, in); got.Has(labels.SUD) || got.Has(labels.Restricted) {
				t.Errorf("%s of %s (%s): labels %v, want ordinary", shape, name, code, got)
			}
		}
	}
}
