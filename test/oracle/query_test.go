package oracle

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/ds4p/ds4p/internal/synth"
)

// query is one request a scenario makes.
type query struct {
	Kind        string
	Method      string
	Path        string // below the proxy's origin, "/fhir/..."
	ContentType string
	Body        []byte
	Patients    []string // the patients the answer is about
	Refused     bool     // the proxy must refuse it (400, 403, 406) before the upstream sees it
	// Selects is what the resources a search selects carry (`"code":"X"`,
	// a reference): a patient whose only such resources are withheld must
	// not appear in the answer (it would show whose record matched).
	Selects string
}

// patientTypes are resource types searched by patient.
var patientTypes = []string{"Condition", "Observation", "Encounter", "MedicationRequest", "Immunization", "AllergyIntolerance"}

// includes are _include / _revinclude parameters, by the searched type.
var includes = map[string][]string{
	"Condition":         {"_include=Condition:encounter", "_include=Condition:asserter", "_revinclude=Encounter:reason-reference"},
	"Observation":       {"_include=Observation:encounter", "_include=Observation:performer"},
	"Encounter":         {"_include=Encounter:service-provider", "_include=Encounter:reason-reference", "_revinclude=Condition:encounter", "_revinclude=Observation:encounter", "_include=Encounter:location"},
	"MedicationRequest": {"_include=MedicationRequest:encounter", "_include=MedicationRequest:requester"},
}

// queries draws n queries for the caller: every kind the issue names.
func (w *world) queries(c Caller, n int) []query {
	var out []query
	for range n {
		out = append(out, w.query(c))
	}
	return out
}

// subject picks the patient a query is about: mostly the caller's own when
// it is bound to one, sometimes another to try the compartment.
func (w *world) subject(c Caller) string {
	if c.Patient != "" && w.pick(4) != 0 {
		return "Patient/" + c.Patient
	}
	if w.pick(3) == 0 {
		return "Patient/pat-0" // always has Part 2 records
	}
	return w.patients[w.pick(len(w.patients))]
}

// resource picks a resource of patient p, sensitive ones twice as often.
func (w *world) resource(p string) synth.Resource {
	rs := w.ds.ByPatient(p)
	var sens []synth.Resource
	for _, r := range rs {
		if r.Sensitive() {
			sens = append(sens, r)
		}
	}
	if len(sens) > 0 && w.pick(3) != 0 {
		return sens[w.pick(len(sens))]
	}
	return rs[w.pick(len(rs))]
}

func (w *world) query(c Caller) query {
	p := w.subject(c)
	id := strings.TrimPrefix(p, "Patient/")
	typ := patientTypes[w.pick(len(patientTypes))]
	get := func(kind, path string) query {
		return query{Kind: kind, Method: "GET", Path: "/fhir/" + path, Patients: []string{p}}
	}
	switch w.pick(22) {
	case 0:
		r := w.resource(p)
		return get("read", r.Ref())
	case 1:
		r := w.resource(p)
		return get("vread", r.Ref()+"/_history/{vid}")
	case 2:
		return get("search", fmt.Sprintf("%s?patient=%s&_count=%d", typ, p, []int{3, 50}[w.pick(2)]))
	case 3:
		t := []string{"Condition", "Observation", "Encounter", "MedicationRequest"}[w.pick(4)]
		inc := includes[t][w.pick(len(includes[t]))]
		return get("include", fmt.Sprintf("%s?patient=%s&%s&_count=%d", t, p, inc, []int{2, 50}[w.pick(2)]))
	case 4:
		return get("revinclude", fmt.Sprintf("Patient?_id=%s&_revinclude=%s:subject", id, []string{"Condition", "Observation", "MedicationRequest", "Encounter"}[w.pick(4)]))
	case 5:
		q := get("everything", "Patient/"+id+"/$everything")
		if w.pick(2) == 0 {
			q.Path += "?_count=10"
		}
		return q
	case 6:
		r := w.resource(p)
		return get("history", r.Ref()+"/_history")
	case 7:
		return get("history", "Patient/"+id+"/_history")
	case 8:
		return get("summary", fmt.Sprintf("%s?patient=%s&_summary=%s", typ, p, []string{"true", "text", "data"}[w.pick(3)]))
	case 9:
		return get("elements", fmt.Sprintf("%s?patient=%s&_elements=%s", typ, p, []string{"id", "id,code", "subject,status"}[w.pick(3)]))
	case 10:
		chains := []string{
			"Observation?subject.name=" + url.QueryEscape("Silva"),
			"Condition?patient.identifier=" + url.QueryEscape(synth.SystemMRN+"|100000"),
			"Observation?subject:Patient.gender=female",
			"Encounter?service-provider.name=Riverside",
			"Patient?_has:Condition:patient:code=F11.20",
			"Patient?_has:Observation:patient:code=19295-5",
		}
		q := get("chained", chains[w.pick(len(chains))])
		q.Refused, q.Patients = true, nil
		return q
	case 11:
		return w.batch(c, p)
	case 12:
		codes := []string{"F11.20", "F10.10", "F32.9", "B20", "75544000", "19295-5", "44261-6", "1597568"}
		path := []string{"Condition?code=", "Observation?code=", "MedicationRequest?code="}[w.pick(3)] + codes[w.pick(len(codes))]
		q := get("code-search", path+"&_count=50")
		q.Patients = nil
		if w.pick(2) == 0 {
			q.Path += "&_include=" + strings.SplitN(path, "?", 2)[0] + ":subject"
			q.Kind, q.Selects = "code-search-include", `"code":"`+strings.SplitN(path, "=", 2)[1]+`"`
		}
		return q
	case 13:
		return query{Kind: "post-search", Method: "POST", Path: "/fhir/" + typ + "/_search",
			ContentType: "application/x-www-form-urlencoded", Body: []byte("patient=" + url.QueryEscape(p) + "&_count=50"), Patients: []string{p}}
	case 14:
		r := w.resource(p)
		return get("id-search", r.Type+"?_id="+r.ID)
	case 15:
		q := get("type-history", []string{typ + "/_history?_count=20", "_history?_count=50"}[w.pick(2)])
		q.Patients = nil
		return q
	case 16:
		return w.byPart2Actor()
	case 17:
		refusals := []string{
			typ + "?patient=" + p + "&_summary=count",
			typ + "?_filter=" + url.QueryEscape("code eq F11.20"),
			typ + "?_getpages=abc&_getpagesoffset=10",
			"Patient/$export", "$export",
			typ + "?patient=" + p + "&_format=xml", "Patient/" + id + "?_format=application/fhir%2Bxml",
		}
		q := get("refused", refusals[w.pick(len(refusals))])
		q.Refused, q.Patients = true, nil
		return q
	case 19:
		odd := []string{
			"Condition?code=F11.20&_count=0", "Observation?code=19295-5&_count=0", typ + "?patient=" + p + "&_count=0",
			"Condition?code:text=opioid", "Condition?code:not=I10&patient=" + p, "Observation?_sort=-date&patient=" + p + "&_count=4",
			"Condition?_security=http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD", "Condition?patient=" + p + "&_total=accurate&_count=2",
		}
		q := get("odd-search", odd[w.pick(len(odd))])
		if !strings.Contains(q.Path, "patient=") {
			q.Patients = nil
		}
		return q
	case 20:
		p2 := w.resourceOfType("Patient/pat-0", "Encounter")
		q := get("by-reference", "Observation?encounter="+p2.Ref()+"&_include=Observation:patient")
		q.Selects, q.Patients = `"reference":"`+p2.Ref()+`"`, []string{"Patient/pat-0"}
		return q
	case 18:
		incs := []string{"_include=*", "_include=Encounter:*", "_revinclude=*", "_include=Encounter:patient&_include:iterate=Patient:general-practitioner"}
		return get("include-wild", "Encounter?patient="+p+"&"+incs[w.pick(len(incs))])
	default:
		enc := w.resourceOfType(p, "Encounter")
		q := get("by-reference", []string{"Condition", "Observation", "MedicationRequest"}[w.pick(3)]+"?encounter="+enc.Ref())
		if w.pick(2) == 0 {
			q.Path += "&_include=" + strings.SplitN(q.Path[len("/fhir/"):], "?", 2)[0] + ":subject"
			q.Selects = `"reference":"` + enc.Ref() + `"`
		}
		return q
	}
}

