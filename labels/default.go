package labels

// Default returns a Labeller with the shipped rule files (see
// EmbeddedRules): SUD (with ETHUD and OPIOIDUD granularity), mental and
// behavioural health, HIV, STD, SDV, SEX, GDIS and PSYTHPN. It has no Part 2
// programs and no cache: those are per deployment.
func Default() *Labeller {
	l, err := New(DefaultRules()...)
	if err != nil {
		panic("labels: default rules are invalid: " + err.Error())
	}
	return l
}

// DefaultRules returns the rules of the shipped rule files.
func DefaultRules() []Rule {
	rules, err := LoadRules(EmbeddedRules())
	if err != nil {
		panic("labels: shipped rule files are invalid: " + err.Error())
	}
	return rules
}
