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
	ds4p.topics == set() with input as req("o", [], [normal_n], [])
		with data.ds4p.config as config
}

# A sensitivity code the table does not map is not ordinary: it gets the
# catch-all topic (state_law.other_sensitive); one the table maps keeps its
# own topic.
test_unmapped_sensitivity_codes_get_the_catch_all_topic if {
	every l in [sickle, mst, concat("|", [act, "TBOO"]), concat("|", [act, "ADOL"]), "http://terminology.hl7.org/CodeSystem/v3-ObservationValue|SICKLE"] {
		ds4p.topics == {"OTHER_SENSITIVE"} with input as req("o", [], [l], [])
			with data.ds4p.config as config
		ds4p.restricted with input as req("o", [], [l], [])
			with data.ds4p.config as config
	}
	ds4p.topics == {"HIV"} with input as req("o", [], [hiv], [])
		with data.ds4p.config as config
	ds4p.topics == {"HIV", "OTHER_SENSITIVE"} with input as req("o", [], [hiv, sickle], [])
		with data.ds4p.config as config
	ds4p.topics == {"SICKLE_CELL"} with input as req("o", [], [sickle], [])
		with data.ds4p.config as config_with({
			"/state_law/other_sensitive/topic": "SICKLE_CELL",
		})
}

# The configured label lists are read as sets, built from the configuration
# in force: a code the table maps (HIV) is no catch-all code though
# other_sensitive.labels lists it, and a list changed by a deployment is the
# list classified by.
test_label_lists_read_as_sets if {
	ds4p.unmapped_sensitive_labels == {mst, sickle, concat("|", [act, "TBOO"]), concat("|", [act, "ADOL"]), concat("|", [act, "DEMO"]), "http://terminology.hl7.org/CodeSystem/v3-ObservationValue|SICKLE"} with data.ds4p.config as config
	ds4p.part2_labels == {part2_label} with data.ds4p.config as config
	ds4p.counseling_notes_labels == {psythpn} with data.ds4p.config as config
	ds4p.restricted_confidentiality_labels == {restricted_r, very_restricted} with data.ds4p.config as config
	ds4p.part2 with input as req("o", [], [psy], [])
		with data.ds4p.config as config_with({"/part2/labels": [psy]})
	not ds4p.part2 with input as req("o", [], [part2_label], [])
		with data.ds4p.config as config_with({"/part2/labels": [psy]})
	ds4p.counseling_notes with input as req("o", [], [psy], [])
		with data.ds4p.config as config_with({"/counseling_notes/labels": [psy]})
	ds4p.topics == set() with input as req("o", [], [sickle], [])
		with data.ds4p.config as config_with({"/state_law/other_sensitive/labels": [mst]})
	ds4p.topics == set() with input as req("o", [], [restricted_r], [])
		with data.ds4p.config as config_with({"/state_law/restricted_confidentiality/labels": [very_restricted]})
}

# Confidentiality R (or V the table does not map) with nothing else that
# restricts the item: topic state_law.restricted_confidentiality.topic.
# With a topic, Part 2 or counseling notes, those decide. N, M, L, U and no
# confidentiality label stay ordinary.
test_confidentiality_r_without_a_topic if {
	ds4p.topics == {"RESTRICTED"} with input as req("o", [], [restricted_r], [])
		with data.ds4p.config as config
	ds4p.restricted with input as req("o", [], [restricted_r], [])
		with data.ds4p.config as config
	ds4p.topics == {"HIV"} with input as req("o", [], [hiv, restricted_r], [])
		with data.ds4p.config as config
	ds4p.topics == {"OTHER_SENSITIVE"} with input as req("o", [], [sickle, restricted_r], [])
		with data.ds4p.config as config
	ds4p.topics == set() with input as req("o", [], [part2_label, restricted_r], [])
		with data.ds4p.config as config
	ds4p.topics == {"RESTRICTED"} with input as req("o", [], [very_restricted], [])
		with data.ds4p.config as json.patch(config, [{"op": "remove", "path": "/state_law/labels/http:~1~1terminology.hl7.org~1CodeSystem~1v3-Confidentiality|V"}])
	every l in [[], [normal_n], [moderate_m], ["http://terminology.hl7.org/CodeSystem/v3-Confidentiality|U"]] {
		not ds4p.restricted with input as req("o", [], l, [])
			with data.ds4p.config as config
	}
}

test_restricted if {
	ds4p.restricted with input as req("o", [], [part2_label], [])
		with data.ds4p.config as config
	ds4p.restricted with input as req("o", [], [psythpn], [])
		with data.ds4p.config as config
	ds4p.restricted with input as req("o", [], [hiv], [])
		with data.ds4p.config as config
	ds4p.restricted with input as req("o", [], [restricted_r], [])
		with data.ds4p.config as config
	not ds4p.restricted with input as req("o", [], [normal_n], [])
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
	data.ds4p.config.state_law.topics[data.ds4p.config.state_law.other_sensitive.topic]
	data.ds4p.config.state_law.topics[data.ds4p.config.state_law.restricted_confidentiality.topic]
}

# Every topic rule names only known purposes.
test_topic_purposes_are_known if {
	every _, topic in data.ds4p.config.state_law.topics {
		every p in topic.without_consent {
			p in data.ds4p.config.known_purposes
		}
	}
}
