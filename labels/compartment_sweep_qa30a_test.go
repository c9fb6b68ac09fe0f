package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// sweepCase is one resource type of the FHIR R4 Patient compartment
// (CompartmentDefinition/patient): how it names its patient, a coded
// element that may carry a sensitive code, the members that name who or
// where recorded it (a Part 2 program there makes it a Part 2 record), and
// the members that make it about another resource (a sensitive target
// passes its labels on).
type sweepCase struct {
	typ string
	// patient names Patient/p1 ($P).
	patient string
	// code holds $C, a CodeableConcept with an SUD code.
	code []string
	// source members each name the program ($O Organization, $D
	// Practitioner, $L Location, $H HealthcareService, $R
	// PractitionerRole). One starting with "!" replaces patient (the
	// patient and the program share a member).
	source []string
	// content members each name a sensitive target of the same patient,
	// "$S(Type)", or $S for a Condition.
	content []string
}

var sweepCases = []sweepCase{
	{typ: "Account", patient: `"subject":[$P]`, code: []string{`"type":$C`}, source: []string{`"owner":$O`}},
	{typ: "AdverseEvent", patient: `"subject":$P`, code: []string{`"event":$C`},
		source:  []string{`"recorder":$D`, `"location":$L`, `"contributor":[$D]`},
		content: []string{`"resultingCondition":[$S]`, `"subjectMedicalHistory":[$S]`, `"suspectEntity":[{"instance":$S(MedicationStatement)}]`}},
	{typ: "AllergyIntolerance", patient: `"patient":$P`, code: []string{`"code":$C`},
		source: []string{`"recorder":$D`, `"asserter":$R`}},
	{typ: "Appointment", patient: `"participant":[{"actor":$P,"status":"accepted"}]`, code: []string{`"reasonCode":[$C]`, `"serviceType":[$C]`},
		source:  []string{`!"participant":[{"actor":$P,"status":"accepted"},{"actor":$H,"status":"accepted"}]`, `!"participant":[{"actor":$P,"status":"accepted"},{"actor":$L,"status":"accepted"}]`},
		content: []string{`"reasonReference":[$S]`, `"supportingInformation":[$S]`, `"basedOn":[$S(ServiceRequest)]`}},
	{typ: "AppointmentResponse", patient: `"actor":$P`, code: []string{`"participantType":[$C]`},
		content: []string{`"appointment":$S(Appointment)`}},
	{typ: "AuditEvent", patient: `"agent":[{"who":$P,"requestor":true}]`,
		source:  []string{`!"agent":[{"who":$P,"requestor":true},{"who":$O,"requestor":false}]`},
		content: []string{`"entity":[{"what":$S}]`}},
	{typ: "Basic", patient: `"subject":$P`, code: []string{`"code":$C`}, source: []string{`"author":$D`}},
	{typ: "BodyStructure", patient: `"patient":$P`, code: []string{`"morphology":$C`}},
	{typ: "CarePlan", patient: `"subject":$P`, code: []string{`"category":[$C]`},
		source:  []string{`"author":$D`, `"contributor":[$O]`, `"activity":[{"detail":{"status":"scheduled","performer":[$O]}}]`},
		content: []string{`"addresses":[$S]`, `"goal":[$S(Goal)]`, `"supportingInfo":[$S]`, `"basedOn":[$S(CarePlan)]`}},
	{typ: "CareTeam", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"managingOrganization":[$O]`, `"participant":[{"member":$D}]`, `"participant":[{"onBehalfOf":$O}]`},
		content: []string{`"reasonReference":[$S]`}},
	{typ: "ChargeItem", patient: `"subject":$P`, code: []string{`"code":$C`, `"reason":[$C]`},
		source:  []string{`"performingOrganization":$O`, `"requestingOrganization":$O`, `"costCenter":$O`, `"performer":[{"actor":$D}]`, `"enterer":$D`},
		content: []string{`"service":[$S(Procedure)]`, `"supportingInformation":[$S]`, `"productReference":$S(Medication)`}},
	{typ: "Claim", patient: `"patient":$P`, code: []string{`"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":$C}]`},
		source:  []string{`"provider":$O`, `"facility":$L`, `"careTeam":[{"sequence":1,"provider":$D}]`},
		content: []string{`"diagnosis":[{"sequence":1,"diagnosisReference":$S}]`, `"referral":$S(ServiceRequest)`, `"prescription":$S(MedicationRequest)`}},
	{typ: "ClaimResponse", patient: `"patient":$P`,
		source:  []string{`"requestor":$O`},
		content: []string{`"request":$S(Claim)`}},
	{typ: "ClinicalImpression", patient: `"subject":$P`, code: []string{`"code":$C`},
		source:  []string{`"assessor":$D`},
		content: []string{`"problem":[$S]`, `"previous":$S(ClinicalImpression)`, `"finding":[{"itemReference":$S}]`}},
	{typ: "Communication", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"sender":$O`, `"recipient":[$O]`},
		content: []string{`"about":[$S]`, `"reasonReference":[$S]`, `"payload":[{"contentReference":$S}]`}},
	{typ: "CommunicationRequest", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"requester":$D`, `"sender":$O`, `"recipient":[$O]`},
		content: []string{`"about":[$S]`, `"reasonReference":[$S]`}},
	{typ: "Composition", patient: `"subject":$P`, code: []string{`"type":$C`},
		source:  []string{`"author":[$D]`, `"custodian":$O`, `"attester":[{"mode":"legal","party":$D}]`},
		content: []string{`"event":[{"detail":[$S]}]`, `"section":[{"entry":[$S]}]`}},
	{typ: "Condition", patient: `"subject":$P`, code: []string{`"code":$C`},
		source:  []string{`"recorder":$D`, `"asserter":$D`},
		content: []string{`"evidence":[{"detail":[$S]}]`, `"stage":[{"assessment":[$S(ClinicalImpression)]}]`}},
	{typ: "Consent", patient: `"patient":$P`,
		source: []string{`"organization":[$O]`, `"performer":[$O]`, `"provision":{"type":"permit","actor":[{"role":{"text":"x"},"reference":$O}]}`}},
	{typ: "Coverage", patient: `"beneficiary":$P`, source: []string{`"payor":[$O]`, `"policyHolder":$O`}},
	{typ: "CoverageEligibilityRequest", patient: `"patient":$P`,
		source:  []string{`"provider":$O`, `"facility":$L`, `"enterer":$D`},
		content: []string{`"item":[{"diagnosis":[{"diagnosisReference":$S}]}]`, `"supportingInfo":[{"sequence":1,"information":$S}]`}},
	{typ: "CoverageEligibilityResponse", patient: `"patient":$P`,
		source:  []string{`"requestor":$O`},
		content: []string{`"request":$S(CoverageEligibilityRequest)`}},
	{typ: "DetectedIssue", patient: `"patient":$P`, code: []string{`"code":$C`},
		source:  []string{`"author":$D`},
		content: []string{`"implicated":[$S]`, `"evidence":[{"detail":[$S]}]`}},
	{typ: "DeviceRequest", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"performer":$O`, `"requester":$D`},
		content: []string{`"reasonReference":[$S]`, `"priorRequest":[$S(DeviceRequest)]`, `"supportingInfo":[$S]`}},
	{typ: "DeviceUseStatement", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"source":$D`},
		content: []string{`"reasonReference":[$S]`, `"derivedFrom":[$S]`}},
	{typ: "DiagnosticReport", patient: `"subject":$P`, code: []string{`"code":$C`, `"conclusionCode":[$C]`},
		source:  []string{`"performer":[$O]`, `"resultsInterpreter":[$D]`},
		content: []string{`"result":[$S(Observation)]`, `"specimen":[$S(Specimen)]`, `"imagingStudy":[$S(ImagingStudy)]`, `"media":[{"link":$S(Media)}]`}},
	{typ: "DocumentManifest", patient: `"subject":$P`, code: []string{`"type":$C`},
		source:  []string{`"author":[$O]`, `"recipient":[$O]`},
		content: []string{`"content":[$S]`, `"related":[{"ref":$S}]`}},
	{typ: "DocumentReference", patient: `"subject":$P`, code: []string{`"type":$C`},
		source:  []string{`"author":[$D]`, `"authenticator":$D`, `"custodian":$O`},
		content: []string{`"relatesTo":[{"code":"appends","target":$S(DocumentReference)}]`, `"context":{"related":[$S]}`}},
	{typ: "Encounter", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`, `"type":[$C]`},
		source: []string{`"serviceProvider":$O`, `"location":[{"location":$L}]`, `"participant":[{"individual":$D}]`,
			`"hospitalization":{"origin":$L}`, `"hospitalization":{"destination":$O}`},
		content: []string{`"reasonReference":[$S]`, `"diagnosis":[{"condition":$S}]`, `"appointment":[$S(Appointment)]`, `"basedOn":[$S(ServiceRequest)]`}},
	{typ: "EnrollmentRequest", patient: `"candidate":$P`, source: []string{`"provider":$O`}},
	{typ: "EpisodeOfCare", patient: `"patient":$P`, code: []string{`"type":[$C]`},
		source:  []string{`"managingOrganization":$O`, `"careManager":$D`},
		content: []string{`"diagnosis":[{"condition":$S}]`, `"referralRequest":[$S(ServiceRequest)]`}},
	{typ: "ExplanationOfBenefit", patient: `"patient":$P`,
		source:  []string{`"provider":$O`, `"facility":$L`},
		content: []string{`"claim":$S(Claim)`}},
	{typ: "FamilyMemberHistory", patient: `"patient":$P`, code: []string{`"condition":[{"code":$C}]`, `"reasonCode":[$C]`},
		content: []string{`"reasonReference":[$S]`}},
	{typ: "Flag", patient: `"subject":$P`, code: []string{`"code":$C`}, source: []string{`"author":$O`}},
	{typ: "Goal", patient: `"subject":$P`, code: []string{`"description":$C`},
		source:  []string{`"expressedBy":$D`},
		content: []string{`"addresses":[$S]`, `"outcomeReference":[$S(Observation)]`}},
	{typ: "Group", patient: `"member":[{"entity":$P}]`, code: []string{`"code":$C`}, source: []string{`"managingEntity":$O`}},
	{typ: "ImagingStudy", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source: []string{`"referrer":$D`, `"interpreter":[$D]`, `"location":$L`,
			`"series":[{"uid":"1.2","modality":{"code":"CT"},"performer":[{"actor":$D}]}]`},
		content: []string{`"reasonReference":[$S]`, `"basedOn":[$S(ServiceRequest)]`, `"procedureReference":$S(Procedure)`}},
	{typ: "Immunization", patient: `"patient":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"performer":[{"actor":$O}]`, `"location":$L`},
		content: []string{`"reasonReference":[$S]`, `"reaction":[{"detail":$S(Observation)}]`}},
	{typ: "ImmunizationEvaluation", patient: `"patient":$P`,
		content: []string{`"immunizationEvent":$S(Immunization)`}},
	{typ: "ImmunizationRecommendation", patient: `"patient":$P`,
		content: []string{`"recommendation":[{"supportingImmunization":[$S(Immunization)]}]`, `"recommendation":[{"supportingPatientInformation":[$S]}]`}},
	{typ: "Invoice", patient: `"subject":$P`, code: []string{`"type":$C`},
		source:  []string{`"issuer":$O`, `"participant":[{"actor":$D}]`},
		content: []string{`"lineItem":[{"chargeItemReference":$S(ChargeItem)}]`}},
	{typ: "List", patient: `"subject":$P`, code: []string{`"code":$C`},
		source:  []string{`"source":$D`},
		content: []string{`"entry":[{"item":$S}]`}},
	{typ: "MeasureReport", patient: `"subject":$P`,
		source:  []string{`"reporter":$O`},
		content: []string{`"evaluatedResource":[$S]`}},
	{typ: "Media", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"operator":$D`},
		content: []string{`"basedOn":[$S(ServiceRequest)]`, `"partOf":[$S(Procedure)]`}},
	{typ: "MedicationAdministration", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`, `"medicationCodeableConcept":$C`},
		source:  []string{`"performer":[{"actor":$D}]`},
		content: []string{`"request":$S(MedicationRequest)`, `"reasonReference":[$S]`, `"medicationReference":$S(Medication)`}},
	{typ: "MedicationDispense", patient: `"subject":$P`, code: []string{`"medicationCodeableConcept":$C`},
		source: []string{`"performer":[{"actor":$O}]`, `"location":$L`,
			`"substitution":{"wasSubstituted":true,"responsibleParty":[$O]}`},
		content: []string{`"authorizingPrescription":[$S(MedicationRequest)]`, `"detectedIssue":[$S(DetectedIssue)]`}},
	{typ: "MedicationRequest", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"requester":$D`, `"performer":$O`, `"recorder":$D`, `"dispenseRequest":{"performer":$O}`},
		content: []string{`"reasonReference":[$S]`, `"detectedIssue":[$S(DetectedIssue)]`, `"priorPrescription":$S(MedicationRequest)`}},
	{typ: "MedicationStatement", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"informationSource":$D`},
		content: []string{`"reasonReference":[$S]`, `"derivedFrom":[$S]`}},
	{typ: "MolecularSequence", patient: `"patient":$P`,
		source:  []string{`"performer":$O`},
		content: []string{`"specimen":$S(Specimen)`}},
	{typ: "NutritionOrder", patient: `"patient":$P`, code: []string{`"oralDiet":{"type":[$C]}`},
		source:  []string{`"orderer":$D`},
		content: []string{`"allergyIntolerance":[$S(AllergyIntolerance)]`}},
	{typ: "Observation", patient: `"subject":$P`, code: []string{`"code":$C`, `"valueCodeableConcept":$C`},
		source:  []string{`"performer":[$D]`},
		content: []string{`"derivedFrom":[$S]`, `"hasMember":[$S(Observation)]`, `"focus":[$S]`, `"specimen":$S(Specimen)`}},
	{typ: "Person", patient: `"link":[{"target":$P}]`, source: []string{`"managingOrganization":$O`}},
	{typ: "Procedure", patient: `"subject":$P`, code: []string{`"code":$C`},
		source:  []string{`"performer":[{"actor":$D}]`, `"location":$L`, `"recorder":$D`},
		content: []string{`"reasonReference":[$S]`, `"report":[$S(DiagnosticReport)]`}},
	{typ: "Provenance", patient: `"target":[$P]`,
		source:  []string{`"agent":[{"who":$O}]`, `"location":$L`},
		content: []string{`"entity":[{"role":"source","what":$S}]`}},
	{typ: "QuestionnaireResponse", patient: `"subject":$P`, code: []string{`"item":[{"linkId":"1","answer":[{"valueCoding":{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}}]}]`},
		source:  []string{`"author":$D`},
		content: []string{`"basedOn":[$S(ServiceRequest)]`, `"item":[{"linkId":"1","answer":[{"valueReference":$S}]}]`}},
	{typ: "RelatedPerson", patient: `"patient":$P`},
	{typ: "RequestGroup", patient: `"subject":$P`, code: []string{`"reasonCode":[$C]`},
		source:  []string{`"author":$D`, `"action":[{"participant":[$O]}]`},
		content: []string{`"reasonReference":[$S]`}},
	{typ: "ResearchSubject", patient: `"individual":$P`, content: []string{`"study":$S(ResearchStudy)`}},
	{typ: "RiskAssessment", patient: `"subject":$P`, code: []string{`"prediction":[{"outcome":$C}]`},
		source:  []string{`"performer":$D`},
		content: []string{`"condition":$S`, `"basis":[$S]`, `"reasonReference":[$S]`, `"parent":$S`}},
	{typ: "Schedule", patient: `"actor":[$P]`, code: []string{`"serviceType":[$C]`},
		source: []string{`!"actor":[$P,$H]`, `!"actor":[$P,$D]`}},
	{typ: "ServiceRequest", patient: `"subject":$P`, code: []string{`"code":$C`, `"reasonCode":[$C]`},
		source:  []string{`"requester":$D`, `"performer":[$O]`, `"locationReference":[$L]`},
		content: []string{`"reasonReference":[$S]`, `"supportingInfo":[$S]`, `"specimen":[$S(Specimen)]`, `"basedOn":[$S(ServiceRequest)]`}},
	{typ: "Specimen", patient: `"subject":$P`, code: []string{`"type":$C`},
		source:  []string{`"collection":{"collector":$D}`},
		content: []string{`"request":[$S(ServiceRequest)]`, `"parent":[$S(Specimen)]`}},
	{typ: "SupplyDelivery", patient: `"patient":$P`,
		source:  []string{`"supplier":$O`, `"destination":$L`},
		content: []string{`"basedOn":[$S(SupplyRequest)]`, `"suppliedItem":{"itemReference":$S(Medication)}`}},
	{typ: "SupplyRequest", patient: `"deliverTo":$P`,
		source:  []string{`"requester":$D`, `"supplier":[$O]`, `"deliverFrom":$L`},
		content: []string{`"reasonReference":[$S]`, `"itemReference":$S(Medication)`}},
	{typ: "Task", patient: `"for":$P`, code: []string{`"code":$C`},
		source:  []string{`"requester":$D`, `"owner":$O`, `"location":$L`},
		content: []string{`"focus":$S`, `"reasonReference":$S`}},
	{typ: "VisionPrescription", patient: `"patient":$P`, source: []string{`"prescriber":$D`}},
}

