package ds4p_test

import data.ds4p

# p1 permits org-a for treatment except the practitioner (or the
# practitioner's role) the deny names; indexed as the engine indexes it.
not_named(actor) := object.union(
	consent("c-not", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"]}),
		{"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny", "conditions": [cond({}), cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"]}), cond({"actors": [actor]})]},
	]),
	{"index": {"any_actor": [0], "by_actor": {"Organization/org-a": [1, 2]}}},
)

signed_in_as(fhir_user, c) := object.union(
	req("Organization/org-a", ["TREAT"], [sud, part2_label], [c]),
	{"caller": {"subject": "5b0c7b8e-opaque", "fhir_user": fhir_user}},
)

# A deny of Dr X reaches a caller signed in as a PractitionerRole, whose
# practitioner the policy cannot read, and a deny of one of Dr X's roles a
# caller signed in as a Practitioner: each withheld nothing (QA round 41,
# area B). A designation listing the actor's members narrows it to them.
test_qa41b_deny_of_practitioner_or_role_reaches_the_other_form if {
	ds4p.decision.effect == "deny" with input as signed_in_as("Practitioner/dr-x", not_named("Practitioner/dr-x"))
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as signed_in_as("Practitioner/dr-y", not_named("Practitioner/dr-x"))
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as signed_in_as("PractitionerRole/dr-x-at-a", not_named("Practitioner/dr-x"))
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as signed_in_as("Practitioner/dr-x", not_named("PractitionerRole/dr-x-at-a"))
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as signed_in_as("PractitionerRole/dr-x-at-a", not_named("PractitionerRole/dr-x-at-a"))
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as signed_in_as("PractitionerRole/dr-y-at-a", not_named("PractitionerRole/dr-x-at-a"))
		with data.ds4p.config as config
	members := {"Practitioner/dr-x": ["PractitionerRole/dr-x-at-a"], "PractitionerRole/dr-x-at-a": ["Practitioner/dr-x"]}
	ds4p.decision.effect == "deny" with input as signed_in_as("PractitionerRole/dr-x-at-a", not_named("Practitioner/dr-x"))
		with data.ds4p.config as config_with({"/designations": members})
	ds4p.decision.effect == "permit" with input as signed_in_as("PractitionerRole/dr-y-at-a", not_named("Practitioner/dr-x"))
		with data.ds4p.config as config_with({"/designations": members})
	ds4p.decision.effect == "permit" with input as signed_in_as("Practitioner/dr-y", not_named("PractitionerRole/dr-x-at-a"))
		with data.ds4p.config as config_with({"/designations": members})
}
