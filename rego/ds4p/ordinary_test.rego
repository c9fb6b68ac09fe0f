package ds4p_test

import data.ds4p

opt_out := object.union(consent("c-out", [root("deny")]), {"policies": ["OPTOUT"]})

opt_in := object.union(consent("c-in", [root("permit")]), {"policies": ["OPTIN"]})

test_ordinary_for_tpo if {
	every p in ["TREAT", "HPAYMT", "HOPERAT"] {
		ds4p.decision.effect == "permit" with input as req("Organization/org-b", [p], [], [])
			with data.ds4p.config as config
	}
}

test_ordinary_not_for_marketing_or_research if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["HMARKT"], [], [])
		with data.ds4p.config as config
	d := ds4p.decision with input as req("Organization/org-b", ["HRESCH"], [], [])
		with data.ds4p.config as config
	d.effect == "deny"
	"ordinary-purpose" in rules_of(d)
}

test_ordinary_unknown_purpose_denied if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["MADEUP"], [], [])
		with data.ds4p.config as config
}

test_ordinary_without_purpose_follows_policy_data if {
	d := ds4p.decision with input as req("Organization/org-b", [], [], [])
		with data.ds4p.config as config_with({"/ordinary/without_purpose": true})
	d.effect == "permit"
	"ordinary-no-purpose" in rules_of(d)
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", [], [], [])
		with data.ds4p.config as config_with({"/ordinary/without_purpose": false})
}

test_ordinary_other_purposes_from_policy_data if {
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["HRESCH"], [], [])
		with data.ds4p.config as config_with({"/ordinary/purposes": ["HRESCH"]})
}

test_opt_out_consent_withholds_ordinary_data if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [], [opt_out])
		with data.ds4p.config as config
	d.effect == "deny"
	"consent-deny" in rules_of(d)
}

test_restricted_scope_consent_leaves_ordinary_data if {
	# tpo_consent (no OPTIN/OPTOUT policy) denies org-b; ordinary data still flows.
	ds4p.decision.effect == "permit" with input as req("Organization/org-b", ["TREAT"], [], [tpo_consent])
		with data.ds4p.config as config
}

test_opt_in_model_needs_consent if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [], [])
		with data.ds4p.config as config_with({"/ordinary/consent_model": "opt-in"})
	d.effect == "deny"
	"no-opt-in" in rules_of(d)
	e := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [], [opt_in])
		with data.ds4p.config as config_with({"/ordinary/consent_model": "opt-in"})
	e.effect == "permit"
	"opt-in-consent" in rules_of(e)
}

test_unknown_consent_model_denies if {
	ds4p.decision.effect == "deny" with input as req("Organization/org-b", ["TREAT"], [], [])
		with data.ds4p.config as config_with({"/ordinary/consent_model": "opt-sideways"})
}
