package proxy

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// Enrolment. A Patient is never withheld for what is recorded about it
// elsewhere (its absence would tell as much), but a Patient whose
// managingOrganization or generalPractitioner names a 42 CFR Part 2
// program says by itself that the person is a patient of that program
// (42 CFR 2.13(c): disclosing that an identified person is a patient of a
// program needs consent). Those members get the Part 2 labels as element
// labels, so that each is decided as the program's records are: a caller
// who may not read them gets the Patient without the member (REDACTED,
// narrative dropped, redact.go), one who may gets it with its inline
// labels. QA found the member disclosed, and Patient?organization=<the
// program> listing the program's patients (refused in searchguard.go).

// enrolmentMembers are the Patient members whose references can name the
// program that manages or treats the person.
var enrolmentMembers = map[string]bool{"managingOrganization": true, "generalPractitioner": true}

// enrolmentNested are the Patient members whose elements name an
// organisation one level down: an identifier the program assigned (an
// MRN of its own) and a contact who is the program (QA round 30, area C:
// both reached a caller who may not read the program). The whole element
// goes, the identifier's value with its assigner.
// An extension whose valueReference is the program says as much (QA round
// 31, area C).
// The elements of contact, extension and modifierExtension are read at
// every depth (namesWithin): a complex extension, a modifierExtension, a
// valueIdentifier with the program's NPI and a contact's extension named
// the program to such a caller (QA round 32, area A).
var enrolmentNested = map[string]string{"identifier": "assigner", "contact": "organization", "extension": "valueReference",
	"modifierExtension": "valueReference"}

// namesWithin reports whether names reports an object at res[i] or any
// depth below it; past a bound it reports true (the element is cut): what
// it holds deeper was not read, and may name the program (QA round 32,
// area D).
func namesWithin(res []byte, i, depth int, names func(s, e int) (bool, error)) (bool, error) {
	if depth > 32 {
		return true, nil
	}
	found := false
	within := func(vs int) error {
		if found {
			return nil
		}
		var err error
		found, err = namesWithin(res, vs, depth+1, names)
		return err
	}
	switch res[i] {
	case '{':
		end, err := fjson.SkipValue(res, i)
		if err != nil {
			return false, err
		}
		if found, err = names(i, end); found || err != nil {
			return found, err
		}
		err = fjson.ObjectEach(res, i, func(_ []byte, vs, _ int) error { return within(vs) })
		return found, err
	case '[':
		err := fjson.ArrayEach(res, i, func(vs, _ int) error { return within(vs) })
		return found, err
	}
	return false, nil
}

// labelEnrolment adds the element labels to every Patient of the response
// that names a Part 2 program in an enrolment member.
func (r *run) labelEnrolment() error {
	l := r.s.labeller
	if !l.HasPrograms() {
		return nil
	}
	var local map[string]string // a Bundle's entries that are a program's, by fullUrl
	for _, it := range r.items {
		if it.res == nil || it.res.Type != "Patient" {
			continue
		}
		if local == nil {
			local = bundleLocalPrograms(r.body, l)
		}
		els, err := enrolmentElements(r.body[it.start:it.end], l, local, it.res.DirectoryProgram)
		if err != nil {
			return fail(http.StatusBadGateway, "processing", "a Patient from the FHIR server could not be labelled", err)
		}
		if len(els) == 0 {
			continue
		}
		for _, e := range els {
			it.res.Elements = append(it.res.Elements[:len(it.res.Elements):len(it.res.Elements)], e.ElementLabel)
		}
		it.withAside().enrolment = els
		it.res.Changed = true
	}
	return nil
}

// withholdProgramDirectory withholds, from a Bundle in which a Patient's
// enrolment was cut, or a later page of its search, the Part 2 programs' own
// directory resources (the Organization, a Practitioner configured as one of
// its references, and the entries standing for it: a department partOf it,
// its role, site or service): beside the cut Patient they would say what the cut hid
// (QA: Patient/p-p2/$everything returned Organization/part2-clinic, which no
// other patient's did; QA round 19: it did on the search's second page).
// Only in such a Bundle: a search for the Organization itself is not
// touched. A page before the cut Patient's cannot be recalled: servers list
// the Patient first in $everything.
func (r *run) withholdProgramDirectory(root *bundleNode) {
	if root == nil || !r.s.labeller.HasPrograms() {
		return
	}
	cut := r.ex.pageFlags&pageEnrolmentCut != 0
	shown := r.ex.pageFlags&pageEnrolmentShown != 0
	everything := r.ex.req.Type == "Patient" && r.ex.req.ID != "" && r.ex.req.Operation == "$everything"
	for _, it := range r.items {
		for _, e := range it.enrolment() {
			cut = cut || insideAny(e.Start, e.End, it.redacted)
		}
		if everything && it.res != nil && it.res.Type == "Patient" && it.res.ID == r.ex.req.ID {
			shown = shown || it.class.decision.Permitted()
		}
		if everything && it.res != nil && it.res.Program != "" && !it.class.decision.Permitted() {
			// A record of the program withheld (an Encounter its
			// department served): the server's $everything lists the
			// entries it names, the program's Organization, department,
			// site or role, which would tell what was withheld as a cut
			// enrolment would (QA round 42, helper A).
			cut = true
		}
	}
	// A page of Patient/x/$everything without the Patient (_type=
	// Organization, _since after the Patient's last change, a later page
	// the server ordered so) cannot tell whether the enrolment would be
	// cut: the program's directory resources are withheld there, as
	// beside a cut Patient (QA round 20: $everything?_type=Organization
	// released the program's Organization to a caller without consent).
	if everything && !shown {
		cut = true
	}
	r.enrolmentCut = cut
	r.enrolmentShown = shown && !cut
	if !cut {
		return
	}
	for _, it := range r.items {
		if it.res == nil || !it.class.decision.Permitted() {
			continue
		}
		// By its Type/id, or (a directory entry without one, in a stored
		// Bundle) by an identifier of the program (QA round 31, area C).
		if it.res.ID != "" && r.s.labeller.ProgramOfReference(it.res.Type+"/"+it.res.ID) != "" ||
			programOfResource(r.body[it.start:it.end], r.s.labeller) != "" ||
			it.res.Directory() != "" { // a department, role, site or service of it (QA round 41, area K)
			it.class = withheldClass(it.class, "part2-enrolment-directory", "a Part 2 program's directory resource beside a patient whose enrolment was cut")
		}
	}
}

