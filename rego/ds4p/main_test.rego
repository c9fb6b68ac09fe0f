package ds4p_test

import data.ds4p

test_ordinary_permitted_for_treatment if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [], [])
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == false
	d.obligations == []
	"ordinary" in rules_of(d)
}

test_restricted_permitted_with_consent if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud], [tpo_consent])
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == false
}

test_emergency_used_only_when_nothing_else_permits if {
	inp := with_break_glass(req("Organization/org-a", ["ETREAT"], [], []), "unconscious in the ED")
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == false
}

test_emergency_decision_flagged if {
	inp := with_break_glass(req("Organization/org-z", ["ETREAT"], [sud, part2_label], []), "unconscious in the ED")
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == true
	rules_of(d) == {"break-glass"}
}

test_deny_has_reasons if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [sud], [])
		with data.ds4p.config as config
	d.effect == "deny"
	count(d.reasons) > 0
	d.obligations == []
	d.notices == []
}

test_missing_policy_data_denies if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [], [])
		with data.ds4p.config as {}
	d.effect == "deny"
	count(d.reasons) > 0
}

test_patient_access_decided_first if {
	# The patient's opt-out would withhold ordinary data from anyone else;
	# the patient's own access is decided before it.
	inp := as_patient(req("", ["PATRQT"], [], [object.union(deny_all, {"policies": ["OPTOUT"]})]))
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == false
	d.obligations == []
	d.notices == []
	rules_of(d) == {"patient-access"}
}
