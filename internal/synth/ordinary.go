package synth

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// firstVisit is a check-up at the hospital that records the patient's
// chronic problems, prescribes for them and takes vitals and labs.
func (p *patientGen) firstVisit() {
	p.weight = p.r.between(480, 1100)
	p.height = p.r.between(1520, 1950)
	encID := p.nextID("enc")
	problems := p.chronicProblems()
	condRefs := make([]string, len(problems))
	for k := range problems {
		condRefs[k] = "Condition/" + p.nextID("cond")
	}
	enc := p.encounter(encounterSpec{id: encID, class: classAmbulatory, kind: encCheckUp,
		org: "general-hospital", prac: "hospital-physician", minutes: 30, reasons: condRefs, location: true})
	for k, i := range problems {
		p.treatChronic(enc, condRefs[k], i)
	}
	p.vitals(enc, "general-hospital", "hospital-physician", true)
	p.labs(enc, p.r.between(1, 3))
}

// chronicProblems picks one or two distinct indexes into chronicDiagnoses.
func (p *patientGen) chronicProblems() []int {
	a, b := p.r.intn(len(chronicDiagnoses)), p.r.intn(len(chronicDiagnoses))
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// treatChronic records chronic problem i as condRef and prescribes its usual
// medication, if it has one.
func (p *patientGen) treatChronic(enc, condRef string, i int) {
	c := chronicDiagnoses[i]
	p.condition(conditionSpec{id: refID(condRef), dx: c.dx, encounter: enc,
		org: "general-hospital", prac: "hospital-physician"})
	if c.med.drug.code != "" {
		p.medicationRequest(medicationSpec{id: p.nextID("medrx"), med: c.med, encounter: enc,
			reason: condRef, org: "general-hospital", prac: "hospital-physician"})
	}
}

// ordinaryVisit is a follow-up at the hospital with vitals and maybe labs.
func (p *patientGen) ordinaryVisit() {
	kind := pick(p.r, []concept{encFollowUp, encProblem, encCheckUp})
	enc := p.encounter(encounterSpec{id: p.nextID("enc"), class: classAmbulatory, kind: kind,
		org: "general-hospital", prac: "hospital-physician", minutes: 20 + 5*p.r.intn(5), location: true})
	p.vitals(enc, "general-hospital", "hospital-physician", false)
	p.labs(enc, p.r.between(0, 2))
}

// refID returns the id part of a relative reference "Type/id".
func refID(ref string) string { return ref[strings.LastIndexByte(ref, '/')+1:] }

const vitalsProfile = "http://hl7.org/fhir/StructureDefinition/vitalsigns"

// vitals records blood pressure, heart rate, weight and BMI, and sometimes
// temperature, respiratory rate, oxygen saturation and height.
func (p *patientGen) vitals(enc, org, prac string, withHeight bool) {
	p.weight += p.r.between(-25, 25)
	p.bloodPressure(enc, org, prac)
	p.vital(enc, org, prac, obsHeartRate, "us-core-heart-rate", strconv.Itoa(p.r.between(56, 98)), "/min", "/min", "beats/minute")
	p.vital(enc, org, prac, obsBodyWeight, "us-core-body-weight", tenths(p.weight, 2), "kg", "kg", "kg")
	if withHeight {
		p.vital(enc, org, prac, obsBodyHeight, "us-core-body-height", tenths(p.height, 1), "cm", "cm", "cm")
	}
	p.vital(enc, org, prac, obsBMI, "us-core-bmi", p.bmi(), "kg/m2", "kg/m2", "kg/m2")
	if p.r.chance(60) {
		p.vital(enc, org, prac, obsBodyTemp, "us-core-body-temperature", tenths(p.r.between(361, 374), 1), "Cel", "Cel", "C")
	}
	if p.r.chance(50) {
		p.vital(enc, org, prac, obsRespRate, "us-core-respiratory-rate", strconv.Itoa(p.r.between(12, 20)), "/min", "/min", "breaths/minute")
	}
	if p.r.chance(50) {
		p.vital(enc, org, prac, obsSpO2, "us-core-pulse-oximetry", strconv.Itoa(p.r.between(94, 100)), "%", "%", "%")
	}
}

// tenths formats v/10 with the given number of decimals, e.g. 604 -> "60.40".
func tenths(v, decimals int) string {
	return strconv.FormatFloat(float64(v)/10, 'f', decimals, 64)
}

func (p *patientGen) bmi() string {
	m := float64(p.height) / 1000
	return strconv.FormatFloat(float64(p.weight)/10/(m*m), 'f', 2, 64)
}

// vital emits a single-value vital sign.
func (p *patientGen) vital(enc, org, prac string, code concept, profile, value, unit, ucum, shown string) {
	p.observation(observationSpec{
		id: p.nextID("obs"), category: "vital-signs", code: code,
		profiles: []string{vitalsProfile, usCore + profile}, encounter: enc, org: org, prac: prac,
		value:     field{"valueQuantity", quantity(value, unit, ucum)},
		valueText: value + " " + shown,
	})
}

// bloodPressure emits a blood pressure panel with systolic and diastolic
// components.
func (p *patientGen) bloodPressure(enc, org, prac string) {
	sys, dia := p.r.between(104, 158), p.r.between(62, 96)
	component := func(c concept, v int) obj {
		return obj{{"code", codeable(c.display, c)}, {"valueQuantity", quantity(strconv.Itoa(v), "mmHg", "mm[Hg]")}}
	}
	p.observation(observationSpec{
		id: p.nextID("obs"), category: "vital-signs", code: obsBPPanel,
		profiles: []string{vitalsProfile, usCore + "us-core-blood-pressure"}, encounter: enc,
		org: org, prac: prac,
		valueText:  fmt.Sprintf("%d/%d mmHg", sys, dia),
		components: arr{component(obsSystolic, sys), component(obsDiastolic, dia)},
	})
}

// labTest is a quantitative lab with its UCUM unit, reference range and a
// generator of plausible results.
type labTest struct {
	code       concept
	unit, ucum string
	low, high  string
	value      func(r *rnd) string
}

var labTests = []labTest{
	{obsA1c, "%", "%", "4.0", "5.6", func(r *rnd) string { return tenths(r.between(48, 92), 1) }},
	{obsGlucose, "mg/dL", "mg/dL", "70", "99", func(r *rnd) string { return strconv.Itoa(r.between(72, 180)) }},
	{obsCholesterol, "mg/dL", "mg/dL", "125", "200", func(r *rnd) string { return strconv.Itoa(r.between(140, 260)) }},
	{obsHemoglobin, "g/dL", "g/dL", "12.0", "17.5", func(r *rnd) string { return tenths(r.between(112, 171), 1) }},
	{obsCreatinine, "mg/dL", "mg/dL", "0.60", "1.20", func(r *rnd) string { return tenths(r.between(6, 14), 2) }},
}

// labs emits n distinct lab results drawn from labTests.
func (p *patientGen) labs(enc string, n int) {
	start := p.r.intn(len(labTests))
	for k := range n {
		t := labTests[(start+k)%len(labTests)]
		v := t.value(p.r)
		p.observation(observationSpec{
			id: p.nextID("obs"), category: "laboratory", code: t.code,
			profiles: []string{usCore + "us-core-observation-lab"}, encounter: enc,
			org: "general-hospital", prac: "hospital-physician",
			value:          field{"valueQuantity", quantity(v, t.unit, t.ucum)},
			valueText:      v + " " + t.unit,
			interpretation: interpret(v, t.low, t.high),
			refRange: obj{
				{"low", quantity(t.low, t.unit, t.ucum)},
				{"high", quantity(t.high, t.unit, t.ucum)},
				{"text", t.low + "-" + t.high + " " + t.unit},
			},
		})
	}
}

// immunizations records one to three vaccines given at the hospital.
func (p *patientGen) immunizations() {
	doc := staffByID("hospital-physician")
	hospital := actorByID("general-hospital")
	start := p.r.intn(len(vaccines))
	for k := range p.r.between(1, 3) {
		v := vaccines[(start+k)%len(vaccines)]
		at := p.clock.AddDate(0, 0, -p.r.between(30, 700))
		id := p.nextID("imm")
		lot := "L" + strconv.Itoa(p.r.between(10000, 99999))
		p.emit("Immunization", id, nil, false, append(header("Immunization", id, metaOf(at.Add(time.Hour), HospitalSource, usCore+"us-core-immunization"),
			[2]string{"status", "completed"},
			[2]string{"vaccineCode", v.display},
			[2]string{"patient", p.name},
			[2]string{"occurrence", dateTime(at)},
			[2]string{"lotNumber", lot}), obj{
			{"status", "completed"},
			{"vaccineCode", codeable(v.display, v)},
			{"patient", reference(p.ref, p.name)},
			{"occurrenceDateTime", dateTime(at)},
			{"primarySource", true},
			{"location", reference(hospitalLocationRef, hospital.name)},
			{"lotNumber", lot},
			{"performer", arr{obj{{"actor", reference(HospitalPractitionerRef, staffName(doc))}}}},
		}...))
	}
}

// allergies records zero to two allergies.
func (p *patientGen) allergies() {
	doc := staffByID("hospital-physician")
	start := p.r.intn(len(allergens))
	for k := range p.r.between(0, 2) {
		a := allergens[(start+k)%len(allergens)]
		id := p.nextID("allergy")
		at := p.clock.AddDate(0, 0, -p.r.between(100, 900))
		p.emit("AllergyIntolerance", id, nil, false, append(header("AllergyIntolerance", id, metaOf(at.Add(time.Hour), HospitalSource, usCore+"us-core-allergyintolerance"),
			[2]string{"clinicalStatus", "Active"},
			[2]string{"code", a.substance.display},
			[2]string{"patient", p.name},
			[2]string{"reaction", a.reaction.display}), obj{
			{"clinicalStatus", codeable("Active", concept{systemAllergyClin, "active", "Active"})},
			{"verificationStatus", codeable("Confirmed", concept{systemAllergyVerif, "confirmed", "Confirmed"})},
			{"type", "allergy"},
			{"category", arr{a.category}},
			{"criticality", "low"},
			{"code", codeable(a.substance.display, a.substance)},
			{"patient", reference(p.ref, p.name)},
			{"recordedDate", dateTime(at)},
			{"recorder", reference(HospitalPractitionerRef, staffName(doc))},
			{"reaction", arr{obj{
				{"manifestation", arr{codeable(a.reaction.display, a.reaction)}},
				{"severity", "mild"},
			}}},
		}...))
	}
}

var (
	interpLow    = concept{systemInterp, "L", "Low"}
	interpNormal = concept{systemInterp, "N", "Normal"}
	interpHigh   = concept{systemInterp, "H", "High"}
)

// interpret compares a decimal result with its reference range.
func interpret(value, low, high string) concept {
	v, _ := strconv.ParseFloat(value, 64)
	lo, _ := strconv.ParseFloat(low, 64)
	hi, _ := strconv.ParseFloat(high, 64)
	switch {
	case v < lo:
		return interpLow
	case v > hi:
		return interpHigh
	}
	return interpNormal
}
