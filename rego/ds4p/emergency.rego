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
	break_glass_time_boxed
}

# break_glass_time_boxed: emergency access is time-boxed. The claim comes in
# a short-lived token: it states when it was issued and when it expires
# (issued_at, expires_at: unix seconds, from the token's iat and exp), it
# lives no longer than config.break_glass.max_token_lifetime_seconds, and the
# request falls inside it (iat may lie up to
# config.break_glass.clock_skew_seconds in the future). A claim without
# these times, or a long-lived token, is no emergency claim.
default break_glass_time_boxed := false

break_glass_time_boxed if {
	bg := input.caller.break_glass
	bg.issued_at > 0
	bg.expires_at > bg.issued_at
	bg.expires_at - bg.issued_at <= data.ds4p.config.break_glass.max_token_lifetime_seconds
	(bg.issued_at - data.ds4p.config.break_glass.clock_skew_seconds) * 1000000000 <= input.request.time_ns
	input.request.time_ns < bg.expires_at * 1000000000
}
