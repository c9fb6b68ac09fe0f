package ds4p_test

import data.ds4p

test_inactive_consent_counts_for_nothing if {
	revoked := object.union(tpo_consent, {"status": "inactive"})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [revoked])
		with data.ds4p.config as config
}

test_expired_consent_counts_for_nothing if {
	expired := object.union(tpo_consent, {"end_ns": now - 1})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [expired])
		with data.ds4p.config as config
	ending := object.union(tpo_consent, {"end_ns": now + 1})
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [ending])
		with data.ds4p.config as config
}

test_not_yet_valid_consent_counts_for_nothing if {
	future := object.union(tpo_consent, {"start_ns": now + 1})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [future])
		with data.ds4p.config as config
	started := object.union(tpo_consent, {"start_ns": now})
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [started])
		with data.ds4p.config as config
}

test_deny_consent_wins_over_permit if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud], [tpo_consent, deny_all])
		with data.ds4p.config as config
	d.effect == "deny"
	some r in d.reasons
	r.rule == "consent-deny"
	r.consent == "c2"
	r.version == "3"
}

test_deepest_provision_decides if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud], [tpo_consent])
		with data.ds4p.config as config
	some r in d.reasons
	r.consent == "c1"
	r.provision == "provision.provision[0]"
}

test_deny_wins_at_equal_depth if {
	c := consent("c-tie", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"]}),
		exception("provision.provision[1]", "deny", {"purposes": ["TREAT"]}),
	])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [c])
		with data.ds4p.config as config
}

test_nested_exception_three_levels if {
	# deny all; permit org-a for TREAT; except deny PSY-labelled items.
	tree := consent("c-tree", array.concat(tpo_consent.rules, [{
		"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny",
		"conditions": [cond({}), cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"]}), cond({"labels": [psy]})],
	}]))
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [tree])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud, psy], [tree])
		with data.ds4p.config as config
}

test_permit_with_code_criterion_does_not_match if {
	coded := consent("c-code", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "codes": ["http://snomed.info/sct|5602001"]}),
	])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [coded])
		with data.ds4p.config as config
}

test_deny_with_untestable_criteria_matches if {
	every x in [
		{"codes": ["http://snomed.info/sct|5602001"]},
		{"data": ["Condition/c9"]},
		{"data_start_ns": 1},
		{"data_end_ns": now},
	] {
		c := consent("c-untestable", [root("permit"), exception("provision.provision[0]", "deny", x)])
		ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [hiv], [c])
			with data.ds4p.config as config
	}
}

test_permit_with_data_criteria_does_not_match if {
	every x in [{"data": ["Condition/c9"]}, {"data_start_ns": 1}, {"data_end_ns": now}] {
		c := consent("c-data", [root("deny"), exception("provision.provision[0]", "permit", object.union({"actors": ["Organization/org-a"], "purposes": ["TREAT"]}, x))])
		ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [c])
			with data.ds4p.config as config
	}
}

test_org_identifier_matches_actor if {
	by_id := consent("c-npi", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["http://hl7.org/fhir/sid/us-npi|1234567893"], "purposes": ["TREAT"]}),
	])
	inp := object.union(
		req("Organization/org-z", ["TREAT"], [sud], [by_id]),
		{"caller": {"org_identifiers": ["http://hl7.org/fhir/sid/us-npi|1234567893"]}},
	)
	ds4p.decision.effect == "permit" with input as inp
		with data.ds4p.config as config
}

