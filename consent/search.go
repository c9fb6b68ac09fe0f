package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// Query selects consents by the FHIR R4 Consent search parameters ds4p
// supports. Within a list any value may match; all parameters given must
// match. The zero Query selects every consent.
type Query struct {
	// Patient is "Patient/<id>"; empty means any patient.
	Patient string
	// Status lists status codes.
	Status []string
	// Actor lists actor references ("Organization/o1") or identifiers
	// ("system|value"), matched against every provision's actors.
	Actor []string
	// Category lists tokens: "system|code", "code" (any system), "system|"
	// (any code of system) or "|code" (no system).
	Category []string
	// Period lists date conditions on the root provision's period; all must
	// hold.
	Period []DateParam
}

// DateParam is one FHIR date search value with its prefix.
type DateParam struct {
	// Prefix is eq, ne, gt, lt, ge, le, sa, eb or ap.
	Prefix string
	value  span
}

// searchParams are the parameters ParseQuery accepts.
const searchParams = "patient, status, actor, category, period"

// ParseQuery reads FHIR search parameters: patient (Patient/<id> or <id>),
// status, actor, category (comma-separated values match any) and period
// (repeatable, each with an optional prefix, e.g. period=ge2026-01-01).
// Unknown parameters are errors, so that a misspelt one never widens the
// result; every problem is reported in one *ValidationError.
func ParseQuery(values url.Values) (Query, error) {
	var q Query
	var errs problems
	for _, name := range slices.Sorted(maps.Keys(values)) {
		vs := values[name]
		switch name {
		case "_format":
			// The admin API answers JSON whatever is asked.
		case "patient", "status", "actor", "category":
			if len(vs) > 1 {
				errs.add(name, "is given %d times; give it once, with values separated by commas", len(vs))
			}
			q.setList(name, vs[0], &errs)
		case "period":
			for _, v := range vs {
				q.Period = append(q.Period, parseDateParam(v, &errs))
			}
		default:
			errs.add(name, "is not a supported search parameter (supported: %s)", searchParams)
		}
	}
	return q, errs.err()
}

// setList sets one list parameter from its comma-separated value.
func (q *Query) setList(name, value string, errs *problems) {
	var list []string
	for _, v := range strings.Split(value, ",") {
		if v = strings.TrimSpace(v); v != "" {
			list = append(list, v)
		}
	}
	if len(list) == 0 {
		errs.add(name, "is empty")
		return
	}
	switch name {
	case "patient":
		if len(list) > 1 {
			errs.add(name, "names %d patients; search one at a time", len(list))
		}
		q.Patient = list[0]
		if !strings.Contains(q.Patient, "/") {
			q.Patient = "Patient/" + q.Patient
		}
		if !patientRef.MatchString(q.Patient) {
			errs.add(name, "%q is not of the form Patient/<id>", list[0])
		}
	case "status":
		for _, s := range list {
			if !statuses[s] {
				errs.add(name, "%q is not a consent status", s)
			}
		}
		q.Status = list
	case "actor":
		q.Actor = list
	case "category":
		q.Category = list
	}
}

// datePrefixes are the FHIR search prefixes for dates.
var datePrefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

// parseDateParam reads "[prefix]date".
func parseDateParam(v string, errs *problems) DateParam {
	p := DateParam{Prefix: "eq"}
	if len(v) > 2 && slices.Contains(datePrefixes, v[:2]) {
		p.Prefix, v = v[:2], v[2:]
	}
	sp, err := parseSpan(v)
	if err != nil {
		errs.add("period", "%q is %v", v, err)
	}
	p.value = sp
	return p
}

// Search returns the latest version of every consent the query selects,
// ordered by consent id.
func (s *Store) Search(ctx context.Context, q Query) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("consent: searching: %w", err)
	}
	var recs []Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		if q.Patient != "" {
			recs, err = forPatient(b, q.Patient)
		} else {
			recs, err = all(b)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("consent: searching: %w", err)
	}
	out := recs[:0]
	for _, rec := range recs {
		if q.matches(rec) {
			out = append(out, rec)
		}
	}
	return out, nil
}

// all reads the head of every consent, ordered by id.
func all(b buckets) ([]Record, error) {
	recs := []Record{}
	err := b.heads.ForEach(func(k, _ []byte) error {
		rec, err := latest(b, string(k))
		if err == nil {
			recs = append(recs, rec)
		}
		return err
	})
	return recs, err
}

