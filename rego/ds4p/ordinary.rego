package ds4p

# Ordinary data: no Part 2, counseling-note or state-law topic label (nor a
# sensitivity code or confidentiality R the table catches, see classify.rego).
#
# HIPAA (45 CFR 164.506(c)) lets a covered entity disclose ordinary data for
# treatment, payment and health care operations without the patient's
# authorization; config.ordinary.purposes lists the purposes allowed (TPO by
# default, plus the patient's own request, public health and coverage), and
# config.ordinary.without_purpose says whether a caller stating no purpose
# gets ordinary data at all. Marketing and research need an authorization
# (164.508(a)(3), 164.512(i)) and are not in the default list.
ordinary_allowed if {
	ordinary_purpose_allowed
	ordinary_consent_allowed
}

ordinary_purpose_allowed if {
	purpose_stated == false
	data.ds4p.config.ordinary.without_purpose == true
}

ordinary_purpose_allowed if purposes_within(data.ds4p.config.ordinary.purposes)

# The patient's general consents (opt-in / opt-out, see consent.rego) govern
# ordinary data too (config.ordinary.consent_model):
#   opt-out: disclosed unless such a consent denies it (45 CFR 164.522
#            restrictions agreed to, HIE opt-out);
#   opt-in:  disclosed only when such a consent permits it.
ordinary_consent_allowed if {
	data.ds4p.config.ordinary.consent_model == "opt-out"
	consent_denies == false
}

ordinary_consent_allowed if {
	data.ds4p.config.ordinary.consent_model == "opt-in"
	consent_permits
}
