package synth

import (
	"strconv"
	"time"
)

// encounterSpec describes an Encounter to build.
type encounterSpec struct {
	id       string
	class    concept
	kind     concept
	org      string   // actor id of the service provider
	prac     string   // staff id of the primary performer
	minutes  int      // length of the visit
	reasons  []string // Condition references
	topics   []string
	part2    bool
	location bool // whether to name the organisation's Location
}

// encounter emits an Encounter starting at the patient's clock and returns
// its reference.
func (p *patientGen) encounter(s encounterSpec) string {
	a, st := actorByID(s.org), staffByID(s.prac)
	start := p.clock
	end := start.Add(time.Duration(s.minutes) * time.Minute)
	period := obj{{"start", dateTime(start)}, {"end", dateTime(end)}}
	body := append(header("Encounter", s.id, metaOf(end.Add(time.Hour), a.source, usCore+"us-core-encounter"),
		[2]string{"status", "finished"},
		[2]string{"class", s.class.display},
		[2]string{"type", s.kind.display},
		[2]string{"subject", p.name},
		[2]string{"participant", staffName(st)},
		[2]string{"period", dateTime(start) + " --> " + dateTime(end)},
		[2]string{"serviceProvider", a.name}), obj{
		{"identifier", arr{identifierOf(a.source+"/sid/encounter", s.id)}},
		{"status", "finished"},
		{"class", codingOf(s.class)},
		{"type", arr{codeable(s.kind.display, s.kind)}},
		{"subject", reference(p.ref, p.name)},
		{"participant", arr{obj{
			{"type", arr{codeable("primary performer", concept{systemParticipType, "PPRF", "primary performer"})}},
			{"period", period},
			{"individual", reference("Practitioner/"+st.id, staffName(st))},
		}}},
		{"period", period},
	}...)
	if len(s.reasons) > 0 {
		refs := make(arr, len(s.reasons))
		for i, ref := range s.reasons {
			refs[i] = reference(ref, "")
		}
		body = append(body, field{"reasonReference", refs})
	}
	if s.location && a.location != "" {
		body = append(body, field{"location", arr{obj{{"location", reference("Location/"+a.location, a.name)}}}})
	}
	body = append(body, field{"serviceProvider", reference("Organization/"+a.id, a.name)})
	p.emit("Encounter", s.id, s.topics, s.part2, body)
	return "Encounter/" + s.id
}

// conditionSpec describes a Condition to build.
type conditionSpec struct {
	id        string
	dx        diagnosis
	diagnosis bool   // encounter-diagnosis rather than problem-list-item
	encounter string // Encounter reference, "" when none
	org, prac string
	topics    []string
	part2     bool
}

// condition emits a Condition recorded at the patient's clock. Its
// narrative names the diagnosis, as EHR-generated narratives do.
func (p *patientGen) condition(s conditionSpec) string {
	a, st := actorByID(s.org), staffByID(s.prac)
	category := concept{systemCondCategory, "problem-list-item", "Problem List Item"}
	profile := usCore + "us-core-condition-problems-health-concerns"
	if s.diagnosis {
		category = concept{systemCondCategory, "encounter-diagnosis", "Encounter Diagnosis"}
		profile = usCore + "us-core-condition-encounter-diagnosis"
	}
	onset := p.clock.AddDate(0, 0, -p.r.between(0, 60))
	body := append(header("Condition", s.id, metaOf(p.clock.Add(2*time.Hour), a.source, profile),
		[2]string{"clinicalStatus", "Active"},
		[2]string{"verificationStatus", "Confirmed"},
		[2]string{"category", category.display},
		[2]string{"code", s.dx.text + " (" + s.dx.codes[0].code + ")"},
		[2]string{"subject", p.name},
		[2]string{"onset", day(onset)},
		[2]string{"recorder", staffName(st)}), obj{
		{"clinicalStatus", codeable("Active", concept{systemCondClinical, "active", "Active"})},
		{"verificationStatus", codeable("Confirmed", concept{systemCondVerif, "confirmed", "Confirmed"})},
		{"category", arr{codeable(category.display, category)}},
		{"code", codeable(s.dx.text, s.dx.codes...)},
		{"subject", reference(p.ref, p.name)},
	}...)
	if s.encounter != "" {
		body = append(body, field{"encounter", reference(s.encounter, "")})
	}
	prac := reference("Practitioner/"+st.id, staffName(st))
	body = append(body,
		field{"onsetDateTime", dateTime(onset)},
		field{"recordedDate", dateTime(p.clock)},
		field{"recorder", prac},
		field{"asserter", prac})
	p.emit("Condition", s.id, s.topics, s.part2, body)
	return "Condition/" + s.id
}

// observationSpec describes an Observation to build.
type observationSpec struct {
	id         string
	category   string // vital-signs, laboratory or survey
	code       concept
	profiles   []string
	encounter  string
	org, prac  string
	value      field  // value[x], e.g. {"valueQuantity", quantity(...)}
	valueText  string // the value as the narrative shows it
	components arr
	refRange   obj
	// interpretation flags a result against its range; zero when none.
	interpretation concept
	topics         []string
	part2          bool
}

