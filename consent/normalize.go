package consent

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Normalized is a consent in the form the Rego policy reads. The json tags
// are a contract with the policy: do not rename them. Lists are never null.
type Normalized struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	// Status is draft|proposed|active|rejected|inactive|entered-in-error;
	// only "active" consents should count.
	Status  string `json:"status"`
	Patient string `json:"patient"`
	// Policies are the policyRule codes and policy URIs, e.g. "42CFRPart2".
	Policies []string `json:"policies"`
	// Start is the root provision's period start in unix ns; 0 = unbounded.
	Start int64 `json:"start_ns"`
	// End is the root provision's exclusive period end in unix ns; 0 =
	// unbounded. FHIR dates are inclusive at their precision, so an end of
	// "2027-01-01" becomes 2027-01-02T00:00:00Z.
	End int64 `json:"end_ns"`
	// Rules is the provision tree flattened depth-first, root first. A
	// consent without provision has one rule, at path "policyRule", with one
	// empty condition and the base decision of its policyRule.
	Rules []Rule `json:"rules"`
	// RootTypeFrom says where the root rule's type came from:
	// "provision.type" (stated, R5-style), "policyRule" (R4: OPTIN permits,
	// OPTOUT denies) or "default" (neither: deny).
	RootTypeFrom string `json:"root_type_from"`
	// Source is "upstream" for a consent the upstream FHIR server holds
	// (its ID is then "upstream:<id>"), absent for one of ds4p's store.
	Source string `json:"source,omitempty"`
	// DenyOnly marks the losing copy of a consent held both locally and
	// upstream: only its deny provisions are kept (see Merge).
	DenyOnly bool `json:"deny_only,omitempty"`
	// Unreadable marks the stand-in for an upstream consent that failed
	// validation: an unconditional deny (see Unreadable).
	Unreadable bool `json:"unreadable,omitempty"`

	// What Merge matches copies of one consent by; not policy input.
	logicalID   string   // the resource id as its source knows it
	identifiers []string // Consent.identifier as "system|value"
	updated     int64    // the later of meta.lastUpdated and dateTime, unix ns
	serverTime  int64    // meta.lastUpdated alone (the server's), unix ns; 0 when none
	gone        bool     // Withdrawn: a version read and left out
}

// Gone reports whether n stands for an upstream consent read and left out
// (Withdrawn): not in force, or not a privacy consent. It goes to no
// policy; it only takes the place of the consent's other versions.
func (n Normalized) Gone() bool { return n.gone }

// Rule is one provision of the tree. A rule applies when every one of its
// Conditions matches; among the applying rules the deepest decides.
type Rule struct {
	// Path locates the provision: "provision", "provision.provision[1]", ...
	Path  string `json:"path"`
	Depth int    `json:"depth"`
	// Type is permit or deny. A nested provision without a type is an
	// exception to its parent and takes the opposite type.
	Type string `json:"type"`
	// Conditions holds one entry per level, from the root to this provision.
	Conditions []Cond `json:"conditions"`
}

// Cond is what one provision matches on. An empty list, or a zero time, is
// no constraint at that level; within a list any entry may match.
type Cond struct {
	// Actors are actor references ("Organization/o1") and actor identifiers
	// ("system|value").
	Actors []string `json:"actors"`
	// Roles are the actors' role codes.
	Roles []string `json:"roles"`
	// Purposes are purpose-of-use codes (v3-ActReason), code only.
	Purposes []string `json:"purposes"`
	// Labels are security labels as "system|code", legacy systems renamed to
	// the terminology.hl7.org ones.
	Labels []string `json:"labels"`
	// Classes are class codes, usually resource types.
	Classes []string `json:"classes"`
	// Codes are the codings of provision.code as "system|code".
	Codes []string `json:"codes"`
	// Actions are action codes (consentaction), code only.
	Actions []string `json:"actions"`
	// Start and End bound this provision's period in unix ns (End exclusive).
	Start int64 `json:"start_ns"`
	End   int64 `json:"end_ns"`
	// DataStart and DataEnd bound the data's own time (dataPeriod).
	DataStart int64 `json:"data_start_ns"`
	DataEnd   int64 `json:"data_end_ns"`
	// Data are the references of provision.data ("Condition/c1"), whatever
	// their meaning: a policy that reads only Data must treat them as a
	// constraint it cannot narrow to the instance.
	Data []string `json:"data"`
	// DataRefs are the same references with their meaning (instance,
	// related, dependents, authoredby).
	DataRefs []DataRef `json:"data_refs"`

	// zoneless says which of the four bounds above were dates without a
	// time and no date zone set; flatten settles them per rule (settle),
	// and settledAs is the rule type they were settled for ("" before).
	zoneless  zonelessBounds
	settledAs string
	// foreignData holds, at the index of each Data reference written under
	// a base URL that is not the upstream's (SetLocalServer), the reference
	// as written, "" at the others; nil when there is none. settle gives a
	// permit these as written, so that they match no item.
	foreignData []string
}

// zonelessBounds marks the bounds of a Cond that came from dates without a
// time: period start and end, dataPeriod start and end.
type zonelessBounds struct {
	start, end, dataStart, dataEnd bool
}

