# The ds4p default policy (contract version 1, see ../schema/).
#
# One evaluation decides one decision class: every item of a response that
# shares patient, resource type, label set and source. The decision depends on
# input.caller, input.request, input.patient, input.consents and input.item,
# nothing else.
#
# This is the walking-skeleton policy:
#   - data labelled as substance use disorder (SUD and its finer codes, or
#     carrying the 42CFRPart2 policy label) is restricted: it is disclosed only
#     when an active consent of the patient permits the caller for the caller's
#     purpose of use, and no active consent of the patient denies it
#     (42 CFR 2.31, 2.33: disclosure with written consent);
#   - a missing or unknown purpose of use discloses no restricted data; it is
#     never read as TREAT;
#   - everything else is disclosed.
package ds4p

# decision is the answer for input.item: effect permit | deny, with reasons.
default decision := {
	"effect": "deny",
	"reasons": [{"rule": "default-deny", "message": "no rule permitted the item"}],
}

decision := {"effect": "permit", "obligations": [], "reasons": [{"rule": "unrestricted", "message": "the item carries no restricted label"}]} if {
	not restricted
}

decision := {"effect": "permit", "obligations": [], "reasons": reasons} if {
	restricted
	consent_permits
	reasons := [r |
		some c in permitting
		r := {"rule": "consent-permit", "consent": c.id, "version": c.version, "provision": c.provision}
	]
}

decision := {"effect": "deny", "reasons": deny_reasons} if {
	restricted
	not consent_permits
}

# consent_permits is true when the caller states a known purpose, some active
# consent of the patient permits the item and none denies it.
consent_permits if {
	purpose_known
	count(permitting) > 0
	count(denying) == 0
}

# restricted is true when the item carries a label the policy data restricts.
restricted if {
	some label in input.item.labels
	label in data.ds4p.config.restricted_labels
}

# purpose_known is true when the caller states at least one purpose of use and
# every stated purpose is a known v3-ActReason code.
purpose_known if {
	count(input.caller.purposes) > 0
	every p in input.caller.purposes {
		p in data.ds4p.config.known_purposes
	}
}

deny_reasons := [{"rule": "no-purpose", "message": "restricted data needs a known purpose of use"}] if {
	not purpose_known
} else := [r |
	some c in denying
	r := {"rule": "consent-deny", "consent": c.id, "version": c.version, "provision": c.provision}
] if {
	count(denying) > 0
} else := [{"rule": "no-consent", "message": "no active consent permits this caller and purpose"}]

# permitting and denying are the active consents of the patient whose deepest
# matching provision permits, or denies, the item.
permitting contains {"id": c.id, "version": c.version, "provision": v.path} if {
	some c in active_consents
	v := verdict(c)
	v.type == "permit"
}

denying contains {"id": c.id, "version": c.version, "provision": v.path} if {
	some c in active_consents
	v := verdict(c)
	v.type == "deny"
}

# active_consents are the patient's consents in force at the request time.
active_consents contains c if {
	some c in input.consents
	c.patient == input.patient
	c.status == "active"
	in_period(c.start_ns, c.end_ns)
}

# verdict is the deepest matching provision of consent c; at equal depth a
# deny wins. A consent none of whose provisions match says nothing.
verdict(c) := v if {
	matching := [r | some r in c.rules; rule_matches(r)]
	count(matching) > 0
	depth := max([r.depth | some r in matching])
	deepest := [r | some r in matching; r.depth == depth]
	v := pick(deepest)
}

pick(rules) := r if {
	some r in rules
	r.type == "deny"
} else := r if {
	some r in rules
}

rule_matches(r) if {
	every cond in r.conditions {
		cond_matches(cond, r.type)
	}
}

# cond_matches is true when one level of a provision applies to the item. A
# criterion the item cannot be tested against (codes, data, data period)
# matches a deny and never a permit: unknown means protected.
cond_matches(cond, type) if {
	any_or_empty(cond.actors, caller_actors)
	any_or_empty(cond.purposes, {p | some p in input.caller.purposes})
	any_or_empty(cond.labels, {l | some l in input.item.labels})
	any_or_empty(cond.classes, {input.item.type})
	in_period(cond.start_ns, cond.end_ns)
	untestable_ok(cond, type)
}

untestable_ok(_, "deny")

untestable_ok(cond, "permit") if {
	count(cond.codes) == 0
	count(cond.data) == 0
	cond.data_start_ns == 0
	cond.data_end_ns == 0
}

# caller_actors are every name the caller goes by: its organisation reference
# and identifiers, and its subject.
caller_actors contains a if {
	some a in array.concat([input.caller.org, input.caller.subject], input.caller.org_identifiers)
	a != ""
}

any_or_empty(wanted, _) if count(wanted) == 0

any_or_empty(wanted, have) if {
	some w in wanted
	w in have
}

in_period(start, end) if {
	after_start(start)
	before_end(end)
}

after_start(0)

after_start(start) if start <= input.request.time_ns

before_end(0)

before_end(end) if input.request.time_ns < end
