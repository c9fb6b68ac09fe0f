package proxy

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// Free text. A narrative (text.div) is written for people and may name
// what the coded elements say; the proxy cannot check it against the
// labels. So when anything of a resource is removed (a redacted element,
// attachment data), the whole text member goes: a neutral replacement
// would itself tell that something was withheld, and the REDACTED label
// already says so in the form DS4P defines. A resource that is disclosed
// whole keeps its narrative: the caller may see everything it names.
//
// An OperationOutcome, from the upstream as a body, a Bundle entry
// (search.mode outcome) or a batch/transaction entry.response.outcome, can
// quote data in its free text (issue.diagnostics, issue.details.text, its
// narrative): those are removed and severity, code, details.coding,
// expression and location stay. The proxy's own notice entry is written
// after this and keeps its text.

// Free text about the whole resource goes with the narrative when
// anything of it was cut or masked: a comment (note, an Annotation, on any
// resource) and the summaries of the types whose elements the labeller
// segments, which name what their elements hold (a CarePlan's title and
// description, a List's title, an ExplanationOfBenefit's disposition). A
// CarePlan whose SUD activity was cut kept "methadone maintenance plan"
// as its description, a List without its SUD entry the title "Problems
// incl. opioid use". A DiagnosticReport's conclusion goes likewise
// (attachment.go). Each is optional in FHIR R4.
var summaryMembers = map[string][]string{
	"CarePlan":             {"title", "description"},
	"List":                 {"title"},
	"ExplanationOfBenefit": {"disposition"},
	"ClaimResponse":        {"disposition"},
}

// summaryTargets are the values of it's free text about the whole
// resource (above), with their "_x" twins.
func (r *run) summaryTargets(it *item) ([]span, error) {
	names := summaryMembers[it.res.Type]
	var out []span
	err := fjson.ObjectEach(r.body, it.start, func(key []byte, s, e int) error {
		k := keyName(key)
		k = strings.TrimPrefix(k, "_")
		if k == "note" || slices.Contains(names, k) {
			out = append(out, span{s, e})
		}
		return nil
	})
	if err != nil {
		return nil, rewriteFailure(err)
	}
	return out, nil
}

var (
	errOverlap     = errors.New("overlapping edits")
	errPruneAll    = errors.New("redaction would remove the whole resource")
	errPruneScalar = errors.New("redaction target inside a scalar")
)

// narrativeSpan is the value of the item's top-level text member.
func (r *run) narrativeSpan(it *item) (span, bool, error) {
	s, e, ok, err := fjson.Lookup(r.body, it.start, "text")
	if err != nil {
		return span{}, false, rewriteFailure(err)
	}
	return span{s, e}, ok, nil
}