const sweepSUD = `{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}`

// sweepExpand replaces the placeholders of a sweepCase member.
func sweepExpand(s string) string {
	for {
		i := strings.Index(s, "$S(")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], ')')
		s = s[:i] + `{"reference":"` + s[i+3:i+j] + `/s"}` + s[i+j+1:]
	}
	return strings.NewReplacer(
		"$P", `{"reference":"Patient/p1"}`,
		"$C", sweepSUD,
		"$S", `{"reference":"Condition/s"}`,
		"$O", `{"reference":"Organization/p2"}`,
		"$D", `{"reference":"Practitioner/doc"}`,
		"$L", `{"reference":"Location/loc2"}`,
		"$H", `{"reference":"HealthcareService/hs2"}`,
		"$R", `{"reference":"PractitionerRole/pr2"}`,
	).Replace(s)
}

func sweepResource(typ string, members ...string) string {
	return `{"resourceType":"` + typ + `","id":"x","status":"active",` + strings.Join(members, ",") + `}`
}

// sweepTargets returns the sensitive target of each $S(Type) in s: a
// Type/s of the same patient with an SUD code (a Medication has no
// patient, nor has a ResearchStudy).
func sweepTargets(s string) []string {
	var out []string
	for _, f := range strings.Split(s, "$S")[1:] {
		typ := "Condition"
		if strings.HasPrefix(f, "(") {
			typ = f[1:strings.IndexByte(f, ')')]
		}
		switch typ {
		case "Medication":
			out = append(out, `{"resourceType":"Medication","id":"s","code":`+sweepSUD+`}`)
			continue
		case "ResearchStudy": // a study of opioid use disorder
			out = append(out, `{"resourceType":"ResearchStudy","id":"s","status":"active","condition":[`+sweepSUD+`]}`)
			continue
		}
		out = append(out, `{"resourceType":"`+typ+`","id":"s","subject":{"reference":"Patient/p1"},"code":`+sweepSUD+`}`)
	}
	return out
}

