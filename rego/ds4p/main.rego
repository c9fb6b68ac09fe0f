# The ds4p default policy (input/decision contract version 1, see ../schema/).
#
# One evaluation decides one decision class: every item of a response that
# shares patient, resource type, label set and source. The decision depends on
# input.caller, input.caller_is_patient, input.request, input.consents,
# input.item and the policy data under data.ds4p.config, nothing else;
# input.consents are the item's patient's consents.
#
# The files of this package, each with its tests beside it:
#   main.rego        the decision: permit, break-the-glass permit, or deny
#   access.rego      the patient's right of access to their own record
#                    (45 CFR 164.524, 42 CFR 2.23), counseling notes excluded
#   purpose.rego     purposes of use (a missing purpose is never TREAT)
#   classify.rego    what the item is: ordinary, Part 2, counseling notes,
#                    state-law topics (config/state_law/data.json), other
#                    sensitivity codes and confidentiality R
#   ordinary.rego    ordinary data (HIPAA treatment, payment, operations)
#   restricted.rego  Part 2 data, counseling notes and state-law topics
#   consent.rego     the patient's consents: active, deepest provision decides
#   emergency.rego   42 CFR 2.51 medical emergencies (break-the-glass)
#   explain.rego     reasons, obligations and notices of a decision
#
# Policy data an analyst edits, without touching Rego:
#   config/data.json            purposes, Part 2 obligations, notices,
#                               break-the-glass, general designations, the
#                               purposes of a patient's own access
#   config/state_law/data.json  which labels make which topic (and the
#                               catch-all topics of other sensitivity codes
#                               and confidentiality R), and per topic the
#                               purposes that need no consent
package ds4p

# decision is the answer for input.item, tried in this order:
#   1. the patient reading their own record, counseling notes excepted
#      (access.rego): first, because the patient's own consents (an opt-out,
#      a deny) restrict disclosures to others, never the patient's access;
#   2. ordinary data for an allowed purpose (ordinary.rego);
#   3. restricted data whose every restriction is satisfied: the patient's
#      consent, or a law that needs none (restricted.rego);
#   4. a medical emergency (42 CFR 2.51) lets the item be disclosed without
#      consent, and the disclosure is flagged for the ledger (emergency.rego);
#   5. otherwise the item is withheld.
decision := patient_access_decision if {
	patient_access_allowed
} else := ordinary_decision if {
	restricted == false
	ordinary_allowed
} else := restricted_decision if {
	restricted_allowed
} else := emergency_decision if {
	emergency_allowed
} else := deny_decision

# A decision is always defined: should every rule above fail (a policy data
# error), the item is withheld.
default decision := {
	"effect": "deny",
	"obligations": [],
	"notices": [],
	"break_glass": false,
	"reasons": [{"rule": "default-deny", "message": "no rule of the policy applied to the item"}],
}

ordinary_decision := {
	"effect": "permit",
	"obligations": [],
	"notices": [],
	"break_glass": false,
	"reasons": ordinary_reasons,
}

restricted_decision := {
	"effect": "permit",
	"obligations": obligations,
	"notices": notices,
	"break_glass": false,
	"reasons": restricted_reasons,
}

emergency_decision := {
	"effect": "permit",
	"obligations": obligations,
	"notices": notices,
	"break_glass": true,
	"reasons": emergency_reasons,
}

deny_decision := {
	"effect": "deny",
	"obligations": [],
	"notices": [],
	"break_glass": false,
	"reasons": deny_reasons,
}
