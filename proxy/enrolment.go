package proxy

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

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

// labelEnrolment adds the element labels to every Patient of the response
// that names a Part 2 program in an enrolment member.
func (r *run) labelEnrolment() error {
	l := r.s.labeller
	if !l.HasPrograms() {
		return nil
	}
	for _, it := range r.items {
		if it.res == nil || it.res.Type != "Patient" {
			continue
		}
		els, err := enrolmentElements(r.body[it.start:it.end], l)
		if err != nil {
			return fail(http.StatusBadGateway, "processing", "a Patient from the FHIR server could not be labelled", err)
		}
		if len(els) == 0 {
			continue
		}
		it.res.Elements = append(it.res.Elements[:len(it.res.Elements):len(it.res.Elements)], els...)
		if lb := labels.NewSet(labels.ProcessInline); !it.res.Labels.Union(lb).Equal(it.res.Labels) {
			it.res.Labels = it.res.Labels.Union(lb)
		}
		it.res.Changed = true
	}
	return nil
}

// enrolmentElements returns an element label for each reference object of
// the Patient res (its top-level managingOrganization, or an element of
// its generalPractitioner) that names a Part 2 program, by reference or
// identifier. Offsets are relative to res.
func enrolmentElements(res []byte, l *labels.Labeller) ([]labels.ElementLabel, error) {
	var out []labels.ElementLabel
	names := func(s, e int) (bool, error) {
		if res[s] != '{' {
			return false, nil
		}
		var ref, system, value string
		err := fjson.ObjectEach(res, s, func(key []byte, vs, ve int) error {
			switch {
			case fjson.KeyIs(key, "reference") && res[vs] == '"':
				ref, _ = fjson.StringValue(res, vs, ve)
			case fjson.KeyIs(key, "identifier") && res[vs] == '{':
				return fjson.ObjectEach(res, vs, func(k []byte, s2, e2 int) error {
					if res[s2] != '"' {
						return nil
					}
					switch {
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
		return (ref != "" && l.ProgramOfReference(ref) != "") || (system != "" && value != "" && l.ProgramOfIdentifier(system, value) != ""), nil
	}
	err := fjson.ObjectEach(res, 0, func(key []byte, vs, ve int) error {
		var name string
		for m := range enrolmentMembers {
			if fjson.KeyIs(key, m) { // escapes decoded: "managing\u004frganization" too
				name = m
			}
		}
		if name == "" {
			return nil
		}
		if res[vs] == '[' {
			i := 0
			return fjson.ArrayEach(res, vs, func(s, e int) error {
				ok, err := names(s, e)
				if ok {
					out = append(out, labels.ElementLabel{Path: name + "[" + strconv.Itoa(i) + "]", Start: s, End: e, Labels: labels.Part2Labels()})
				}
				i++
				return err
			})
		}
		ok, err := names(vs, ve)
		if ok {
			out = append(out, labels.ElementLabel{Path: name, Start: vs, End: ve, Labels: labels.Part2Labels()})
		}
		return err
	})
	return out, err
}

// enrolmentParams are the Patient search parameters that select patients
// by the organisation or practitioner that manages or treats them, and the
// types of reference each may name.
var enrolmentParams = map[string][]string{
	"organization":         {"Organization"},
	"general-practitioner": {"Practitioner", "Organization", "PractitionerRole"},
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
	if req.Type != "Patient" {
		return nil
	}
	for name, vs := range q {
		base, modifier, _ := strings.Cut(name, ":")
		types, ok := enrolmentParams[strings.ToLower(base)]
		if !ok {
			continue
		}
		if modifier != "" && !strings.EqualFold(modifier, "identifier") && isType(modifier) {
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
