package ds4p

# Restricted data: Part 2 records, counseling notes and state-law topics.
# Every restriction that applies must be satisfied; a missing or unknown
# purpose of use satisfies none.
restricted_allowed if {
	restricted
	purpose_known
	part2_allowed
	counseling_notes_allowed
	every t in topics {
		topic_allowed(t)
	}
}

# Part 2 records (42 CFR 2.31, 2.33 as amended in 2024) may be disclosed with
# the patient's written consent. The consent must name the recipient (an
# organisation or individual, or a general designation such as the members
# of an HIE, see config.designations) and the purpose; a single consent for
# all future treatment, payment and operations uses is honoured (a provision
# listing TREAT, HPAYMT and HOPERAT, without an end date). A blanket permit
# that names no recipient or no purpose is not a Part 2 consent.
part2_allowed if part2 == false

part2_allowed if {
	part2
	count(part2_consents) > 0
}

# part2_consents are the permitting consent verdicts that name a recipient
# and a purpose on the path to the deciding provision.
part2_consents[id] := v if {
	part2
	consent_denies == false
	some id, v in verdicts
	v.type == "permit"
	names_recipient_and_purpose(v)
}

names_recipient_and_purpose(v) if {
	some r in v.rules
	some actor_level in r.conditions
	count(actor_level.actors) > 0
	some purpose_level in r.conditions
	count(purpose_level.purposes) > 0
}

# SUD counseling notes (42 CFR 2.31(b)) and psychotherapy notes (45 CFR
# 164.508(a)(2)) need a consent that names them: a permitting provision that
# carries the PSYTHPN label. A general TPO consent does not cover them, and
# neither does an emergency.
counseling_notes_allowed if counseling_notes == false

counseling_notes_allowed if {
	counseling_notes
	count(counseling_consents) > 0
}

counseling_consents[id] := v if {
	counseling_notes
	consent_denies == false
	some id, v in verdicts
	v.type == "permit"
	names_counseling_notes(v)
}

names_counseling_notes(v) if {
	some r in v.rules
	some level in r.conditions
	some l in level.labels
	l in data.ds4p.config.counseling_notes.labels
}

# A state-law topic (config/state_law/data.json) is satisfied when the
# patient's consent permits the disclosure, or when every purpose the caller
# states is one the table lets through without consent and no consent of the
# patient denies it. A topic missing from the table is never satisfied.
topic_allowed(_) if consent_permits

topic_allowed(t) if {
	consent_denies == false
	purposes_within(data.ds4p.config.state_law.topics[t].without_consent)
}
