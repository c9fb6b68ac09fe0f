package synth

import "strconv"

var (
	sud = []string{TopicSUD}
	mh  = []string{TopicMH}
	hiv = []string{TopicHIV}
	sdv = []string{TopicSDV}
)

// part2Treatment is an intake at the Part 2 program: an encounter, the
// opioid dependence diagnosis, medication for opioid use disorder and a
// urine drug screen, all recorded by the program. When fixed is true the
// content does not depend on the seed (patient 0's guarantee).
func (p *patientGen) part2Treatment(fixed bool) {
	const org, prac = "part2-clinic", "part2-clinician"
	condRef := "Condition/" + p.id + "-p2-cond"
	reasons := []string{condRef}
	withAlcohol := !fixed && p.r.chance(35)
	if withAlcohol {
		reasons = append(reasons, "Condition/"+p.id+"-p2-aud-cond")
	}
	enc := p.encounter(encounterSpec{id: p.id + "-p2-enc", class: classAmbulatory, kind: encProblem,
		org: org, prac: prac, minutes: 60, reasons: reasons, topics: sud, part2: true, location: true})
	p.condition(conditionSpec{id: refID(condRef), dx: dxOpioidDependence, diagnosis: true, encounter: enc,
		org: org, prac: prac, topics: sud, part2: true})
	if withAlcohol {
		p.condition(conditionSpec{id: p.id + "-p2-aud-cond", dx: dxAlcoholDependence, diagnosis: true,
			encounter: enc, org: org, prac: prac, topics: sud, part2: true})
	}
	med := medBupNal
	if !fixed {
		med = pick(p.r, []medication{medBupNal, medBupNalFilm, medMethadone})
	}
	p.medicationRequest(medicationSpec{id: p.id + "-p2-medrx", med: med, encounter: enc, reason: condRef,
		org: org, prac: prac, topics: sud, part2: true})
	p.drugScreen(p.id+"-p2-uds", obsOpiateScreen, enc, fixed || p.r.chance(60))
	if withAlcohol {
		p.drugScreen(p.id+"-p2-thc", obsTHCScreen, enc, p.r.chance(30))
	}
}

// drugScreen emits a qualitative urine drug screen done at the Part 2 program.
func (p *patientGen) drugScreen(id string, code concept, enc string, positive bool) {
	result := resultNegative
	if positive {
		result = resultPositive
	}
	p.observation(observationSpec{
		id: id, category: "laboratory", code: code,
		profiles: []string{usCore + "us-core-observation-lab"}, encounter: enc,
		org: "part2-clinic", prac: "part2-clinician",
		value:     field{"valueCodeableConcept", codeable(result.display, result)},
		valueText: result.display, topics: sud, part2: true,
	})
}

// edSubstanceUse is an emergency visit at the hospital where the ED
// physician records alcohol or opioid abuse: SUD information that is not a
// Part 2 record.
func (p *patientGen) edSubstanceUse() {
	condRef := "Condition/" + p.id + "-ed-sud-cond"
	enc := p.encounter(encounterSpec{id: p.id + "-ed-enc", class: classEmergency, kind: encEmergency,
		org: "general-hospital", prac: "hospital-ed-physician", minutes: 180, reasons: []string{condRef}})
	dx := pick(p.r, []diagnosis{dxAlcoholAbuse, dxOpioidAbuse})
	p.condition(conditionSpec{id: refID(condRef), dx: dx, diagnosis: true, encounter: enc,
		org: "general-hospital", prac: "hospital-ed-physician", topics: sud})
	p.vitals(enc, "general-hospital", "hospital-ed-physician", false)
}

