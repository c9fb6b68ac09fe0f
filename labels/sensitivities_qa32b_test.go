package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 32, area B: the long tail of the other sensitivities. Each case
// is a patient's record whose only sensitive trace is the code named; each
// was ordinary before its rule. The "ordinary" cases are neighbours that
// must stay so (over-labelling is a defect too).
const (
	qa32bICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
	qa32bICD9CM  = "http://hl7.org/fhir/sid/icd-9-cm"
	qa32bSNOMED  = "http://snomed.info/sct"
	qa32bLOINC   = "http://loinc.org"
	qa32bCPT     = "http://www.ama-assn.org/go/cpt"
	qa32bHCPCS   = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
)

func qa32bCondition(system, code string) string {
	return `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
}

func qa32bObservation(system, code string) string {
	return `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]},"valueString":"negative"}`
}

func qa32bClaim(system, code string) string {
	return `{"resourceType":"Claim","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}]}`
}

type qa32bCase struct {
	name, in, topic string // topic "" = ordinary
}

func qa32bCheck(t *testing.T, cases []qa32bCase) {
	t.Helper()
	l := labels.Default()
	topics := []string{"HIV", "STD", "SEX", "SDV", "GDIS", "PSYTHPN"}
	for _, c := range cases {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, topic := range topics {
			if r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: topic}) != (topic == c.topic) {
				t.Errorf("%s: labels %v; want topic %q", c.name, r.Labels, c.topic)
			}
		}
		if c.topic == "" && len(r.Labels) != 0 && r.Labels.Has(labels.Restricted) {
			t.Errorf("%s: labels %v; want ordinary", c.name, r.Labels)
		}
	}
}

// TestHIVRecordsQA32B: HIV diagnoses in SNOMED CT beyond the one code the
// file had (VSAC "HIV"), HIV antibody/antigen tests (VSAC CMS349), viral
// load, exposure to HIV, and the CPT/HCPCS HIV tests.
func TestHIVRecordsQA32B(t *testing.T) {
	t.Parallel()
	qa32bCheck(t, []qa32bCase{
		{"AIDS (SNOMED)", qa32bCondition(qa32bSNOMED, "62479008"), "HIV"},
		{"HIV positive (SNOMED)", qa32bCondition(qa32bSNOMED, "165816005"), "HIV"},
		{"asymptomatic HIV infection (SNOMED)", qa32bCondition(qa32bSNOMED, "91947003"), "HIV"},
		{"HIV 1+2 Ab + p24 Ag test", qa32bObservation(qa32bLOINC, "56888-1"), "HIV"},
		{"HIV 1 Ab test", qa32bObservation(qa32bLOINC, "7917-8"), "HIV"},
		{"HIV 1 RNA viral load", qa32bObservation(qa32bLOINC, "20447-9"), "HIV"},
		{"HIV 1 RNA viral load, log (VSAC viral load)", qa32bObservation(qa32bLOINC, "29541-0"), "HIV"},
		{"HIV 1 RNA viral load, 20 copies/mL limit (VSAC viral load)", qa32bObservation(qa32bLOINC, "70241-5"), "HIV"},
		{"hepatitis C RNA viral load", qa32bObservation(qa32bLOINC, "11011-4"), ""},
		{"exposure to HIV (ICD-10-CM)", qa32bCondition(qa32bICD10CM, "Z20.6"), "HIV"},
		{"HIV counselling (ICD-10-CM)", qa32bCondition(qa32bICD10CM, "Z71.7"), "HIV"},
		{"claim for HIV-1 viral load (CPT)", qa32bClaim(qa32bCPT, "87536"), "HIV"},
		{"claim for HIV antigen/antibody (CPT)", qa32bClaim(qa32bCPT, "87389"), "HIV"},
		{"claim for HIV screening (HCPCS)", qa32bClaim(qa32bHCPCS, "G0475"), "HIV"},
		{"hepatitis B surface antigen", qa32bObservation(qa32bLOINC, "5196-1"), ""},
		{"claim for a hepatitis C antibody (CPT 86803)", qa32bClaim(qa32bCPT, "86803"), ""},
		{"other counselling (Z71.89)", qa32bCondition(qa32bICD10CM, "Z71.89"), ""},
	})
}

