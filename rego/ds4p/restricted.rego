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
# 164.508(a)(2)) need a consent of their own: a permitting provision that
# carries the PSYTHPN label decides, in a consent that permits nothing but
# counseling notes (every permit provision names PSYTHPN on its path). A
# consent for counseling notes may be combined only with another consent for
# counseling notes (42 CFR 2.31(b); 45 CFR 164.508(b)(3)(ii)), so a TPO
# consent with a nested PSYTHPN permit does not release them; what else it
# permits it still permits, under its own rules. A general TPO consent does
# not cover them, and neither does an emergency.
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
	some c in input.consents
	c.id == id
	counseling_notes_only(c)
}

names_counseling_notes(v) if {
	some r in v.rules
	names_notes_on_path(r)
}

# counseling_notes_only(c): every provision of c that permits names
# counseling notes on its path, so c permits nothing else.
counseling_notes_only(c) if {
	every r in c.rules {
		permits_only_notes(r)
	}
}

permits_only_notes(r) if r.type == "deny"

permits_only_notes(r) if names_notes_on_path(r)

names_notes_on_path(r) if {
	some level in r.conditions
	some l in level.labels
	l in data.ds4p.config.counseling_notes.labels
}

# A state-law topic (config/state_law/data.json, including the catch-all
# topics of other sensitivity codes and of confidentiality R, see
# classify.rego) is satisfied when the
# patient's consent permits the disclosure and covers the topic
# (consent_covers), or when every purpose the caller
# states is one the table lets through without consent and no consent of the
# patient denies it. A topic missing from the table is never satisfied.
topic_allowed(t) if consent_covers(t)

# consent_covers(t): a consent permits the item (consent_permits) through a
# provision that either names no sensitivity label on its path (it permits
# whatever the consent reaches, by confidentiality level at most) or names
# the topic t. A provision that names sensitivity labels permits the topics
# it names and no other: a permit of SUD data does not release the HIV result
# that also carries SUD, nor a permit of HIV data a Part 2 record that also
# carries HIV (state HIV laws such as New York's PHL 2782 want a release that
# names HIV; 42 CFR 2.31(a)(3) a consent that says which SUD information).
# For the catch-all topic of other sensitivity codes the provision must name
# each such label the item carries.
consent_covers(t) if {
	consent_denies == false
	some v in verdicts
	v.type == "permit"
	some r in v.rules
	rule_covers(r, t)
}

rule_covers(r, _) if not names_sensitivity(r)

# A refrain (state_law.no_redisclosure) wants the patient's consent, not a
# consent that names it: any permitting provision covers it (the item's
# other topics still need theirs).
rule_covers(_, t) if t == data.ds4p.config.state_law.no_redisclosure.topic

rule_covers(r, t) if {
	some level in r.conditions
	some l in level.labels
	data.ds4p.config.state_law.labels[l] == t
}

rule_covers(r, t) if {
	t == data.ds4p.config.state_law.other_sensitive.topic
	every l in other_sensitive_labels {
		rule_names(r, l)
	}
}

# names_sensitivity(r): a level on r's path names a label that is neither a
# confidentiality level (config.consents.confidentiality_order) nor a
# counseling-note label (config.counseling_notes.labels): a provision that
# names counseling notes names the notes themselves, whatever topics they
# touch, and applies to nothing else.
names_sensitivity(r) if {
	some level in r.conditions
	some l in level.labels
	not confidentiality_rank[l]
	not l in data.ds4p.config.counseling_notes.labels
}

rule_names(r, l) if {
	some level in r.conditions
	l in level.labels
}

topic_allowed(t) if {
	consent_denies == false
	purposes_within(data.ds4p.config.state_law.topics[t].without_consent)
}
