package synth

// Code systems used by the generator.
const (
	SystemICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
	SystemSNOMED  = "http://snomed.info/sct"
	SystemLOINC   = "http://loinc.org"
	SystemRxNorm  = "http://www.nlm.nih.gov/research/umls/rxnorm"
	SystemCVX     = "http://hl7.org/fhir/sid/cvx"
	SystemUCUM    = "http://unitsofmeasure.org"
	SystemNPI     = "http://hl7.org/fhir/sid/us-npi"
	SystemMRN     = "urn:oid:2.16.840.1.113883.19.5"

	systemActCode      = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	systemObsCategory  = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemCondCategory = "http://terminology.hl7.org/CodeSystem/condition-category"
	systemCondClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	systemCondVerif    = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	systemV20203       = "http://terminology.hl7.org/CodeSystem/v2-0203"
	systemParticipType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	systemInterp       = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	systemOrgType      = "http://terminology.hl7.org/CodeSystem/organization-type"
	systemAllergyClin  = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	systemAllergyVerif = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
	systemMedReqCat    = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
	systemProviderTax  = "http://nucc.org/provider-taxonomy"
)

// concept is one coding: a system, a code and its display.
type concept struct{ system, code, display string }

func icd(code, display string) concept    { return concept{SystemICD10CM, code, display} }
func snomed(code, display string) concept { return concept{SystemSNOMED, code, display} }
func loinc(code, display string) concept  { return concept{SystemLOINC, code, display} }
func rxnorm(code, display string) concept { return concept{SystemRxNorm, code, display} }
func cvx(code, display string) concept    { return concept{SystemCVX, code, display} }

// diagnosis is a condition coded in ICD-10-CM and, where an equivalent
// concept exists, SNOMED CT; text is what a clinician would read.
type diagnosis struct {
	text  string
	codes []concept
}

// Ordinary (non-sensitive) diagnoses.
var (
	dxHypertension = diagnosis{"Essential hypertension", []concept{
		icd("I10", "Essential (primary) hypertension"),
		snomed("38341003", "Hypertensive disorder, systemic arterial (disorder)"),
	}}
	dxDiabetes = diagnosis{"Type 2 diabetes mellitus", []concept{
		icd("E11.9", "Type 2 diabetes mellitus without complications"),
		snomed("44054006", "Diabetes mellitus type 2 (disorder)"),
	}}
	dxHyperlipidemia = diagnosis{"Hyperlipidemia", []concept{
		icd("E78.5", "Hyperlipidemia, unspecified"),
		snomed("55822004", "Hyperlipidemia (disorder)"),
	}}
	dxAsthma = diagnosis{"Asthma", []concept{
		icd("J45.909", "Unspecified asthma, uncomplicated"),
		snomed("195967001", "Asthma (disorder)"),
	}}
	dxLowBackPain = diagnosis{"Low back pain", []concept{
		icd("M54.50", "Low back pain, unspecified"),
		snomed("279039007", "Low back pain (finding)"),
	}}
)

// chronicDiagnoses are the ordinary problems patients draw from, each with
// the medication usually prescribed for it (zero value when none).
var chronicDiagnoses = []struct {
	dx  diagnosis
	med medication
}{
	{dxHypertension, medLisinopril},
	{dxDiabetes, medMetformin},
	{dxHyperlipidemia, medSimvastatin},
	{dxAsthma, medAlbuterol},
	{dxLowBackPain, medication{}},
}

// Sensitive diagnoses.
var (
	dxOpioidDependence = diagnosis{"Opioid dependence, uncomplicated", []concept{
		icd("F11.20", "Opioid dependence, uncomplicated"),
		snomed("75544000", "Opioid dependence (disorder)"),
	}}
	dxAlcoholDependence = diagnosis{"Alcohol dependence, uncomplicated", []concept{
		icd("F10.20", "Alcohol dependence, uncomplicated"),
		snomed("66590003", "Alcohol dependence (disorder)"),
	}}
	dxAlcoholAbuse = diagnosis{"Alcohol abuse, uncomplicated", []concept{
		icd("F10.10", "Alcohol abuse, uncomplicated"),
		snomed("15167005", "Alcohol abuse (disorder)"),
	}}
	dxOpioidAbuse = diagnosis{"Opioid abuse, uncomplicated", []concept{
		icd("F11.10", "Opioid abuse, uncomplicated"),
		snomed("5602001", "Opioid abuse (disorder)"),
	}}
	dxDepression = diagnosis{"Major depressive disorder, single episode", []concept{
		icd("F32.9", "Major depressive disorder, single episode, unspecified"),
		snomed("35489007", "Depressive disorder (disorder)"),
	}}
	dxAnxiety = diagnosis{"Generalized anxiety disorder", []concept{
		icd("F41.1", "Generalized anxiety disorder"),
		snomed("21897009", "Generalized anxiety disorder (disorder)"),
	}}
	dxHIV = diagnosis{"HIV disease", []concept{
		icd("B20", "Human immunodeficiency virus [HIV] disease"),
		snomed("86406008", "Human immunodeficiency virus infection (disorder)"),
	}}
	dxAdultAbuse = diagnosis{"Adult physical abuse, confirmed", []concept{
		icd("T74.11XA", "Adult physical abuse, confirmed, initial encounter"),
	}}
	dxAbuseHistory = diagnosis{"Personal history of adult physical and sexual abuse", []concept{
		icd("Z91.410", "Personal history of adult physical and sexual abuse"),
	}}
)

// medication is a prescribable drug with its usual sig.
type medication struct {
	drug     concept
	sig      string
	route    concept
	doseQty  string
	doseUnit string
	perDay   int
}

