package ds4p_test

import data.ds4p

# A consent that grants org-a treatment access except to PDFs (class
# urn:ietf:bcp:13|application/pdf): the item's content type is not among
# its facts, so the deny must apply (QA round 26, area A: it matched
# nothing and the PDF went out).
pdf_consent := consent("c-pdf", [
	root("deny"),
	{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": [cond({}), cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"]})]},
	{"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny", "conditions": [cond({}), cond({"actors": ["Organization/org-a"], "purposes": ["TREAT"]}), cond({"classes": ["application/pdf"]})]},
])

binary_req(consents) := object.union(req("Organization/org-a", ["TREAT"], [sud], consents), {"item": {"type": "Binary"}, "request": {"type": "Binary"}})

test_qa26a_mime_class_deny_withholds if {
	ds4p.decision.effect == "permit" with input as binary_req([tpo_consent])
		with data.ds4p.config as config
	d := ds4p.decision with input as binary_req([pdf_consent])
		with data.ds4p.config as config
	d.effect == "deny"
	some r in d.reasons
	r.consent == "c-pdf"
	r.provision == "provision.provision[0].provision[0]"
}

test_qa26a_mime_class_never_permits if {
	c := consent("c-pdf-only", [
		root("deny"),
		exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"], "classes": ["application/pdf"]}),
	])
	ds4p.decision.effect == "deny" with input as binary_req([c])
		with data.ds4p.config as config
}

# A deny naming the caller's NPI by the OID of its system withholds from a
# caller whose token names it by URL, and the other way round (QA round
# 26, area A: compared as written, it withheld nothing).
npi_deny(system) := consent("c-npi", [root("permit"), exception("provision.provision[0]", "deny", {"actors": [concat("|", [system, "1234567893"])]})])

npi_req(token_system, consents) := object.union(req("Organization/x", ["TREAT"], [sud], consents), {"caller": {"org_identifiers": [concat("|", [token_system, "1234567893"])]}})

test_qa26a_npi_either_name if {
	url := "http://hl7.org/fhir/sid/us-npi"
	oid := "urn:oid:2.16.840.1.113883.4.6"
	ds4p.decision.effect == "deny" with input as npi_req(url, [npi_deny(oid)])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as npi_req(oid, [npi_deny(url)])
		with data.ds4p.config as config
	ds4p.decision.effect == "deny" with input as npi_req(url, [npi_deny(url)])
		with data.ds4p.config as config

	# another NPI is not the caller's
	ds4p.decision.effect == "permit" with input as npi_req(url, [npi_deny("urn:oid:2.16.840.1.113883.4.7")])
		with data.ds4p.config as config
}