// enrolmentElement is an enrolment member's element label and the words
// that would name the program in the Patient's narrative: the member's
// display, reference and identifier value, and the program's name.
type enrolmentElement struct {
	labels.ElementLabel
	words []string
}

// silentCut reports whether every removed element of it is an enrolment
// element: its removal then leaves no REDACTED label (and no
// PROCESSINLINELABEL), since on a Patient that mark would itself say the
// person is a program's patient (QA: a Patient search listed exactly the
// program's patients as the REDACTED ones). The narrative goes only when
// it names the program (narrativeNames).
func (it *item) silentCut() bool {
	if len(it.enrolment()) == 0 || len(it.redacted) == 0 {
		return false
	}
	for _, e := range it.redacted {
		if !it.isEnrolment(e) {
			return false
		}
	}
	return true
}

func (it *item) isEnrolment(e labels.ElementLabel) bool {
	for _, x := range it.enrolment() {
		if x.Start == e.Start && x.End == e.End {
			return true
		}
	}
	return false
}

// keptEnrolment reports whether an enrolment element stays (its inline
// labels are then written, and the resource needs PROCESSINLINELABEL).
func (it *item) keptEnrolment() bool {
	for _, e := range it.res.Elements {
		if it.isEnrolment(e) && !unlabellable(e) {
			return true
		}
	}
	return false
}

// unlabellable reports whether e is an enrolment element that can carry no
// inline label: a Patient's meta.source, a primitive. Cut for a caller who
// may not read the program's records, it goes as it came to one who may.
func unlabellable(e labels.ElementLabel) bool { return e.Path == "meta.source" }

// narrativeNames reports whether the Patient's narrative (text.div)
// mentions what a removed enrolment element named.
func (r *run) narrativeNames(it *item, sp span) bool {
	text := strings.ToLower(string(r.body[sp.start:sp.end]))
	for _, e := range it.enrolment() {
		if !insideAny(e.Start, e.End, it.redacted) { // kept: its words may stay
			continue
		}
		for _, w := range e.words {
			if w = strings.ToLower(strings.TrimSpace(w)); len(w) >= 3 && strings.Contains(text, w) {
				return true
			}
		}
	}
	return false
}

// decideNarratives withholds, silently, the narrative of every Patient
// that names a configured Part 2 program in prose (labels ProgramWords)
// from a caller who may not learn of that patient's enrolment: the class
// an enrolment element of the patient would have is denied. It does so
// whether or not the Patient is enrolled. Before, only the narrative of a
// Patient whose enrolment was cut went, when it named what the cut element
// named, so a caller that wrote a program's name into a Patient's
// narrative and read it back learnt whether the Patient was the program's
// (QA round 13). A narrative naming only what a cut element displays is
// still withheld for the enrolled Patient alone (narrativeNames).
func (r *run) decideNarratives(ctx context.Context) error {
	l := r.s.labeller
	if !l.HasPrograms() {
		return nil
	}
	words := l.ProgramWords()
	now := time.Now().UnixNano()
	for _, it := range r.items {
		if it.res == nil || it.res.Type != "Patient" || !it.class.decision.Permitted() || it.keptEnrolment() {
			continue
		}
		sp, ok, err := r.narrativeSpan(it)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		text := strings.ToLower(string(r.body[sp.start:sp.end]))
		if !slices.ContainsFunc(words, func(w string) bool { return strings.Contains(text, w) }) {
			continue
		}
		part2 := labels.Part2Labels()
		c, err := r.classOf(ctx, it.res.Patient, it.res.Type, highWater(it.res.Labels.Union(part2)), it.class.self, now)
		if err != nil {
			return err
		}
		if !c.decision.Permitted() && !keptUnderRedact(c.decision, it.res.Labels, part2) {
			it.narrativeWithheld = true
		}
	}
	return nil
}