// mentalHealth is a hospital visit that diagnoses depression (and, for some
// patients, anxiety), scores a PHQ-9 and starts an antidepressant.
func (p *patientGen) mentalHealth() {
	const org, prac = "general-hospital", "hospital-physician"
	depRef := "Condition/" + p.id + "-mh-dep-cond"
	reasons := []string{depRef}
	withAnxiety := p.id == patientID(2) || p.r.chance(50)
	if withAnxiety {
		reasons = append(reasons, "Condition/"+p.id+"-mh-anx-cond")
	}
	enc := p.encounter(encounterSpec{id: p.id + "-mh-enc", class: classAmbulatory, kind: encProblem,
		org: org, prac: prac, minutes: 40, reasons: reasons, location: true})
	p.condition(conditionSpec{id: refID(depRef), dx: dxDepression, diagnosis: true, encounter: enc,
		org: org, prac: prac, topics: mh})
	if withAnxiety {
		p.condition(conditionSpec{id: p.id + "-mh-anx-cond", dx: dxAnxiety, diagnosis: true, encounter: enc,
			org: org, prac: prac, topics: mh})
	}
	score := strconv.Itoa(p.r.between(10, 22))
	p.observation(observationSpec{
		id: p.id + "-mh-phq9", category: "survey", code: obsPHQ9,
		profiles: []string{usCore + "us-core-observation-screening-assessment"}, encounter: enc,
		org: org, prac: prac,
		value:     field{"valueInteger", num(score)},
		valueText: score, topics: mh,
	})
	p.medicationRequest(medicationSpec{id: p.id + "-mh-medrx", med: pick(p.r, []medication{medSertraline, medFluoxetine}),
		encounter: enc, reason: depRef, org: org, prac: prac, topics: mh})
}

// hivCare is an HIV clinic visit at the hospital: the diagnosis, viral load,
// CD4 count and antiretroviral therapy.
func (p *patientGen) hivCare() {
	const org, prac = "general-hospital", "hospital-physician"
	condRef := "Condition/" + p.id + "-hiv-cond"
	enc := p.encounter(encounterSpec{id: p.id + "-hiv-enc", class: classAmbulatory, kind: encFollowUp,
		org: org, prac: prac, minutes: 30, reasons: []string{condRef}, location: true})
	p.condition(conditionSpec{id: refID(condRef), dx: dxHIV, encounter: enc, org: org, prac: prac, topics: hiv})
	load := obj{{"value", num("20")}, {"comparator", "<"}, {"unit", "copies/mL"}, {"system", SystemUCUM}, {"code", "{copies}/mL"}}
	loadText := "<20 copies/mL"
	if p.r.chance(40) {
		v := strconv.Itoa(p.r.between(40, 90000))
		load = quantity(v, "copies/mL", "{copies}/mL")
		loadText = v + " copies/mL"
	}
	p.observation(observationSpec{
		id: p.id + "-hiv-vl", category: "laboratory", code: obsViralLoad,
		profiles: []string{usCore + "us-core-observation-lab"}, encounter: enc, org: org, prac: prac,
		value: field{"valueQuantity", load}, valueText: loadText, topics: hiv,
	})
	cd4 := strconv.Itoa(p.r.between(180, 1100))
	p.observation(observationSpec{
		id: p.id + "-hiv-cd4", category: "laboratory", code: obsCD4,
		profiles: []string{usCore + "us-core-observation-lab"}, encounter: enc, org: org, prac: prac,
		value: field{"valueQuantity", quantity(cd4, "cells/uL", "/uL")}, valueText: cd4 + " cells/uL",
		refRange: obj{
			{"low", quantity("500", "cells/uL", "/uL")},
			{"high", quantity("1500", "cells/uL", "/uL")},
			{"text", "500-1500 cells/uL"},
		},
		topics: hiv,
	})
	p.medicationRequest(medicationSpec{id: p.id + "-hiv-medrx", med: medBiktarvy, encounter: enc,
		reason: condRef, org: org, prac: prac, topics: hiv})
}

// domesticViolence is an emergency visit for a confirmed physical assault by
// a partner, with the history recorded on the problem list.
func (p *patientGen) domesticViolence() {
	const org, prac = "general-hospital", "hospital-ed-physician"
	condRef := "Condition/" + p.id + "-sdv-cond"
	enc := p.encounter(encounterSpec{id: p.id + "-sdv-enc", class: classEmergency, kind: encEmergency,
		org: org, prac: prac, minutes: 150, reasons: []string{condRef}})
	p.condition(conditionSpec{id: refID(condRef), dx: dxAdultAbuse, diagnosis: true, encounter: enc,
		org: org, prac: prac, topics: sdv})
	p.condition(conditionSpec{id: p.id + "-sdv-hx", dx: dxAbuseHistory, encounter: enc,
		org: org, prac: prac, topics: sdv})
}