// TestSTDRecordsQA32B: STD in pregnancy, exposure and carriage (ICD-10-CM
// outside A50-A64), old ICD-9-CM diagnoses, chlamydia, gonorrhea and
// syphilis tests (VSAC) and the CPT STD tests.
func TestSTDRecordsQA32B(t *testing.T) {
	t.Parallel()
	qa32bCheck(t, []qa32bCase{
		{"syphilis complicating pregnancy", qa32bCondition(qa32bICD10CM, "O98.111"), "STD"},
		{"gonorrhea complicating childbirth", qa32bCondition(qa32bICD10CM, "O98.22"), "STD"},
		{"exposure to STD", qa32bCondition(qa32bICD10CM, "Z20.2"), "STD"},
		{"carrier of STD", qa32bCondition(qa32bICD10CM, "Z22.4"), "STD"},
		{"gonorrhea (ICD-9-CM 098.0)", qa32bCondition(qa32bICD9CM, "098.0"), "STD"},
		{"late syphilis (ICD-9-CM 097.9)", qa32bCondition(qa32bICD9CM, "097.9"), "STD"},
		{"genital herpes (ICD-9-CM 054.10)", qa32bCondition(qa32bICD9CM, "054.10"), "STD"},
		{"trichomoniasis (ICD-9-CM 131.01)", qa32bCondition(qa32bICD9CM, "131.01"), "STD"},
		{"chlamydia NAA", qa32bObservation(qa32bLOINC, "21613-5"), "STD"},
		{"gonorrhea NAA", qa32bObservation(qa32bLOINC, "24111-7"), "STD"},
		{"RPR", qa32bObservation(qa32bLOINC, "20507-0"), "STD"},
		{"claim for chlamydia NAA (CPT)", qa32bClaim(qa32bCPT, "87491"), "STD"},
		{"claim for RPR (CPT)", qa32bClaim(qa32bCPT, "86592"), "STD"},
		{"HIV in pregnancy is HIV, not STD", qa32bCondition(qa32bICD10CM, "O98.711"), "HIV"},
		{"tuberculosis in pregnancy (O98.0)", qa32bCondition(qa32bICD10CM, "O98.011"), ""},
		{"exposure to rabies (Z20.3)", qa32bCondition(qa32bICD10CM, "Z20.3"), ""},
		{"herpes zoster (ICD-9-CM 053.9)", qa32bCondition(qa32bICD9CM, "053.9"), ""},
		{"herpes simplex of the lip (ICD-9-CM 054.9)", qa32bCondition(qa32bICD9CM, "054.9"), ""},
		{"HIV disease (ICD-9-CM 042) is HIV, not STD", qa32bCondition(qa32bICD9CM, "042"), "HIV"},
		{"streptococcal pharyngitis test", qa32bObservation(qa32bLOINC, "6557-3"), ""},
		{"claim for a urine culture (CPT 87086)", qa32bClaim(qa32bCPT, "87086"), ""},
	})
}