// TestPatientCompartmentSweepQA30A goes through the resource types of the
// FHIR R4 Patient compartment and checks, for each, that ds4p finds its
// patient, labels a sensitive code in its coded elements, makes it a Part
// 2 record when a member naming who or where recorded it names a Part 2
// program, and passes on the labels of a sensitive resource it is about.
func TestPatientCompartmentSweepQA30A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{
		Rules: labels.DefaultRules(),
		Programs: []labels.Program{{
			Name: "clinic",
			References: []string{"Organization/p2", "Practitioner/doc", "Location/loc2",
				"HealthcareService/hs2", "PractitionerRole/pr2"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sweepCases {
		patient := sweepExpand(c.patient)
		r, err := l.Label([]byte(sweepResource(c.typ, patient)))
		if err != nil || !r.HasPatient("Patient/p1") || r.Labels.Has(labels.SUD) || r.Program != "" {
			t.Errorf("%s: patient %q (%v), labels %v, program %q: want Patient/p1, ordinary", c.typ, r.Patient, err, r.Labels, r.Program)
		}
		for _, m := range c.code {
			r, err := l.Label([]byte(sweepResource(c.typ, patient, sweepExpand(m))))
			if err != nil || !r.Labels.Has(labels.SUD) || !r.HasPatient("Patient/p1") {
				t.Errorf("%s %s: labels %v, patient %q, %v: want SUD", c.typ, m, r.Labels, r.Patient, err)
			}
		}
		for _, m := range c.source {
			in := sweepResource(c.typ, patient, sweepExpand(m))
			if rest, ok := strings.CutPrefix(m, "!"); ok {
				in = sweepResource(c.typ, sweepExpand(rest))
			}
			r, err := l.Label([]byte(in))
			if err != nil || r.Program != "clinic" || !r.Labels.Has(labels.Part2Policy) || !r.HasPatient("Patient/p1") {
				t.Errorf("%s %s: program %q, labels %v, patient %q, %v: want the program's record", c.typ, m, r.Program, r.Labels, r.Patient, err)
			}
		}
		for _, m := range c.content {
			in := [][]byte{[]byte(sweepResource(c.typ, patient, sweepExpand(m)))}
			for _, tg := range sweepTargets(m) {
				in = append(in, []byte(tg))
			}
			rs, err := l.LabelAll(in)
			if err != nil || !rs[0].Effective().Has(labels.SUD) || !rs[0].HasPatient("Patient/p1") {
				t.Errorf("%s %s: labels %v, elements %d, patient %q, %v: want SUD from the target", c.typ, m, rs[0].Labels, len(rs[0].Elements), rs[0].Patient, err)
			}
		}
	}
}

// TestCareTeamSourceQA30A: a record whose care team (CarePlan careTeam, a
// performer or recipient that is a CareTeam) is a Part 2 program's team
// is the program's record, as one made in the program's encounter is; a
// care team whose labels are SUD by code only passes nothing on (a
// record is not SUD information for naming who cared).
func TestCareTeamSourceQA30A(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	p2Team := `{"resourceType":"CareTeam","id":"t2","subject":{"reference":"Patient/p1"},"managingOrganization":[{"reference":"Organization/p2"}]}`
	sudTeam := `{"resourceType":"CareTeam","id":"t3","subject":{"reference":"Patient/p1"},"reasonCode":[` + sweepSUD + `]}`
	for _, c := range []struct {
		in, team string
		part2    bool
	}{
		{`{"resourceType":"CarePlan","id":"cp","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},"careTeam":[{"reference":"CareTeam/t2"}]}`, p2Team, true},
		{`{"resourceType":"Observation","id":"o","status":"final","subject":{"reference":"Patient/p1"},"performer":[{"reference":"CareTeam/t2"}]}`, p2Team, true},
		{`{"resourceType":"Communication","id":"cm","status":"completed","subject":{"reference":"Patient/p1"},"recipient":[{"reference":"CareTeam/t2"}]}`, p2Team, true},
		{`{"resourceType":"CarePlan","id":"cp","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},"careTeam":[{"reference":"CareTeam/t3"}]}`, sudTeam, false},
		{`{"resourceType":"EpisodeOfCare","id":"ep","status":"active","patient":{"reference":"Patient/p1"},"team":[{"reference":"CareTeam/t2"}]}`, p2Team, true},
		{`{"resourceType":"EpisodeOfCare","id":"ep","status":"active","patient":{"reference":"Patient/p1"},"team":[{"reference":"CareTeam/t3"}]}`, sudTeam, false},
	} {
		rs, err := l.LabelAll([][]byte{[]byte(c.in), []byte(c.team)})
		if err != nil {
			t.Fatal(err)
		}
		if got := rs[0].Labels.Has(labels.Part2Policy); got != c.part2 || !c.part2 && rs[0].Labels.Has(labels.SUD) {
			t.Errorf("%s: labels %v, want Part 2 %v", c.in, rs[0].Labels, c.part2)
		}
	}
}

// TestAccountContextQA30A: a charge, an invoice or an encounter on a Part
// 2 program's account (Account.owner) is the program's record; an
// account whose labels are SUD by code only passes nothing on, as an
// encounter's do not.
func TestAccountContextQA30A(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	p2Acct := `{"resourceType":"Account","id":"a2","status":"active","subject":[{"reference":"Patient/p1"}],"owner":{"reference":"Organization/p2"}}`
	sudAcct := `{"resourceType":"Account","id":"a3","status":"active","subject":[{"reference":"Patient/p1"}],"type":` + sweepSUD + `}`
	for _, c := range []struct {
		in, acct string
		part2    bool
	}{
		{`{"resourceType":"ChargeItem","id":"ci","status":"billable","subject":{"reference":"Patient/p1"},"account":[{"reference":"Account/a2"}]}`, p2Acct, true},
		{`{"resourceType":"Invoice","id":"in","status":"issued","subject":{"reference":"Patient/p1"},"account":{"reference":"Account/a2"}}`, p2Acct, true},
		{`{"resourceType":"Encounter","id":"en","status":"finished","subject":{"reference":"Patient/p1"},"account":[{"reference":"Account/a2"}]}`, p2Acct, true},
		{`{"resourceType":"ChargeItem","id":"ci","status":"billable","subject":{"reference":"Patient/p1"},"account":[{"reference":"Account/a3"}]}`, sudAcct, false},
	} {
		rs, err := l.LabelAll([][]byte{[]byte(c.in), []byte(c.acct)})
		if err != nil {
			t.Fatal(err)
		}
		if got := rs[0].Labels.Has(labels.Part2Policy); got != c.part2 || !c.part2 && rs[0].Labels.Has(labels.SUD) {
			t.Errorf("%s: labels %v, want Part 2 %v", c.in, rs[0].Labels, c.part2)
		}
	}
}

// TestProgramInExtensionOrNoteQA30A: a Part 2 program named in an
// extension (event-location, an EHR's own one, at the top or inside an
// element) or as the author of a note makes the record the program's, as
// the references of an extension pass their labels on. Directory
// resources stay ordinary.
func TestProgramInExtensionOrNoteQA30A(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	for _, c := range []struct {
		name, in string
		part2    bool
	}{
		{"event-location", `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Organization/p2"}}]}`, true},
		{"modifierExtension", `{"resourceType":"Procedure","status":"completed","subject":{"reference":"Patient/p1"},"modifierExtension":[{"url":"http://ehr.example/ordering-clinic","valueReference":{"reference":"Practitioner/doc"}}]}`, true},
		{"extension inside an element", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"text":"x","extension":[{"url":"http://ehr.example/clinic","valueIdentifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}]}}`, true},
		{"note author", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"note":[{"authorReference":{"reference":"Practitioner/doc"},"text":"seen"}]}`, true},
		{"other clinic in an extension", `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Organization/er"}}]}`, false},
		{"directory entry", `{"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/doc"},"extension":[{"url":"http://ehr.example/x","valueReference":{"reference":"Organization/p2"}}]}`, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.Part2Policy) != c.part2 || (r.Program == "clinic") != c.part2 {
			t.Errorf("%s: program %q, labels %v, %v; want Part 2 %v", c.name, r.Program, r.Labels, err, c.part2)
		}
	}
}

// TestServiceTypeSUDQA30A: an appointment or encounter whose serviceType
// is an alcohol and drug service of the HL7 service-type code system
// ("Non-residential alcohol and/or drug dependence treatment", a
// methadone program ...) is SUD information; the program's own directory
// entry (HealthcareService.type), its Schedule and Slot, and the other
// service types (tobacco quit program, needle exchange, general
// counselling) are not.
func TestServiceTypeSUDQA30A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	st := func(code string) string {
		return `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/service-type","code":"` + code + `"}]}`
	}
	for _, c := range []struct {
		name, in string
		sud      bool
	}{
		{"appointment 108", `{"resourceType":"Appointment","status":"booked","serviceType":[` + st("108") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`, true},
		{"appointment 109", `{"resourceType":"Appointment","status":"booked","serviceType":[` + st("109") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`, true},
		{"encounter 105", `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st("105") + `}`, true},
		{"encounter 111", `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st("111") + `}`, true},
		{"appointment 106", `{"resourceType":"Appointment","status":"proposed","serviceType":[` + st("106") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"needs-action"}]}`, true},
		{"quit program", `{"resourceType":"Appointment","status":"booked","serviceType":[` + st("110") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`, false},
		{"needle exchange", `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st("107") + `}`, false},
		{"general counselling", `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st("74") + `}`, false},
		{"directory entry", `{"resourceType":"HealthcareService","type":[` + st("108") + `]}`, false},
		{"schedule", `{"resourceType":"Schedule","serviceType":[` + st("108") + `],"actor":[{"reference":"Practitioner/doc"}]}`, false},
		{"slot", `{"resourceType":"Slot","status":"free","serviceType":[` + st("108") + `],"schedule":{"reference":"Schedule/s"}}`, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud {
			t.Errorf("%s: labels %v, %v; want SUD %v", c.name, r.Labels, err, c.sud)
		}
	}
}

// TestServiceTypeMHQA30A: an appointment or encounter whose serviceType
// is a mental health service, psychiatry or psychology of the HL7
// service-type code system is MH information; the directory entry is not.
func TestServiceTypeMHQA30A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	st := func(code string) string {
		return `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/service-type","code":"` + code + `"}]}`
	}
	for _, c := range []struct {
		name, in string
		want     bool
	}{
		{"psychiatry appointment", `{"resourceType":"Appointment","status":"booked","serviceType":[` + st("141") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`, true},
		{"psychology encounter", `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st("142") + `}`, true},
		{"MH inpatient encounter", `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st("138") + `}`, true},
		{"cardiology", `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st("165") + `}`, false},
		{"directory entry", `{"resourceType":"HealthcareService","type":[` + st("141") + `]}`, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(mh) != c.want {
			t.Errorf("%s: labels %v, %v; want MH %v", c.name, r.Labels, err, c.want)
		}
	}
}

// TestProviderScheduleQA30A: the Schedule of a Part 2 program's clinician,
// service or location alone is the provider's calendar, directory data
// that stays ordinary (as the program's Practitioner does); a Schedule
// that is also a patient's, a related person's, a contained resource's or
// an actor known by identifier alone is the program's record.
func TestProviderScheduleQA30A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{
		Name: "clinic", References: []string{"Practitioner/doc", "HealthcareService/hs2", "Location/loc2"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, actors string
		part2        bool
	}{
		{"clinician", `[{"reference":"Practitioner/doc"}]`, false},
		{"service and location", `[{"reference":"HealthcareService/hs2"},{"reference":"Location/loc2"}]`, false},
		{"escaped", `[{"reference":"Practitioner\/doc"}]`, false},
		{"patient", `[{"reference":"Patient/p1"},{"reference":"HealthcareService/hs2"}]`, true},
		{"patient after", `[{"reference":"HealthcareService/hs2"},{"reference":"Patient/p1"}]`, true},
		{"related person", `[{"reference":"RelatedPerson/r1"},{"reference":"Practitioner/doc"}]`, true},
		{"contained", `[{"reference":"#a"},{"reference":"Practitioner/doc"}]`, true},
		{"identifier alone", `[{"identifier":{"system":"urn:x","value":"1"}},{"reference":"Practitioner/doc"}]`, true},
	} {
		r, err := l.Label([]byte(`{"resourceType":"Schedule","id":"s","actor":` + c.actors + `}`))
		if err != nil || r.Labels.Has(labels.Part2Policy) != c.part2 {
			t.Errorf("%s: program %q, labels %v, %v; want Part 2 %v", c.name, r.Program, r.Labels, err, c.part2)
		}
	}
}