// searchDoc is what search reads of a stored consent. It is decoded
// leniently: a consent stored under older validation rules stays findable.
type searchDoc struct {
	Category  []codeableConcept `json:"category"`
	Provision *searchProvision  `json:"provision"`
}

// searchProvision is the part of a provision search reads.
type searchProvision struct {
	Period    *period           `json:"period"`
	Actor     []actor           `json:"actor"`
	Provision []searchProvision `json:"provision"`
}

// matches reports whether rec satisfies every parameter of q.
func (q Query) matches(rec Record) bool {
	if len(q.Status) > 0 && !slices.Contains(q.Status, rec.Status) {
		return false
	}
	if len(q.Actor) == 0 && len(q.Category) == 0 && len(q.Period) == 0 {
		return true
	}
	var doc searchDoc
	if err := json.Unmarshal(asR4(rec.JSON), &doc); err != nil {
		return false
	}
	return q.matchesCategory(doc.Category) && q.matchesActor(doc.Provision) && q.matchesPeriod(doc.Provision)
}

// matchesCategory reports whether any category coding matches any token.
func (q Query) matchesCategory(cats []codeableConcept) bool {
	if len(q.Category) == 0 {
		return true
	}
	for _, cc := range cats {
		for _, c := range cc.Coding {
			for _, tok := range q.Category {
				if tokenMatches(tok, c) {
					return true
				}
			}
		}
	}
	return false
}

// tokenMatches applies FHIR token search to one coding.
func tokenMatches(tok string, c coding) bool {
	system, code, hasBar := strings.Cut(tok, "|")
	switch {
	case !hasBar:
		return c.Code == tok
	case code == "":
		return c.System == system
	}
	return c.System == system && c.Code == code
}

// matchesActor reports whether any provision names one of the actors.
func (q Query) matchesActor(p *searchProvision) bool {
	if len(q.Actor) == 0 {
		return true
	}
	if p == nil {
		return false
	}
	for _, a := range p.Actor {
		if a.Reference != nil && slices.ContainsFunc(q.Actor, func(want string) bool { return actorIs(a.Reference, want) }) {
			return true
		}
	}
	for i := range p.Provision {
		if q.matchesActor(&p.Provision[i]) {
			return true
		}
	}
	return false
}

// actorIs reports whether ref is the actor want ("Type/id" or "system|value").
func actorIs(ref *reference, want string) bool {
	if ref.Reference != "" && ref.Reference == want {
		return true
	}
	id := ref.Identifier
	return id != nil && id.System+"|"+id.Value == want
}

// matchesPeriod applies every date condition to the root period, an absent
// bound being unbounded.
func (q Query) matchesPeriod(p *searchProvision) bool {
	if len(q.Period) == 0 {
		return true
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if p != nil && p.Period != nil {
		from, to = periodBounds(p.Period)
	}
	for _, d := range q.Period {
		if !d.holds(from, to) {
			return false
		}
	}
	return true
}

// periodBounds returns a stored period as [from, to) in unix ns.
func periodBounds(p *period) (from, to int64) {
	from, to = math.MinInt64, math.MaxInt64
	if sp, err := parseSpan(p.Start); p.Start != "" && err == nil {
		if ns, ok := startNs(sp.start); ok && ns != 0 {
			from = ns
		}
	}
	if sp, err := parseSpan(p.End); p.End != "" && err == nil {
		if ns, ok := endNs(sp.end); ok && ns != 0 {
			to = ns
		}
	}
	return from, to
}

// holds applies the FHIR R4 date search semantics of d's prefix to the
// target range [from, to).
func (d DateParam) holds(from, to int64) bool {
	vs, ve := d.value.start.UnixNano(), d.value.end.UnixNano()
	contains := vs <= from && to <= ve
	switch d.Prefix {
	case "ne":
		return !contains
	case "gt":
		return to > ve
	case "lt":
		return from < vs
	case "ge":
		return to > ve || contains
	case "le":
		return from < vs || contains
	case "sa":
		return from >= ve
	case "eb":
		return to <= vs
	case "ap":
		return from < ve && vs < to
	}
	return contains
}
