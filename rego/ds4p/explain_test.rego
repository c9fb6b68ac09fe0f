package ds4p_test

import data.ds4p

test_consent_reason_names_consent_version_provision_labels if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, restricted_r], [tpo_consent])
		with data.ds4p.config as config
	some r in d.reasons
	r.rule == "part2-consent"
	r.consent == "c1"
	r.version == "1"
	r.provision == "provision.provision[0]"
	r.labels == [part2_label, sud]
}

test_state_law_reason_names_topic if {
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [hiv], [])
		with data.ds4p.config as config
	some r in d.reasons
	r.rule == "state-law"
	startswith(r.message, "HIV: ")
}

test_deny_lists_every_unsatisfied_restriction if {
	d := ds4p.decision with input as req("Organization/org-b", ["HPAYMT"], [part2_label, hiv, psythpn], [])
		with data.ds4p.config as config
	rules_of(d) == {"part2-no-consent", "counseling-notes-no-consent", "state-law-consent-required"}
}

test_notice_text_from_policy_data if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [part2_label], [tpo_consent])
		with data.ds4p.config as config
	d.notices == [{
		"id": "42CFR2.32",
		"regulation": "42 CFR 2.32(a)(2)",
		"text": "42 CFR part 2 prohibits unauthorized use or disclosure of these records.",
	}]
}

test_no_obligations_for_ordinary_or_topics if {
	ds4p.decision.obligations == [] with input as req("Organization/org-b", ["TREAT"], [], [])
		with data.ds4p.config as config
	ds4p.decision.notices == [] with input as req("Organization/org-b", ["TREAT"], [hiv], [])
		with data.ds4p.config as config
}

test_opt_out_deny_reason_names_consent if {
	c := object.union(consent("c-out", [root("deny")]), {"policies": ["OPTOUT"]})
	d := ds4p.decision with input as req("Organization/org-b", ["TREAT"], [], [c])
		with data.ds4p.config as config
	some r in d.reasons
	r.rule == "consent-deny"
	r.consent == "c-out"
}

test_brief_deny_summarises_its_reasons if {
	inp := object.union(req("Organization/org-b", ["HPAYMT"], [part2_label, hiv, psythpn], []), {"brief": true})
	d := ds4p.decision with input as inp
		with data.ds4p.config as config
	d.effect == "deny"
	rules_of(d) == {"withheld.part2"}
}

test_brief_deny_names_the_kind_of_data if {
	brief(req("Organization/org-b", [], [part2_label], [])) == {"withheld.no-purpose"}
	brief(req("Organization/org-b", ["HPAYMT"], [hiv, psythpn], [])) == {"withheld.counseling-notes"}
	brief(req("Organization/org-b", ["HPAYMT"], [hiv], [])) == {"withheld.state-law"}
	brief(req("Organization/org-b", ["XYZ"], [], [])) == {"withheld.ordinary"}
}

brief(inp) := rules_of(d) if {
	d := ds4p.decision with input as object.union(inp, {"brief": true})
		with data.ds4p.config as config
	d.effect == "deny"
}

test_brief_permit_keeps_effect_obligations_and_consents if {
	inp := req("Organization/org-a", ["TREAT"], [sud, part2_label, restricted_r], [tpo_consent])
	full := ds4p.decision with input as inp
		with data.ds4p.config as config
	brief := ds4p.decision with input as object.union(inp, {"brief": true})
		with data.ds4p.config as config
	full.effect == "permit"
	object.remove(brief, ["reasons"]) == object.remove(full, ["reasons"])
	brief.reasons == [{"rule": r.rule, "consent": r.consent, "version": r.version} | some r in full.reasons]
	brief.reasons[0].consent == "c1"
}

test_fixed_verdicts_give_the_same_decision if {
	inp := req("Organization/org-a", ["TREAT"], [sud, part2_label, restricted_r], [tpo_consent])
	fixed := ds4p.fixed_verdicts with input as object.remove(inp, ["item"])
		with data.ds4p.config as config
	fixed.c1.type == "permit"
	plain := ds4p.decision with input as inp
		with data.ds4p.config as config
	shared := ds4p.decision with input as object.union(inp, {"fixed_verdicts": fixed})
		with data.ds4p.config as config
	shared == plain
}

test_fixed_verdicts_leave_out_consents_naming_the_item if {
	c := consent("c-lab", [root("deny"), exception("provision.provision[0]", "permit", {"labels": [sud]})])
	fixed := ds4p.fixed_verdicts with input as object.remove(req("Organization/org-a", ["TREAT"], [sud], [c]), ["item"])
		with data.ds4p.config as config
	not fixed["c-lab"]
}

# A disclosure cites only the consents that satisfy the rule that permitted
# it: a blanket opt-in beside a Part 2 consent is not a Part 2 consent, and a
# TPO consent beside a counseling-notes consent is not a notes consent.
cited(d) := {[r.rule, r.consent] | some r in d.reasons; r.consent}

test_part2_disclosure_cites_only_part2_consents if {
	optin := object.union(consent("c-optin", []), {"policies": ["OPTIN"], "rules": [{"path": "policyRule", "depth": 0, "type": "permit", "conditions": [cond({})]}]})
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label], [optin, tpo_consent])
		with data.ds4p.config as config
	d.effect == "permit"
	cited(d) == {["part2-consent", "c1"]}
}

test_counseling_notes_disclosure_cites_only_notes_consents if {
	d := ds4p.decision with input as req("Organization/org-a", ["TREAT"], [sud, part2_label, psythpn], [all_tpo_consent, counseling_consent])
		with data.ds4p.config as config_with({"/counseling_notes/labels": [psythpn]})
	d.effect == "permit"
	cited(d) == {["counseling-notes-consent", "c-notes"]}
}

test_topic_disclosure_cites_every_permitting_consent if {
	e := ds4p.decision with input as req("Organization/org-a", ["HPAYMT"], [hiv], [blanket_consent, all_tpo_consent])
		with data.ds4p.config as config
	e.effect == "permit"
	cited(e) == {["consent-permit", "c-blanket"], ["consent-permit", "c-tpo"]}
}
