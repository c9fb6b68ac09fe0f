package ds4p

# The patient's consents (FHIR R4 Consent, scope patient-privacy), in the
# normalised form of the consent package: each provision flattened to a rule
# carrying the conditions of every level from the root down to it. The proxy
# passes only the consents of the item's patient.

# active(c) is true for a consent in force at the request time: status
# active and inside its period. Inactive, draft, rejected, expired or
# not-yet-valid consents count for nothing (R4 Consent.status,
# Consent.provision.period).
active(c) if {
	c.status == "active"
	in_period(c.start_ns, c.end_ns)
}

# applicable(c) is true for a consent that governs this item. Restricted data
# is governed by every active consent. Ordinary data is governed only by
# general opt-in / opt-out consents (config.consents.general_policies, e.g.
# policyRule OPTIN or OPTOUT): a consent written for Part 2 or sensitive data
# does not withdraw the patient's ordinary records from treatment.
applicable(_) if restricted

applicable(c) if general_consent(c)

# general_consent(c): c is a general opt-in / opt-out consent
# (config.consents.general_policies).
general_consent(c) if {
	some p in c.policies
	p in data.ds4p.config.consents.general_policies
}

# verdicts map each applicable consent (by id) to what its deciding
# provisions say: a matching provision is decided by the matching provisions
# nested in it, the most specific of its branch, and where several branches
# match a deny wins whatever their depth (R4 Consent.provision: nested
# provisions are exceptions to their parent; see verdict). A consent none of
# whose provisions match says nothing.
verdicts[c.id] := v if {
	some c in input.consents
	applicable(c)
	active(c)
	v := consent_verdict(c)
}

# consent_verdict(c) is verdict(c), or the verdict the engine already
# evaluated for the whole response (input.fixed_verdicts, see
# fixed_verdicts), which is the same: "none" there stands for a consent none
# of whose provisions matches.
consent_verdict(c) := v if {
	v := input.fixed_verdicts[c.id]
	v.type != "none"
}

consent_verdict(c) := verdict(c) if not input.fixed_verdicts[c.id]

# fixed_verdicts are the verdicts of the active consents whose provisions
# state only criteria about the caller and the request (caller_criteria),
# not about the item (an empty criterion states nothing). Such a verdict is the same for every item of a
# response, so the engine evaluates this rule once per response and
# patient, with no item in the input, and hands the result to each item's
# evaluation as input.fixed_verdicts. A policy change that makes a criterion
# of caller_criteria depend on the item must take it out of that set (the
# engine checks at load time that nothing this rule reaches reads
# input.item, and otherwise stops precomputing).
fixed_verdicts[c.id] := fixed_verdict(c) if {
	some c in input.consents
	active(c)
	every r in c.rules {
		every level in r.conditions {
			every criterion, wanted in level {
				fixed_criterion(criterion, wanted)
			}
		}
	}
}

fixed_verdict(c) := v if {
	v := verdict(c)
} else := {"type": "none"}

caller_criteria := {"actors", "roles", "purposes", "actions", "start_ns", "end_ns"}

# fixed_criterion: a criterion about the caller or the request, or one that
# states nothing (it matches every item).
fixed_criterion(criterion, _) if criterion in caller_criteria

fixed_criterion(_, wanted) if states_nothing(wanted)

# scaffolding is true when, for restricted data, a consent's verdict comes
# only from its unconditional root deny while the consent grants permit
# exceptions: the root says "no one but those named", which without consent
# is the rule for restricted data anyway (42 CFR 2.31). When another consent
# permits the caller, such a root must not cancel it, or one recipient's
# consent would revoke another's. A consent that only denies (a real opt-out)
# and any deny provision that names criteria still count, and so does the
# root of a general opt-in/opt-out consent (general_consent): it speaks for
# ordinary data too, where its deny wins, and sensitive data must not be
# less protected than ordinary data (an OPTOUT "except org-c" that an older
# OPTIN would otherwise cancel for HIV or SUD data only).
scaffolding(c, v) if {
	restricted
	not general_consent(c)
	v.type == "deny"
	every r in v.rules {
		r.depth == 0
		unconditional(r)
	}
	some e in c.rules
	e.depth > 0
	e.type == "permit"
}

# unconditional is true when no level of the provision states a criterion
# about the caller or the item. A period only bounds when the consent is in
# force (it is checked as a criterion all the same), so it does not count.
unconditional(r) if {
	every level in r.conditions {
		every key, criterion in level {
			time_bound_or_empty(key, criterion)
		}
	}
}

