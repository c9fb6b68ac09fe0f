package proxy

import (
	"encoding/json"
	"math"
	"slices"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// Item facts: what one resource says that a consent provision can name.
// They reach the policy only for patients whose consents have provisions
// with code, data or dataPeriod, or class for what an item carries
// (needsItemFacts); everyone else's items keep sharing one decision per
// class.
//
//   - Codes: the "system|code" codings of the resource's main code
//     elements, top level only: code, medicationCodeableConcept,
//     vaccineCode, type and category (each a CodeableConcept or a list of
//     them); a known clinical system in another spelling also under its
//     canonical URL (labels.CodeSystem).
//   - Reference: "Type/id".
//   - Clinical date: every one of these top-level elements present, from
//     the earliest to the latest (a Condition recorded or abated in a
//     refused data period is of it, whatever its onset), which covers the
//     clinical resources of R4: effectiveDateTime,
//     effectiveInstant, effectivePeriod (Observation, DiagnosticReport,
//     MedicationStatement/Administration), occurrenceDateTime,
//     occurrencePeriod (Immunization, ServiceRequest, ...),
//     performedDateTime, performedPeriod (Procedure), onsetDateTime,
//     onsetPeriod (Condition, AllergyIntolerance), period (Encounter,
//     EpisodeOfCare, CarePlan), authoredOn (MedicationRequest,
//     ServiceRequest), recordedDate (Condition), issued, date
//     (DocumentReference, Composition), created (Claim, ...), and
//     abatementDateTime, abatementPeriod (Condition), billablePeriod (Claim,
//     ExplanationOfBenefit), whenPrepared, whenHandedOver
//     (MedicationDispense); the other top-level dates of R4's clinical
//     resources (an Appointment's start and end, a MedicationStatement's
//     dateAsserted, a QuestionnaireResponse's authored ...: dateKeys); and
//     the dates of service held in elements (nestedDateKeys): a Claim's
//     or ExplanationOfBenefit's item.serviced[x], supportingInfo.timing[x],
//     procedure.date and accident.date, a DocumentReference's
//     context.period, a Composition's event.period, a MedicationRequest's
//     dispenseRequest.validityPeriod (QA round 37, area B). A time stated
//     as an age, a range, a text or a Timing (onsetAge, effectiveTiming
//     ...: vagueDateKeys) is a date that does not parse. A contained
//     resource's dates widen the record's (QA round 37, area B). Each is
//     the span of instants it may name (consent.DateSpan): "2020" is the
//     whole year, a date without a zone its day in every zone in use (or
//     in consents.date_zone), a Period
//     from its start's beginning to its end's end, open on a side it
//     leaves out (an ongoing condition); the item's date, [time_ns,
//     time_end_ns), runs from the earliest to the latest. A deny's data
//     period applies to a record whose span touches it, a permit's to one
//     whose span lies inside it: read as its first instant, a record dated
//     "2020" fell before a refusal of the second half of 2020 (QA round 36,
//     area B). A resource with none of them, or with one that does not
//     parse, has no clinical date, which a data period reads protectively
//     (a deny applies, a permit does not).
//   - Carried: the types, codes and Type/id of the resources the item
//     contains or carries, which a deny of a class, a code or a record
//     reads as the item's own (addCarriedFacts; QA round 38, area B).

// codeKeys are the members whose codings are the item's codes.
var codeKeys = []string{"code", "medicationCodeableConcept", "vaccineCode", "type", "category"}

// dateKeys are the top-level members read for the clinical date: all that
// are present count (clinicalSpan). A member that is a list (an
// appointment's requestedPeriod) counts each of its dates.
var dateKeys = []string{
	"effectiveDateTime", "effectiveInstant", "effectivePeriod",
	"occurrenceDateTime", "occurrencePeriod",
	"performedDateTime", "performedPeriod",
	"onsetDateTime", "onsetPeriod",
	"period", "authoredOn", "recordedDate", "issued", "date", "created",
	"abatementDateTime", "abatementPeriod", "billablePeriod", "whenPrepared", "whenHandedOver",
	// QA round 37, area B: the dates of the other clinical resources of
	// R4 (Appointment, MedicationStatement, Immunization,
	// QuestionnaireResponse, Goal, Task, Media, Provenance, Communication,
	// DeviceUseStatement, DetectedIssue, ImagingStudy, NutritionOrder,
	// ChargeItem, AdverseEvent, Specimen, VisionPrescription,
	// CoverageEligibilityRequest, Consent, AllergyIntolerance).
	"start", "end", "requestedPeriod", "dateAsserted", "recorded", "authored",
	"startDate", "statusDate", "executionPeriod", "lastModified",
	"createdDateTime", "createdPeriod", "occurredDateTime", "occurredPeriod",
	"sent", "received", "timingDateTime", "timingPeriod", "recordedOn",
	"identifiedDateTime", "identifiedPeriod", "started", "dateTime",
	"enteredDate", "detected", "receivedTime", "dateWritten",
	"servicedDate", "servicedPeriod", "lastOccurrence",
}

// vagueDateKeys are the members that state a clinical time the proxy
// cannot place on the calendar: an age, a range of ages, a text, a Timing,
// a coded start. Present, they leave the record no clinical date, as a date
// that does not parse does: read by its other dates alone, an opioid use
// disorder with onset "August 2020" recorded in 2021 was no data of 2020
// (QA round 37, area B).
var vagueDateKeys = []string{
	"onsetAge", "onsetRange", "onsetString",
	"abatementAge", "abatementRange", "abatementString",
	"performedAge", "performedRange", "performedString",
	"effectiveTiming", "occurrenceTiming", "occurrenceString",
	"timingTiming", "startCodeableConcept",
}

// nestedDate names a member holding an element, or a list of them, whose
// own members dates are clinical dates of the resource.
type nestedDate struct {
	member string
	dates  []string
}

// claimDates are a claim's dates of service: each item's, each supporting
// information's timing (an admission), each procedure's and the accident's.
var claimDates = []nestedDate{
	{"item", []string{"servicedDate", "servicedPeriod"}},
	{"supportingInfo", []string{"timingDate", "timingPeriod"}},
	{"procedure", []string{"date"}},
	{"accident", []string{"date"}},
}

// nestedDateKeys are, per resource type, the dates held in its elements,
// read as the top-level ones: a claim served in a refused data period is of
// it, whenever it was created or billed (QA round 37, area B).
var nestedDateKeys = map[string][]nestedDate{
	"Claim":                claimDates,
	"ExplanationOfBenefit": append(claimDates[:len(claimDates):len(claimDates)], nestedDate{"addItem", []string{"servicedDate", "servicedPeriod"}}),
	"ClaimResponse":        {{"addItem", []string{"servicedDate", "servicedPeriod"}}},
	"DocumentReference":    {{"context", []string{"period"}}},
	"Composition":          {{"event", []string{"period"}}},
	"MedicationRequest":    {{"dispenseRequest", []string{"validityPeriod"}}},
	"Encounter":            {{"location", []string{"period"}}},
	"Goal":                 {{"target", []string{"dueDate"}}},
	"Specimen":             {{"collection", []string{"collectedDateTime", "collectedPeriod"}}},
	"AllergyIntolerance":   {{"reaction", []string{"onset"}}},
}

// factNeeds says which facts the patient's consents can use: codes
// (provision.code), the reference (provision.data), the clinical date
// (provision.dataPeriod) and, of the resources an item carries, their types
// (provision.class). Facts no provision names are left empty, so that
// items differing only in them still share a class.
type factNeeds struct {
	codes, reference, date, classes bool
}

func (n factNeeds) any() bool { return n.own() || n.classes }

// own says whether the item's own facts are needed (itemFacts).
func (n factNeeds) own() bool { return n.codes || n.reference || n.date }

// carried says whether the facts of the resources an item carries are
// needed (addCarriedFacts).
func (n factNeeds) carried() bool { return n.codes || n.reference || n.classes }

// itemFacts reads the facts of one resource that n asks for. It never
// fails: what cannot be read is left out, and the policy reads missing
// facts protectively.
func itemFacts(n factNeeds, typ, id string, resource []byte) *policy.ItemFacts {
	f := &policy.ItemFacts{Codes: []string{}}
	if n.reference && typ != "" && id != "" {
		f.Reference = typ + "/" + id
	}
	if !n.codes && !n.date {
		return f
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(resource, &top); err != nil {
		return f
	}
	seen := map[string]bool{}
	for _, k := range codeKeys {
		if !n.codes {
			break
		}
		for _, c := range codings(top[k]) {
			if !seen[c] {
				seen[c] = true
				f.Codes = append(f.Codes, c)
			}
		}
	}
	if n.date {
		if start, end, ok := clinicalSpan(typ, top); ok {
			f.TimeNS, f.TimeEndNS = &start, &end
		}
	}
	return f
}

// addCarriedFacts adds to f the facts n asks for of the resources carried,
// which an item contains or carries (findContained: its contained
// resources, a contained Bundle's entries, a contained Parameters'
// resources and theirs in turn, an operation's Parameters answer's
// resources): their types, their codes (codeKeys) and their Type/id. They
// are part of the record, and a deny of a code, a class or a record applies
// to it when one of them matches: a toxicology report of a Part 2 program
// containing the urine drug screen p1's consent refuses org-a went to
// org-a whole, read by the report's own code alone (QA round 38, area B).
// The policy reads them for denies only. A contained resource's id is
// local to its container; it counts as Type/id all the same, which can
// only withhold more.
func (r *run) addCarriedFacts(n factNeeds, f *policy.ItemFacts, carried []*item) error {
	add := func(list []string, v string) []string {
		if v == "" || slices.Contains(list, v) {
			return list
		}
		return append(list, v)
	}
	for _, c := range carried {
		if n.classes {
			f.CarriedTypes = add(f.CarriedTypes, c.res.Type)
		}
		if n.reference && c.res.Type != "" && c.res.ID != "" {
			f.CarriedReferences = add(f.CarriedReferences, c.res.Type+"/"+c.res.ID)
		}
		if !n.codes {
			continue
		}
		for _, k := range codeKeys {
			s, e, ok, err := fjson.Lookup(r.body, c.start, k)
			if err != nil {
				return asFailure(err)
			}
			if !ok {
				continue
			}
			for _, code := range codings(r.body[s:e]) {
				f.CarriedCodes = add(f.CarriedCodes, code)
			}
		}
	}
	return nil
}

// clinicalSpan is the span from the earliest to the latest instant any
// clinical date of the resource (dateKeys, nestedDateKeys) may name: a
// Condition recorded or abated in a refused data period is data of that
// period, whatever its onset (QA round 36, area B), and so is a claim whose
// item was served in it. A date present that does not parse, a time it
// cannot place (vagueDateKeys), or an element holding dates that is no
// element, makes the span unknown (false), which a data period reads
// protectively.
func clinicalSpan(typ string, top map[string]json.RawMessage) (start, end int64, ok bool) {
	sp := dateSpan{start: math.MaxInt64, end: math.MinInt64}
	if !sp.addResource(typ, top) {
		return 0, 0, false
	}
	// A contained resource is part of the record, and its dates are the
	// record's: a DiagnosticReport of 2021 holding the urine drug screen
	// of August 2020 it reports went whole to a caller refused the second
	// half of 2020 (QA round 37, area B). They widen the record's own
	// span; a record of no date of its own keeps none.
	if raw, present := top["contained"]; present && sp.start < sp.end {
		var contained []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &contained); err != nil {
			return 0, 0, false
		}
		for _, c := range contained {
			if !sp.addCarried(c, 0) {
				return 0, 0, false
			}
		}
	}
	return sp.start, sp.end, sp.start < sp.end
}

// addCarried widens the span over the clinical dates of a contained
// resource and of the resources it carries: its own contained ones, and a
// Bundle's entries or a Parameters' parameters and parts, which are contained
// resources of the record too (addContained): a DiagnosticReport of 2021
// holding the screen of August 2020 in a contained collection went whole
// to a caller refused the second half of 2020 (QA round 37, area G). depth
// counts the Bundles and Parameters res lies in (maxBundleNesting); false
// when a date, or what holds one, cannot be read.
func (sp *dateSpan) addCarried(res map[string]json.RawMessage, depth int) bool {
	var typ string
	if err := json.Unmarshal(res["resourceType"], &typ); err != nil || !sp.addResource(typ, res) {
		return false
	}
	var carried []map[string]json.RawMessage
	if raw, present := res["contained"]; present {
		// Its own contained resources, labelled as the record's too.
		if err := json.Unmarshal(raw, &carried); err != nil {
			return false
		}
	}
	// carry takes the resource an entry or a parameter holds.
	carry := func(holder map[string]json.RawMessage) bool {
		raw, present := holder["resource"]
		if !present {
			return true
		}
		var r map[string]json.RawMessage
		if err := json.Unmarshal(raw, &r); err != nil {
			return false
		}
		carried = append(carried, r)
		return true
	}
	switch typ {
	case "Bundle":
		raw, present := res["entry"]
		if !present {
			break
		}
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			return false
		}
		for _, e := range entries {
			if !carry(e) {
				return false
			}
			// An entry's response.outcome is typed Resource, labelled as
			// a contained resource too (QA round 38, area A).
			if raw, present := e["response"]; present {
				var response map[string]json.RawMessage
				if err := json.Unmarshal(raw, &response); err != nil {
					return false
				}
				if raw, present := response["outcome"]; present {
					var r map[string]json.RawMessage
					if err := json.Unmarshal(raw, &r); err != nil {
						return false
					}
					carried = append(carried, r)
				}
			}
		}
	case "Parameters":
		var walk func(raw json.RawMessage) bool
		walk = func(raw json.RawMessage) bool {
			var ps []map[string]json.RawMessage
			if err := json.Unmarshal(raw, &ps); err != nil {
				return false
			}
			for _, p := range ps {
				if !carry(p) {
					return false
				}
				if raw, present := p["part"]; present && !walk(raw) {
					return false
				}
			}
			return true
		}
		if raw, present := res["parameter"]; present && !walk(raw) {
			return false
		}
	}
	if len(carried) > 0 && depth >= maxBundleNesting {
		return false
	}
	for _, r := range carried {
		if !sp.addCarried(r, depth+1) {
			return false
		}
	}
	return true
}

