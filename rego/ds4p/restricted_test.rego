package ds4p_test

import data.ds4p

# Part 2 (42 CFR 2.31, 2.33, 2.32).

test_part2_with_consent_permitted_with_obligations if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label], [tpo_consent])
		with data.ds4p.config as config
	d.effect == "permit"
	d.obligations == [part2_label, nordsclcd]
	d.notices[0].id == "42CFR2.32"
	"part2-consent" in rules_of(d)
}

test_part2_without_consent_denied if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [part2_label], [])
		with data.ds4p.config as config
	d.effect == "deny"
	"part2-no-consent" in rules_of(d)
}

test_part2_other_recipient_denied if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [part2_label], [tpo_consent])
		with data.ds4p.config as config
	d.effect == "deny"
	"consent-deny" in rules_of(d)
}

test_part2_other_purpose_denied if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["HPAYMT"], [part2_label], [tpo_consent])
		with data.ds4p.config as config
}

test_part2_single_tpo_consent_honoured if {
	every p in ["TREAT", "HPAYMT", "HOPERAT"] {
		ds4p.decision.effect == "permit" with input as req("Organization/org-a", [p], [part2_label], [all_tpo_consent])
			with data.ds4p.config as config
	}
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["HMARKT"], [part2_label], [all_tpo_consent])
		with data.ds4p.config as config
}

test_part2_blanket_consent_not_enough if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [part2_label], [blanket_consent])
		with data.ds4p.config as config
	d.effect == "deny"
	"part2-no-consent" in rules_of(d)
}

test_part2_general_designation if {
	hie := consent("c-hie", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/hie-east"], "purposes": ["TREAT"]}),
	])
	members := {"Organization/hie-east": ["Organization/org-m"]}
	ds4p.decision.effect == "permit" with input as req("Organization/org-m", ["TREAT"], [part2_label], [hie])
		with data.ds4p.config as config_with({"/designations": members})
	ds4p.decision.effect == "deny" with input as req("Organization/org-n", ["TREAT"], [part2_label], [hie])
		with data.ds4p.config as config_with({"/designations": members})
}

test_part2_by_source_gets_obligations if {
	inp := object.union(req("Organization/org-a", ["TREAT"], [sud], [tpo_consent]), {"item": {"source": "part2"}})
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.effect == "permit"
	nordsclcd in d.obligations
}

# Counseling notes (42 CFR 2.31(b), 45 CFR 164.508(a)(2)).

counseling_consent := consent("c-notes", [
	root("deny"),
	exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "labels": [psythpn]}),
])

test_counseling_notes_need_naming_consent if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, psythpn], [tpo_consent])
		with data.ds4p.config as config
	d.effect == "deny"
	"counseling-notes-no-consent" in rules_of(d)
	e := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, psythpn], [counseling_consent])
		with data.ds4p.config as config
	e.effect == "permit"
	"counseling-notes-consent" in rules_of(e)
}

test_counseling_consent_does_not_cover_other_notes if {
	# A permit naming PSYTHPN applies only to items that carry it.
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud, part2_label], [counseling_consent])
		with data.ds4p.config as config
}

# A consent that permits counseling notes and other data (a TPO consent with
# a nested PSYTHPN permit) is not a counseling-notes consent (42 CFR
# 2.31(b)): the notes stay withheld, the other Part 2 data it permits does
# not.
tpo_with_notes_consent := consent("c-tpo-notes", [
	root("deny"),
	exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT", "HPAYMT", "HOPERAT"]}),
	exception("provision.provision[1]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "labels": [psythpn]}),
])

test_counseling_notes_not_under_a_combined_consent if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, psythpn], [tpo_with_notes_consent])
		with data.ds4p.config as config_with({"/counseling_notes/labels": [psythpn]})
	d.effect == "deny"
	"counseling-notes-no-consent" in rules_of(d)
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud, part2_label], [tpo_with_notes_consent])
		with data.ds4p.config as config_with({"/counseling_notes/labels": [psythpn]})
}

test_counseling_notes_not_under_a_permit_root if {
	# An opt-in root permits everything; a nested PSYTHPN permit does not
	# make the consent one for counseling notes.
	c := consent("c-optin-notes", [
		root("permit"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "labels": [psythpn]}),
	])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, psythpn], [c])
		with data.ds4p.config as config_with({"/counseling_notes/labels": [psythpn]})
}