test_subject_matches_actor if {
	c := consent("c-dr", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Practitioner/dr-1"], "purposes": ["TREAT"]})])
	inp := object.union(req("Organization/org-z", ["TREAT"], [part2_label], [c]), {"caller": {"subject": "Practitioner/dr-1"}})
	ds4p.decision.effect == "permit" with input as inp
		with data.ds4p.config as config
}

# A token whose subject is an opaque id (Keycloak's UUID) names its user by
# fhirUser: a deny aimed at that practitioner applies, and a permit naming
# them discloses (QA round 20).
test_fhir_user_matches_actor if {
	not_dr := consent("c-not-dr", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"]}),
		{"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny", "conditions": [cond({}), cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"]}), cond({"actors": ["Practitioner/dr-x"]})]},
	])
	uuid := {"caller": {"subject": "5b0c7b8e-6f7a-4b43-9a53-0c2f1d1b7e11", "fhir_user": "Practitioner/dr-x"}}
	other := {"caller": {"subject": "5b0c7b8e-6f7a-4b43-9a53-0c2f1d1b7e12", "fhir_user": "Practitioner/dr-y"}}
	ds4p.decision.effect == "deny" with input as object.union(req("Organization/org-a", ["TREAT"], [sud, part2_label], [not_dr]), uuid)
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as object.union(req("Organization/org-a", ["TREAT"], [sud, part2_label], [not_dr]), other)
		with data.ds4p.config as config
	for_dr := consent("c-dr", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Practitioner/dr-x"], "purposes": ["TREAT"]})])
	ds4p.decision.effect == "permit" with input as object.union(req("Organization/org-z", ["TREAT"], [sud, part2_label], [for_dr]), uuid)
		with data.ds4p.config as config
}

test_class_criterion if {
	c := consent("c-class", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "classes": ["Observation"]})])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [c])
		with data.ds4p.config as config
	obs := object.union(req("Organization/org-a", ["TREAT"], [sud], [c]), {"item": {"type": "Observation"}})
	ds4p.decision.effect == "permit" with input as obs
		with data.ds4p.config as config
}

test_action_criterion if {
	collect := consent("c-collect", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "actions": ["collect"]})])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [collect])
		with data.ds4p.config as config
	access := consent("c-access", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "actions": ["access"]})])
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [access])
		with data.ds4p.config as config
}

test_provision_period if {
	lapsed := consent("c-lapsed", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "end_ns": now})])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [lapsed])
		with data.ds4p.config as config
}

test_permit_label_needs_every_label if {
	c := consent("c-labels", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "labels": [sud, hiv]})])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [c])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud, hiv], [c])
		with data.ds4p.config as config
}

test_deny_label_needs_any_label if {
	c := consent("c-deny-labels", [root("permit"), exception("provision.provision[0]", "deny", {"labels": [sud, hiv]})])
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [hiv], [c])
		with data.ds4p.config as config
}

test_deny_purpose_applies_without_stated_purpose if {
	ds4p.denies("purposes", ["HMARKT"]) with input as req("o", [], [], [])
		with data.ds4p.config as config
	not ds4p.denies("purposes", ["HMARKT"]) with input as req("o", ["TREAT"], [], [])
		with data.ds4p.config as config
	ds4p.denies("purposes", ["HMARKT"]) with input as req("o", ["TREAT", "HMARKT"], [], [])
		with data.ds4p.config as config
}

test_unknown_criterion_matches_deny_only if {
	ds4p.denies("securityLabelAll", ["x"]) with input as req("o", ["TREAT"], [], [])
		with data.ds4p.config as config
	not ds4p.permits("securityLabelAll", ["x"]) with input as req("o", ["TREAT"], [], [])
		with data.ds4p.config as config
}

test_empty_criteria_state_nothing if {
	every v in [[], 0, null] {
		ds4p.permits("actors", v) with input as req("o", ["TREAT"], [], [])
			with data.ds4p.config as config
		ds4p.denies("actors", v) with input as req("o", ["TREAT"], [], [])
			with data.ds4p.config as config
	}
}

test_compact_and_full_conditions_agree if {
	compact := consent("c-compact", [
		{"path": "provision", "depth": 0, "type": "deny", "conditions": [{}]},
		{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": [{}, {"actors": ["Organization/org-a"], "purposes": ["TREAT"]}]},
	])
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [compact])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [sud], [compact])
		with data.ds4p.config as config
}

test_roles_do_not_narrow if {
	c := consent("c-role", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "roles": ["IRCP"], "purposes": ["TREAT"]})])
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [c])
		with data.ds4p.config as config
}

test_consent_without_matching_provision_says_nothing if {
	c := consent("c-narrow", [exception("provision.provision[0]", "deny", {"classes": ["Observation"]})])
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["TREAT"], [hiv], [c])
		with data.ds4p.config as config
}

# Separate consents per recipient (usual Part 2 practice): each denies all but
# its own recipient; neither cancels the other.
test_separate_recipient_consents_do_not_cancel if {
	for_b := consent("c-b", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-b"], "purposes": ["TREAT"]}),
	])
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label], [tpo_consent, for_b])
		with data.ds4p.config as config
	d.effect == "permit"
	e := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [sud, part2_label], [tpo_consent, for_b])
		with data.ds4p.config as config
	e.effect == "permit"
	f := ds4p.decision with input as req("Organization/org-c", ["TREAT"], [sud, part2_label], [tpo_consent, for_b])
		with data.ds4p.config as config
	f.effect == "deny"
}

