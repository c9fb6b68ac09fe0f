package ds4p_test

import data.ds4p

part2_record := [part2_label, sud, restricted_r]

counseling_record := [part2_label, sud, restricted_r, psythpn]

# A patient token: no organisation, the patient's own request.
patient_req(purposes, labels, consents) := as_patient(req("", purposes, labels, consents))

test_patient_reads_own_part2_record if {
	d := ds4p.decision with input as patient_req(["PATRQT"], part2_record, [])
		with data.ds4p.config as config
	d.effect == "permit"
	d.break_glass == false
	rules_of(d) == {"patient-access"}
	d.reasons[0].labels == sort([part2_label, sud])
}

test_patient_access_obliges_nothing if {
	# No redisclosure labels and no 2.32 notice: the patient is no recipient
	# under a consent. The item keeps the labels it has.
	d := ds4p.decision with input as patient_req(["PATRQT"], part2_record, [])
		with data.ds4p.config as config
	d.obligations == []
	d.notices == []
}

test_patient_reads_own_state_law_topics if {
	every labels in [[psy], [hiv], [sud], [sickle], [restricted_r], [very_restricted], [hiv, psy, restricted_r]] {
		ds4p.decision.effect == "permit" with input as patient_req(["PATRQT"], labels, [])
			with data.ds4p.config as config
	}
}

test_patient_reads_own_ordinary_data if {
	d := ds4p.decision with input as patient_req(["PATRQT"], [normal_n], [])
		with data.ds4p.config as config
	d.effect == "permit"
	rules_of(d) == {"patient-access"}
}

test_patient_consents_do_not_restrict_own_access if {
	every consents in [[deny_all], [opt_out], [tpo_consent], [tpo_consent, deny_all]] {
		every labels in [[], part2_record, [psy]] {
			d := ds4p.decision with input as patient_req(["PATRQT"], labels, consents)
				with data.ds4p.config as config
			d.effect == "permit"
			rules_of(d) == {"patient-access"}
		}
	}
}

test_patient_access_under_opt_in_model if {
	d := ds4p.decision with input as patient_req(["PATRQT"], [], [])
		with data.ds4p.config as config_with({"/ordinary/consent_model": "opt-in"})
	d.effect == "permit"
	rules_of(d) == {"patient-access"}
}

test_patient_counseling_notes_excluded if {
	d := ds4p.decision with input as patient_req(["PATRQT"], counseling_record, [])
		with data.ds4p.config as config
	d.effect == "deny"
	"patient-access-excludes-notes" in rules_of(d)
	e := ds4p.decision with input as patient_req(["PATRQT"], [psy, psythpn], [])
		with data.ds4p.config as config
	e.effect == "deny"
	ds4p.patient_access_allowed == false with input as patient_req(["PATRQT"], [psythpn], [])
		with data.ds4p.config as config
}

test_patient_counseling_notes_need_their_consent if {
	# The counseling-notes rule still applies: a consent naming the notes
	# for the purpose the patient states releases them, as to anyone.
	notes := consent("c-notes", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"purposes": ["PATRQT"], "actors": ["Patient/p1"], "labels": [psythpn]}),
	])
	inp := object.union(patient_req(["PATRQT"], counseling_record, [notes]), {"caller": {"subject": "Patient/p1"}})
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.effect == "permit"
	rules_of(d) == {"counseling-notes-consent"}
	d.obligations == sort([part2_label, nordsclcd])
}

test_patient_without_purpose_follows_policy_data if {
	d := ds4p.decision with input as patient_req([], [psy], [])
		with data.ds4p.config as config
	d.effect == "deny"
	"no-purpose" in rules_of(d)
	e := ds4p.decision with input as patient_req([], part2_record, [deny_all])
		with data.ds4p.config as config_with({"/patient_access/without_purpose": true})
	e.effect == "permit"
	rules_of(e) == {"patient-access-no-purpose"}
	f := ds4p.decision with input as patient_req([], counseling_record, [])
		with data.ds4p.config as config_with({"/patient_access/without_purpose": true})
	f.effect == "deny"
}

test_patient_other_purposes_follow_policy_data if {
	# TREAT is not a patient-access purpose by default: the other rules
	# decide (Part 2 needs a consent naming the recipient).
	d := ds4p.decision with input as patient_req(["TREAT"], part2_record, [])
		with data.ds4p.config as config
	d.effect == "deny"
	"patient-access-purpose" in rules_of(d)
	e := ds4p.decision with input as patient_req(["TREAT"], part2_record, [])
		with data.ds4p.config as config_with({"/patient_access/purposes": ["PATRQT", "TREAT"]})
	e.effect == "permit"
	rules_of(e) == {"patient-access"}
}

test_patient_every_purpose_must_be_a_patient_access_purpose if {
	ds4p.decision.effect == "deny" with input as patient_req(["PATRQT", "HMARKT"], part2_record, [])
		with data.ds4p.config as config
	ds4p.patient_access_allowed == false with input as patient_req(["PATRQT", "TREAT"], [], [])
		with data.ds4p.config as config
}

test_patient_narrower_purposes_are_not_the_patient if {
	# FAMRQT (family), PWATRNY (power of attorney), SUPNWK (support network)
	# sit under PATRQT but are requests by someone else.
	every p in ["FAMRQT", "PWATRNY", "SUPNWK"] {
		ds4p.patient_access_allowed == false with input as patient_req([p], part2_record, [])
			with data.ds4p.config as config
	}
}

test_patient_access_needs_caller_is_patient if {
	# The flag decides, not fhir_user: the policy never compares it with
	# input.patient (the decision cache would stop sharing across patients).
	not_flagged := object.union(patient_req(["PATRQT"], part2_record, []), {"caller_is_patient": false})
	ds4p.decision.effect == "deny" with input as not_flagged
		with data.ds4p.config as config
	no_flag := object.union(req("", ["PATRQT"], part2_record, []), {"caller": {"fhir_user": "Patient/p1"}})
	ds4p.decision.effect == "deny" with input as no_flag
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as req("", ["PATRQT"], part2_record, [])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as object.union(req("", ["PATRQT"], part2_record, []), {"caller_is_patient": "true"})
		with data.ds4p.config as config
}

test_patient_access_not_with_break_glass if {
	inp := as_patient(with_break_glass(req("", ["PATRQT"], part2_record, []), "unconscious in the ED"))
	ds4p.patient_access_allowed == false with input as inp
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as inp
		with data.ds4p.config as config

	# An emergency claim goes to the emergency rule, flagged for the ledger.
	bg := as_patient(with_break_glass(req("", ["ETREAT"], part2_record, []), "unconscious in the ED"))
	d := ds4p.decision with input as bg
		with data.ds4p.config as config_with({"/patient_access/purposes": ["PATRQT", "ETREAT"]})
	d.break_glass == true
	rules_of(d) == {"break-glass"}
}

test_patient_access_brief_decision if {
	d := ds4p.decision with input as object.union(patient_req(["PATRQT"], part2_record, [deny_all]), {"brief": true})
		with data.ds4p.config as config
	d.effect == "permit"
	rules_of(d) == {"patient-access"}
}

test_patient_access_without_policy_data if {
	ds4p.decision.effect == "deny" with input as patient_req(["PATRQT"], part2_record, [])
		with data.ds4p.config as json.remove(config, ["/patient_access"])
}