var (
	routeOral       = snomed("26643006", "Oral route (qualifier value)")
	routeSublingual = snomed("37839007", "Sublingual route (qualifier value)")
	routeInhaled    = snomed("447694001", "Respiratory tract route (qualifier value)")

	medLisinopril = medication{rxnorm("314076", "lisinopril 10 MG Oral Tablet"),
		"Take 1 tablet by mouth once daily", routeOral, "1", "tablet", 1}
	medMetformin = medication{rxnorm("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),
		"Take 1 tablet by mouth daily with the evening meal", routeOral, "1", "tablet", 1}
	medSimvastatin = medication{rxnorm("314231", "simvastatin 10 MG Oral Tablet"),
		"Take 1 tablet by mouth at bedtime", routeOral, "1", "tablet", 1}
	medAlbuterol = medication{rxnorm("351137", "albuterol 0.21 MG/ML Inhalation Solution"),
		"Inhale 3 mL via nebulizer every 6 hours as needed for wheezing", routeInhaled, "3", "mL", 4}

	medBupNal = medication{rxnorm("1597568", "buprenorphine 11.4 MG / naloxone 2.9 MG Sublingual Tablet"),
		"Dissolve 1 tablet under the tongue once daily", routeSublingual, "1", "tablet", 1}
	medBupNalFilm = medication{rxnorm("1010604", "buprenorphine 8 MG / naloxone 2 MG Sublingual Film"),
		"Dissolve 1 film under the tongue once daily", routeSublingual, "1", "film", 1}
	medMethadone = medication{rxnorm("864706", "methadone hydrochloride 10 MG Oral Tablet"),
		"Take 6 tablets (60 mg) by mouth once daily, dispensed at the clinic", routeOral, "6", "tablet", 1}
	medSertraline = medication{rxnorm("312941", "sertraline 50 MG Oral Tablet"),
		"Take 1 tablet by mouth once daily", routeOral, "1", "tablet", 1}
	medFluoxetine = medication{rxnorm("310385", "fluoxetine 20 MG Oral Capsule"),
		"Take 1 capsule by mouth every morning", routeOral, "1", "capsule", 1}
	medBiktarvy = medication{rxnorm("1999667", "bictegravir 50 MG / emtricitabine 200 MG / tenofovir alafenamide 25 MG Oral Tablet"),
		"Take 1 tablet by mouth once daily", routeOral, "1", "tablet", 1}
)

// Observation codes.
var (
	obsBPPanel     = loinc("85354-9", "Blood pressure panel with all children optional")
	obsSystolic    = loinc("8480-6", "Systolic blood pressure")
	obsDiastolic   = loinc("8462-4", "Diastolic blood pressure")
	obsHeartRate   = loinc("8867-4", "Heart rate")
	obsRespRate    = loinc("9279-1", "Respiratory rate")
	obsBodyTemp    = loinc("8310-5", "Body temperature")
	obsBodyWeight  = loinc("29463-7", "Body weight")
	obsBodyHeight  = loinc("8302-2", "Body height")
	obsBMI         = loinc("39156-5", "Body mass index (BMI) [Ratio]")
	obsSpO2        = loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
	obsA1c         = loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood")
	obsGlucose     = loinc("2339-0", "Glucose [Mass/volume] in Blood")
	obsCholesterol = loinc("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma")
	obsHemoglobin  = loinc("718-7", "Hemoglobin [Mass/volume] in Blood")
	obsCreatinine  = loinc("2160-0", "Creatinine [Mass/volume] in Serum or Plasma")

	obsOpiateScreen = loinc("19295-5", "Opiates [Presence] in Urine by Screen method")
	obsTHCScreen    = loinc("3426-4", "Tetrahydrocannabinol [Presence] in Urine")
	obsViralLoad    = loinc("25836-8", "HIV 1 RNA [#/volume] (viral load) in Specimen by NAA with probe detection")
	obsCD4          = loinc("24467-3", "CD3+CD4+ (T4 helper) cells [#/volume] in Blood")
	obsPHQ9         = loinc("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]")

	resultPositive = snomed("10828004", "Positive (qualifier value)")
	resultNegative = snomed("260385009", "Negative (qualifier value)")
)

// Encounter types and classes.
var (
	encCheckUp   = snomed("185349003", "Encounter for check up (procedure)")
	encProblem   = snomed("185347001", "Encounter for problem (procedure)")
	encEmergency = snomed("50849002", "Emergency room admission (procedure)")
	encFollowUp  = snomed("390906007", "Follow-up encounter (procedure)")

	classAmbulatory = concept{systemActCode, "AMB", "ambulatory"}
	classEmergency  = concept{systemActCode, "EMER", "emergency"}
)

// Immunizations (CVX).
var vaccines = []concept{
	cvx("140", "Influenza, seasonal, injectable, preservative free"),
	cvx("208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose"),
	cvx("115", "Tdap"),
	cvx("113", "Td (adult), 5 Lf tetanus toxoid, preservative free, adsorbed"),
	cvx("33", "pneumococcal polysaccharide vaccine, 23 valent"),
}

// Allergy substances.
var allergens = []struct {
	substance concept
	category  string
	reaction  concept
}{
	{snomed("111088007", "Latex (substance)"), "environment", snomed("247472004", "Wheal (finding)")},
	{snomed("102263004", "Eggs (edible) (substance)"), "food", snomed("271807003", "Eruption of skin (disorder)")},
	{snomed("288328004", "Bee venom (substance)"), "environment", snomed("39579001", "Anaphylaxis (disorder)")},
	{rxnorm("1191", "aspirin"), "medication", snomed("247472004", "Wheal (finding)")},
	{rxnorm("10831", "sulfamethoxazole / trimethoprim"), "medication", snomed("271807003", "Eruption of skin (disorder)")},
}