# A root period bounds the consent; it does not aim its root deny at anyone.
test_time_bounded_scaffolding_does_not_cancel if {
	for_b := consent("c-b", [
		{"path": "provision", "depth": 0, "type": "deny", "conditions": [cond({"start_ns": now - 10, "end_ns": now + 10})]},
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-b"], "purposes": ["TREAT"]}),
	])
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label], [tpo_consent, for_b])
		with data.ds4p.config as config
	d.effect == "permit"
}

# A general opt-out with exceptions ("no one but org-c") is the patient's
# word for ordinary and sensitive data alike: an older blanket opt-in does
# not cancel its root deny for HIV data, as it does not for ordinary data
# (QA round 20: org-a was denied the ordinary record and given the HIV one).
test_general_optout_with_exceptions_is_no_scaffolding if {
	optin := object.union(consent("c-in", [root("permit")]), {"policies": ["OPTIN"]})
	optout := object.union(
		consent("c-out", [root("deny"), exception("provision.provision[0]", "permit", {"actors": ["Organization/org-c"], "purposes": ["TREAT"]})]),
		{"policies": ["OPTOUT"]},
	)
	every labels in [[], [hiv], [sud, part2_label]] {
		ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], labels, [optin, optout])
			with data.ds4p.config as config
	}
	ds4p.decision.effect == "permit" with input as req("Organization/org-c", ["TREAT"], [hiv], [optin, optout])
		with data.ds4p.config as config
}

# A deny exception aimed at the caller still wins over another consent.
test_explicit_deny_still_wins_across_consents if {
	not_a := consent("c-not-a", [
		root("permit"),
		exception("provision.provision[0]", "deny", {"actors": ["Organization/org-a"]}),
	])
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label], [tpo_consent, not_a])
		with data.ds4p.config as config
	d.effect == "deny"
}

# Item facts (input.item.facts): codes, reference and clinical date make
# code, data and dataPeriod provisions precise.
snomed_opioid := "http://snomed.info/sct|5602001"

with_facts(inp, facts) := object.union(inp, {"item": {"facts": facts}})

# An ordinary item of Patient/p1 under a general opt-in with one deny
# exception x.
opt_in_except(x) := object.union(
	consent("c-optin", [root("permit"), exception("provision.provision[0]", "deny", x)]),
	{"policies": ["OPTIN"]},
)

test_deny_by_code_applies_only_to_that_code if {
	c := opt_in_except({"codes": [snomed_opioid]})
	inp := req("Organization/org-b", ["TREAT"], [], [c])
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [snomed_opioid, "http://loinc.org|1-8"], "reference": "Condition/c1"})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": ["http://loinc.org|1-8"], "reference": "Condition/c1"})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [], "reference": "Condition/c1"})
		with data.ds4p.config as config
}

test_deny_by_code_without_facts_fails_closed if {
	c := opt_in_except({"codes": [snomed_opioid]})
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [], [c])
		with data.ds4p.config as config
}

test_permit_by_code_with_facts if {
	coded := consent("c-code", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "codes": [snomed_opioid]}),
	])
	inp := req("Organization/org-a", ["TREAT"], [sud], [coded])
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [snomed_opioid], "reference": "Condition/c1"})
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": ["http://snomed.info/sct|1"], "reference": "Condition/c1"})
		with data.ds4p.config as config
}

# A deny of a code, a class or a record reaches the resources the item
# carries (facts.carried_*); a permit reads the item's own facts only.
test_deny_reaches_carried_facts if {
	c := opt_in_except({"codes": [snomed_opioid]})
	inp := req("Organization/org-b", ["TREAT"], [], [c])
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1", "carried_codes": [snomed_opioid]})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1", "carried_codes": ["http://snomed.info/sct|1"]})
		with data.ds4p.config as config
	typed := opt_in_except({"classes": ["Condition"]})
	ds4p.decision.effect == "deny" with input as with_facts(req("Organization/org-b", ["TREAT"], [], [typed]), {"codes": [], "reference": "", "carried_types": ["Practitioner", "Condition"]})
		with data.ds4p.config as config
	named := opt_in_except({"data_refs": [{"reference": "Condition/c9", "meaning": "instance"}]})
	ds4p.decision.effect == "deny" with input as with_facts(req("Organization/org-b", ["TREAT"], [], [named]), {"codes": [], "reference": "Observation/o1", "carried_references": ["Condition/c9"]})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(req("Organization/org-b", ["TREAT"], [], [named]), {"codes": [], "reference": "Observation/o1", "carried_references": ["Condition/c1"]})
		with data.ds4p.config as config
}