time_bound_or_empty(key, _) if key in {"start_ns", "end_ns"}

time_bound_or_empty(_, criterion) if states_nothing(criterion)

states_nothing(x) if x == []

states_nothing(x) if x == 0

states_nothing(x) if x == null

verdict(c) := {"consent": c.id, "version": c.version, "type": type, "rules": rules} if {
	matching := [r | some i, r in c.rules; candidate(c, i); rule_matches(r)]
	count(matching) > 0
	type := deciding_type(matching)
	rules := [r | some r in matching; r.type == type; not refined(r, matching)]
}

# refined(r, matching): a provision nested in r (at any depth) also
# matches, so r does not decide: the most specific provision of its branch
# does. A matching provision of another branch does not refine r however
# deep it lies: a deny of Part 2 records beside a deny of org-a that makes
# an exception for treatment stays a deny of Part 2 records for org-a's
# treatment too (each branch decides for itself, and a deny wins).
# Nested in r means d's path is r's path followed by "." (tested without
# building r.path + ".", which took 15 of a Part 2 decision's allocations).
refined(r, matching) if {
	some d in matching
	d.depth > r.depth
	startswith(d.path, r.path)
	startswith(trim_prefix(d.path, r.path), ".")
}

# deciding_type(matching): deny when a matching deny is refined by no
# matching provision nested in it, else permit.
deciding_type(matching) := "deny" if {
	some r in matching
	r.type == "deny"
	not refined(r, matching)
} else := "permit"

# candidate(c, i): rule i of c can match this caller. The engine indexes
# each patient's consents once (index: rule positions by the actors they
# name, and those that name none); a caller can match only rules that name
# none of the actors or one of its names or designations. Without an index,
# every rule is a candidate. Either way each candidate is tested in full by
# rule_matches: the index only skips rules that cannot match. (verdict tests
# the rules in place, in their order, without building lists or sets of
# them: a first Part 2 decision allocates a sixth less.)
candidate(c, _) if not c.index

candidate(c, i) if i in c.index.any_actor

candidate(c, i) if {
	some k in caller_keys
	i in c.index.by_actor[k]
}

# caller_keys are the caller's names and the general designations it is a
# member of (config.designations).
caller_keys contains a if some a in caller_actors

caller_keys contains d if {
	some d, members in data.ds4p.config.designations
	some m in members
	m in caller_actors
}

# consent_denies: some applicable consent denies the item; a deny wins over
# any permit of another consent.
default consent_denies := false

consent_denies if {
	some id, v in verdicts
	v.type == "deny"
	not yields_to_permit(id, v)
}

# yields_to_permit is true when a scaffolding root deny meets another
# consent's permit.
yields_to_permit(id, v) if {
	some c in input.consents
	c.id == id
	scaffolding(c, v)
	some other, w in verdicts
	other != id
	w.type == "permit"
}

# consent_permits: some applicable consent permits the item and none denies.
consent_permits if {
	consent_denies == false
	some v in verdicts
	v.type == "permit"
}

# rule_matches is true when every level from the root to the provision
# applies to this caller and item.
rule_matches(r) if {
	every level in r.conditions {
		level_matches(level, r.type)
	}
}

# level_matches is true when every criterion the level states applies. An
# empty list or a zero time states nothing (the engine drops them before
# evaluation; both forms mean the same).
#
# Each criterion is read in the direction that protects the patient: a
# permit applies only when the request is inside everything it names
# (permits), a deny applies whenever the request touches anything it names
# (denies). Codes, specific data and the data period are tested against the
# item's own facts (input.item.facts: its codes, its reference, its clinical
# date), which the proxy passes only for patients whose consents name such
# criteria. Without those facts, for a reference whose meaning reaches
# beyond the instance (related, dependents, authoredby), for an item without
# a clinical date, for data named without its meaning, and for criteria
# this policy does not know, the criterion matches a deny and never a
# permit.
level_matches(level, "permit") if {
	every criterion, wanted in level {
		permits(criterion, wanted)
	}
	names_recipients(level)
}

level_matches(level, "deny") if {
	every criterion, wanted in level {
		denies(criterion, wanted)
	}
}

