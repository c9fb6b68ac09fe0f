package labels

import "strings"

// r4ResourceTypes lists the FHIR R4 (4.0.1) resource types.
const r4ResourceTypes = `Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment
AppointmentResponse AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle
CapabilityStatement CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim
ClaimResponse ClinicalImpression CodeSystem Communication CommunicationRequest
CompartmentDefinition Composition ConceptMap Condition Consent Contract Coverage
CoverageEligibilityRequest CoverageEligibilityResponse DetectedIssue Device DeviceDefinition
DeviceMetric DeviceRequest DeviceUseStatement DiagnosticReport DocumentManifest
DocumentReference EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest
EnrollmentResponse EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario
ExplanationOfBenefit FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse
HealthcareService ImagingStudy Immunization ImmunizationEvaluation ImmunizationRecommendation
ImplementationGuide InsurancePlan Invoice Library Linkage List Location Measure MeasureReport
Media Medication MedicationAdministration MedicationDispense MedicationKnowledge
MedicationRequest MedicationStatement MedicinalProduct MedicinalProductAuthorization
MedicinalProductContraindication MedicinalProductIndication MedicinalProductIngredient
MedicinalProductInteraction MedicinalProductManufactured MedicinalProductPackaged
MedicinalProductPharmaceutical MedicinalProductUndesirableEffect MessageDefinition
MessageHeader MolecularSequence NamingSystem NutritionOrder Observation ObservationDefinition
OperationDefinition OperationOutcome Organization OrganizationAffiliation Parameters Patient
PaymentNotice PaymentReconciliation Person PlanDefinition Practitioner PractitionerRole
Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson RequestGroup
ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
SpecimenDefinition StructureDefinition StructureMap Subscription Substance
SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription`

// wellKnownCodes lists security label codes worth reading without an
// allocation: confidentiality, common sensitivity, policy, obligation,
// refrain, integrity and purpose-of-use codes.
const wellKnownCodes = `U L M N R V SUD ETH ETHUD OPIOIDUD PSY PSYTHPN BH MH HIV STD SDV SEX GDIS SICKLE
42CFRPart2 REDACT MASK DEID ENCRYPT PROCESSINLINELABEL NORDSCLCD NODSCLCD NOREUSE NOAUTH
REDACTED MASKED SUBSETTED PSEUDED ANONYED PATRPT UNCERTREL
TREAT ETREAT HPAYMT HOPERAT PUBHLTH HRESCH PATRQT COVERAGE HMARKT BTG`

// interned maps well-known strings to a shared copy, so that reading them
// from a body allocates nothing.
var interned = func() map[string]string {
	m := map[string]string{}
	for _, list := range []string{r4ResourceTypes, wellKnownCodes} {
		for _, s := range strings.Fields(list) {
			m[s] = s
		}
	}
	for _, s := range []string{
		SystemConfidentiality, SystemActCode, SystemObservationValue, SystemActReason,
		LegacyConfidentiality, LegacyActCode, LegacyObservationValue, LegacyActReason,
	} {
		m[s] = s
	}
	return m
}()

// intern returns raw as a string, shared when it is well known.
func intern(raw []byte) string {
	if s, ok := interned[string(raw)]; ok {
		return s
	}
	return string(raw)
}