// addResource widens the span over the clinical dates of one resource of
// type typ (dateKeys, nestedDateKeys); false when one cannot be read
// (vagueDateKeys too).
func (sp *dateSpan) addResource(typ string, top map[string]json.RawMessage) bool {
	for _, k := range dateKeys {
		if raw, present := top[k]; present && !sp.add(raw) {
			return false
		}
	}
	for _, k := range vagueDateKeys {
		if _, present := top[k]; present {
			return false
		}
	}
	for _, n := range nestedDateKeys[typ] {
		raw, present := top[n.member]
		if !present {
			continue
		}
		var elems []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			var one map[string]json.RawMessage
			if err := json.Unmarshal(raw, &one); err != nil {
				return false
			}
			elems = append(elems, one)
		}
		for _, el := range elems {
			for _, k := range n.dates {
				if raw, present := el[k]; present && !sp.add(raw) {
					return false
				}
			}
		}
	}
	return true
}

// dateSpan gathers the earliest start and the latest end of the dates
// added.
type dateSpan struct{ start, end int64 }

// add widens the span over a date, a Period or a list of them; false when
// one does not parse.
func (sp *dateSpan) add(raw json.RawMessage) bool {
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return false
		}
		for _, r := range list {
			if !sp.add(r) {
				return false
			}
		}
		return true
	}
	s, e, parsed := clinicalTime(raw)
	if !parsed {
		return false
	}
	sp.start, sp.end = min(sp.start, s), max(sp.end, e)
	return true
}