// enrolmentElements returns an element label for each reference object of
// the Patient res (its top-level managingOrganization, or an element of
// its generalPractitioner) that names a Part 2 program, by reference or
// identifier, or by a directory entry standing for it (directory: the
// Patient's labels.Result.DirectoryProgram; nil when none was read).
// Offsets are relative to res.
func enrolmentElements(res []byte, l *labels.Labeller, local map[string]string, directory func(ref string) string) ([]enrolmentElement, error) {
	var out []enrolmentElement
	var words []string
	// Contained directory resources that carry a program's identifier
	// (an Organization with its NPI): a member referencing one (#o1) names
	// the program, and the contained resource goes with it (QA round 31,
	// area C).
	containedProgram := map[string]string{}
	// A contained member written as one object rather than an array of
	// one is its one resource (recordContained): skipped, the program's
	// Organization so contained, and the member naming it, went out (QA
	// round 34, area A).
	if cs, ce, ok, err := fjson.Lookup(res, 0, "contained"); err != nil {
		return nil, err
	} else if ok && (res[cs] == '[' || res[cs] == '{') {
		i := 0
		type entry struct{ s, e, i int }
		var rest []entry // the contained entries not cut, for the pass below
		var cutContained func(s, e, i int, program string) error
		each := func(s, e int) error {
			defer func() { i++ }()
			if res[s] != '{' {
				return nil
			}
			program := programOfResource(res[s:e], l)
			if program == "" {
				// A contained role, site, service or department naming the
				// program (a PractitionerRole whose organization is
				// Organization/p2, referenced as #r): the Patient names the
				// program through it (QA round 42, helper A).
				program = containedDirectory(res[s:e], l)
			}
			if program == "" && directory != nil {
				// One naming the program's department, role or site (a
				// PractitionerRole at Organization/u1, u1 partOf the
				// program), read by the Patient's walk (QA round 42,
				// helper G).
				var err error
				if program, err = containedParent(res[s:e], directory); err != nil {
					return err
				}
			}
			if program == "" {
				rest = append(rest, entry{s, e, i})
				return nil
			}
			return cutContained(s, e, i, program)
		}
		cutContained = func(s, e, i int, program string) error {
			id := ""
			if is, ie, ok, err := fjson.Lookup(res, s, "id"); err != nil {
				return err
			} else if ok && res[is] == '"' {
				id, _ = fjson.StringValue(res, is, ie)
			}
			if id != "" {
				containedProgram["#"+id] = program
			}
			out = append(out, enrolmentElement{labels.ElementLabel{Path: "contained[" + strconv.Itoa(i) + "]", Start: s, End: e, Labels: labels.Part2Labels()}, []string{program}})
			return nil
		}
		var err error
		if res[cs] == '{' {
			err = each(cs, ce)
		} else {
			err = fjson.ArrayEach(res, cs, each)
		}
		if err != nil {
			return nil, err
		}
		// A contained entry belonging to one cut (a role #r whose
		// organization is #o, #o partOf the program's department): cut
		// too, to the end of the chain. Kept, #r and the member naming it
		// went to org-b beside #o cut (QA round 43, helper A).
		inContained := func(ref string) string { return containedProgram[ref] }
		for changed := len(out) > 0; changed; {
			changed = false
			for k := 0; k < len(rest); k++ {
				c := rest[k]
				program, err := containedParent(res[c.s:c.e], inContained)
				if err != nil {
					return nil, err
				}
				if program == "" {
					continue
				}
				if err := cutContained(c.s, c.e, c.i, program); err != nil {
					return nil, err
				}
				rest = append(rest[:k], rest[k+1:]...)
				k--
				changed = true
			}
		}
		// A contained entry only a cut one names (the program's role #r
		// naming its practitioner #p): kept, it stayed in the Patient
		// with nothing naming it, which no stored Patient has (dom-3),
		// and named who treats the patient there (QA round 43, helper G).
		// One the kept Patient still names, or none named before, stays.
		if len(out) > 0 && len(rest) > 0 {
			var cutRefs, keptRefs []containedRefAt
			cutAt := func(pos int) string {
				for _, el := range out {
					if pos >= el.Start && pos < el.End {
						return el.words[0]
					}
				}
				return ""
			}
			for _, lr := range containedRefsIn(res, 0) {
				if cutAt(lr.pos) != "" {
					cutRefs = append(cutRefs, lr)
				} else {
					keptRefs = append(keptRefs, lr)
				}
			}
			for changed := true; changed; {
				changed = false
				for k := 0; k < len(rest); k++ {
					c := rest[k]
					is, ie, ok, err := fjson.Lookup(res, c.s, "id")
					if err != nil || !ok || res[is] != '"' {
						continue
					}
					id, _ := fjson.StringValue(res, is, ie)
					program := ""
					for _, lr := range cutRefs {
						if lr.ref == "#"+id {
							program = cutAt(lr.pos)
						}
					}
					named := false
					for _, lr := range keptRefs {
						named = named || lr.ref == "#"+id && !(lr.pos >= c.s && lr.pos < c.e)
					}
					if program == "" || named {
						continue
					}
					if err := cutContained(c.s, c.e, c.i, program); err != nil {
						return nil, err
					}
					var still []containedRefAt
					for _, lr := range keptRefs {
						if lr.pos >= c.s && lr.pos < c.e {
							cutRefs = append(cutRefs, lr)
						} else {
							still = append(still, lr)
						}
					}
					keptRefs = still
					rest = append(rest[:k], rest[k+1:]...)
					k--
					changed = true
				}
			}
		}
	}
	programWords := l.ProgramWords()
	names := func(s, e int) (bool, error) {
		if res[s] != '{' {
			return false, nil
		}
		var ref, system, value, display, ownSystem, ownValue, valueX string
		err := fjson.ObjectEach(res, s, func(key []byte, vs, ve int) error {
			switch {
			case len(key) > len("value") && bytes.HasPrefix(key, []byte("value")) && res[vs] == '"':
				// An extension's valueString or valueCode: the program's
				// NPI without its system (ProgramOfNPI).
				valueX, _ = fjson.StringValue(res, vs, ve)
			case fjson.KeyIs(key, "system") && res[vs] == '"':
				ownSystem, _ = fjson.StringValue(res, vs, ve)
			case fjson.KeyIs(key, "value") && res[vs] == '"':
				ownValue, _ = fjson.StringValue(res, vs, ve)
			case fjson.KeyIs(key, "value") && numberStart(res[vs]):
				// The NPI as a JSON number (invalid FHIR a lax server
				// keeps; any reader shows its digits).
				ownValue = string(res[vs:ve])
			case fjson.KeyIs(key, "reference") && res[vs] == '"':
				ref, _ = fjson.StringValue(res, vs, ve)
			case fjson.KeyIs(key, "display") && res[vs] == '"':
				display, _ = fjson.StringValue(res, vs, ve)
			case fjson.KeyIs(key, "identifier") && res[vs] == '{':
				return fjson.ObjectEach(res, vs, func(k []byte, s2, e2 int) error {
					switch {
					case fjson.KeyIs(k, "value") && numberStart(res[s2]):
						value = string(res[s2:e2])
					case res[s2] != '"':
					case fjson.KeyIs(k, "system"):
						system, _ = fjson.StringValue(res, s2, e2)
					case fjson.KeyIs(k, "value"):
						value, _ = fjson.StringValue(res, s2, e2)
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		program := ""
		if ref != "" {
			program = cmp.Or(containedProgram[ref], local[ref], l.ProgramOfReference(ref))
			if program == "" && directory != nil {
				// A department, role, site or service of the program
				// (QA round 41, area I).
				program = directory(ref)
			}
		}
		if program == "" && system != "" && value != "" {
			program = l.ProgramOfIdentifier(system, value)
			if program == "" && ref == "" && directory != nil {
				// A department, role, site or service of the program
				// named by identifier alone (QA round 43, helper D).
				program = directory(strings.TrimSpace(system) + "|" + strings.TrimSpace(value))
			}
		}
		if program == "" && ownSystem != "" && ownValue != "" {
			// An Identifier itself (an extension's valueIdentifier): the
			// program's NPI (QA round 32, area A).
			if program = l.ProgramOfIdentifier(ownSystem, ownValue); program != "" {
				value = ownValue
			}
		}
		if program == "" && system == "" && value != "" {
			// The NPI without its system: an identifier of no system,
			// or of a type of NPI only (QA round 34, area C).
			program = l.ProgramOfNPI(value)
		}
		if program == "" && ownSystem == "" && ownValue != "" {
			if program = l.ProgramOfNPI(ownValue); program != "" {
				value = ownValue
			}
		}
		if program == "" && valueX != "" {
			if program = l.ProgramOfNPI(valueX); program != "" {
				value = strings.TrimSpace(valueX)
			}
		}
		if program == "" && ref == "" && system == "" && display != "" {
			// Named by display alone, in the words that name a program in
			// a narrative (QA round 31, area C).
			d := strings.ToLower(display)
			for _, w := range programWords {
				if strings.Contains(d, w) {
					program = w
					break
				}
			}
		}
		if program == "" {
			return false, nil
		}
		words = []string{program, display, value}
		if ref != "" { // its id
			if k := strings.Index(ref, "/_history/"); k >= 0 {
				ref = ref[:k]
			}
			words = append(words, ref[strings.LastIndexByte(ref, '/')+1:], ref)
		}
		return true, nil
	}
	err := fjson.ObjectEach(res, 0, func(key []byte, vs, ve int) error {
		if fjson.KeyIs(key, "meta") && res[vs] == '{' {
			return fjson.ObjectEach(res, vs, func(mk []byte, ss, se int) error {
				if !fjson.KeyIs(mk, "source") {
					// Any other member naming the program: Medplum's
					// meta.account and meta.accounts (the organisation
					// that owns the Patient there) and meta.compartment
					// (QA round 40, area D).
					return elementCuts(res, ss, 1, "meta."+string(mk), names, func(path string, s, e int) {
						out = append(out, enrolmentElement{labels.ElementLabel{Path: path, Start: s, End: e, Labels: labels.Part2Labels()}, words})
					})
				}
				// A meta.source of a program: the program recorded the
				// Patient, so the person is its patient (QA round 30).
				if res[ss] != '"' {
					return nil
				}
				if src, _ := fjson.StringValue(res, ss, se); l.ProgramOfSource(src) != "" {
					out = append(out, enrolmentElement{labels.ElementLabel{Path: "meta.source", Start: ss, End: se, Labels: labels.Part2Labels()}, []string{src}})
				}
				return nil
			})
		}
		for m, inner := range enrolmentNested {
			if !fjson.KeyIs(key, m) || res[vs] != '[' {
				continue
			}
			i := 0
			return fjson.ArrayEach(res, vs, func(s, e int) error {
				defer func() { i++ }()
				if res[s] != '{' {
					return nil
				}
				if m == "extension" || m == "modifierExtension" || m == "contact" || m == "identifier" {
					// Any reference or identifier at any depth of the
					// element: a complex extension's, a modifierExtension's,
					// a valueIdentifier, a contact's extension (QA round
					// 32, area A).
					named, err := namesWithin(res, s, 0, names)
					if named {
						out = append(out, enrolmentElement{labels.ElementLabel{Path: m + "[" + strconv.Itoa(i) + "]", Start: s, End: e, Labels: labels.Part2Labels()}, words})
					}
					return err
				}
				rs, re, ok, err := fjson.Lookup(res, s, inner)
				if err != nil || !ok {
					return err
				}
				named, err := names(rs, re)
				if named {
					out = append(out, enrolmentElement{labels.ElementLabel{Path: m + "[" + strconv.Itoa(i) + "]", Start: s, End: e, Labels: labels.Part2Labels()}, words})
				}
				return err
			})
		}
		var name string
		for m := range enrolmentMembers {
			if fjson.KeyIs(key, m) { // escapes decoded: "managing\u004frganization" too
				name = m
			}
		}
		if name == "" {
			// Any other member (name, address, telecom, a primitive's
			// _birthDate, communication, link ...): an element
			// extension naming the program at any depth, or a reference
			// or an identifier naming it, is cut (QA round 33, area D: a
			// name's or an address's extension whose valueReference was
			// the program reached org-b).
			if fjson.KeyIs(key, "resourceType") || fjson.KeyIs(key, "id") || fjson.KeyIs(key, "text") || fjson.KeyIs(key, "contained") {
				return nil
			}
			return elementCuts(res, vs, 0, string(key), names, func(path string, s, e int) {
				out = append(out, enrolmentElement{labels.ElementLabel{Path: path, Start: s, End: e, Labels: labels.Part2Labels()}, words})
			})
		}
		if res[vs] == '[' {
			i := 0
			return fjson.ArrayEach(res, vs, func(s, e int) error {
				ok, err := namesWithin(res, s, 0, names)
				if ok {
					out = append(out, enrolmentElement{labels.ElementLabel{Path: name + "[" + strconv.Itoa(i) + "]", Start: s, End: e, Labels: labels.Part2Labels()}, words})
				}
				i++
				return err
			})
		}
		ok, err := namesWithin(res, vs, 0, names)
		if ok {
			out = append(out, enrolmentElement{labels.ElementLabel{Path: name, Start: vs, End: ve, Labels: labels.Part2Labels()}, words})
		}
		return err
	})
	return out, err
}

// enrolmentParams are the Patient search parameters that select patients
// by the organisation or practitioner that manages or treats them, and the
// types of reference each may name.
// Medplum's _compartment (of every type, over meta.compartment) matches
// the organisations that own a resource (meta.account, meta.accounts),
// a bare id as any type's: Patient?_compartment=<the program> lists its
// patients (QA round 40, area D).
var enrolmentParams = map[string][]string{
	"organization":         {"Organization"},
	"general-practitioner": {"Practitioner", "Organization", "PractitionerRole"},
	"_compartment":         {"Organization", "Practitioner", "PractitionerRole", "Location", "HealthcareService"},
	// Medplum's _project searches the same meta.compartment ids.
	"_project": {"Organization", "Practitioner", "PractitionerRole", "Location", "HealthcareService"},
}

// enrolmentParamTypes returns the types of reference the Patient search
// parameter base may name if it selects patients by the organisation or
// practitioner that manages or treats them: enrolmentParams, or a
// reference parameter of Patient the site declares
// (enforcement.search_params), whose extension a Patient names the
// program in is cut as a managingOrganization is: Patient?treated-at=
// Organization/<the program> listed its patients (QA round 42, area B).
// A declared parameter of any type may name any directory type; one whose
// targets include none is not such a parameter.
func (s *Server) enrolmentParamTypes(base string) ([]string, bool) {
	if types, ok := enrolmentParams[strings.ToLower(base)]; ok {
		return types, true
	}
	p, ok := s.siteSearchParam("Patient", base) // searchrefs.go
	if !ok || !p.IsReference() {
		return nil, false
	}
	if p.Any {
		return []string{"Organization", "Practitioner", "PractitionerRole", "Location", "HealthcareService"}, true
	}
	var types []string
	for _, t := range p.Targets {
		if directoryType[t] {
			types = append(types, t)
		}
	}
	return types, len(types) > 0
}

// typeModifier reports whether a reference parameter's modifier is a
// resource type (organization:Organization): letters only, the first a
// capital. isType alone read organization:Organization:identifier=<the
// department's identifier> as a type named "Organization:identifier",
// which neither enrolment guard refused nor searched for (QA round 43,
// helper G).
func typeModifier(m string) bool {
	return isType(m) && !strings.ContainsFunc(m, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
}

// compartmentIDs returns the ids the values of a _compartment or _project
// parameter name: each comma-separated value's part after its last slash;
// an identifier (system|value) or an empty one is none.
func compartmentIDs(vs []string) []string {
	var ids []string
	for _, v := range vs {
		for _, one := range strings.Split(v, ",") {
			one = strings.TrimSpace(one)
			if i := strings.LastIndexByte(one, '/'); i >= 0 {
				one = one[i+1:]
			}
			if one != "" && !strings.Contains(one, "|") {
				ids = append(ids, one)
			}
		}
	}
	return ids
}

// compartmentIDParam tells whether the search parameter base is one Medplum
// matches by the id after a value's last slash alone, whatever type (or URL)
// precedes it: _compartment and _project over meta.compartment, which holds
// ids only (Patient/<the program's id>, organization/<it>,
// https://x/Any/<it> all match the program's compartment).
func compartmentIDParam(base string) bool {
	return strings.EqualFold(base, "_compartment") || strings.EqualFold(base, "_project")
}

// guardEnrolmentSearch refuses a search whose answer would list the
// patients of a Part 2 program: Patient?organization=<the program> or
// general-practitioner=<the program or its clinician> (by reference, id
// or identifier), and the program's compartment searched for Patients
// (Practitioner/<clinician>/Patient). Patients are never withheld, so the
// result would be the program's patient list.
func (s *Server) guardEnrolmentSearch(req fhirRequest, q url.Values) *Failure {
	l := s.labeller
	if req.Interaction != Search || !l.HasPrograms() {
		return nil
	}
	refused := func(what string) *Failure {
		return fail(http.StatusForbidden, "forbidden", "searching patients by a 42 CFR Part 2 program or its clinicians ("+what+") is not allowed: the answer would list the program's patients", nil)
	}
	if req.ID != "" { // a compartment search: Practitioner/x/Patient
		owner, _, _ := strings.Cut(req.Path, "/")
		if (req.Type == "Patient" || req.Type == "" || req.Type == "*") && l.ProgramOfReference(owner+"/"+req.ID) != "" {
			return refused(owner + "/" + req.ID + "/Patient")
		}
	}
	for name, vs := range q {
		// _include=Patient:organization names the program of a Patient
		// whose member was cut; _revinclude=Patient:organization on the
		// program's Organization lists its patients; * does both.
		base, _, _ := strings.Cut(name, ":")
		if lb := strings.ToLower(base); lb == "_include" || lb == "_revinclude" {
			for _, v := range vs {
				src, param, _ := strings.Cut(strings.TrimSpace(v), ":")
				param, _, _ = strings.Cut(param, ":")
				_, enrol := enrolmentParams[strings.ToLower(param)]
				if src == "*" || strings.EqualFold(src, "Patient") && (enrol || param == "*") {
					return refused(base + "=" + v)
				}
			}
		}
	}
	if !mayAnswerPatients(req, q) { // searchguard.go: an empty or absent _type searches every type
		return nil
	}
	for name, vs := range q {
		base, modifier, _ := strings.Cut(name, ":")
		if strings.EqualFold(base, "_sort") {
			// Sorting by the member places the program's patients together
			// even with the member cut (QA: _sort=organization put p-p2
			// first).
			for _, v := range vs {
				for _, key := range strings.Split(v, ",") {
					key = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(key), "-"))
					if _, enrol := enrolmentParams[key]; enrol || key == "identifier" {
						return refused("_sort=" + v)
					}
				}
			}
			continue
		}
		if strings.EqualFold(base, "identifier") && modifier != "" && !strings.EqualFold(modifier, "of-type") {
			// An identifier the program assigned is cut from the Patient
			// silently, and a match a visible identifier does not explain
			// is withheld (cutsearch_enrolment.go). _sort=identifier
			// (above) and :missing, :not, :text ... test the cut one
			// whatever their value, which no answer could hide: a patient
			// left out of Patient?name=Doe&_sort=identifier, or found by
			// identifier:missing=true only without the cut one, tells the
			// enrolment (QA round 35, area B).
			return refused(name)
		}
		types, ok := s.enrolmentParamTypes(base)
		if !ok {
			continue
		}
		if modifier != "" && !strings.EqualFold(modifier, "identifier") && !typeModifier(modifier) {
			// :missing, :not, :above ... test the member whatever its
			// value (QA: organization:missing=false listed exactly the
			// patients with a member, cut or not).
			return refused(name)
		}
		if compartmentIDParam(base) {
			// Only the id counts there (compartmentIDParam): a type, a
			// type modifier or a URL before it is no limit. Read as
			// written, Patient?_compartment=Patient/<the program's id>
			// (or organization/<it>, _project=<it>) went upstream and
			// listed the program's patients (QA round 40, helper F).
			for _, one := range compartmentIDs(vs) { // an identifier: read below
				for _, t := range types {
					if l.ProgramOfReference(t+"/"+one) != "" {
						return refused(base)
					}
				}
			}
		}
		if modifier != "" && !strings.EqualFold(modifier, "identifier") && typeModifier(modifier) {
			types = []string{modifier}
		}
		for _, v := range vs {
			for _, one := range strings.Split(v, ",") {
				one = strings.TrimSpace(one)
				if one == "" {
					continue
				}
				if strings.EqualFold(modifier, "identifier") || strings.Contains(one, "|") {
					sys, val, _ := strings.Cut(one, "|")
					if l.ProgramOfIdentifier(sys, val) != "" {
						return refused(base)
					}
					continue
				}
				if strings.Contains(one, "/") {
					if l.ProgramOfReference(one) != "" {
						return refused(base)
					}
					continue
				}
				for _, t := range types {
					if l.ProgramOfReference(t+"/"+one) != "" {
						return refused(base)
					}
				}
			}
		}
	}
	return nil
}

// guardEnrolmentDirectory refuses, as guardEnrolmentSearch refuses a
// search by the program itself, a search of patients by a directory entry
// that stands for a Part 2 program: Patient?organization=Organization/u1
// (a department partOf the program), general-practitioner=
// PractitionerRole/r1 (the program's role). Which entries stand for it is
// data, read as a Patient's enrolment member is
// (labels.Result.DirectoryProgram: the label cache, else the upstream;
// fail closed); a caller may read those entries anyway, so the refusal
// tells nothing they cannot learn (QA round 41, area I). A site without
// programs reads nothing.
func (s *Server) guardEnrolmentDirectory(ctx context.Context, ex *exchange, q url.Values) *Failure {
	l := s.labeller
	if ex.req.Interaction != Search || !l.HasPrograms() || !mayAnswerPatients(ex.req, q) {
		return nil
	}
	var refs []string
	var idents []identSearch
	for name, vs := range q {
		base, modifier, _ := strings.Cut(name, ":")
		types, ok := s.enrolmentParamTypes(base)
		if !ok {
			continue
		}
		if compartmentIDParam(base) {
			// Medplum matches the id after the last slash alone, whatever
			// type or modifier precedes it (guardEnrolmentSearch): read as
			// each type a directory entry may be. A Patient owned by the
			// program's department (meta.account Organization/u1) is the
			// program's patient as one owned by the program is (QA round
			// 42, helper A).
			for _, one := range compartmentIDs(vs) {
				for _, t := range types {
					if t != "Practitioner" {
						refs = append(refs, t+"/"+one)
					}
				}
			}
			continue
		}
		byIdentifier := strings.EqualFold(modifier, "identifier")
		if modifier != "" && !byIdentifier && !typeModifier(modifier) {
			continue // modifiers guardEnrolmentSearch refuses
		}
		if modifier != "" && !byIdentifier {
			types = []string{modifier}
		}
		for _, v := range vs {
			for _, one := range strings.Split(v, ",") {
				switch one = strings.TrimSpace(one); {
				case one == "":
				case byIdentifier || strings.Contains(one, "|"):
					// The department's or role's identifier
					// (organization:identifier=<u1's>): the entries carrying
					// it are searched for (QA round 43, helper D).
					sys, val, bar := strings.Cut(one, "|")
					if !bar {
						sys, val = "", one // any system
					}
					if val == "" {
						continue // a whole system: no one entry's
					}
					// A Practitioner too: a program may be one
					// (labels.part2_programs' Practitioner/p, a solo
					// practitioner's), and general-practitioner:identifier=
					// <its licence> listed its patients (QA round 43,
					// helper G).
					for _, t := range types {
						idents = append(idents, identSearch{t, sys, val})
					}
				case strings.Contains(one, "/"):
					refs = append(refs, one)
				default:
					for _, t := range types {
						refs = append(refs, t+"/"+one)
					}
				}
			}
		}
	}
	if len(refs) == 0 && len(idents) == 0 {
		return nil
	}
	if len(refs)+len(idents) > maxSearchRefs {
		return fail(http.StatusBadRequest, "not-supported", "too many references to check in one search (a plain id or an identifier counts once for each type it may name)", nil)
	}
	// The entries an identifier names, read into the batch below.
	batch := [][]byte{nil}
	for _, is := range idents {
		found, err := s.fetchIdentified(ctx, ex, is.typ, is.system, is.value)
		if err != nil {
			return targetsFailed(err)
		}
		for _, b := range found {
			var head struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(b, &head) != nil || head.ID == "" {
				return targetsFailed(errors.New("proxy: a directory entry found by identifier has no id"))
			}
			refs = append(refs, is.typ+"/"+head.ID)
			batch = append(batch, b)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	// A Patient naming each, labelled as a response's is.
	pat := []byte(`{"resourceType":"Patient","generalPractitioner":[`)
	for i, ref := range refs {
		if i > 0 {
			pat = append(pat, ',')
		}
		r, _ := json.Marshal(ref)
		pat = append(append(append(pat, `{"reference":`...), r...), '}')
	}
	pat = append(pat, "]}"...)
	batch[0] = pat
	rs, err := l.LabelAllResolving(batch, false, func(ts []labels.Target) ([][]byte, error) {
		return s.fetchTargets(ctx, ex, ts)
	})
	if err != nil {
		return targetsFailed(err)
	}
	for _, ref := range refs {
		if rs[0].DirectoryProgram(ref) != "" || l.ProgramOfReference(ref) != "" {
			return fail(http.StatusForbidden, "forbidden", "searching patients by a 42 CFR Part 2 program or its clinicians (a department, role, site or service of the program) is not allowed: the answer would list the program's patients", nil)
		}
	}
	return nil
}

// identSearch is a search of the directory entries of typ carrying the
// identifier system|value (Server.fetchIdentified).
type identSearch struct{ typ, system, value string }

// containedDirectory returns the program a contained directory entry (res)
// stands for by its own members (labels.Result.Directory: a role, site or
// service naming the program, a department partOf it); "" for any other,
// or one that cannot be labelled (its members are then read by the
// Patient's own walk). Nothing is read: what the entry names one hop
// further is not known.
func containedDirectory(res []byte, l *labels.Labeller) string {
	r, err := l.Label(res)
	if err != nil {
		return ""
	}
	return r.Directory()
}

// containedRefAt is a reference string at pos in a resource.
type containedRefAt struct {
	ref string
	pos int
}

// containedRefsIn returns every reference member's string value under b[i:]
// that names a contained resource (#id), with its position.
func containedRefsIn(b []byte, i int) []containedRefAt {
	var out []containedRefAt
	var walk func(s, e int) error
	walk = func(s, e int) error {
		switch b[s] {
		case '{':
			return fjson.ObjectEach(b, s, func(key []byte, vs, ve int) error {
				if fjson.KeyIs(key, "reference") && b[vs] == '"' {
					if v, ok := fjson.StringValue(b, vs, ve); ok && strings.HasPrefix(v, "#") {
						out = append(out, containedRefAt{v, vs})
					}
					return nil
				}
				return walk(vs, ve)
			})
		case '[':
			return fjson.ArrayEach(b, s, walk)
		}
		return nil
	}
	_ = walk(i, len(b))
	return out
}

// containedParent returns the program the directory entry a contained
// entry (res) belongs to stands for: its organization, partOf,
// managingOrganization, providedBy, location or healthcareService (a
// role's service, a parent link since a1e0ecd; QA round 43, helper A), as
// directory (the Patient's labels.Result.DirectoryProgram) read it; ""
// for none.
func containedParent(res []byte, directory func(ref string) string) (string, error) {
	program := ""
	ref := func(s, _ int) error {
		if program != "" || res[s] != '{' {
			return nil
		}
		rs, re, ok, err := fjson.Lookup(res, s, "reference")
		if err != nil || !ok {
			return err
		}
		if v, ok := fjson.StringValue(res, rs, re); ok {
			program = directory(v)
		}
		return nil
	}
	for _, key := range []string{"organization", "partOf", "managingOrganization", "providedBy", "location", "healthcareService"} {
		vs, ve, ok, err := fjson.Lookup(res, 0, key)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		if res[vs] == '[' {
			err = fjson.ArrayEach(res, vs, ref)
		} else {
			err = ref(vs, ve)
		}
		if err != nil || program != "" {
			return program, err
		}
	}
	return "", nil
}

// directoryType are the types a program's own directory entry can be.
var directoryType = map[string]bool{"Organization": true, "Practitioner": true, "PractitionerRole": true,
	"Location": true, "HealthcareService": true}

// programOfResource returns the program a directory resource (res, a JSON
// object) is, by its Type/id or by an identifier of the program; "".
func programOfResource(res []byte, l *labels.Labeller) string {
	var typ, id, program string
	_ = fjson.ObjectEach(res, 0, func(key []byte, vs, ve int) error {
		switch {
		case fjson.KeyIs(key, "resourceType") && res[vs] == '"':
			typ, _ = fjson.StringValue(res, vs, ve)
		case fjson.KeyIs(key, "id") && res[vs] == '"':
			id, _ = fjson.StringValue(res, vs, ve)
		case fjson.KeyIs(key, "identifier") && (res[vs] == '[' || res[vs] == '{'):
			one := func(s, e int) error {
				if res[s] != '{' {
					return nil
				}
				var system, value string
				_ = fjson.ObjectEach(res, s, func(k []byte, s2, e2 int) error {
					if res[s2] == '"' && fjson.KeyIs(k, "system") {
						system, _ = fjson.StringValue(res, s2, e2)
					} else if res[s2] == '"' && fjson.KeyIs(k, "value") {
						value, _ = fjson.StringValue(res, s2, e2)
					}
					return nil
				})
				program = cmp.Or(program, l.ProgramOfIdentifier(system, value))
				return nil
			}
			if res[vs] == '{' { // one object rather than an array of one
				return one(vs, ve)
			}
			return fjson.ArrayEach(res, vs, one)
		}
		return nil
	})
	if !directoryType[typ] {
		return ""
	}
	if id != "" {
		program = cmp.Or(program, l.ProgramOfReference(typ+"/"+id))
	}
	return program
}

// bundleLocalPrograms maps the fullUrl of each entry of the Bundle body
// whose resource is a program's directory entry to the program: a Patient
// in it may name the program by that fullUrl (urn:uuid:...) alone (QA
// round 31, area C). Empty, not nil, for any other body.
func bundleLocalPrograms(body []byte, l *labels.Labeller) map[string]string {
	out := map[string]string{}
	es, _, ok, err := fjson.Lookup(body, 0, "entry")
	if err != nil || !ok || body[es] != '[' {
		return out
	}
	_ = fjson.ArrayEach(body, es, func(s, e int) error {
		if body[s] != '{' {
			return nil
		}
		fs, fe, ok, err := fjson.Lookup(body, s, "fullUrl")
		if err != nil || !ok || body[fs] != '"' {
			return nil
		}
		rs, re, ok, err := fjson.Lookup(body, s, "resource")
		if err != nil || !ok || body[rs] != '{' {
			return nil
		}
		if p := programOfResource(body[rs:re], l); p != "" {
			full, _ := fjson.StringValue(body, fs, fe)
			out[full] = p
		}
		return nil
	})
	return out
}

// numberStart reports whether c starts a JSON number.
func numberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

// elementCuts calls cut with the path and the bounds of each element of
// the value at res[i] (path) that names a Part 2 program: an object that
// names reports (a reference, an identifier), or an element of an
// extension or modifierExtension array naming it at any depth
// (namesWithin), the smallest such; past a bound, the value itself.
func elementCuts(res []byte, i, depth int, path string, names func(s, e int) (bool, error), cut func(path string, s, e int)) error {
	end, err := fjson.SkipValue(res, i)
	if err != nil {
		return err
	}
	if depth > 32 {
		cut(path, i, end)
		return nil
	}
	switch res[i] {
	case '{':
		if found, err := names(i, end); found || err != nil {
			if found {
				cut(path, i, end)
			}
			return err
		}
		return fjson.ObjectEach(res, i, func(key []byte, vs, ve int) error {
			k := string(key)
			if (k == "extension" || k == "modifierExtension") && res[vs] == '[' {
				n := 0
				return fjson.ArrayEach(res, vs, func(s, e int) error {
					defer func() { n++ }()
					found, err := namesWithin(res, s, depth+2, names)
					if found {
						cut(path+"."+k+"["+strconv.Itoa(n)+"]", s, e)
					}
					return err
				})
			}
			return elementCuts(res, vs, depth+1, path+"."+k, names, cut)
		})
	case '[':
		n := 0
		return fjson.ArrayEach(res, i, func(s, _ int) error {
			defer func() { n++ }()
			return elementCuts(res, s, depth+1, path+"["+strconv.Itoa(n)+"]", names, cut)
		})
	}
	return nil
}

// guardMatchDirectory refuses, as guardMatchEnrolment refuses a $match
// naming the program, one whose Patient names a directory entry standing
// for it: managingOrganization Organization/u1 (a department partOf the
// program), generalPractitioner its PractitionerRole, an extension naming
// its Location. The server scores its stored Patients on those members,
// which ds4p cuts from the program's patients, so the answer listed them
// (QA round 42, area B). Which entries stand for the program is read as a
// Patient's enrolment member is (labels.Result.DirectoryProgram; fail
// closed); each Patient is labelled without its id, so that what the
// caller wrote is never taken into the label cache as the stored Patient.
func (s *Server) guardMatchDirectory(ctx context.Context, ex *exchange, body []byte) *Failure {
	l := s.labeller
	if ex.req.Operation != "$match" || !l.HasPrograms() || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if fjson.Validate(body, s.opts.MaxJSONDepth) != nil {
		return fail(http.StatusBadRequest, "invalid", "the operation's request body is not valid JSON", nil)
	}
	patients := matchPatients(body) // searchguard.go
	for i, p := range patients {
		if out, ok := withoutID(p); ok { // writeguard.go
			patients[i] = out
		}
	}
	if len(patients) == 0 {
		return nil
	}
	rs, err := l.LabelAllResolving(patients, false, func(ts []labels.Target) ([][]byte, error) {
		return s.fetchTargets(ctx, ex, ts)
	})
	if err != nil {
		return targetsFailed(err)
	}
	for i, p := range patients {
		els, err := enrolmentElements(p, l, nil, rs[i].DirectoryProgram)
		if err != nil || len(els) > 0 {
			return matchRefused()
		}
	}
	return nil
}
