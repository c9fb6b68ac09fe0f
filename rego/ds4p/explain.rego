package ds4p

# What a disclosure obliges, and why a decision was made. Reasons go to the
# ledger and to explanations for compliance staff, never to the caller.

# obligations are the security labels the proxy adds to each disclosed item:
# a Part 2 record carries 42CFRPart2 and NORDSCLCD (no redisclosure without
# consent, 42 CFR 2.32), plus whatever the state-law table obliges per topic.
obligations := sort(array.concat(part2_obligations, topic_obligations))

part2_obligations := data.ds4p.config.part2.obligations if {
	part2
} else := []

topic_obligations := [o |
	some o in {o |
		some t in topics
		some o in data.ds4p.config.state_law.topics[t].obligations
	}
]

# notices must accompany the disclosure: the 42 CFR 2.32 notice for every
# Part 2 record disclosed.
notices := part2_notices if {
	part2
} else := []

# part2_notices are the notices of config.part2.notices with their ids.
# The rule reads no input: the interpreter works it out once per policy
# revision, not in every Part 2 disclosure (21 allocations each).
part2_notices := [n |
	some id in data.ds4p.config.part2.notices
	n := object.union({"id": id}, data.ds4p.config.notices[id])
]

# Reasons of an ordinary disclosure: the basis, and the consents of an
# opt-in model.
ordinary_reasons := array.concat([ordinary_basis], [consent_reason("opt-in-consent", v) |
	some v in verdicts
	v.type == "permit"
])

ordinary_basis := {"rule": "ordinary", "message": "ordinary data for an allowed purpose of use (45 CFR 164.506)"} if {
	purpose_stated
} else := {"rule": "ordinary-no-purpose", "message": "ordinary data; policy data lets callers without a purpose of use see it"}

# Reasons of a restricted disclosure: the consents relied on, or the state
# law that needs none. Only consents that satisfy the rule that let the item
# through are cited: for counseling notes the consents for counseling notes
# (counseling_consents), for Part 2 records the consents that name the
# recipient and the purpose (part2_consents), otherwise every consent that
# permits when consents cover every topic (consent_covers), else the state
# law that lets the rest through without consent. Another permitting
# consent of the patient did not justify the disclosure and is not named.
restricted_reasons := [consent_reason("counseling-notes-consent", v) |
	some v in counseling_consents
] if {
	counseling_notes
	count(counseling_consents) > 0
} else := [consent_reason("part2-consent", v) |
	some v in part2_consents
] if {
	part2
	count(part2_consents) > 0
} else := [consent_reason("consent-permit", v) |
	some v in verdicts
	v.type == "permit"
] if {
	consent_permits
	every t in topics {
		consent_covers(t)
	}
} else := [{
	"rule": "state-law",
	"message": concat("; ", [sprintf("%s: %s", [t, data.ds4p.config.state_law.topics[t].law]) | some t in topics]),
	"labels": restricting_list,
}]

# Reasons of an emergency disclosure: the emergency, then each consent of
# the patient whose provision denies this disclosure, which the emergency
# overrode. 42 CFR 2.51 needs no consent and gives the patient no way to
# refuse an emergency disclosure in advance, so the refusal does not stop
# it; but the reviewer of the 2.51 record must see that the patient had
# said no (consent, version and provision, in brief decisions too). A
# Part 2 consent's unconditional root deny that frames its permits
# ("no one but those named": scaffolding) is no refusal of this caller,
# and is not named.
emergency_reasons := array.concat(
	[{
		"rule": "break-glass",
		"message": "medical emergency: disclosed without consent (42 CFR 2.51), recorded for review",
		"labels": restricting_list,
	}],
	[overridden_consent_reason(v) |
		some id, v in verdicts
		v.type == "deny"
		not scaffolding_verdict(id, v)
	],
)

overridden_consent_reason(v) := {
	"rule": "break-glass-over-consent-deny",
	"message": "the patient's consent denies this disclosure; the medical emergency overrode it (42 CFR 2.51)",
	"consent": v.consent,
	"version": v.version,
	"provision": concat(", ", [r.path | some r in v.rules]),
	"labels": restricting_list,
}

# scaffolding_verdict(id, v): the verdict v of consent id is only its
# framing root deny (scaffolding, consent.rego).
scaffolding_verdict(id, v) if {
	some c in input.consents
	c.id == id
	scaffolding(c, v)
}

