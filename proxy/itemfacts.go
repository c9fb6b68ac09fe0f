package proxy

import (
	"encoding/json"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// Item facts: what one resource says that a consent provision can name.
// They reach the policy only for patients whose consents have provisions
// with code, data or dataPeriod (needsItemFacts); everyone else's items
// keep sharing one decision per class.
//
//   - Codes: the "system|code" codings of the resource's main code
//     elements, top level only: code, medicationCodeableConcept,
//     vaccineCode, type and category (each a CodeableConcept or a list of
//     them); a known clinical system in another spelling also under its
//     canonical URL (labels.CodeSystem).
//   - Reference: "Type/id".
//   - Clinical date: the first of these top-level elements present, which
//     covers the clinical resources of R4: effectiveDateTime,
//     effectiveInstant, effectivePeriod (Observation, DiagnosticReport,
//     MedicationStatement/Administration), occurrenceDateTime,
//     occurrencePeriod (Immunization, ServiceRequest, ...),
//     performedDateTime, performedPeriod (Procedure), onsetDateTime,
//     onsetPeriod (Condition, AllergyIntolerance), period (Encounter,
//     EpisodeOfCare, CarePlan), authoredOn (MedicationRequest,
//     ServiceRequest), recordedDate (Condition), issued, date
//     (DocumentReference, Composition), created (Claim, ...). A Period
//     gives its start (its end when it has no start). A date without time
//     zone is read as UTC, at the start of its precision ("2020" is
//     2020-01-01T00:00:00Z). A resource with none of them, or with a date
//     that does not parse, has no clinical date, which a data period reads
//     protectively (a deny applies, a permit does not).

// codeKeys are the members whose codings are the item's codes.
var codeKeys = []string{"code", "medicationCodeableConcept", "vaccineCode", "type", "category"}

// dateKeys are the members tried for the clinical date, in order.
var dateKeys = []string{
	"effectiveDateTime", "effectiveInstant", "effectivePeriod",
	"occurrenceDateTime", "occurrencePeriod",
	"performedDateTime", "performedPeriod",
	"onsetDateTime", "onsetPeriod",
	"period", "authoredOn", "recordedDate", "issued", "date", "created",
}

// factNeeds says which facts the patient's consents can use: codes
// (provision.code), the reference (provision.data) and the clinical date
// (provision.dataPeriod). Facts no provision names are left empty, so that
// items differing only in them still share a class.
type factNeeds struct {
	codes, reference, date bool
}

func (n factNeeds) any() bool { return n.codes || n.reference || n.date }

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
	for _, k := range dateKeys {
		if !n.date {
			break
		}
		if raw, ok := top[k]; ok {
			if ns, ok := clinicalTime(raw); ok {
				f.TimeNS = &ns
			}
			break
		}
	}
	return f
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

// clinicalTime reads a FHIR date, dateTime, instant or Period.
func clinicalTime(raw json.RawMessage) (int64, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var p struct{ Start, End string }
		if err := json.Unmarshal(raw, &p); err != nil {
			return 0, false
		}
		s = p.Start
		if s == "" {
			s = p.End
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), true
		}
	}
	return 0, false
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
			return factNeeds{codes: true, reference: true, date: true}
		}
		for _, r := range n.Rules {
			for _, c := range r.Conditions {
				need.codes = need.codes || len(c.Codes) > 0
				need.reference = need.reference || len(c.Data) > 0 || len(c.DataRefs) > 0
				need.date = need.date || c.DataStart != 0 || c.DataEnd != 0
			}
		}
	}
	return need
}
