package ds4p

# Medical emergency, break-the-glass (42 CFR 2.51; HIPAA 45 CFR
# 164.510(b)(3)): data may be disclosed without consent to medical personnel
# to the extent necessary to meet a bona fide medical emergency. The caller
# must state emergency treatment as its purpose (config.break_glass.purpose,
# ETREAT) and nothing beyond the emergency purposes, and its token must carry
# a break-the-glass claim with a stated reason (the nature of the emergency).
# The disclosure is flagged (break_glass: true) so that the proxy records the
# 2.51(c) details in the ledger for review. Counseling notes are never
# disclosed this way: they need a consent that names them.
emergency_allowed if {
	counseling_notes == false
	data.ds4p.config.break_glass.purpose in purposes
	every p in purposes {
		p in data.ds4p.config.break_glass.allowed_purposes
	}
	reason := trim_space(input.caller.break_glass.reason)
	count(reason) >= data.ds4p.config.break_glass.min_reason_chars
}