test_counseling_notes_under_a_separate_notes_consent_beside_a_tpo_one if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, psythpn], [all_tpo_consent, counseling_consent])
		with data.ds4p.config as config_with({"/counseling_notes/labels": [psythpn]})
	d.effect == "permit"
	"counseling-notes-consent" in rules_of(d)
}

test_counseling_notes_consent_with_deny_exceptions if {
	# Deny provisions do not widen what a notes consent permits.
	c := consent("c-notes-but", array.concat(counseling_consent.rules, [{
		"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny",
		"conditions": [cond({}), cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"], "labels": [psythpn]}), cond({"classes": ["Observation"]})],
	}]))
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, psythpn], [c])
		with data.ds4p.config as config_with({"/counseling_notes/labels": [psythpn]})
}

test_counseling_notes_never_without_consent if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [psythpn], [])
		with data.ds4p.config as config
}

# State-law topics (config/state_law/data.json).

test_topic_for_treatment_without_consent if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [hiv], [])
		with data.ds4p.config as config
	d.effect == "permit"
	"state-law" in rules_of(d)
}

test_topic_outside_treatment_needs_consent if {
	d := ds4p.decision with input as req("Organization/org-b", ["HPAYMT"], [hiv], [])
		with data.ds4p.config as config
	d.effect == "deny"
	"state-law-consent-required" in rules_of(d)
}

test_topic_with_consent if {
	c := consent("c-hiv", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-b"], "purposes": ["HPAYMT"]})])
	d := ds4p.decision with input as req("Organization/org-b", ["HPAYMT"], [hiv], [c])
		with data.ds4p.config as config
	d.effect == "permit"
	"consent-permit" in rules_of(d)
}

test_topic_consent_deny_beats_law if {
	c := consent("c-no-psy", [root("permit"), exception("provision.provision[0]", "deny", {"labels": [psy]})])
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [psy], [c])
		with data.ds4p.config as config
	d.effect == "deny"
	"consent-deny" in rules_of(d)
}

test_sud_not_part2_needs_consent_by_default if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [sud], [])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [tpo_consent])
		with data.ds4p.config as config
}

test_topic_rule_change_in_policy_data if {
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["TREAT"], [sud], [])
		with data.ds4p.config as config_with({"/state_law/topics/SUD/without_consent": ["TREAT"]})
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [psy], [])
		with data.ds4p.config as config_with({"/state_law/topics/MH/without_consent": []})
}

test_topic_missing_from_table_denied if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [hiv], [])
		with data.ds4p.config as config_with({"/state_law/topics": {}})
	d.effect == "deny"
	"state-law-consent-required" in rules_of(d)
}

test_every_topic_must_pass if {
	# HIV passes for TREAT, SUD needs consent.
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [hiv, sud], [])
		with data.ds4p.config as config
}

test_topic_obligations_from_policy_data if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [hiv], [])
		with data.ds4p.config as config_with({"/state_law/topics/HIV/obligations": [nordsclcd]})
	d.obligations == [nordsclcd]
}

# Purpose of use on restricted data.

test_missing_purpose_is_not_treat if {
	d := ds4p.decision with input as req("Organization/org-a", [], [sud], [tpo_consent])
		with data.ds4p.config as config
	d.effect == "deny"
	"no-purpose" in rules_of(d)
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", [], [hiv], [])
		with data.ds4p.config as config
}

test_unknown_purpose_denied if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT", "MADEUP"], [sud], [tpo_consent])
		with data.ds4p.config as config
	d.effect == "deny"
	"unknown-purpose" in rules_of(d)
}

test_extra_purpose_not_covered_by_consent if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT", "HMARKT"], [part2_label], [tpo_consent])
		with data.ds4p.config as config
}

