package labels

// Default returns a Labeller with the skeleton rule set: substance use
// disorder (SUD) codes get the sensitivity SUD and confidentiality R. It is
// a starting point, not a complete value set: a later change loads the
// SAMHSA / SHIFT value sets from rule files.
func Default() *Labeller {
	l, err := New(DefaultRules()...)
	if err != nil {
		panic("labels: default rules are invalid: " + err.Error())
	}
	return l
}

// DefaultRules returns the rules behind Default.
func DefaultRules() []Rule {
	sud := []Label{SUD, Restricted}
	return []Rule{
		{
			// ICD-10-CM chapter 5 block F10-F19, "Mental and behavioral
			// disorders due to psychoactive substance use", every code under
			// it (F11.20, F10.239 ...) except F17 nicotine dependence
			// (tobacco use is not SUD information under 42 CFR Part 2).
			ID:              "sud-icd10cm",
			System:          SystemICD10CM,
			Ranges:          [][2]string{{"F10", "F19"}},
			ExcludePrefixes: []string{"F17"},
			Labels:          sud,
		},
		{
			// The same block in WHO ICD-10, where F17 is tobacco use too.
			ID:              "sud-icd10",
			System:          SystemICD10,
			Ranges:          [][2]string{{"F10", "F19"}},
			ExcludePrefixes: []string{"F17"},
			Labels:          sud,
		},
		{
			ID:     "sud-snomed",
			System: SystemSNOMED,
			Codes:  sudSNOMED,
			Labels: sud,
		},
	}
}

// sudSNOMED lists SNOMED CT substance use disorder concepts. Each was
// checked against the source named beside it; the SNOMED CT International
// Edition is the authority, and the rule files of a later change replace
// this list with a maintained value set.
var sudSNOMED = []string{
	// SHIFT Task Force SLS value sets ShiftSlsOpioidCodes / LeapSlsOpioidCodes
	// (github.com/SHIFT-Task-Force/SLS-ValueSets, input/fsh/valuesets;
	// copy in ../shared/data/shift-valuesets), tagged SUD and OPIOIDUD.
	"5602001",         // Opioid abuse (disorder)
	"145121000119106", // Intravenous nondependent opioid abuse (disorder)
	"6525002",         // Dependent drug abuse (disorder)
	// NCBI MedGen C0524662 "Opiate dependence" maps SNOMED CT 75544000.
	"75544000", // Opioid dependence (disorder)
	// MONDO:0005303 "drug dependence" maps SCTID 191816009.
	"191816009", // Drug dependence (disorder)
	// Long-standing International Edition disorder concepts, named from the
	// SNOMED CT descriptions as widely published; not yet confirmed against
	// a terminology server (to do with the rule files).
	"66590003",  // Alcohol dependence (disorder)
	"7200002",   // Alcoholism (disorder)
	"15167005",  // Alcohol abuse (disorder)
	"26416006",  // Drug abuse (disorder)
	"191819002", // Continuous opioid dependence (disorder)
}
