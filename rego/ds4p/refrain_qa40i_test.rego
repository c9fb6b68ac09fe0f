package ds4p_test

import data.ds4p

# A refrain received with the item (QA round 40, area I): NORDSCLCD (no
# redisclosure without consent) with confidentiality N restricts the item
# to the patient's consent, for every purpose; NODSCLCD too.

test_refrain_alone_needs_consent if {
	every l in [nordsclcd, concat("|", [act, "NODSCLCD"])] {
		ds4p.topics == {"NO_REDISCLOSURE"} with input as req("o", [], [l, normal_n], [])
			with data.ds4p.config as config
		ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [l, normal_n], [])
			with data.ds4p.config as config
	}
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [nordsclcd, normal_n], [deny_all])
		with data.ds4p.config as config
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [nordsclcd, normal_n], [blanket_consent])
		with data.ds4p.config as config
	d.effect == "permit"
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [nordsclcd, normal_n], [tpo_consent])
		with data.ds4p.config as config
}

# With a topic that lets treatment through without consent, the refrain
# still wants a consent; a consent that permits the item through its
# topic's provision satisfies the refrain too.
test_refrain_with_topic_needs_consent if {
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["TREAT"], [hiv], [])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [hiv, nordsclcd], [])
		with data.ds4p.config as config
	hiv_consent := consent("c-hiv", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-b"], "purposes": ["TREAT"], "labels": [hiv]}),
	])
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["TREAT"], [hiv, nordsclcd], [hiv_consent])
		with data.ds4p.config as config
}

# A Part 2 record carries NORDSCLCD as its own notice: its rules decide
# alone (no refrain topic), emergencies included.
test_refrain_on_part2_record_is_its_own if {
	ds4p.topics == set() with input as req("o", [], [part2_label, nordsclcd], [])
		with data.ds4p.config as config
	ds4p.decision.effect == "permit" with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, nordsclcd], [tpo_consent])
		with data.ds4p.config as config
}

# Without no_redisclosure in the data (a site's older table), refrains
# restrict nothing, as before.
test_refrain_without_table_entry_ordinary if {
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["TREAT"], [nordsclcd, normal_n], [])
		with data.ds4p.config as json.remove(config, ["/state_law/no_redisclosure"])
}