test_permit_does_not_read_carried_codes if {
	coded := consent("c-code", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "codes": [snomed_opioid]}),
	])
	inp := req("Organization/org-a", ["TREAT"], [sud], [coded])
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": ["http://snomed.info/sct|1"], "reference": "Observation/o1", "carried_codes": [snomed_opioid]})
		with data.ds4p.config as config
}

test_deny_of_a_specific_resource if {
	c := opt_in_except({"data_refs": [{"reference": "Condition/c9", "meaning": "instance"}]})
	inp := req("Organization/org-b", ["TREAT"], [], [c])
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Condition/c9"})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [], "reference": "Condition/c1"})
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as inp
		with data.ds4p.config as config
}

test_related_data_cannot_be_narrowed if {
	c := opt_in_except({"data_refs": [{"reference": "Condition/c9", "meaning": "related"}]})
	inp := req("Organization/org-b", ["TREAT"], [], [c])
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Condition/c1"})
		with data.ds4p.config as config
}

test_permit_of_a_specific_resource if {
	c := consent("c-inst", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "data_refs": [{"reference": "Condition/c9", "meaning": "instance"}]}),
	])
	inp := req("Organization/org-a", ["TREAT"], [sud], [c])
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [], "reference": "Condition/c9"})
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Condition/c1"})
		with data.ds4p.config as config
	related := consent("c-rel", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "data_refs": [{"reference": "Condition/c9", "meaning": "related"}]}),
	])
	ds4p.decision.effect == "deny" with input as with_facts(req("Organization/org-a", ["TREAT"], [sud], [related]), {"codes": [], "reference": "Condition/c9"})
		with data.ds4p.config as config
}

test_deny_by_data_period if {
	# Data from 2020 (inclusive) to 2021 (exclusive).
	start := 1577836800000000000
	end := 1609459200000000000
	c := opt_in_except({"data_start_ns": start, "data_end_ns": end})
	inp := req("Organization/org-b", ["TREAT"], [], [c])
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1", "time_ns": start})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1", "time_ns": end})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1", "time_ns": start - 1})
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1"})
		with data.ds4p.config as config
}

test_permit_by_data_period if {
	start := 1577836800000000000
	c := consent("c-period", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "data_start_ns": start}),
	])
	inp := req("Organization/org-a", ["TREAT"], [sud], [c])
	ds4p.decision.effect == "permit" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1", "time_ns": start})
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1", "time_ns": start - 1})
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Observation/o1"})
		with data.ds4p.config as config
}

# A clinical date is a span: a deny's data period applies to an item whose
# span touches it, a permit's to one whose span lies inside it (QA round 36).
test_data_period_reads_the_items_span if {
	start := 1577836800000000000
	end := 1609459200000000000
	deny := opt_in_except({"data_start_ns": start, "data_end_ns": end})
	denied := req("Organization/org-b", ["TREAT"], [], [deny])
	ds4p.decision.effect == "deny" with input as with_facts(denied, {"codes": [], "reference": "Observation/o1", "time_ns": start - 10, "time_end_ns": start + 1})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(denied, {"codes": [], "reference": "Observation/o1", "time_ns": start - 10, "time_end_ns": start})
		with data.ds4p.config as config
	permit := consent("c-period", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "data_end_ns": end}),
	])
	permitted := req("Organization/org-a", ["TREAT"], [sud], [permit])
	ds4p.decision.effect == "deny" with input as with_facts(permitted, {"codes": [], "reference": "Observation/o1", "time_ns": end - 10, "time_end_ns": end + 1})
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as with_facts(permitted, {"codes": [], "reference": "Observation/o1", "time_ns": end - 10, "time_end_ns": end})
		with data.ds4p.config as config
}

test_data_without_meaning_stays_protective if {
	c := opt_in_except({"data": ["Condition/c9"]})
	inp := req("Organization/org-b", ["TREAT"], [], [c])
	ds4p.decision.effect == "deny" with input as with_facts(inp, {"codes": [], "reference": "Condition/c1"})
		with data.ds4p.config as config
}