// TestSEXRecordsQA32B: abortion, contraception, infertility and
// gender-affirming care, and sexual behaviour, as diagnoses (ICD-10-CM,
// ICD-9-CM) and as billed services (CPT, HCPCS).
func TestSEXRecordsQA32B(t *testing.T) {
	t.Parallel()
	qa32bCheck(t, []qa32bCase{
		{"complication following induced termination (O04.5)", qa32bCondition(qa32bICD10CM, "O04.5"), "SEX"},
		{"failed attempted termination (O07.4)", qa32bCondition(qa32bICD10CM, "O07.4"), "SEX"},
		{"contraceptive management (Z30.011)", qa32bCondition(qa32bICD10CM, "Z30.011"), "SEX"},
		{"procreative management (Z31.83)", qa32bCondition(qa32bICD10CM, "Z31.83"), "SEX"},
		{"female infertility (N97.9)", qa32bCondition(qa32bICD10CM, "N97.9"), "SEX"},
		{"male infertility (N46.9)", qa32bCondition(qa32bICD10CM, "N46.9"), "SEX"},
		{"gender identity disorder (F64.0)", qa32bCondition(qa32bICD10CM, "F64.0"), "SEX"},
		{"history of sex reassignment (Z87.890)", qa32bCondition(qa32bICD10CM, "Z87.890"), "SEX"},
		{"high risk bisexual behavior (Z72.53)", qa32bCondition(qa32bICD10CM, "Z72.53"), "SEX"},
		{"legally induced abortion (ICD-9-CM 635.92)", qa32bCondition(qa32bICD9CM, "635.92"), "SEX"},
		{"contraceptive management (ICD-9-CM V25.2)", qa32bCondition(qa32bICD9CM, "V25.2"), "SEX"},
		{"gender identity disorder (ICD-9-CM 302.85)", qa32bCondition(qa32bICD9CM, "302.85"), "SEX"},
		{"claim for induced abortion by D&C (CPT 59840)", qa32bClaim(qa32bCPT, "59840"), "SEX"},
		{"claim for induced abortion by D&E (CPT 59841)", qa32bClaim(qa32bCPT, "59841"), "SEX"},
		{"claim for embryo culture (CPT 89250)", qa32bClaim(qa32bCPT, "89250"), "SEX"},
		{"claim for IUD insertion (CPT 58300)", qa32bClaim(qa32bCPT, "58300"), "SEX"},
		{"claim for medication abortion (HCPCS S0199)", qa32bClaim(qa32bHCPCS, "S0199"), "SEX"},
		{"claim for a Mirena IUD (HCPCS J7298)", qa32bClaim(qa32bHCPCS, "J7298"), "SEX"},
		{"claim for IVF (HCPCS S4015)", qa32bClaim(qa32bHCPCS, "S4015"), "SEX"},
		{"spontaneous abortion (O03.9)", qa32bCondition(qa32bICD10CM, "O03.9"), ""},
		{"ectopic pregnancy (O00.90)", qa32bCondition(qa32bICD10CM, "O00.90"), ""},
		{"spontaneous abortion (ICD-9-CM 634.90)", qa32bCondition(qa32bICD9CM, "634.90"), ""},
		{"hypertension (ICD-9-CM 401.9)", qa32bCondition(qa32bICD9CM, "401.9"), ""},
		{"claim for a vaginal delivery (CPT 59400)", qa32bClaim(qa32bCPT, "59400"), ""},
		{"claim for a urinalysis (CPT 81001)", qa32bClaim(qa32bCPT, "81001"), ""},
		{"claim for an injection J7050 (HCPCS)", qa32bClaim(qa32bHCPCS, "J7050"), ""},
	})
}

