package ds4p_test

import data.ds4p

emergency(labels, reason) := with_break_glass(req("Organization/org-er", ["ETREAT"], labels, []), reason)

test_break_glass_discloses_part2_with_obligations if {
	d := ds4p.decision with input as emergency([sud, part2_label], "unresponsive, suspected overdose")
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == true
	nordsclcd in d.obligations
	d.notices[0].id == "42CFR2.32"
}

test_break_glass_overrides_consent_deny if {
	inp := with_break_glass(req("Organization/org-er", ["ETREAT"], [part2_label], [deny_all]), "cardiac arrest")
	ds4p.decision.break_glass == true with input as inp
		with data.ds4p.config as config
}

# The emergency overrides a patient's consent that denies it, and the
# decision names that consent and its provision for the reviewer of the
# 2.51 record, in brief decisions too; a Part 2 consent's framing root deny
# (deny all but org-a) is no refusal and is not named.
test_break_glass_names_overridden_consent_deny if {
	no_emergency := consent("c-noer", [
		root("permit"),
		exception("provision.provision[0]", "deny", {"purposes": ["ETREAT"]}),
	])
	inp := with_break_glass(req("Organization/org-er", ["ETREAT"], [part2_label], [no_emergency, tpo_consent]), "cardiac arrest")
	some brief in [false, true]
	d := ds4p.decision with input as object.union(inp, {"brief": brief})
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == true
	over := [r | some r in d.reasons; r.rule == "break-glass-over-consent-deny"]
	count(over) == 1
	over[0].consent == "c-noer"
	over[0].version == "1"
	over[0].provision == "provision.provision[0]"
	d.reasons[0].rule == "break-glass"
}

test_break_glass_names_no_framing_deny if {
	inp := with_break_glass(req("Organization/org-er", ["ETREAT"], [part2_label], [tpo_consent]), "cardiac arrest")
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.break_glass == true
	[r.rule | some r in d.reasons] == ["break-glass"]
	deny := ds4p.decision with input as with_break_glass(req("Organization/org-er", ["ETREAT"], [part2_label], [deny_all]), "cardiac arrest")
		with data.ds4p.config as config
	[[r.rule, r.consent] | some r in deny.reasons; r.rule != "break-glass"] == [["break-glass-over-consent-deny", "c2"]]
}

test_break_glass_needs_etreat if {
	inp := with_break_glass(req("Organization/org-er", ["TREAT"], [part2_label], []), "cardiac arrest")
	ds4p.decision.effect == "deny" with input as inp
		with data.ds4p.config as config
}

test_break_glass_needs_only_emergency_purposes if {
	inp := with_break_glass(req("Organization/org-er", ["ETREAT", "HPAYMT"], [part2_label], []), "cardiac arrest")
	ds4p.decision.effect == "deny" with input as inp
		with data.ds4p.config as config
	btg := with_break_glass(req("Organization/org-er", ["ETREAT", "BTG"], [part2_label], []), "cardiac arrest")
	ds4p.decision.effect == "permit" with input as btg
		with data.ds4p.config as config
}

test_break_glass_needs_claim if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-er", ["ETREAT"], [part2_label], [])
		with data.ds4p.config as config
}

test_break_glass_needs_reason if {
	ds4p.decision.effect == "deny" with input as emergency([part2_label], "   ")
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as emergency([part2_label], "er")
		with data.ds4p.config as config
}

test_break_glass_never_for_counseling_notes if {
	d := ds4p.decision with input as emergency([part2_label, psythpn], "cardiac arrest")
		with data.ds4p.config as config
	d.effect == "deny"
}

test_break_glass_for_state_law_topics if {
	d := ds4p.decision with input as emergency([sud], "cardiac arrest")
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == true
	d.obligations == []
}

# The time box: a short-lived token, and the request inside its lifetime.
test_break_glass_at_the_maximum_lifetime if {
	inp := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", now_s - 10, now_s + 3590)
	ds4p.decision.effect == "permit" with input as inp
		with data.ds4p.config as config
}

test_break_glass_refuses_long_lived_token if {
	inp := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", now_s - 10, now_s + 3591)
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.effect == "deny"
	"break-glass-not-time-boxed" in rules_of(d)
}

test_break_glass_refuses_expired_token if {
	inp := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", now_s - 900, now_s)
	ds4p.decision.effect == "deny" with input as inp
		with data.ds4p.config as config
}

test_break_glass_refuses_token_from_the_future if {
	inp := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", now_s + 61, now_s + 900)
	ds4p.decision.effect == "deny" with input as inp
		with data.ds4p.config as config
	skewed := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", now_s + 60, now_s + 900)
	ds4p.decision.effect == "permit" with input as skewed
		with data.ds4p.config as config
}

test_break_glass_needs_token_times if {
	no_iat := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", 0, now_s + 900)
	ds4p.decision.effect == "deny" with input as no_iat
		with data.ds4p.config as config
	no_exp := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", now_s - 60, 0)
	ds4p.decision.effect == "deny" with input as no_exp
		with data.ds4p.config as config
	bare := object.union(req("Organization/org-er", ["ETREAT"], [part2_label], []), {"caller": {"break_glass": {"reason": "cardiac arrest"}}})
	ds4p.decision.effect == "deny" with input as bare
		with data.ds4p.config as config
}

test_break_glass_lifetime_is_policy_data if {
	inp := with_token(req("Organization/org-er", ["ETREAT"], [part2_label], []), "cardiac arrest", now_s - 60, now_s + 7000)
	ds4p.decision.effect == "deny" with input as inp
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as inp
		with data.ds4p.config as config_with({"/break_glass/max_token_lifetime_seconds": 7200})
}
