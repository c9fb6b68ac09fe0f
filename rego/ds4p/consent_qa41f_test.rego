package ds4p_test

import data.ds4p

subject_as(subject, c) := object.union(
	req("Organization/org-a", ["TREAT"], [sud, part2_label], [c]),
	{"caller": {"subject": subject}},
)

test_qa41f_deny_reaches_subject_role if {
	ds4p.decision.effect == "deny" with input as subject_as("PractitionerRole/dr-x-at-a", not_named("Practitioner/dr-x"))
		with data.ds4p.config as config
}

test_qa41f_deny_reaches_subject_practitioner if {
	ds4p.decision.effect == "deny" with input as subject_as("Practitioner/dr-x", not_named("PractitionerRole/dr-x-at-a"))
		with data.ds4p.config as config
}
