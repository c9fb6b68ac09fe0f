package ds4p

# The patient's right of access: a patient-facing app, signed in as the
# patient, reading the patient's own record.
#
# HIPAA 45 CFR 164.524 gives an individual the right to inspect and obtain a
# copy of their own protected health information, sensitive or not; 42 CFR
# 2.23(a) says Part 2 does not prohibit a program from giving a patient
# access to their own records, and needs no written consent for it; and
# withholding it without an exception applying is information blocking (45
# CFR 171.103). So the patient's own Part 2, mental health, HIV and other
# restricted data is disclosed to the patient without any consent to
# disclose it to themselves. The patient's own consents (deny provisions, an
# HIE opt-out, an opt-in model) govern disclosures to others, not the
# patient's own access, and are not consulted here.
#
# Excluded: psychotherapy notes (45 CFR 164.524(a)(1)(i)) and SUD counseling
# notes (42 CFR 2.31(b), kept apart from the record like psychotherapy notes)
# are no part of the right of access; they stay under the counseling-notes
# rule (restricted.rego), which needs a consent naming them.
#
# Who the patient is: the proxy sets input.caller_is_patient when the
# token's SMART fhirUser (input.caller.fhir_user) is the Patient the item
# belongs to (input.patient). The rule reads that flag and never compares
# fhir_user with input.patient itself: decisions are cached by the input
# fields the policy reads (policy/reads.go), and reading input.patient would
# stop them being shared across patients.
#
# Policy data (config.patient_access):
#   purposes         the purposes a patient reading their own record states
#                    (PATRQT, patient requested, by default); exactly these
#                    codes, not their narrower ones: FAMRQT, PWATRNY and
#                    SUPNWK are requests by family, an attorney or a support
#                    network, not by the patient;
#   without_purpose  whether a patient token stating no purpose gets it
#                    (false by default: a missing purpose never discloses
#                    restricted data unless the policy data says so).
# A caller stating any other purpose alongside (TREAT, HPAYMT) is no
# patient-access request and is decided by the other rules, as is a caller
# claiming break-the-glass (an emergency claim is a clinician's, decided
# and flagged for the 42 CFR 2.51 record by emergency.rego).
default patient_access_allowed := false

patient_access_allowed if {
	input.caller_is_patient == true
	counseling_notes == false
	break_glass_claimed == false
	patient_access_purpose_allowed
}

patient_access_purpose_allowed if {
	purpose_stated == false
	data.ds4p.config.patient_access.without_purpose == true
}

patient_access_purpose_allowed if purposes_within(data.ds4p.config.patient_access.purposes)

# break_glass_claimed is true when the caller's token carries a
# break-the-glass claim (valid or not).
default break_glass_claimed := false

break_glass_claimed if input.caller.break_glass != null

# The decision of a patient's own access. No obligations and no notices:
# obligations are the labels that bind a recipient (42CFRPart2, NORDSCLCD:
# no redisclosure without consent, 42 CFR 2.32; a state-law topic's
# handling), and the 42 CFR 2.32 notice accompanies disclosures made with
# the patient's consent. The patient is the subject of the record, not a
# recipient under a consent, and may share their own record as they wish;
# the labels the resource already carries stay on it, so the app still
# sees what is sensitive. The ledger records the disclosure like any other.
patient_access_decision := {
	"effect": "permit",
	"obligations": [],
	"notices": [],
	"break_glass": false,
	"reasons": [patient_access_reason],
}

patient_access_reason := {
	"rule": "patient-access",
	"message": "the patient's own record, to the patient (right of access, 45 CFR 164.524; 42 CFR 2.23; withholding it would be information blocking, 45 CFR 171)",
	"labels": restricting_list,
} if {
	purpose_stated
} else := {
	"rule": "patient-access-no-purpose",
	"message": "the patient's own record, to the patient (45 CFR 164.524; 42 CFR 2.23); policy data patient_access.without_purpose lets a patient token without a purpose of use see it",
	"labels": restricting_list,
}

# Why a patient reading their own record was refused, in explanations
# (POST /admin/decide, ds4p policy eval): counseling notes are outside the
# right of access, or the purposes stated are not the patient-access ones.
deny_reason_set contains {"rule": "patient-access-excludes-notes", "message": "psychotherapy and SUD counseling notes are no part of the patient's right of access (45 CFR 164.524(a)(1)(i), 42 CFR 2.31(b)); they need a consent naming them", "labels": restricting_list} if {
	input.caller_is_patient == true
	counseling_notes
}

deny_reason_set contains {"rule": "patient-access-purpose", "message": "the patient's own record goes to the patient for the purposes of policy data patient_access.purposes (or, if patient_access.without_purpose, for none); other purposes are decided as for any recipient"} if {
	input.caller_is_patient == true
	counseling_notes == false
	break_glass_claimed == false
	not patient_access_purpose_allowed
}