# Sensitivity codes the table does not map, and confidentiality R without a
# topic, are restricted data under their catch-all topics (conservative
# default: treatment, otherwise consent), never disclosed without a
# purpose, even where ordinary data is (ordinary.without_purpose).
test_unmapped_sensitivity_code_decided_as_restricted if {
	every l in [[sickle], [mst], [restricted_r], [sickle, normal_n]] {
		ds4p.decision.effect == "deny" with input as req("Organization/org-b", [], l, [])
			with data.ds4p.config as config_with({"/ordinary/without_purpose": true})
		ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["TREAT"], l, [])
			with data.ds4p.config as config
		ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["HPAYMT"], l, [])
			with data.ds4p.config as config
		ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HPAYMT"], l, [blanket_consent])
			with data.ds4p.config as config
		ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["HPAYMT"], l, [deny_all])
			with data.ds4p.config as config
	}
	d := ds4p.decision with input as req("Organization/org-b", ["HPAYMT"], [sickle], [])
		with data.ds4p.config as config
	"state-law-consent-required" in rules_of(d)
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", [], [normal_n], [])
		with data.ds4p.config as config_with({"/ordinary/without_purpose": true})
}

# The catch-all topics' rules are policy data an analyst edits.
test_unmapped_sensitivity_rule_is_policy_data if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [sickle], [])
		with data.ds4p.config as config_with({"/state_law/topics/OTHER_SENSITIVE/without_consent": []})
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HPAYMT"], [restricted_r], [])
		with data.ds4p.config as config_with({"/state_law/topics/RESTRICTED/without_consent": ["TREAT", "HPAYMT"]})
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", [], [mst], [])
		with data.ds4p.config as config_with({"/state_law/other_sensitive/labels": [sickle]})
}

# A permit that names sensitivity labels covers the topics it names and no
# other (consent_covers, rule_covers, names_sensitivity).

label_permit(labels) := consent("c-labels", [
	root("deny"),
	exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["HPAYMT"], "labels": labels}),
])

test_label_permit_covers_its_topic if {
	d := ds4p.decision with input as req("Organization/org-a", ["HPAYMT"], [hiv], [label_permit([hiv])])
		with data.ds4p.config as config
	d.effect == "permit"
	"consent-permit" in rules_of(d)
}

test_label_permit_does_not_cover_other_topics if {
	d := ds4p.decision with input as req("Organization/org-a", ["HPAYMT"], [sud, hiv, restricted_r], [label_permit([sud])])
		with data.ds4p.config as config
	d.effect == "deny"
	"state-law-consent-required" in rules_of(d)
}

test_hiv_permit_does_not_release_part2_record if {
	d := ds4p.decision with input as req("Organization/org-a", ["HPAYMT"], [part2_label, sud, hiv], [label_permit([hiv])])
		with data.ds4p.config as config
	d.effect == "deny"
}

test_label_permit_naming_both_topics if {
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["HPAYMT"], [sud, hiv], [label_permit([sud, hiv])])
		with data.ds4p.config as config
}

test_confidentiality_permit_covers_every_topic if {
	ds4p.rule_covers({"conditions": [cond({}), cond({"labels": [restricted_r]})]}, "HIV") with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["HPAYMT"], [sud, hiv, restricted_r], [label_permit([restricted_r])])
		with data.ds4p.config as config
}

test_unlabelled_permit_covers_every_topic if {
	ds4p.rule_covers({"conditions": [cond({})]}, "MH") with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HPAYMT"], [sud, hiv, psy], [blanket_consent])
		with data.ds4p.config as config
}

test_counseling_label_is_no_topic_of_a_permit if {
	not ds4p.names_sensitivity({"conditions": [cond({"labels": [psythpn, restricted_r]})]}) with data.ds4p.config as config
	ds4p.names_sensitivity({"conditions": [cond({"labels": [psythpn, hiv]})]}) with data.ds4p.config as config
}

test_catch_all_topic_needs_each_code_named if {
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["HPAYMT"], [sickle], [label_permit([sickle])])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["HPAYMT"], [sickle, mst], [label_permit([sickle])])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["HPAYMT"], [sickle, mst], [label_permit([sickle, mst])])
		with data.ds4p.config as config
}

test_uncovered_topic_says_the_consent_names_others if {
	d := ds4p.decision with input as req("Organization/org-a", ["HPAYMT"], [sud, hiv], [label_permit([sud])])
		with data.ds4p.config as config
	some r in d.reasons
	r.rule == "state-law-consent-required"
	startswith(r.message, "HIV: ")
	contains(r.message, "names other sensitivity labels, not HIV")
	d2 := ds4p.decision with input as req("Organization/org-a", ["HPAYMT"], [hiv], [])
		with data.ds4p.config as config
	every r2 in d2.reasons {
		not contains(r2.message, "names other sensitivity labels")
	}
}