# Actors (R4 provision.actor): the caller by organisation reference,
# organisation identifier or subject, or as a member of a general designation
# the provision names (config.designations: designation -> members).
# Roles (R4 provision.actor.role) say what part the actor plays. A permit
# discloses only to recipients (42 CFR 2.31(a)(4): the consent names to whom
# the disclosure is made): it matches the caller through its actors only when
# every role the level names is a recipient role
# (config.consents.recipient_roles: v3-ParticipationType IRCP and its
# specializations PRCP, REFB, REFT, TRC, NOT by default), see
# names_recipients. The input lists a level's actors and roles without saying
# which role is whose, so a permit level that names a custodian (CST), an
# author (AUT) or any other role beside its recipients matches no one through
# its actors: the custodian is not taken for a recipient, at the cost of the
# recipients of that provision (write the custodian in a provision of its
# own). A deny applies to the actors it names whatever their roles (it can
# only withhold more).
# Purposes (R4 provision.purpose): a permit must cover every purpose the
# caller states; a deny applies when it names any of them or a broader
# purpose of one of them (config.purpose_hierarchy: a deny of HPAYMT also
# denies COVERAGE, a deny of TREAT also ETREAT), or when the caller states
# none (it could be any of them). A permit covers only the very purposes it
# names, never narrower ones (the reading that protects the patient).
# Security labels (R4 provision.securityLabel): a permit applies to items
# that carry every label it names, a deny to items that carry any of them.
# Confidentiality codes are ordered (config.consents.confidentiality_order,
# U < L < M < N < R < V): a deny of one applies to items at that level or
# above (a deny of R withholds V too), a permit of one to items at that
# level or below (a permit of R admits N, not V); an item without a
# confidentiality label is at no level, so only the very label counts.
# Class (R4 provision.class): the item's resource type. Action (R4
# provision.action): a disclosure is any of
# config.consents.disclosure_actions. Period (R4 provision.period): the
# request time is inside [start, end).
permits(_, [])

permits(_, 0)

permits(_, null)

permits("actors", wanted) if actor_matches(wanted)

permits("roles", _)

permits("purposes", wanted) if purposes_within(wanted)

permits("labels", wanted) if {
	every l in wanted {
		label_within(l)
	}
}

permits("classes", wanted) if input.item.type in wanted

permits("actions", wanted) if disclosure_action(wanted)

permits("start_ns", start) if start <= input.request.time_ns

permits("end_ns", end) if input.request.time_ns < end

denies(_, [])

denies(_, 0)

denies(_, null)

denies("actors", wanted) if actor_matches(wanted)

denies("roles", _)

denies("purposes", _) if purpose_stated == false

denies("purposes", wanted) if {
	some p in wanted
	p in purposes
}

denies("purposes", wanted) if {
	some w in wanted
	some p in purposes
	p in narrower_purposes[w]
}

denies("labels", wanted) if {
	some l in wanted
	label_reached(l)
}

denies("classes", wanted) if input.item.type in wanted

# A class that is a MIME type (consent class urn:ietf:bcp:13, e.g.
# application/pdf) names the form of an attachment, which the item's facts
# do not carry: it matches a deny whatever the item (a deny of PDFs that
# matched nothing would withhold nothing while it looked right) and never
# a permit. Resource types never contain "/".
denies("classes", wanted) if {
	some w in wanted
	contains(w, "/")
}

denies("actions", wanted) if disclosure_action(wanted)

denies("start_ns", start) if start <= input.request.time_ns

denies("end_ns", end) if input.request.time_ns < end

denies(criterion, _) if object.get(tested, criterion, false) == false

# Codes (R4 provision.code): the item carries one of the codings named.
permits("codes", wanted) if item_has_code(wanted)

denies("codes", wanted) if item_has_code(wanted)

denies("codes", _) if not input.item.facts

# A deny reaches the resources the item contains or carries (its contained
# resources, a contained Bundle's entries, a contained Parameters' resources,
# facts.carried_*): they are part of the record, and a urine drug screen the
# patient refused, contained in a toxicology report of a Part 2 program, went
# out with the report. A permit reads the item's own facts only.
denies("codes", wanted) if {
	some c in input.item.facts.carried_codes
	c in wanted
}

denies("classes", wanted) if {
	some t in input.item.facts.carried_types
	t in wanted
}

denies("data_refs", wanted) if {
	some ref in wanted
	ref.meaning == "instance"
	ref.reference in input.item.facts.carried_references
}

