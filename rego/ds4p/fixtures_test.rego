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

normal_n := "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N"

moderate_m := "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|M"

sickle := concat("|", [act, "SICKLE"])

mst := concat("|", [act, "MST"])

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

# as_patient(inp) is inp asked by the patient themselves: the token's
# fhirUser is the item's patient, so the proxy sets caller_is_patient.
as_patient(inp) := object.union(inp, {"caller": {"fhir_user": inp.patient}, "caller_is_patient": true})

rules_of(d) := {r.rule | some r in d.reasons}

# config is the policy data the unit tests decide under (data.ds4p.config,
# with state_law), a copy of the default policy's as it was when the tests
# were written. Every test sets it (with data.ds4p.config as config), so the
# tests check the policy's logic, not the policy data a deployment ships:
# an analyst who changes ds4p/config/*.json (a purpose list, the consent
# model, a state-law topic) does not break them. What the shipped data does
# is checked by the case matrix (cases/*.yaml). A test about one value sets
# that value itself: config_with({"/ordinary/without_purpose": false}).
config := {
	"known_purposes": [
		"TREAT",
		"ETREAT",
		"HPAYMT",
		"HOPERAT",
		"PUBHLTH",
		"HRESCH",
		"PATRQT",
		"COVERAGE",
		"HMARKT",
		"BTG",
	],
	"purpose_hierarchy": {
		"HOPERAT": [
			"CAREMGT",
			"DONAT",
			"FRAUD",
			"GOV",
			"HACCRED",
			"HCOMPL",
			"HDECD",
			"HDIRECT",
			"HDM",
			"HLEGAL",
			"HOUTCOMS",
			"HPRGRP",
			"HQUALIMP",
			"HSYSADMIN",
			"LABELING",
			"MEMADMIN",
			"METAMGT",
			"MILCDM",
			"PATADMIN",
			"PATSFTY",
			"PERFMSR",
			"RECORDMGT",
			"SYSDEV",
			"TRAIN",
		],
		"SYSDEV": [
			"HTEST",
		],
		"HPAYMT": [
			"CLMATTCH",
			"COVAUTH",
			"COVERAGE",
			"MILDCRG",
			"REMITADV",
		],
		"COVERAGE": [
			"ELIGDTRM",
			"ELIGVER",
			"ENROLLM",
		],
		"HRESCH": [
			"BIORCH",
			"CLINTRCH",
			"DSRCH",
			"POARCH",
			"TRANSRCH",
		],
		"CLINTRCH": [
			"CLINTRCHNPC",
			"CLINTRCHPC",
			"PRECLINTRCH",
		],
		"PATRQT": [
			"FAMRQT",
			"PWATRNY",
			"SUPNWK",
		],
		"PUBHLTH": [
			"DISASTER",
			"THREAT",
		],
		"TREAT": [
			"CAREMGT",
			"CLINTRL",
			"COC",
			"ETREAT",
			"POPHLTH",
		],
		"ETREAT": [
			"BTG",
			"ERTREAT",
		],
	},
	"ordinary": {
		"purposes": [
			"TREAT",
			"ETREAT",
			"HPAYMT",
			"HOPERAT",
			"PATRQT",
			"PUBHLTH",
			"COVERAGE",
		],
		"without_purpose": true,
		"consent_model": "opt-out",
	},
	"consents": {
		"general_policies": [
			"OPTIN",
			"OPTOUT",
		],
		"disclosure_actions": [
			"access",
			"disclose",
			"use",
		],
		"recipient_roles": [
			"IRCP",
			"PRCP",
			"REFB",
			"REFT",
			"TRC",
			"NOT",
		],
		"confidentiality_order": [
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|U",
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|L",
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|M",
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N",
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R",
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V",
		],
	},
	"designations": {},
	"part2": {
		"labels": [
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|42CFRPart2",
		],
		"sources": [
			"part2",
		],
		"obligations": [
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|42CFRPart2",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|NORDSCLCD",
		],
		"notices": [
			"42CFR2.32",
		],
	},
	"counseling_notes": {
		"labels": [
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|PSYTHPN",
		],
	},
	"patient_access": {
		"purposes": ["PATRQT"],
		"without_purpose": false,
	},
	"break_glass": {
		"purpose": "ETREAT",
		"allowed_purposes": [
			"ETREAT",
			"BTG",
		],
		"min_reason_chars": 4,
		"max_token_lifetime_seconds": 3600,
		"clock_skew_seconds": 60,
	},
	"notices": {
		"42CFR2.32": {
			"regulation": "42 CFR 2.32(a)(2)",
			"text": "42 CFR part 2 prohibits unauthorized use or disclosure of these records.",
		},
	},
	"state_law": {
		"jurisdiction": "ds4p conservative default: no single state; restricted outside treatment unless the patient consented",
		"labels": {
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD": "SUD",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|ETH": "SUD",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|ETHUD": "SUD",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|OPIOIDUD": "SUD",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|PSY": "MH",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|MH": "MH",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|BH": "MH",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV": "HIV",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|STD": "STD",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|SDV": "SDV",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|SEX": "SEX",
			"http://terminology.hl7.org/CodeSystem/v3-ActCode|GDIS": "GDIS",
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V": "VERY_RESTRICTED",
		},
		"other_sensitive": {
			"topic": "OTHER_SENSITIVE",
			"labels": [
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|MST",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|SICKLE",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|TBOO",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|ADOL",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|DEMO",
				"http://terminology.hl7.org/CodeSystem/v3-ObservationValue|SICKLE",
			],
		},
		"restricted_confidentiality": {
			"topic": "RESTRICTED",
			"labels": [
				"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R",
				"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V",
			],
		},
		"no_redisclosure": {
			"topic": "NO_REDISCLOSURE",
			"labels": [
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|NORDSCLCD",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|NORDSCLCDS",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|NODSCLCD",
				"http://terminology.hl7.org/CodeSystem/v3-ActCode|NODSCLCDS",
			],
		},
		"topics": {
			"SUD": {
				"title": "Substance use disorder information not shown to come from a Part 2 program",
				"law": "State SUD confidentiality laws; an SUD label without 42CFRPart2 may still be Part 2 data whose source was not established, so the default asks for consent for every purpose",
				"without_consent": [],
				"obligations": [],
			},
			"MH": {
				"title": "Mental and behavioral health",
				"law": "State mental health confidentiality laws: disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
			"HIV": {
				"title": "HIV/AIDS information",
				"law": "State HIV confidentiality laws: disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
			"STD": {
				"title": "Sexually transmitted disease information",
				"law": "State STD confidentiality laws: disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
			"SDV": {
				"title": "Sexual assault, abuse or domestic violence information",
				"law": "State domestic-violence confidentiality laws: disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
			"SEX": {
				"title": "Sexuality and reproductive health information",
				"law": "State reproductive health privacy laws and 45 CFR 164.502(a)(5)(iii): disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
			"GDIS": {
				"title": "Genetic disease information",
				"law": "State genetic privacy laws (and GINA for payers): disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
			"VERY_RESTRICTED": {
				"title": "Resources the source system marked very restricted (confidentiality V)",
				"law": "The source's own restriction: only with the patient's consent",
				"without_consent": [],
				"obligations": [],
			},
			"OTHER_SENSITIVE": {
				"title": "Other sensitive information",
				"law": "No topic of this table names it: disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
			"NO_REDISCLOSURE": {
				"title": "No redisclosure without consent (a refrain)",
				"law": "The sender's refrain: only with the patient's consent",
				"without_consent": [],
				"obligations": [],
			},
			"RESTRICTED": {
				"title": "Confidentiality R without a topic",
				"law": "The source's own restriction: disclosure for treatment, otherwise with consent",
				"without_consent": [
					"TREAT",
					"ETREAT",
				],
				"obligations": [],
			},
		},
	},
}

# config_with(changes) is config with each JSON pointer of changes set to its
# value (replaced, not merged).
config_with(changes) := json.patch(config, [{"op": "add", "path": path, "value": value} | some path, value in changes])
