package ds4p_test

import data.ds4p

emergency(labels, reason) := with_break_glass(req("Organization/org-er", ["ETREAT"], labels, []), reason)

test_break_glass_discloses_part2_with_obligations if {
	d := ds4p.decision with input as emergency([sud, part2_label], "unresponsive, suspected overdose")
	d.effect == "permit"
	d.break_glass == true
	nordsclcd in d.obligations
	d.notices[0].id == "42CFR2.32"
}

test_break_glass_overrides_consent_deny if {
	inp := with_break_glass(req("Organization/org-er", ["ETREAT"], [part2_label], [deny_all]), "cardiac arrest")
	ds4p.decision.break_glass == true with input as inp
}

test_break_glass_needs_etreat if {
	inp := with_break_glass(req("Organization/org-er", ["TREAT"], [part2_label], []), "cardiac arrest")
	ds4p.decision.effect == "deny" with input as inp
}

test_break_glass_needs_only_emergency_purposes if {
	inp := with_break_glass(req("Organization/org-er", ["ETREAT", "HPAYMT"], [part2_label], []), "cardiac arrest")
	ds4p.decision.effect == "deny" with input as inp
	btg := with_break_glass(req("Organization/org-er", ["ETREAT", "BTG"], [part2_label], []), "cardiac arrest")
	ds4p.decision.effect == "permit" with input as btg
}

test_break_glass_needs_claim if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-er", ["ETREAT"], [part2_label], [])
}

test_break_glass_needs_reason if {
	ds4p.decision.effect == "deny" with input as emergency([part2_label], "   ")
	ds4p.decision.effect == "deny" with input as emergency([part2_label], "er")
}

test_break_glass_never_for_counseling_notes if {
	d := ds4p.decision with input as emergency([part2_label, psythpn], "cardiac arrest")
	d.effect == "deny"
}

test_break_glass_for_state_law_topics if {
	d := ds4p.decision with input as emergency([sud], "cardiac arrest")
	d.effect == "permit"
	d.break_glass == true
	d.obligations == []
}