# Specific data (R4 provision.data, with its meaning): the provision names
# this very resource (meaning instance). The other meanings reach resources
# related to, depending on or authored by the one named, which one item
# cannot be tested against. provision.data read without its meaning (data)
# is untestable; the engine drops it when data_refs restates it.
permits("data_refs", wanted) if names_item(wanted)

denies("data_refs", wanted) if names_item(wanted)

denies("data_refs", wanted) if {
	some ref in wanted
	ref.meaning != "instance"
}

denies("data_refs", _) if not input.item.facts

denies("data", _)

# Data period (R4 provision.dataPeriod): the item's clinical date is the
# span [time_ns, time_end_ns) of instants it may name ("2020" is a year, a
# Period its length; without time_end_ns the instant time_ns). A permit
# applies when the span lies inside [start, end), a deny when it touches it:
# a record dated "2020" may be of the second half of 2020.
permits("data_start_ns", start) if start <= input.item.facts.time_ns

permits("data_end_ns", end) if item_time_end <= end

denies("data_start_ns", start) if start < item_time_end

denies("data_end_ns", end) if input.item.facts.time_ns < end

# item_time_end is the exclusive end of the item's clinical date.
item_time_end := input.item.facts.time_end_ns

item_time_end := input.item.facts.time_ns + 1 if not input.item.facts.time_end_ns

denies("data_start_ns", _) if not input.item.facts.time_ns

denies("data_end_ns", _) if not input.item.facts.time_ns

tested := {
	"actors": true, "roles": true, "purposes": true, "labels": true, "classes": true, "actions": true,
	"start_ns": true, "end_ns": true, "codes": true, "data": true, "data_refs": true,
	"data_start_ns": true, "data_end_ns": true,
}

# label_within(l): the item carries l, or l is a confidentiality level and
# the item's highest confidentiality is at or below it.
label_within(l) if l in input.item.labels

label_within(l) if {
	count(item_confidentiality) > 0
	max(item_confidentiality) <= confidentiality_rank[l]
}

# label_reached(l): the item carries l, or l is a confidentiality level and
# the item carries a confidentiality at or above it.
label_reached(l) if l in input.item.labels

label_reached(l) if {
	some rank in item_confidentiality
	rank >= confidentiality_rank[l]
}

# confidentiality_rank: each confidentiality label's place in
# config.consents.confidentiality_order (lowest first).
confidentiality_rank[l] := i if some i, l in data.ds4p.config.consents.confidentiality_order

# item_confidentiality: the ranks of the item's confidentiality labels.
item_confidentiality contains confidentiality_rank[l] if some l in input.item.labels

item_has_code(wanted) if {
	some c in input.item.facts.codes
	c in wanted
}

names_item(wanted) if {
	some ref in wanted
	ref.meaning == "instance"
	ref.reference == input.item.facts.reference
}

# narrower_purposes[w] are the purposes narrower than w in
# config.purpose_hierarchy (a purpose -> its direct specializations), at any
# depth, with w itself, for every purpose the hierarchy names (a purpose it
# does not name has none). The rule reads no input: the interpreter works it
# out once per policy revision, where graph.reachable in each decision under
# a consent that denies a purpose built the search anew (28 of its ~200
# allocations).
narrower_purposes[w] := graph.reachable(purpose_graph, [w]) if some w, _ in purpose_graph

# purpose_graph is config.purpose_hierarchy with every purpose it names as a
# node (graph.reachable leaves out nodes that are not keys of the graph).
purpose_graph := object.union(
	{c: [] | some children in data.ds4p.config.purpose_hierarchy; some c in children},
	data.ds4p.config.purpose_hierarchy,
)

disclosure_action(wanted) if {
	some a in wanted
	a in data.ds4p.config.consents.disclosure_actions
}

actor_matches(wanted) if {
	some a in wanted
	a in caller_actors
}

# A deny naming an actor no caller can be (a Group, CareTeam,
# HealthcareService or Location: callers are matched by organisation,
# subject, fhirUser and identifiers) applies to every caller, as a criterion
# this policy cannot test does, unless config.designations lists its
# members: read as naming no one, a patient's "not that care team" withheld
# nothing (QA round 29). A permit naming one admits only the designation's
# members.
denies("actors", wanted) if {
	some a in wanted
	unresolvable_actor(a)
}

unresolvable_actor(a) if {
	some prefix in group_actor_prefixes
	startswith(a, prefix)
	not data.ds4p.config.designations[a]
}

group_actor_types := {"Group", "CareTeam", "HealthcareService", "Location"}