// outcomeTargets are the free-text values of the OperationOutcome at
// start: its text, and each issue's diagnostics and details.text. An issue
// array, or an issue's details, written otherwise than FHIR's JSON writes
// it (an issue as one object rather than an array of one, details as an
// array; invalid, but a server may store it, and other readers take the
// one as the array's one element and the other's elements each as the
// details) is read so: skipped, its diagnostics ("row for F11.20
// skipped") went out (QA round 34, area A).
func outcomeTargets(b []byte, start int) ([]span, error) {
	var out []span
	err := fjson.ObjectEach(b, start, func(key []byte, s, e int) error {
		switch keyName(key) {
		case "text":
			out = append(out, span{s, e})
		case "issue":
			return objectsIn(b, s, e, &out, func(is, _ int) error {
				return fjson.ObjectEach(b, is, func(k []byte, ks, ke int) error {
					switch keyName(k) {
					case "diagnostics":
						out = append(out, span{ks, ke})
					case "details":
						return objectsIn(b, ks, ke, &out, func(ds, _ int) error {
							if ts, te, ok, err := fjson.Lookup(b, ds, "text"); err != nil {
								return err
							} else if ok {
								out = append(out, span{ts, te})
							}
							return nil
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	return out, err
}

// entryOutcomeTargets are the values of the OperationOutcome at b[start]
// (an entry's response.outcome) other than its resourceType, id and its
// issues' severity and code. It is not labelled as a resource is, and
// what it carries went to the caller with it: a Condition labelled R in
// its contained array, text in an extension (QA round 38, area A), in a
// modifierExtension, an issue's extension, details.coding display or
// code (F11.20), expression or location, or its meta's tags (area E).
func entryOutcomeTargets(b []byte, start int) ([]span, error) {
	var out []span
	err := fjson.ObjectEach(b, start, func(key []byte, s, e int) error {
		switch keyName(key) {
		case "resourceType":
		case "id":
			// Kept only as an id, as an issue's code only as a code: one
			// written as free text ("Opioid use disorder F11.20"), an
			// object or an array went out past the cut (QA round 39,
			// area A).
			if v, ok := fjson.StringValue(b, s, e); !ok || !labels.ValidID(v) {
				out = append(out, span{s, e})
			}
		case "issue":
			return objectsIn(b, s, e, &out, func(is, _ int) error {
				return fjson.ObjectEach(b, is, func(k []byte, ks, ke int) error {
					switch keyName(k) {
					case "severity":
						if v, ok := fjson.StringValue(b, ks, ke); ok && issueSeverities[v] {
							return nil
						}
					case "code":
						if v, ok := fjson.StringValue(b, ks, ke); ok && issueTypes[v] {
							return nil
						}
					}
					// Anything else goes, and so does a severity or code
					// that is no code of its value set: one written as an
					// object, an array or free text ("Opioid use disorder
					// F11.20") carried what the cut takes (QA round 38,
					// area J).
					out = append(out, span{ks, ke})
					return nil
				})
			})
		default:
			out = append(out, span{s, e})
		}
		return nil
	})
	return out, err
}

// issueSeverities and issueTypes are the codes of FHIR R4's
// IssueSeverity and IssueType value sets (required bindings of an
// OperationOutcome issue's severity and code).
var (
	issueSeverities = map[string]bool{"fatal": true, "error": true, "warning": true, "information": true}
	issueTypes      = map[string]bool{
		"invalid": true, "structure": true, "required": true, "value": true, "invariant": true,
		"security": true, "login": true, "unknown": true, "expired": true, "forbidden": true, "suppressed": true,
		"processing": true, "not-supported": true, "duplicate": true, "multiple-matches": true, "not-found": true,
		"deleted": true, "too-long": true, "code-invalid": true, "extension": true, "too-costly": true,
		"business-rule": true, "conflict": true, "transient": true, "lock-error": true, "no-store": true,
		"exception": true, "timeout": true, "incomplete": true, "throttled": true, "informational": true,
	}
)

// objectsIn calls fn with each object of the value b[vs:ve]: the object
// elements of an array, or the value itself when it is one object. Any
// other value (a string, a number, an array's element that is not an
// object) is added to other, stripped whole: it cannot be read for its
// free text, and a details or an issue written as a string ("row for
// F11.20 skipped") went out as it was (QA round 34, area G).
func objectsIn(b []byte, vs, ve int, other *[]span, fn func(s, e int) error) error {
	switch b[vs] {
	case '{':
		return fn(vs, ve)
	case '[':
		return fjson.ArrayEach(b, vs, func(s, e int) error {
			if b[s] != '{' {
				*other = append(*other, span{s, e})
				return nil
			}
			return fn(s, e)
		})
	case 'n': // null
		return nil
	}
	*other = append(*other, span{vs, ve})
	return nil
}

// outcomeEdits returns the edits that leave the OperationOutcome object
// at b[start:end] (an entry's response.outcome) nothing but its type, id
// and its issues' severity and code (entryOutcomeTargets).
func outcomeEdits(b []byte, start, end int) ([]fjson.Edit, error) {
	start, end = trim(b, start, end)
	if b[start] != '{' {
		return nil, nil
	}
	targets, err := entryOutcomeTargets(b, start)
	if err != nil || len(targets) == 0 {
		if err != nil {
			return nil, fail(http.StatusBadGateway, "processing", "the FHIR server answered with an OperationOutcome the proxy cannot read", err)
		}
		return nil, nil
	}
	edits, err := pruneEdits(b, start, end, targets)
	if err != nil {
		return nil, rewriteFailure(err)
	}
	return sortEdits(edits)
}