// settle reads the zoneless bounds of c for a rule of type typ. Such a day
// begins anywhere from 14 hours before to 12 hours after UTC's, so a deny
// takes the widest reading (from 14 hours early to 12 hours late) and a
// permit the narrowest (from 12 hours late to 14 hours early): neither a
// patient's refusal nor the end of a permission is read as ending before
// it may have, wherever the consent was signed. A permit of a single
// zoneless day so reads as permitting nothing; SetDateZone makes such
// dates exact.
func (c Cond) settle(typ string) Cond {
	if c.settledAs != "" {
		return c
	}
	early, late := settleShifts(typ)
	c = c.shift(early, late)
	c.settledAs = typ
	if typ == "permit" && c.foreignData != nil {
		c.Data, c.DataRefs = slices.Clone(c.Data), slices.Clone(c.DataRefs)
		for i, ref := range c.foreignData {
			if ref != "" && i < len(c.Data) {
				c.Data[i], c.DataRefs[i].Reference = ref, ref
			}
		}
	}
	return c
}

// written undoes settle: the bounds as the consent wrote them, read as UTC.
func (c Cond) written() Cond {
	if c.settledAs == "" {
		return c
	}
	early, late := settleShifts(c.settledAs)
	c = c.shift(-early, -late)
	c.settledAs = ""
	return c
}

// settleShifts returns how settle moves the zoneless starts and ends of a
// rule of type typ.
func settleShifts(typ string) (early, late time.Duration) {
	if typ == "deny" {
		return -dayAhead, dayBehind // start early, end late
	}
	return dayBehind, -dayAhead // start late, end early
}

// shift moves the zoneless starts by early and the zoneless ends by late.
func (c Cond) shift(early, late time.Duration) Cond {
	z := c.zoneless
	c.Start = shiftBound(c.Start, z.start, early)
	c.End = shiftBound(c.End, z.end, late)
	c.DataStart = shiftBound(c.DataStart, z.dataStart, early)
	c.DataEnd = shiftBound(c.DataEnd, z.dataEnd, late)
	return c
}

// shiftBound moves a zoneless bound by d; 0 (unbounded) stays. A bound
// moved onto 0 (which would read as unbounded) is moved one nanosecond
// further, the way d points.
func shiftBound(ns int64, zoneless bool, d time.Duration) int64 {
	if !zoneless || ns == 0 {
		return ns
	}
	if ns += int64(d); ns == 0 {
		if d > 0 {
			return 1
		}
		return -1
	}
	return ns
}

// DataRef is one provision.data entry.
type DataRef struct {
	Reference string `json:"reference"`
	Meaning   string `json:"meaning"`
}

// policyRulePath is the path of the rule a consent without provision gets.
const policyRulePath = "policyRule"

// Normalize turns a stored consent into the policy input form. It validates
// the consent again, so a Record built by hand cannot bypass the checks.
func Normalize(r Record) (Normalized, error) {
	doc, err := parse(r.JSON, 0)
	if err != nil {
		return Normalized{}, fmt.Errorf("consent: normalizing %s: %w", r.ID, err)
	}
	return normalizeParsed(doc, r.ID, strconv.FormatUint(r.Version, 10))
}

// normalizeParsed builds the policy form of a checked consent.
func normalizeParsed(doc *parsed, id, version string) (Normalized, error) {
	n := Normalized{
		ID:       id,
		Version:  version,
		Status:   doc.res.Status,
		Patient:  doc.res.Patient.Reference,
		Policies: doc.policies,
		Rules:    []Rule{},
	}
	n.logicalID, n.identifiers, n.updated = id, identifiersOf(doc.res.Identifier), updatedOf(&doc.res)
	n.serverTime = updatedOf(&resourceJSON{Meta: doc.res.Meta})
	if doc.root == nil {
		typ, from := baseRule(doc.res.PolicyRule)
		n.Rules = append(n.Rules, Rule{Path: policyRulePath, Type: typ, Conditions: []Cond{emptyCond()}})
		n.RootTypeFrom = from
	} else {
		// The consent is in force for as long as any reading of its period
		// allows; each rule then holds its own reading (Cond.settle).
		wide := doc.root.cond.settle("deny")
		n.Start, n.End = wide.Start, wide.End
		n.Rules = flatten(doc.root, nil, n.Rules)
		n.RootTypeFrom = doc.rootFrom
	}
	toGrantees(n.Rules, doc.grantees)
	return n, nil
}

// toGrantees gives every permit rule a level naming the grantees of an R5
// consent (r5Grantees), when it has any: a permit then applies only to a
// caller among them. The level goes after the root's, so the root stays
// first and a provision's own level last. Denies are left as they are:
// the grantees narrow what the consent permits and nothing it withholds.
func toGrantees(rules []Rule, grantees []string) {
	if len(grantees) == 0 {
		return
	}
	for i := range rules {
		if rules[i].Type != "permit" {
			continue
		}
		level := emptyCond()
		level.Actors = slices.Clone(grantees)
		rules[i].Conditions = slices.Insert(slices.Clip(rules[i].Conditions), 1, level)
	}
}

// emptyCond is a condition with no constraint, its lists empty, not nil.
func emptyCond() Cond {
	return Cond{
		Actors: []string{}, Roles: []string{}, Purposes: []string{}, Labels: []string{},
		Classes: []string{}, Codes: []string{}, Actions: []string{}, Data: []string{},
		DataRefs: []DataRef{},
	}
}

// flatten appends nd and its descendants, depth-first, to out. Each rule's
// conditions read their zoneless dates as the rule's type needs (settle).
func flatten(nd *node, parents []Cond, out []Rule) []Rule {
	conds := append(slices.Clip(parents), nd.cond)
	settled := make([]Cond, len(conds))
	for i, c := range conds {
		settled[i] = c.settle(nd.typ)
	}
	out = append(out, Rule{Path: nd.path, Depth: len(parents), Type: nd.typ, Conditions: settled})
	for _, child := range nd.children {
		out = flatten(child, conds, out)
	}
	return out
}