# A deny naming a Practitioner reaches a caller signed in as a
# PractitionerRole (SMART fhirUser), and one naming a PractitionerRole a
# caller signed in as a Practitioner, unless config.designations lists the
# actor's members: a role is a practitioner's, and which one the policy
# cannot read, so p1's "not Dr X" withheld nothing from Dr X signed in in
# one of their roles (QA round 41, area B). A permit naming one admits only
# the designation's members, as before.
denies("actors", wanted) if {
	practitioner_caller
	some a in wanted
	role_or_practitioner_of_caller(a)
}

# practitioner_caller: the caller goes by a Practitioner or a
# PractitionerRole, in its fhirUser or its subject (both are matched as
# Type/id; a subject PractitionerRole/dr-x-at-a escaped a deny of Dr X
# that the same fhirUser met: QA round 41, helper F).
practitioner_caller if startswith(input.caller.fhir_user, "Practitioner")

practitioner_caller if startswith(input.caller.subject, "Practitioner")

role_or_practitioner_of_caller(a) if {
	caller_goes_by_prefix("PractitionerRole/")
	startswith(a, "Practitioner/")
	not data.ds4p.config.designations[a]
}

role_or_practitioner_of_caller(a) if {
	caller_goes_by_prefix("Practitioner/")
	startswith(a, "PractitionerRole/")
	not data.ds4p.config.designations[a]
}

caller_goes_by_prefix(prefix) if startswith(input.caller.fhir_user, prefix)

caller_goes_by_prefix(prefix) if startswith(input.caller.subject, prefix)

# candidate(c, i) for such a caller: the rules the index lists under a
# practitioner's or a role's name can match it too.
candidate(c, i) if {
	practitioner_caller
	some a, positions in c.index.by_actor
	role_or_practitioner_of_caller(a)
	i in positions
}

# group_actor_prefixes: "Group/" and so on, built once per policy revision
# (the rule reads no input), not once per deny naming an actor.
group_actor_prefixes := {concat("", [t, "/"]) | some t in group_actor_types}

actor_matches(wanted) if {
	some a in wanted
	some member in data.ds4p.config.designations[a]
	member in caller_actors
}

# names_recipients(level): a permit level names no actor, or names actors
# whose roles (every role the level names) are recipient roles. A level
# that states no role (the consent package requires one on every actor, so
# only hand-written inputs lack them) is read as naming recipients.
names_recipients(level) if states_nothing(object.get(level, "actors", []))

names_recipients(level) if {
	every role in object.get(level, "roles", []) {
		role in data.ds4p.config.consents.recipient_roles
	}
}

# caller_actors are every name the caller goes by: its organisation, its
# subject, its organisation's identifiers, and its SMART fhirUser (the
# user's own FHIR resource, Practitioner/dr-x, when the identity provider's
# subject is an opaque id): a consent naming the practitioner names the
# caller whichever claim carries the reference.
caller_actors contains input.caller.org if input.caller.org != ""

caller_actors contains input.caller.subject if input.caller.subject != ""

caller_actors contains input.caller.fhir_user if input.caller.fhir_user != ""

caller_actors contains a if some a in input.caller.org_identifiers

# An NPI the token carries under one name of its system is the caller's
# under the other too (http://hl7.org/fhir/sid/us-npi and its OID
# urn:oid:2.16.840.1.113883.4.6 name one system): a consent naming the
# caller's NPI by the other name matched no one, and a deny written so
# withheld nothing.
caller_actors contains concat("|", [other, value]) if {
	some a in input.caller.org_identifiers
	some prefix, other in npi_prefix_other_name
	startswith(a, prefix)
	value := substring(a, count(prefix), -1)
}

npi_other_name := {
	"http://hl7.org/fhir/sid/us-npi": "urn:oid:2.16.840.1.113883.4.6",
	"urn:oid:2.16.840.1.113883.4.6": "http://hl7.org/fhir/sid/us-npi",
}

# npi_prefix_other_name: each NPI system followed by "|" (an identifier's
# prefix) to its other name, built once per policy revision (the rule reads
# no input), not once per decision and identifier.
npi_prefix_other_name[concat("", [system, "|"])] := other if some system, other in npi_other_name

# in_period: the request time is inside [start, end); 0 is unbounded.
in_period(start, end) if {
	start <= input.request.time_ns
	end == 0
}

in_period(start, end) if {
	start <= input.request.time_ns
	input.request.time_ns < end
}