// TestSDVRecordsQA32B: examination after alleged rape or abuse, mental
// health services for a victim or perpetrator of abuse, abuse complicating
// pregnancy, and abuse recorded in ICD-9-CM.
func TestSDVRecordsQA32B(t *testing.T) {
	t.Parallel()
	qa32bCheck(t, []qa32bCase{
		{"examination following alleged adult rape (Z04.41)", qa32bCondition(qa32bICD10CM, "Z04.41"), "SDV"},
		{"examination following alleged child physical abuse (Z04.72)", qa32bCondition(qa32bICD10CM, "Z04.72"), "SDV"},
		{"mental health services for victim of spousal violence (Z69.11)", qa32bCondition(qa32bICD10CM, "Z69.11"), "SDV"},
		{"mental health services for perpetrator of child abuse (Z69.021)", qa32bCondition(qa32bICD10CM, "Z69.021"), "SDV"},
		{"sexual abuse complicating pregnancy (O9A.411)", qa32bCondition(qa32bICD10CM, "O9A.411"), "SDV"},
		{"history of sexual exploitation (Z91.42)", qa32bCondition(qa32bICD10CM, "Z91.42"), "SDV"},
		{"child sexual abuse (ICD-9-CM 995.53)", qa32bCondition(qa32bICD9CM, "995.53"), "SDV"},
		{"adult sexual abuse (ICD-9-CM 995.83)", qa32bCondition(qa32bICD9CM, "995.83"), "SDV"},
		{"perpetrator: spouse (ICD-9-CM E967.3)", qa32bCondition(qa32bICD9CM, "E967.3"), "SDV"},
		{"observation following alleged rape (ICD-9-CM V71.5)", qa32bCondition(qa32bICD9CM, "V71.5"), "SDV"},
		{"counseling for victim of spousal abuse (ICD-9-CM V61.11)", qa32bCondition(qa32bICD9CM, "V61.11"), "SDV"},
		{"examination following a transport accident (Z04.1)", qa32bCondition(qa32bICD10CM, "Z04.1"), ""},
		{"malignant hyperthermia (ICD-9-CM 995.86)", qa32bCondition(qa32bICD9CM, "995.86"), ""},
		{"anaphylactic shock (ICD-9-CM 995.0)", qa32bCondition(qa32bICD9CM, "995.0"), ""},
		{"diseases of the nervous system in pregnancy (O99.35)", qa32bCondition(qa32bICD10CM, "O99.351"), ""},
	})
}

// TestGDISRecordsQA32B: genetic susceptibility and carrier status,
// genetic screening and counselling, and the billed genetic tests.
func TestGDISRecordsQA32B(t *testing.T) {
	t.Parallel()
	qa32bCheck(t, []qa32bCase{
		{"genetic analysis master panel (FHIR R4 genetics example)", qa32bObservation(qa32bLOINC, "55233-1"), "GDIS"},
		{"genetic analysis summary panel", qa32bObservation(qa32bLOINC, "55232-3"), "GDIS"},
		{"BRCA susceptibility (Z15.01)", qa32bCondition(qa32bICD10CM, "Z15.01"), "GDIS"},
		{"cystic fibrosis carrier (Z14.1)", qa32bCondition(qa32bICD10CM, "Z14.1"), "GDIS"},
		{"genetic carrier screening (Z13.71)", qa32bCondition(qa32bICD10CM, "Z13.71"), "GDIS"},
		{"family history of genetic carrier (Z84.81)", qa32bCondition(qa32bICD10CM, "Z84.81"), "GDIS"},
		{"genetic susceptibility (ICD-9-CM V84.01)", qa32bCondition(qa32bICD9CM, "V84.01"), "GDIS"},
		{"cystic fibrosis gene carrier (ICD-9-CM V83.81)", qa32bCondition(qa32bICD9CM, "V83.81"), "GDIS"},
		{"claim for BRCA1/2 sequencing (CPT 81162)", qa32bClaim(qa32bCPT, "81162"), "GDIS"},
		{"claim for an exome (CPT 81415)", qa32bClaim(qa32bCPT, "81415"), "GDIS"},
		{"claim for a karyotype (CPT 88262)", qa32bClaim(qa32bCPT, "88262"), "GDIS"},
		{"claim for genetic counselling (CPT 96041)", qa32bClaim(qa32bCPT, "96041"), "GDIS"},
		{"claim for genetic counselling (HCPCS S0265)", qa32bClaim(qa32bHCPCS, "S0265"), "GDIS"},
		{"claim for APOE testing (HCPCS S3852)", qa32bClaim(qa32bHCPCS, "S3852"), "GDIS"},
		{"claim for a urinalysis (CPT 81001)", qa32bClaim(qa32bCPT, "81001"), ""},
		{"claim for a multianalyte assay (CPT 81500)", qa32bClaim(qa32bCPT, "81500"), ""},
		{"claim for a surgical pathology exam (CPT 88305)", qa32bClaim(qa32bCPT, "88305"), ""},
		{"claim for a surface EMG (HCPCS S3900)", qa32bClaim(qa32bHCPCS, "S3900"), ""},
		{"fertility testing (Z31.41) is SEX, not GDIS", qa32bCondition(qa32bICD10CM, "Z31.41"), "SEX"},
		{"screening for malignant neoplasm of breast (Z12.31)", qa32bCondition(qa32bICD10CM, "Z12.31"), ""},
	})
}

