package labels

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
)

// Labeller assigns security labels to FHIR resources by code rules. It is
// safe for concurrent use.
type Labeller struct {
	rules    []compiledRule
	bySystem map[string]*matcher
}

// New returns a Labeller for rules, or an error listing every invalid rule.
func New(rules ...Rule) (*Labeller, error) {
	compiled, bySystem, err := compile(rules)
	if err != nil {
		return nil, err
	}
	return &Labeller{rules: compiled, bySystem: bySystem}, nil
}

// Reason explains one derived label: which rule assigned it because of
// which coding, and where that coding sits in the resource.
type Reason struct {
	Label   Label
	Rule    string // Rule.ID
	Matched string // "system|code" of the matching coding
	Path    string // JSON path of the coding, e.g. "code.coding[0]"
}

// Result is what Label found in one resource.
type Result struct {
	Type, ID, VersionID string

	// Patient is "Patient/<id>": the resource itself when it is a Patient,
	// else the patient named by its top-level subject, patient or
	// beneficiary reference ("Patient/x", or a URL ending in Patient/x,
	// version suffix ignored). It is empty when no reference names a
	// Patient (e.g. a Group subject or a urn:uuid reference).
	Patient string

	Existing Set      // labels found in meta.security, legacy systems normalised
	Labels   Set      // Existing plus derived labels, with one confidentiality: the highest
	Reasons  []Reason // why each derived label in Labels was assigned
	Changed  bool     // Labels differs from Existing
}

// maxDepth bounds how deep Label follows nested objects and arrays; real
// resources stay far below it.
const maxDepth = 128

// Label scans one resource (a JSON object) once. It reads resourceType, id,
// meta.versionId, meta.security, the patient reference and every Coding (any
// object with string "system" and "code" members, including those inside
// contained resources and extensions) and applies the rules.
//
// Label never panics on malformed input: it returns an error for invalid
// JSON, for a missing resourceType, for nesting deeper than 128 and for a
// duplicate of any member it relies on (resourceType, id, meta, versionId,
// security, subject, patient, beneficiary, and system or code in any
// object), since a second copy could hide labels from one reader. Callers
// should validate whole bodies with fjson.Validate, which rejects every
// duplicate key. Label never drops an existing label, except that a lower
// confidentiality gives way to the highest one.
func (l *Labeller) Label(resource []byte) (Result, error) {
	if len(resource) > math.MaxInt32 {
		return Result{}, errors.New("labels: resource larger than 2 GiB")
	}
	w := walker{l: l, b: resource}
	i := fjson.SkipSpace(resource, 0)
	if i >= len(resource) || resource[i] != '{' {
		return Result{}, errors.New("labels: resource is not a JSON object")
	}
	end, err := w.resource(i)
	if err != nil {
		return Result{}, fmt.Errorf("labels: reading resource: %w", err)
	}
	if fjson.SkipSpace(resource, end) != len(resource) {
		return Result{}, errors.New("labels: data after the resource")
	}
	if !w.typ.seen {
		return Result{}, errors.New("labels: resource has no resourceType")
	}
	return w.result()
}

// result assembles the Result once the walk is done.
func (w *walker) result() (Result, error) {
	var r Result
	r.Type = w.decode(w.typ)
	pid, err := w.patientID(r.Type)
	if err != nil {
		return Result{}, err
	}
	r.ID, r.VersionID, r.Patient = w.strings(pid)
	r.Existing = toSet(w.existing)
	derived, hits := w.derived(r.Type)
	r.Labels = r.Existing.Union(derived).highWater()
	r.Changed = !r.Labels.Equal(r.Existing)
	r.Reasons = w.reasons(hits, r.Labels)
	return r, nil
}

// strings returns the id, version id and "Patient/<pid>" of the resource,
// sharing one allocation.
func (w *walker) strings(pid []byte) (id, version, patient string) {
	rawID, rawVersion := w.decoded(w.id), w.decoded(w.versionID)
	var sb strings.Builder
	sb.Grow(len(rawID) + len(rawVersion) + len("Patient/") + len(pid))
	sb.Write(rawID)
	sb.Write(rawVersion)
	if len(pid) > 0 {
		sb.WriteString("Patient/")
		sb.Write(pid)
	}
	all := sb.String()
	id, all = all[:len(rawID)], all[len(rawID):]
	return id, all[:len(rawVersion)], all[len(rawVersion):]
}

// derived returns the labels of the rules that matched and apply to typ,
// and those matches.
func (w *walker) derived(typ string) (Set, []hit) {
	var out Set
	hits := w.hits[:0]
	for _, h := range w.hits {
		if r := &w.l.rules[h.rule]; r.appliesTo(typ) {
			out = out.Union(r.labels)
			hits = append(hits, h)
		}
	}
	return out, hits
}

// reasons explains each label of final assigned by a hit.
func (w *walker) reasons(hits []hit, final Set) []Reason {
	var out []Reason
	for _, h := range hits {
		r := &w.l.rules[h.rule]
		for _, lb := range r.labels {
			if final.Has(lb) {
				out = append(out, Reason{Label: lb, Rule: r.ID, Matched: h.matched, Path: h.path})
			}
		}
	}
	return out
}
