package ds4p

# Purposes of use travel in the caller's token, normalised to v3-ActReason
# codes. A token without a purpose states none: it is never read as TREAT
# (HIPAA 45 CFR 164.506 allows disclosures without authorization only for the
# treatment, payment and operations purposes a recipient actually states).

# purposes is the set of purposes of use the caller states.
purposes contains p if some p in input.caller.purposes

# purpose_stated is true when the caller states at least one purpose.
default purpose_stated := false

purpose_stated if count(purposes) > 0

# purpose_known is true when the caller states purposes and every one of them
# is a code the policy knows (config.known_purposes). Restricted data needs a
# known purpose: an unknown code could mean anything.
purpose_known if {
	purpose_stated
	every p in purposes {
		p in data.ds4p.config.known_purposes
	}
}

# purposes_within(allowed) is true when the caller states purposes and every
# one of them is in allowed. A caller stating several purposes gets only what
# each of them allows.
purposes_within(allowed) if {
	purpose_stated
	every p in input.caller.purposes {
		p in allowed
	}
}