# The consent index (added by the engine): rules by the actors they name.
indexed_hie := object.union(
	consent("c-hie", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/hie-east"], "purposes": ["TREAT"]}),
	]),
	{"index": {"any_actor": [0], "by_actor": {"Organization/hie-east": [1]}}},
)

test_index_finds_designation_members if {
	members := {"Organization/hie-east": ["Organization/org-m"]}
	ds4p.decision.effect == "permit" with input as req("Organization/org-m", ["TREAT"], [sud], [indexed_hie])
		with data.ds4p.config as config_with({"/designations": members})
	ds4p.decision.effect == "deny" with input as req("Organization/org-z", ["TREAT"], [sud], [indexed_hie])
		with data.ds4p.config as config_with({"/designations": members})
}

# A deny naming a care team (no caller is one) applies to every caller
# unless a designation lists the team's members (QA round 29): read as
# naming no one, it withheld nothing.
test_deny_naming_a_care_team_applies_unless_designated if {
	c := object.union(
		consent("c-ct", [root("permit"), exception("provision.provision[0]", "deny", {"actors": ["CareTeam/ct1"]})]),
		{"index": {"any_actor": [0, 1], "by_actor": {}}},
	)
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [hiv], [c])
		with data.ds4p.config as config
	members := {"CareTeam/ct1": ["Organization/org-b"]}
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [hiv], [c])
		with data.ds4p.config as config_with({"/designations": members})
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [hiv], [c])
		with data.ds4p.config as config_with({"/designations": members})
}

test_index_skips_rules_of_other_actors if {
	# An index that lists the permit under another actor hides it: the
	# policy tests only the candidates the index names.
	wrong := object.union(object.remove(indexed_hie, ["index"]), {"index": {"any_actor": [0], "by_actor": {"Organization/other": [1]}}})
	members := {"Organization/hie-east": ["Organization/org-m"]}
	ds4p.decision.effect == "deny" with input as req("Organization/org-m", ["TREAT"], [sud], [wrong])
		with data.ds4p.config as config_with({"/designations": members})
}

# A deny of a purpose covers its narrower purposes (config.purpose_hierarchy);
# a permit covers only the purposes it names. The tests set the hierarchy, so
# they check the rule, not the shipped table.
purpose_tree := {"HPAYMT": ["COVERAGE", "CLMATTCH"], "COVERAGE": ["ELIGVER"], "TREAT": ["ETREAT"], "ETREAT": ["BTG"]}

test_deny_of_a_purpose_covers_narrower_purposes if {
	no_payment := opt_in_except({"purposes": ["HPAYMT"]})
	every p in ["HPAYMT", "COVERAGE", "CLMATTCH", "ELIGVER"] {
		ds4p.decision.effect == "deny" with input as req("Organization/payer", [p], [hiv], [no_payment])
			with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
	}
	ds4p.decision.effect == "permit" with input as req("Organization/payer", ["TREAT"], [hiv], [no_payment])
		with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
}

test_deny_of_a_purpose_to_one_actor_covers_narrower_purposes if {
	no_treat_b := opt_in_except({"actors": ["Organization/org-b"], "purposes": ["TREAT"]})
	every p in ["TREAT", "ETREAT", "BTG"] {
		ds4p.decision.effect == "deny" with input as req("Organization/org-b", [p], [psy], [no_treat_b])
			with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
	}
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["ETREAT"], [psy], [no_treat_b])
		with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
}

test_deny_of_a_narrower_purpose_leaves_the_broader_one if {
	no_coverage := opt_in_except({"purposes": ["COVERAGE"]})
	ds4p.decision.effect == "deny" with input as req("Organization/payer", ["ELIGVER"], [hiv], [no_coverage])
		with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
	ds4p.decision.effect == "permit" with input as req("Organization/payer", ["HPAYMT"], [hiv], [no_coverage])
		with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
}

test_permit_of_a_purpose_does_not_cover_narrower_purposes if {
	payment_only := consent("c-pay", [root("deny"), exception("provision.provision[0]", "permit", {"purposes": ["HPAYMT"]})])
	ds4p.decision.effect == "permit" with input as req("Organization/payer", ["HPAYMT"], [hiv], [payment_only])
		with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
	ds4p.decision.effect == "deny" with input as req("Organization/payer", ["COVERAGE"], [hiv], [payment_only])
		with data.ds4p.config as config_with({"/purpose_hierarchy": purpose_tree})
}

