package proxy

import "testing"

func qa33cDispense(id, system, code string) string {
	return `{"resourceType":"MedicationDispense","id":"` + id + `","status":"completed","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
}

// QA round 33, area C: NDC codes were compared as written, so a dispense of
// Triumeq PD by its 11-digit NDC (the rules list 49702-258-37), of Odefsey
// under the NDC OID, of Suboxone under https with a trailing slash and of
// Mylan's emtricitabine / rilpivirine / tenofovir DF by ten digits without
// hyphens (4-4-2) went to a payer and to org-b as ordinary. Now each gets
// 404; org-a, whom the consent permits, reads them; fenofibrate's
// dispense is served.
func TestNDCSpellingsWithheldQA33C(t *testing.T) {
	t.Parallel()
	const ndc = "http://hl7.org/fhir/sid/ndc"
	qa32bWithheld(t, map[string]string{
		"MedicationDispense/md1": qa33cDispense("md1", ndc, "49702025837"),
		"MedicationDispense/md2": qa33cDispense("md2", "urn:oid:2.16.840.1.113883.6.69", "61958-2101-01"),
		"MedicationDispense/md3": qa33cDispense("md3", "https://hl7.org/fhir/sid/ndc/", "12496-1202-03"),
		"MedicationDispense/md4": qa33cDispense("md4", ndc, "0378544093"),
	}, "MedicationDispense/md9|"+qa33cDispense("md9", ndc, "82619010101"))
}

// QA round 33, area C: ATC rules matched only http://www.whocc.no/atc in
// upper case, so a statement of Biktarvy under HL7 Germany's ATC URL in
// lower case, and a dispense of Suboxone's ATC code under the ATC OID or
// a trailing slash, went to a payer and to org-b as ordinary. Now each
// gets 404; org-a reads them; buprenorphine for pain (N02AE01) is served.
func TestATCSpellingsWithheldQA33C(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"MedicationStatement/ms1": `{"resourceType":"MedicationStatement","id":"ms1","status":"active","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"j05ar20"}]}}`,
		"MedicationDispense/md1":  qa33cDispense("md1", "urn:oid:2.16.840.1.113883.6.73", "N07BC51"),
		"MedicationDispense/md2":  qa33cDispense("md2", "http://www.whocc.no/atc/", "n07bc51"),
	}, "MedicationDispense/md9|"+qa33cDispense("md9", "http://fhir.de/CodeSystem/bfarm/atc", "n02ae01"))
}
