# Fixtures shared by the Rego unit tests of package ds4p (opa test
# compatible: `opa test rego/`).
package ds4p_test

act := "http://terminology.hl7.org/CodeSystem/v3-ActCode"

sud := concat("|", [act, "SUD"])

part2_label := concat("|", [act, "42CFRPart2"])

nordsclcd := concat("|", [act, "NORDSCLCD"])

psythpn := concat("|", [act, "PSYTHPN"])

psy := concat("|", [act, "PSY"])

hiv := concat("|", [act, "HIV"])

restricted_r := "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"

very_restricted := "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V"

now := 1767225600000000000 # 2026-01-01T00:00:00Z

# cond is one provision level; x overrides the empty criteria.
cond(x) := object.union(
	{
		"actors": [], "roles": [], "purposes": [], "labels": [], "classes": [], "codes": [],
		"actions": [], "start_ns": 0, "end_ns": 0, "data_start_ns": 0, "data_end_ns": 0, "data": [],
	},
	x,
)

# consent builds an active consent of Patient/p1 from its rules.
consent(id, rules) := {
	"id": id, "version": "1", "status": "active", "patient": "Patient/p1",
	"policies": [], "start_ns": 0, "end_ns": 0, "rules": rules,
}

root(type) := {"path": "provision", "depth": 0, "type": type, "conditions": [cond({})]}

# exception(path, type, x) is a depth-1 provision under an empty root.
exception(path, type, x) := {"path": path, "depth": 1, "type": type, "conditions": [cond({}), cond(x)]}

# The typical Part 2 consent: deny all, except Organization/org-a for TREAT.
tpo_consent := consent("c1", [
	root("deny"),
	exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT"]}),
])

# A single consent for all future TPO uses by org-a (2024 Part 2 rule).
all_tpo_consent := consent("c-tpo", [
	root("deny"),
	exception("provision.provision[0]", "permit", {"actors": ["Organization/org-a"], "purposes": ["TREAT", "HPAYMT", "HOPERAT"]}),
])

# A blanket permit: names no recipient and no purpose.
blanket_consent := consent("c-blanket", [root("permit")])

deny_all := object.union(consent("c2", [root("deny")]), {"version": "3"})

req(org, purposes, labels, consents) := {
	"version": "1",
	"caller": {"subject": "u1", "org": org, "org_identifiers": [], "client": "", "scopes": [], "purposes": purposes, "break_glass": null},
	"request": {"interaction": "read", "type": "Condition", "time_ns": now},
	"patient": "Patient/p1",
	"consents": consents,
	"item": {"type": "Condition", "labels": labels, "source": ""},
}

now_s := 1767225600

# with_break_glass adds an emergency claim to an input, carried by a token
# issued a minute ago that lives 15 minutes.
with_break_glass(inp, reason) := with_token(inp, reason, now_s - 60, now_s + 840)

# with_token adds an emergency claim carried by a token with this iat and exp.
with_token(inp, reason, iat, exp) := object.union(inp, {"caller": {"break_glass": {"reason": reason, "issued_at": iat, "expires_at": exp}}})

rules_of(d) := {r.rule | some r in d.reasons}
