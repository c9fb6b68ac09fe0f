package ds4p_test

import data.ds4p

sud := "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD"

now := 1767225600000000000 # 2026-01-01T00:00:00Z

# A typical Part 2 consent: deny all, except Organization/org-a for TREAT.
tpo_consent := {
	"id": "c1", "version": "1", "status": "active", "patient": "Patient/p1",
	"policies": ["42CFRPart2"], "start_ns": 0, "end_ns": 0,
	"rules": [
		{"path": "provision", "depth": 0, "type": "deny", "conditions": [cond({})]},
		{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": [
			cond({}),
			cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"]}),
		]},
	],
}

cond(x) := object.union(
	{
		"actors": [], "roles": [], "purposes": [], "labels": [], "classes": [], "codes": [],
		"actions": [], "start_ns": 0, "end_ns": 0, "data_start_ns": 0, "data_end_ns": 0, "data": [],
	},
	x,
)

req(org, purposes, labels, consents) := {
	"caller": {"subject": "u1", "org": org, "org_identifiers": [], "purposes": purposes},
	"request": {"interaction": "read", "type": "Condition", "time_ns": now},
	"patient": "Patient/p1",
	"consents": consents,
	"item": {"type": "Condition", "labels": labels, "source": ""},
}

test_unrestricted_permitted if {
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", [], [], [])
}

test_sud_without_consent_denied if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud], [])
	d.effect == "deny"
	d.reasons[0].rule == "no-consent"
}

test_sud_with_consent_permitted if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud], [tpo_consent])
	d.effect == "permit"
	d.reasons[0].consent == "c1"
	d.reasons[0].provision == "provision.provision[0]"
}

test_sud_other_org_denied if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [sud], [tpo_consent])
	d.effect == "deny"
	d.reasons[0].rule == "consent-deny"
}

test_sud_other_purpose_denied if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["HMARKT"], [sud], [tpo_consent])
}

test_missing_purpose_is_not_treat if {
	d := ds4p.decision with input as req("Organization/org-a", [], [sud], [tpo_consent])
	d.effect == "deny"
	d.reasons[0].rule == "no-purpose"
}

test_unknown_purpose_denied if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT", "MADEUP"], [sud], [tpo_consent])
}

test_inactive_consent_counts_for_nothing if {
	revoked := object.union(tpo_consent, {"status": "inactive"})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [revoked])
}

test_expired_consent_counts_for_nothing if {
	expired := object.union(tpo_consent, {"end_ns": now - 1})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [expired])
}

test_not_yet_valid_consent_counts_for_nothing if {
	future := object.union(tpo_consent, {"start_ns": now + 1})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [future])
}

test_other_patients_consent_ignored if {
	other := object.union(tpo_consent, {"patient": "Patient/p2"})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [other])
}

test_deny_consent_wins_over_permit if {
	deny_all := {
		"id": "c2", "version": "3", "status": "active", "patient": "Patient/p1",
		"policies": [], "start_ns": 0, "end_ns": 0,
		"rules": [{"path": "provision", "depth": 0, "type": "deny", "conditions": [cond({})]}],
	}
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud], [tpo_consent, deny_all])
	d.effect == "deny"
	d.reasons[0].consent == "c2"
}

test_permit_with_code_criterion_does_not_match_untestable if {
	coded := object.union(tpo_consent, {"rules": [
		tpo_consent.rules[0],
		{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": [
			cond({}),
			cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"], "codes": ["http://snomed.info/sct|5602001"]}),
		]},
	]})
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud], [coded])
}

test_org_identifier_matches_actor if {
	by_id := object.union(tpo_consent, {"rules": [
		tpo_consent.rules[0],
		{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": [
			cond({}),
			cond({"actors": ["http://hl7.org/fhir/sid/us-npi|1234567893"], "purposes": ["TREAT"]}),
		]},
	]})
	inp := object.union(
		req("Organization/org-z", ["TREAT"], [sud], [by_id]),
		{"caller": {"subject": "u1", "org": "Organization/org-z", "org_identifiers": ["http://hl7.org/fhir/sid/us-npi|1234567893"], "purposes": ["TREAT"]}},
	)
	ds4p.decision.effect == "permit" with input as inp
}

test_nested_exception_three_levels if {
	# deny all; permit org-a for TREAT; except deny PSY-labelled items.
	psy := "http://terminology.hl7.org/CodeSystem/v3-ActCode|PSY"
	tree := object.union(tpo_consent, {"rules": array.concat(tpo_consent.rules, [{
		"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny",
		"conditions": [cond({}), cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"]}), cond({"labels": [psy]})],
	}])})
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud], [tree])
	ds4p.decision.effect == "deny" with input as req("Organization/org-a", ["TREAT"], [sud, psy], [tree])
}