// byPart2Actor searches by the Part 2 program or its clinician, with the
// patients included: a patient shown there was treated by the program.
func (w *world) byPart2Actor() query {
	searches := []struct{ path, ref string }{
		{"Observation?performer=" + synth.Part2OrgRef + "&_include=Observation:patient", synth.Part2OrgRef},
		{"Encounter?service-provider=" + synth.Part2OrgRef + "&_include=Encounter:patient", synth.Part2OrgRef},
		{"Condition?asserter=" + synth.Part2PractitionerRef + "&_include=Condition:subject", synth.Part2PractitionerRef},
		{"MedicationRequest?requester=" + synth.Part2PractitionerRef + "&_include=MedicationRequest:subject", synth.Part2PractitionerRef},
		{"Practitioner?_id=part2-clinician&_revinclude=Condition:asserter", synth.Part2PractitionerRef},
	}
	s := searches[w.pick(len(searches))]
	return query{Kind: "by-part2-actor", Method: "GET", Path: "/fhir/" + s.path, Selects: `"reference":"` + s.ref + `"`}
}

// resourceOfType picks a resource of type typ of patient p (the Patient
// when it has none).
func (w *world) resourceOfType(p, typ string) synth.Resource {
	var rs []synth.Resource
	for _, r := range w.ds.ByPatient(p) {
		if r.Type == typ {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return w.ds.ByPatient(p)[0]
	}
	return rs[w.pick(len(rs))]
}

// batch is a batch Bundle of two to four GETs about p.
func (w *world) batch(c Caller, p string) query {
	var entries []any
	for range 2 + w.pick(3) {
		var u string
		if w.pick(2) == 0 {
			u = w.resource(p).Ref()
		} else {
			u = patientTypes[w.pick(len(patientTypes))] + "?patient=" + p
		}
		entries = append(entries, map[string]any{"request": map[string]string{"method": "GET", "url": u}})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": entries})
	return query{Kind: "batch", Method: "POST", Path: "/fhir", ContentType: "application/fhir+json", Body: b, Patients: []string{p}}
}

// elementScenarios are, for every caller and mixed resource, a read of the
// resource or a search of its patient's claims (alternately): the answers
// where an SUD element must be cut out while the ordinary one stays. They
// draw nothing from the seed's generator, so the other scenarios stay as
// they were. n is the number of the first.
func (w *world) elementScenarios(n int) []scenario {
	var out []scenario
	for ci := range w.callers {
		for mi, m := range w.mixed {
			q := query{Kind: "element", Method: "GET", Path: "/fhir/" + m.Ref(), Patients: []string{m.Patient}}
			if (ci+mi)%2 == 1 {
				q.Path = "/fhir/ExplanationOfBenefit?patient=" + m.Patient
			}
			out = append(out, scenario{n: n + len(out), caller: ci, q: q})
		}
	}
	return out
}