var categoryDisplay = map[string]string{
	"vital-signs": "Vital Signs",
	"laboratory":  "Laboratory",
	"survey":      "Survey",
}

// observation emits an Observation effective at the patient's clock.
func (p *patientGen) observation(s observationSpec) string {
	a, st := actorByID(s.org), staffByID(s.prac)
	issued := p.clock.Add(time.Duration(20+p.r.intn(240)) * time.Minute)
	cat := concept{systemObsCategory, s.category, categoryDisplay[s.category]}
	body := append(header("Observation", s.id, metaOf(issued, a.source, s.profiles...),
		[2]string{"status", "final"},
		[2]string{"category", cat.display},
		[2]string{"code", s.code.display},
		[2]string{"subject", p.name},
		[2]string{"effective", dateTime(p.clock)},
		[2]string{"performer", staffName(st)},
		[2]string{"value", s.valueText}), obj{
		{"identifier", arr{identifierOf(a.source+"/sid/observation", s.id)}},
		{"status", "final"},
		{"category", arr{codeable(cat.display, cat)}},
		{"code", codeable(s.code.display, s.code)},
		{"subject", reference(p.ref, p.name)},
	}...)
	if s.encounter != "" {
		body = append(body, field{"encounter", reference(s.encounter, "")})
	}
	body = append(body,
		field{"effectiveDateTime", dateTime(p.clock)},
		field{"issued", instant(issued)},
		field{"performer", arr{
			reference("Practitioner/"+st.id, staffName(st)),
			reference("Organization/"+a.id, a.name),
		}})
	if s.value.k != "" {
		body = append(body, s.value)
	}
	if s.interpretation.code != "" {
		body = append(body, field{"interpretation", arr{codeable(s.interpretation.display, s.interpretation)}})
	}
	if s.refRange != nil {
		body = append(body, field{"referenceRange", arr{s.refRange}})
	}
	if s.components != nil {
		body = append(body, field{"component", s.components})
	}
	p.emit("Observation", s.id, s.topics, s.part2, body)
	return "Observation/" + s.id
}

// medicationSpec describes a MedicationRequest to build.
type medicationSpec struct {
	id                string
	med               medication
	encounter, reason string
	org, prac         string
	topics            []string
	part2             bool
}

// medicationRequest emits an active outpatient MedicationRequest.
func (p *patientGen) medicationRequest(s medicationSpec) string {
	a, st := actorByID(s.org), staffByID(s.prac)
	m := s.med
	body := append(header("MedicationRequest", s.id, metaOf(p.clock.Add(90*time.Minute), a.source, usCore+"us-core-medicationrequest"),
		[2]string{"status", "Active"},
		[2]string{"intent", "Order"},
		[2]string{"medication", m.drug.display},
		[2]string{"subject", p.name},
		[2]string{"authoredOn", dateTime(p.clock)},
		[2]string{"requester", staffName(st)},
		[2]string{"dosageInstruction", m.sig}), obj{
		{"identifier", arr{identifierOf(a.source+"/sid/rx", "RX-"+strconv.Itoa(100000+p.r.intn(900000)))}},
		{"status", "active"},
		{"intent", "order"},
		{"category", arr{codeable("Outpatient", concept{systemMedReqCat, "outpatient", "Outpatient"})}},
		{"medicationCodeableConcept", codeable(m.drug.display, m.drug)},
		{"subject", reference(p.ref, p.name)},
		{"encounter", reference(s.encounter, "")},
		{"authoredOn", dateTime(p.clock)},
		{"requester", reference("Practitioner/"+st.id, staffName(st))},
	}...)
	if s.reason != "" {
		body = append(body, field{"reasonReference", arr{reference(s.reason, "")}})
	}
	body = append(body,
		field{"dosageInstruction", arr{dosage(m)}},
		field{"dispenseRequest", obj{
			{"numberOfRepeatsAllowed", p.r.between(0, 5)},
			{"quantity", obj{{"value", num(strconv.Itoa(m.monthlySupply()))}, {"unit", m.doseUnit}}},
			{"expectedSupplyDuration", quantity("30", "days", "d")},
		}})
	p.emit("MedicationRequest", s.id, s.topics, s.part2, body)
	return "MedicationRequest/" + s.id
}

func dosage(m medication) obj {
	return obj{
		{"sequence", 1},
		{"text", m.sig},
		{"timing", obj{{"repeat", obj{{"frequency", m.perDay}, {"period", 1}, {"periodUnit", "d"}}}}},
		{"route", codeable(m.route.display, m.route)},
		{"doseAndRate", arr{obj{
			{"type", codeable("Ordered", concept{"http://terminology.hl7.org/CodeSystem/dose-rate-type", "ordered", "Ordered"})},
			{"doseQuantity", obj{{"value", num(m.doseQty)}, {"unit", m.doseUnit}}},
		}}},
	}
}

// monthlySupply returns the number of dose units in thirty days.
func (m medication) monthlySupply() int {
	n, err := strconv.Atoi(m.doseQty)
	if err != nil {
		n = 1
	}
	return 30 * n * m.perDay
}