// TestDocumentSecurityLabelQA32B: a DocumentReference whose securityLabel
// (the labels of the document it points to) names a topic is that topic's;
// the labeller read meta.security but not securityLabel. A document
// labelled only ETH (not one of these files' topics) is not labelled by
// them.
func TestDocumentSecurityLabelQA32B(t *testing.T) {
	t.Parallel()
	doc := func(code string) string {
		return `{"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"},"securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + code + `"}]}],"content":[{"attachment":{"contentType":"text/plain","data":"bm90ZQ=="}}]}`
	}
	qa32bCheck(t, []qa32bCase{
		{"psychotherapy note", doc("PSYTHPN"), "PSYTHPN"},
		{"HIV document", doc("HIV"), "HIV"},
		{"STD document", doc("STD"), "STD"},
		{"SEX document", doc("SEX"), "SEX"},
		{"SDV document", doc("SDV"), "SDV"},
		{"GDIS document", doc("GDIS"), "GDIS"},
		{"document without a security label", `{"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"text/plain"}}]}`, ""},
	})
	r, err := labels.Default().Label([]byte(doc("PSYTHPN")))
	if err != nil || len(r.Reasons) == 0 || r.Reasons[0].Rule != "DocumentReference.securityLabel" || r.Reasons[0].Path != "securityLabel[0].coding[0]" {
		t.Errorf("psychotherapy note: reasons %+v, %v; want DocumentReference.securityLabel at securityLabel[0].coding[0]", r.Reasons, err)
	}
}

// TestProviderTaxonomyQA32B: a claim whose care team is qualified as a
// family planning or fertility facility, a reproductive endocrinologist,
// a medical geneticist or a genetic counselor (NUCC, careTeam.qualification)
// tells the kind of care; a PractitionerRole of the directory with the
// same code stays ordinary.
func TestProviderTaxonomyQA32B(t *testing.T) {
	t.Parallel()
	claim := func(code string) string {
		return `{"resourceType":"Claim","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"careTeam":[{"sequence":1,"provider":{"reference":"Organization/o1"},"qualification":{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"` + code + `"}]}}],"item":[{"sequence":1,"careTeamSequence":[1],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]}}]}`
	}
	eob := `{"resourceType":"ExplanationOfBenefit","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"careTeam":[{"sequence":1,"provider":{"reference":"Practitioner/x"},"qualification":{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"170300000X"}]}}]}`
	qa32bCheck(t, []qa32bCase{
		{"claim of a family planning facility", claim("261QA0005X"), "SEX"},
		{"claim of a fertility facility", claim("261QA0006X"), "SEX"},
		{"claim of a reproductive endocrinologist", claim("207VE0102X"), "SEX"},
		{"claim of a clinical geneticist", claim("207SG0201X"), "GDIS"},
		{"EOB of a genetic counselor", eob, "GDIS"},
		{"claim of a general obstetrician-gynecologist", claim("207V00000X"), ""},
		{"claim of an ambulatory surgical center", claim("261QA1903X"), ""},
		{"role of the directory", `{"resourceType":"PractitionerRole","code":[{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"207SG0201X"}]}]}`, ""},
	})
}
