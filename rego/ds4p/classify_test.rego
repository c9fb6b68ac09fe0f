package ds4p_test

import data.ds4p

test_part2_by_label if {
	ds4p.part2 with input as req("o", [], [part2_label], [])
		with data.ds4p.config as config
	not ds4p.part2 with input as req("o", [], [sud], [])
		with data.ds4p.config as config
}

test_part2_by_source if {
	inp := object.union(req("o", [], [sud], []), {"item": {"source": "part2"}})
	ds4p.part2 with input as inp
		with data.ds4p.config as config
}

test_empty_source_is_not_part2 if {
	not ds4p.part2 with input as req("o", [], [], [])
		with data.ds4p.config as config
}

test_counseling_notes if {
	ds4p.counseling_notes with input as req("o", [], [psythpn], [])
		with data.ds4p.config as config
	not ds4p.counseling_notes with input as req("o", [], [psy], [])
		with data.ds4p.config as config
}

test_topics_from_state_law_table if {
	ds4p.topics == {"SUD", "MH"} with input as req("o", [], [sud, psy, restricted_r], [])
		with data.ds4p.config as config
	ds4p.topics == {"VERY_RESTRICTED"} with input as req("o", [], [very_restricted], [])
		with data.ds4p.config as config
	ds4p.topics == set() with input as req("o", [], [restricted_r], [])
		with data.ds4p.config as config
}

test_restricted if {
	ds4p.restricted with input as req("o", [], [part2_label], [])
		with data.ds4p.config as config
	ds4p.restricted with input as req("o", [], [psythpn], [])
		with data.ds4p.config as config
	ds4p.restricted with input as req("o", [], [hiv], [])
		with data.ds4p.config as config
	not ds4p.restricted with input as req("o", [], [restricted_r], [])
		with data.ds4p.config as config
}

test_restricting_labels if {
	ds4p.restricting_labels == {sud, part2_label, psythpn} with input as req("o", [], [sud, part2_label, psythpn, restricted_r], [])
		with data.ds4p.config as config
}

# The two tests below check the shipped policy data itself (not the test
# copy, config): a data change that breaks them is a real mistake.
#
# Every topic the label table names has a rule in the topic table: a label
# mapped to a missing topic would withhold its data for every caller.
test_every_mapped_topic_has_a_rule if {
	every _, t in data.ds4p.config.state_law.labels {
		data.ds4p.config.state_law.topics[t]
	}
}

# Every topic rule names only known purposes.
test_topic_purposes_are_known if {
	every _, topic in data.ds4p.config.state_law.topics {
		every p in topic.without_consent {
			p in data.ds4p.config.known_purposes
		}
	}
}
