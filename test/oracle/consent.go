package oracle

import (
	"encoding/json"
	"slices"
	"time"
)

// Provision is one node of a consent's provision tree, in the few shapes
// the scenario runner writes: who (organisation references), why
// (purposes of use, v3-ActReason) and what (resource types). An empty
// list states nothing about that dimension.
type Provision struct {
	Type     string // "permit" or "deny"
	Actors   []string
	Purposes []string
	Classes  []string
	Children []Provision
}

// Consent is a FHIR R4 privacy consent as the runner stored it, and the
// state it is in now (Revoked after `$revoke`).
type Consent struct {
	ID      string
	Patient string // "Patient/pat-0"
	Variant string // how the runner made it, for reports
	Start   time.Time
	End     time.Time // zero: unbounded
	Revoked bool
	Root    Provision
}

// inForce reports whether the consent counts at now: active (not revoked)
// and inside its period [Start, End).
func (c Consent) inForce(now time.Time) bool {
	if c.Revoked {
		return false
	}
	if !c.Start.IsZero() && now.Before(c.Start) {
		return false
	}
	return c.End.IsZero() || now.Before(c.End)
}

// verdict is what one consent says about one caller and one resource type.
type verdict int

const (
	silent  verdict = iota // no provision matches
	permits                // the deciding provisions permit
	denies                 // a deciding provision denies
)

// judge walks the provision tree (FHIR R4: each nested provision is an
// exception to its parent). A matching provision is decided by its matching
// exceptions, the most specific of each branch, and where several branches
// match a deny wins whatever their depth; one none of whose exceptions
// matches decides by its own type. (A permit nested under a deny of org-a
// does not lift a sibling deny of Part 2 records: QA round 29.) It also
// says whether a permit names both a recipient and a purpose, which 42 CFR
// 2.31(a) requires of a Part 2 consent, and whether a deny comes only from
// a root that frames permit exceptions ("no one but ..."), which is no
// objection to another consent's permit.
func (c Consent) judge(caller Caller, typ string) (v verdict, namesRecipient, framing bool) {
	var walk func(p Provision, depth int, actorNamed, purposeNamed bool) (verdict, int, bool)
	walk = func(p Provision, depth int, actorNamed, purposeNamed bool) (verdict, int, bool) {
		if !p.matches(caller, typ) {
			return silent, -1, false
		}
		actorNamed = actorNamed || len(p.Actors) > 0
		purposeNamed = purposeNamed || len(p.Purposes) > 0
		got, at, named := silent, -1, false
		for _, ch := range p.Children {
			cv, cd, cn := walk(ch, depth+1, actorNamed, purposeNamed)
			switch {
			case cv == denies && got != denies:
				got, at, named = denies, cd, false
			case cv == permits && got == silent:
				got, at, named = permits, cd, cn
			case cv == permits && got == permits:
				named = named || cn
			}
		}
		if got != silent {
			return got, at, named
		}
		if p.Type == "deny" {
			return denies, depth, false
		}
		return permits, depth, actorNamed && purposeNamed
	}
	best, at, named := walk(c.Root, 0, false, false)
	framing = best == denies && at == 0 && c.Root.states() == false && c.Root.hasPermit()
	return best, named && best == permits, framing
}

// matches: a permit applies only when the request lies inside everything it
// names (every purpose the caller states among its purposes); a deny applies
// when the request touches anything it names (or the caller states no
// purpose at all, which could be any).
func (p Provision) matches(caller Caller, typ string) bool {
	if len(p.Actors) > 0 && !slices.Contains(p.Actors, caller.Org) {
		return false
	}
	if len(p.Classes) > 0 && !slices.Contains(p.Classes, typ) {
		return false
	}
	if len(p.Purposes) == 0 {
		return true
	}
	if p.Type == "deny" {
		if len(caller.Purposes) == 0 {
			return true
		}
		for _, x := range caller.Purposes {
			if slices.Contains(p.Purposes, x) {
				return true
			}
		}
		return false
	}
	if len(caller.Purposes) == 0 {
		return false
	}
	for _, x := range caller.Purposes {
		if !slices.Contains(p.Purposes, x) {
			return false
		}
	}
	return true
}

func (p Provision) states() bool {
	return len(p.Actors) > 0 || len(p.Purposes) > 0 || len(p.Classes) > 0
}

func (p Provision) hasPermit() bool {
	for _, ch := range p.Children {
		if ch.Type == "permit" || ch.hasPermit() {
			return true
		}
	}
	return false
}

// JSON renders the consent as the FHIR R4 resource the runner stores.
func (c Consent) JSON() []byte {
	root := c.Root.fhir()
	if !c.Start.IsZero() || !c.End.IsZero() {
		period := map[string]string{}
		if !c.Start.IsZero() {
			period["start"] = c.Start.UTC().Format(time.RFC3339)
		}
		if !c.End.IsZero() {
			period["end"] = c.End.UTC().Format(time.RFC3339)
		}
		root["period"] = period
	}
	doc := map[string]any{
		"resourceType": "Consent",
		"id":           c.ID,
		"status":       "active",
		"scope":        coded("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"),
		"category":     []any{coded("http://loinc.org", "59284-0")},
		"patient":      map[string]string{"reference": c.Patient},
		"policyRule":   coded("http://terminology.hl7.org/CodeSystem/v3-ActCode", "42CFRPart2"),
		"provision":    root,
	}
	b, _ := json.Marshal(doc)
	return b
}

func (p Provision) fhir() map[string]any {
	out := map[string]any{"type": p.Type}
	if len(p.Actors) > 0 {
		var actors []any
		for _, a := range p.Actors {
			actors = append(actors, map[string]any{
				"role":      coded("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP"),
				"reference": map[string]string{"reference": a},
			})
		}
		out["actor"] = actors
	}
	if len(p.Purposes) > 0 {
		var ps []any
		for _, x := range p.Purposes {
			ps = append(ps, map[string]string{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": x})
		}
		out["purpose"] = ps
	}
	if len(p.Classes) > 0 {
		var cs []any
		for _, x := range p.Classes {
			cs = append(cs, map[string]string{"system": "http://hl7.org/fhir/resource-types", "code": x})
		}
		out["class"] = cs
	}
	if len(p.Children) > 0 {
		var ch []any
		for _, x := range p.Children {
			ch = append(ch, x.fhir())
		}
		out["provision"] = ch
	}
	return out
}

func coded(system, code string) map[string]any {
	return map[string]any{"coding": []any{map[string]string{"system": system, "code": code}}}
}