type codeableConcept struct {
	Coding []struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"coding"`
}

// codings returns "system|code" for each coding of a CodeableConcept or a
// list of them.
func codings(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []codeableConcept
	if err := json.Unmarshal(raw, &list); err != nil {
		var one codeableConcept
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil
		}
		list = []codeableConcept{one}
	}
	var out []string
	for _, cc := range list {
		for _, c := range cc.Coding {
			if c.Code == "" {
				continue
			}
			out = append(out, c.System+"|"+c.Code)
			// A known clinical system in another spelling (https, an
			// OID, another case, a |version ...) also counts under its
			// canonical URL, as the labeller reads it and as a consent's
			// provision codes reach the policy (consent: systemCodes): a
			// deny naming http://snomed.info/sct|X must reach an item
			// coded https://snomed.info/sct|X.
			canon, key := labels.CodeKey(c.System, c.Code)
			if canon != c.System {
				out = append(out, canon+"|"+c.Code)
			}
			// And the code as the labeller keys it (ICD without dots,
			// upper case, an NDC's 11-digit form), as a consent's
			// provision codes also reach the policy.
			if key != c.Code {
				out = append(out, canon+"|"+key)
			}
		}
	}
	return out
}

// clinicalTime reads a FHIR date, dateTime, instant or Period as the span
// of instants it may name, [start, end): a Period from its start's first
// instant to its end's last, unbounded (math.MinInt64, math.MaxInt64) on
// a side it leaves out.
func clinicalTime(raw json.RawMessage) (start, end int64, ok bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		start, end, err := consent.DateSpan(s)
		return start, end, err == nil
	}
	var p struct{ Start, End string }
	if err := json.Unmarshal(raw, &p); err != nil || (p.Start == "" && p.End == "") {
		return 0, 0, false
	}
	start, end = math.MinInt64, math.MaxInt64
	var err error
	if p.Start != "" {
		if start, _, err = consent.DateSpan(p.Start); err != nil {
			return 0, 0, false
		}
	}
	if p.End != "" {
		if _, end, err = consent.DateSpan(p.End); err != nil {
			return 0, 0, false
		}
	}
	return start, end, start < end
}

// needsItemFacts says which facts the provisions of the consents name.
// Consents of a form it does not know ask for every fact: facts only make
// decisions more precise.
func needsItemFacts(values []any) factNeeds {
	var need factNeeds
	for _, v := range values {
		var n *consent.Normalized
		switch x := v.(type) {
		case *consent.Normalized:
			n = x
		case consent.Normalized:
			n = &x
		default:
			return factNeeds{codes: true, reference: true, date: true, classes: true}
		}
		for _, r := range n.Rules {
			for _, c := range r.Conditions {
				need.codes = need.codes || len(c.Codes) > 0
				need.reference = need.reference || len(c.Data) > 0 || len(c.DataRefs) > 0
				need.date = need.date || c.DataStart != 0 || c.DataEnd != 0
				need.classes = need.classes || len(c.Classes) > 0
			}
		}
	}
	return need
}
