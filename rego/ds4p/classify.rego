package ds4p

# What kind of data the item is, read from its security labels (FHIR
# meta.security, "system|code") and its source.
#
# The configured label lists are read as sets (part2_labels,
# counseling_notes_labels, unmapped_sensitive_labels,
# restricted_confidentiality_labels, below): rules that read no input are
# worked out once per policy revision, so each of the item's labels is
# looked up in a set instead of compared with every entry of a list
# (state_law.other_sensitive.labels names about 90 codes).

# part2 is true for a record of a Part 2 program (42 CFR 2.11, 2.12): the item
# carries the 42CFRPart2 policy label, or the labeller established that it
# comes from a Part 2 program (input.item.source). SUD information from
# elsewhere is not Part 2 data; the state-law table decides it.
default part2 := false

part2 if {
	some l in input.item.labels
	l in part2_labels
}

part2 if input.item.source in data.ds4p.config.part2.sources

# part2_labels: config.part2.labels, the policy labels of 42 CFR Part 2
# records, as a set.
part2_labels contains l if some l in data.ds4p.config.part2.labels

# counseling_notes is true for SUD counseling notes (42 CFR 2.31(b), 2024
# rule) and psychotherapy notes (HIPAA 45 CFR 164.508(a)(2)): labelled PSYTHPN.
# They need a consent that names them, for every purpose.
default counseling_notes := false

counseling_notes if {
	some l in input.item.labels
	l in counseling_notes_labels
}

# counseling_notes_labels: config.counseling_notes.labels (PSYTHPN, 42 CFR
# 2.31(b), 45 CFR 164.508(a)(2)) as a set.
counseling_notes_labels contains l if some l in data.ds4p.config.counseling_notes.labels

# topics are the sensitivity topics of the item according to the state-law
# table (config/state_law/data.json, labels: label -> topic).
topics contains t if {
	some l in input.item.labels
	t := data.ds4p.config.state_law.labels[l]
}

# A sensitivity label the table does not map is not ordinary data: it
# belongs to the table's catch-all topic (state_law.other_sensitive: the
# v3-ActCode information sensitivity codes, SICKLE, MST, TBOO, ADOL, DEMO
# ..., and its topic, restricted outside treatment unless consented by
# default). A label the table maps is governed by its own topic.
topics contains data.ds4p.config.state_law.other_sensitive.topic if count(other_sensitive_labels) > 0

other_sensitive_labels contains l if {
	some l in input.item.labels
	l in unmapped_sensitive_labels
}

# unmapped_sensitive_labels: the codes of state_law.other_sensitive.labels
# that state_law.labels does not map to a topic of their own (a mapped
# label is governed by its topic, not the catch-all).
unmapped_sensitive_labels contains l if {
	some l in data.ds4p.config.state_law.other_sensitive.labels
	not data.ds4p.config.state_law.labels[l]
}

# Confidentiality R or V (state_law.restricted_confidentiality.labels) on an
# item that nothing else restricts (no topic, not Part 2, not counseling
# notes): the source marked it restricted without saying why, so it gets
# the topic state_law.restricted_confidentiality.topic. Ordinary data is
# N, M, L, U or no confidentiality label.
topics contains data.ds4p.config.state_law.restricted_confidentiality.topic if restricted_by_confidentiality

default restricted_by_confidentiality := false

restricted_by_confidentiality if {
	part2 == false
	counseling_notes == false
	count(other_sensitive_labels) == 0
	every l in input.item.labels {
		not data.ds4p.config.state_law.labels[l]
	}
	some l in input.item.labels
	l in restricted_confidentiality_labels
}

# restricted_confidentiality_labels:
# state_law.restricted_confidentiality.labels (R, V) as a set.
restricted_confidentiality_labels contains l if some l in data.ds4p.config.state_law.restricted_confidentiality.labels

# A refrain that forbids disclosure without the patient's consent
# (state_law.no_redisclosure.labels: NORDSCLCD, NODSCLCD) on an item that is
# neither Part 2 nor counseling notes (their own rules already want a
# consent): its sender disclosed it under a consent and forbade its
# redisclosure without one, and a receiver applies the strictest
# protection its labels imply (DOMAIN.md). It adds the topic
# state_law.no_redisclosure.topic, which lets nothing through without
# consent and which any consent that permits the item satisfies
# (restricted.rego, rule_covers).
topics contains data.ds4p.config.state_law.no_redisclosure.topic if {
	some l in input.item.labels
	refrain_label(l)
}

refrain_label(l) if {
	l in no_redisclosure_labels
	part2 == false
	counseling_notes == false
}

# no_redisclosure_labels: state_law.no_redisclosure.labels as a set.
no_redisclosure_labels contains l if some l in data.ds4p.config.state_law.no_redisclosure.labels

# restricted is true when anything beyond HIPAA's ordinary rules applies.
# (Booleans with a default false are compared with == false rather than
# negated with not: the same meaning, evaluated faster.)
default restricted := false

restricted if part2

restricted if counseling_notes

restricted if count(topics) > 0

# restricting_labels are the item's labels that make it restricted; reasons
# name them.
restricting_labels contains l if {
	some l in input.item.labels
	restricting_label(l)
}

restricting_label(l) if l in part2_labels

restricting_label(l) if l in counseling_notes_labels

restricting_label(l) if data.ds4p.config.state_law.labels[l]

restricting_label(l) if l in other_sensitive_labels

restricting_label(l) if refrain_label(l)

restricting_label(l) if {
	restricted_by_confidentiality
	l in restricted_confidentiality_labels
}