# Reasons of a deny: every restriction that was not satisfied. A brief
# decision (input.brief: the proxy's response path, which uses a deny's
# effect and records its rule in the ledger) carries one summary reason
# instead, which spares every withheld class the evaluation of each unmet
# restriction (a third of a Part 2 denial's time); its rule names the kind
# of data withheld, from facts the decision has already established, so
# that an auditor reading the ledger can tell a Part 2 record from an
# ordinary one withheld for want of a purpose. Explanations (POST
# /admin/decide, ds4p policy eval) ask for the full list.
deny_reasons := [brief_deny_reason] if {
	input.brief == true
} else := [r | some r in deny_reason_set] if {
	count(deny_reason_set) > 0
} else := [{"rule": "default-deny", "message": "no rule of the policy permitted the item"}]

brief_deny_reason := {"rule": brief_deny_rule, "message": "withheld; POST /admin/decide with the same caller and item explains why"}

brief_deny_rule := "withheld.no-purpose" if {
	not purpose_stated
} else := "withheld.part2" if {
	part2
} else := "withheld.counseling-notes" if {
	counseling_notes
} else := "withheld.state-law" if {
	count(topics) > 0
} else := "withheld.ordinary"

deny_reason_set contains {"rule": "no-purpose", "message": "restricted data needs a stated purpose of use; none is never read as TREAT"} if {
	restricted
	not purpose_stated
}

deny_reason_set contains {"rule": "unknown-purpose", "message": "a stated purpose of use is not a known code"} if {
	restricted
	purpose_stated
	not purpose_known
}

deny_reason_set contains {"rule": "break-glass-not-time-boxed", "message": "a break-the-glass claim counts only in a short-lived token, during its lifetime (42 CFR 2.51; policy data break_glass.max_token_lifetime_seconds)"} if {
	restricted
	input.caller.break_glass != null
	break_glass_time_boxed == false
}

deny_reason_set contains consent_reason("consent-deny", v) if {
	some v in verdicts
	v.type == "deny"
}

deny_reason_set contains {"rule": "ordinary-purpose", "message": "ordinary data is not disclosed for this purpose of use (policy data ordinary.purposes)"} if {
	not restricted
	not ordinary_purpose_allowed
}

deny_reason_set contains {"rule": "no-opt-in", "message": "the consent model is opt-in and no consent of the patient permits this disclosure"} if {
	not restricted
	data.ds4p.config.ordinary.consent_model == "opt-in"
	not consent_denies
	not consent_permits
}

deny_reason_set contains {"rule": "part2-no-consent", "message": "Part 2 data needs a consent naming this recipient and purpose (42 CFR 2.31, 2.33)", "labels": restricting_list} if {
	purpose_known
	not consent_denies
	not part2_allowed
}

deny_reason_set contains {"rule": "counseling-notes-no-consent", "message": "counseling notes need a separate consent that names them and permits nothing else (42 CFR 2.31(b), 45 CFR 164.508(a)(2), (b)(3)(ii))", "labels": restricting_list} if {
	purpose_known
	not consent_denies
	not counseling_notes_allowed
}

deny_reason_set contains {
	"rule": "state-law-consent-required",
	"message": topic_consent_message(t),
	"labels": restricting_list,
} if {
	purpose_known
	not consent_denies
	some t in topics
	not topic_allowed(t)
}

# topic_consent_message(t) names the topic's law, and says so when a
# consent of the patient permits the item but names other sensitivity
# labels than the topic's (consent_covers).
topic_consent_message(t) := sprintf("%s: %s; the consent that permits this caller names other sensitivity labels, not %s", [t, topic_law(t), t]) if {
	consent_permits
} else := sprintf("%s: %s", [t, topic_law(t)])

topic_law(t) := object.get(data.ds4p.config.state_law.topics, [t, "law"], "topic missing from the state-law table")

# A brief decision's consent reasons name the rule and the consent relied on
# (the ledger records it), without the explanation's provision and labels.
consent_reason(rule, v) := {"rule": rule, "consent": v.consent, "version": v.version} if {
	input.brief == true
} else := {
	"rule": rule,
	"consent": v.consent,
	"version": v.version,
	"provision": concat(", ", [r.path | some r in v.rules]),
	"labels": restricting_list,
}

restricting_list := sort(restricting_labels)