test_deny_of_a_purpose_without_hierarchy_is_exact if {
	no_payment := opt_in_except({"purposes": ["HPAYMT"]})
	ds4p.decision.effect == "permit" with input as req("Organization/payer", ["COVERAGE"], [hiv], [no_payment])
		with data.ds4p.config as config_with({"/purpose_hierarchy": {}})
}

# Actor roles: a permit names the caller as a recipient only through
# recipient roles (config.consents.recipient_roles). A custodian (CST) or
# author (AUT) is no recipient; a permit level naming such a role beside a
# recipient cannot tell whose role is whose and matches no one through its
# actors. A deny applies to the actors it names in any role.
with_roles(actors, roles) := consent("c-roles", [
	root("deny"),
	exception("provision.provision[0]", "permit", {"actors": actors, "roles": roles, "purposes": ["TREAT"]}),
])

test_permit_matches_only_recipient_roles if {
	every role in ["IRCP", "PRCP"] {
		ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [part2_label], [with_roles(["Organization/org-a"], [role])])
			with data.ds4p.config as config
	}
	every role in ["CST", "AUT", "INF"] {
		ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [part2_label], [with_roles(["Organization/org-a"], [role])])
			with data.ds4p.config as config
		ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [hiv], [with_roles(["Organization/org-a"], [role])])
			with data.ds4p.config as config_with({"/state_law/topics/HIV/without_consent": []})
	}
	mixed := with_roles(["Organization/org-b", "Organization/org-a"], ["CST", "IRCP"])
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [part2_label], [mixed])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [part2_label], [mixed])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [part2_label], [with_roles(["Organization/org-a"], ["CST"])])
		with data.ds4p.config as config_with({"/consents/recipient_roles": ["IRCP", "CST"]})
}

test_deny_applies_to_actors_in_any_role if {
	c := consent("c-not-custodian", [
		root("permit"),
		exception("provision.provision[0]", "deny", {"actors": ["Organization/org-b"], "roles": ["CST"]}),
	])
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["HPAYMT"], [hiv], [c])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["HPAYMT"], [hiv], [c])
		with data.ds4p.config as config
}

# Confidentiality levels are ordered (config.consents.confidentiality_order):
# a deny of R withholds R and V, a permit of R admits R and below, not V.
test_confidentiality_label_deny_covers_higher_levels if {
	c := consent("c-no-r", [
		root("permit"),
		exception("provision.provision[0]", "deny", {"labels": [restricted_r]}),
	])
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["HPAYMT"], [hiv, very_restricted], [c])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["HPAYMT"], [hiv, restricted_r], [c])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HPAYMT"], [hiv, normal_n], [c])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HPAYMT"], [hiv], [c])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HPAYMT"], [hiv, very_restricted], [c])
		with data.ds4p.config as config_with({"/consents/confidentiality_order": []})
}

test_confidentiality_label_permit_covers_lower_levels if {
	c := consent("c-up-to-r", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"labels": [restricted_r]}),
	])
	every labels in [[hiv, restricted_r], [hiv, normal_n], [hiv, moderate_m]] {
		ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HPAYMT"], labels, [c])
			with data.ds4p.config as config
	}
	every labels in [[hiv, very_restricted], [hiv, normal_n, very_restricted], [hiv]] {
		ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["HPAYMT"], labels, [c])
			with data.ds4p.config as config
	}
}

# A deny in one branch is not overridden by a deeper permit of another
# branch: each branch decides for itself and a deny wins. Here the patient
# denies PSY-labelled items to everyone and denies org-a except for
# treatment; org-a's treatment exception (depth 2) does not reach the PSY
# deny (depth 1) of the other branch.
test_deeper_permit_of_another_branch_does_not_override_a_deny if {
	c := consent("c-branches", [
		root("permit"),
		exception("provision.provision[0]", "deny", {"labels": [psy]}),
		exception("provision.provision[1]", "deny", {"actors": ["Organization/org-a"]}),
		{
			"path": "provision.provision[1].provision[0]", "depth": 2, "type": "permit",
			"conditions": [cond({}), cond({"actors": ["Organization/org-a"]}), cond({"purposes": ["TREAT"]})],
		},
	])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud, psy], [c])
		with data.ds4p.config as config

	# the exception still decides its own branch
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [c])
		with data.ds4p.config as config
}
