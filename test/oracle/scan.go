package oracle

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
)

// Oracle holds what the ground truth says can betray a sensitive resource:
// its id, and the codes and wording only sensitive resources carry.
type Oracle struct {
	ds *synth.Dataset
	// telltales maps each string found only in sensitive resources (a
	// quoted code, a display or text) to the resources that carry it.
	telltales map[string][]synth.Resource
	part2     map[string][]synth.Resource // patient -> its Part 2 records
	// mixed are resources with an ordinary and a sensitive element, and
	// carriers maps each of their sensitive elements' strings to the
	// dataset's resources that carry it too.
	mixed    []synth.MixedResource
	carriers map[string][]synth.Resource
}

// New reads the dataset's ground truth, and that of the mixed resources
// loaded beside it (ds.Mixed()), if any.
func New(ds *synth.Dataset, mixed ...synth.MixedResource) *Oracle {
	o := &Oracle{ds: ds, telltales: map[string][]synth.Resource{}, part2: map[string][]synth.Resource{},
		mixed: mixed, carriers: map[string][]synth.Resource{}}
	for _, m := range mixed {
		for _, s := range m.SensitiveElem.Strings {
			if _, done := o.carriers[s]; done {
				continue
			}
			o.carriers[s] = []synth.Resource{}
			for _, r := range ds.Resources {
				if bytes.Contains(r.JSON, []byte(s)) {
					o.carriers[s] = append(o.carriers[s], r)
				}
			}
		}
	}
	var ordinary [][]byte
	for _, r := range ds.Resources {
		if !r.Sensitive() {
			ordinary = append(ordinary, r.JSON)
		}
		if r.Part2 {
			o.part2[r.Patient] = append(o.part2[r.Patient], r)
		}
	}
	plain := bytes.Join(ordinary, []byte("\n"))
	for _, r := range ds.Resources {
		if !r.Sensitive() {
			continue
		}
		for _, s := range wording(r.JSON) {
			if !bytes.Contains(plain, []byte(s)) {
				o.telltales[s] = append(o.telltales[s], r)
			}
		}
	}
	return o
}

// wording returns a resource's codes (quoted, as JSON writes them) and its
// displays and texts of at least 8 characters, JSON-escaped.
func wording(raw []byte) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				s, ok := val.(string)
				switch {
				case ok && k == "code" && t["system"] != nil:
					seen[quote(s)] = true
				case ok && (k == "display" || k == "text") && len(s) >= 8:
					seen[strings.Trim(quote(s), `"`)] = true
				default:
					walk(val)
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}

// Expectation is what must never appear in one answer to one caller.
type Expectation struct {
	// Forbidden are the resources the caller may not receive.
	Forbidden map[string]synth.Resource
	marks     []mark
	noSUD     bool // the caller may receive no SUD resource at all
	// shown are the mixed resources the caller may receive: when one is in
	// an answer, its ordinary element must be too.
	shown []synth.MixedResource
	// cut holds the mixed resources whose sensitive element the caller
	// may not receive.
	cut map[string]bool
}

// mark is one forbidden byte pattern and why.
type mark struct {
	text    string
	reason  string
	boundID bool // the next byte must not continue an id
}

// Finding is one forbidden pattern found in an answer.
type Finding struct {
	Where   string // "body", "header Location", ...
	Pattern string
	Reason  string
	Context string // the bytes around it
}

// Part 2 program directory entries: in an answer about one patient they
// show the patient is enrolled in the program (42 CFR 2.13(c)).
var part2Directory = []string{
	`"id":"part2-clinic"`, `"id":"part2-clinician"`, `"id":"part2-clinic-site"`, `"id":"part2-clinician-role"`,
	"Riverside Recovery Center", synth.Part2Source,
}

// Expect states what must not appear in an answer to the caller, given the
// consents stored for the run. patients are the Patient references the
// query is about (none when it names none): an answer about a patient must
// not show the Part 2 program unless one of the patient's Part 2 records may
// be disclosed to the caller.
func (o *Oracle) Expect(c Caller, consents []Consent, now time.Time, patients ...string) *Expectation {
	x := &Expectation{Forbidden: map[string]synth.Resource{}, noSUD: true}
	for _, r := range o.ds.Resources {
		if MayDisclose(r, c, consents, now) {
			if r.Sensitive() && hasTopic(r, synth.TopicSUD) {
				x.noSUD = false
			}
			continue
		}
		x.Forbidden[r.Ref()] = r
		why := "withheld " + r.Ref()
		x.marks = append(x.marks,
			mark{text: `"id":"` + r.ID + `"`, reason: why},
			mark{text: "/" + r.Ref(), reason: why, boundID: true},
			mark{text: `name="` + r.ID + `"`, reason: why})
	}
	allowed := o.expectElements(x, c, consents, now)
	for s, carriers := range o.telltales {
		if !allowed[s] && allForbidden(carriers, x.Forbidden) {
			x.marks = append(x.marks, mark{text: s, reason: "wording only withheld resources carry (" + carriers[0].Ref() + ")"})
		}
	}
	visible := false
	for _, patient := range patients {
		for _, r := range o.part2[patient] {
			if _, no := x.Forbidden[r.Ref()]; !no {
				visible = true
			}
		}
	}
	if len(patients) > 0 && !visible {
		for _, s := range part2Directory {
			x.marks = append(x.marks, mark{text: s, reason: "Part 2 program named in an answer about " + strings.Join(patients, ", ")})
		}
	}
	sort.Slice(x.marks, func(i, j int) bool { return x.marks[i].text < x.marks[j].text })
	return x
}

// expectElements adds to x what the mixed resources forbid: the resource
// like any other (another patient's, to a patient-bound token), and the
// strings of a sensitive element the caller may not receive, unless a
// resource the caller may receive carries them too. It returns the strings
// of the sensitive elements the caller may receive, which then betray
// nothing.
func (o *Oracle) expectElements(x *Expectation, c Caller, consents []Consent, now time.Time) map[string]bool {
	allowed := map[string]bool{}
	var denied []synth.MixedResource
	for _, m := range o.mixed {
		r := m.Resource
		if !MayDisclose(r, c, consents, now) {
			x.Forbidden[r.Ref()] = r
			why := "withheld " + r.Ref()
			x.marks = append(x.marks, mark{text: `"id":"` + r.ID + `"`, reason: why}, mark{text: "/" + r.Ref(), reason: why, boundID: true})
			continue
		}
		x.shown = append(x.shown, m)
		el := synth.Resource{Type: r.Type, ID: r.ID, Patient: r.Patient, Topics: m.SensitiveElem.Topics, Part2: m.SensitiveElem.Part2}
		if MayDisclose(el, c, consents, now) {
			for _, s := range m.SensitiveElem.Strings {
				allowed[s] = true
			}
			if hasTopic(el, synth.TopicSUD) {
				x.noSUD = false
			}
			continue
		}
		if x.cut == nil {
			x.cut = map[string]bool{}
		}
		x.cut[m.Ref()] = true
		denied = append(denied, m)
	}
	for _, m := range denied {
		for _, s := range m.SensitiveElem.Strings {
			if !allowed[s] && allForbidden(o.carriers[s], x.Forbidden) {
				x.marks = append(x.marks, mark{text: s, reason: "sensitive element " + m.SensitiveElem.Path + " of " + m.Ref() + " the caller may not receive"})
			}
		}
	}
	return allowed
}

// MixedIn counts the mixed resources the caller may receive that are in b:
// those whose sensitive element must be cut out, and those that may come whole.
func (x *Expectation) MixedIn(b []byte) (cut, whole int) {
	for _, m := range x.shown {
		if bytes.Contains(b, []byte(`"id":"`+m.ID+`"`)) {
			if x.cut[m.Ref()] {
				cut++
			} else {
				whole++
			}
		}
	}
	return cut, whole
}

// Overredacted returns a finding for every mixed resource the caller may
// receive that is in b without its ordinary element: segmentation that
// drops what it should keep (it would hide a leak check behind a blank).
func (x *Expectation) Overredacted(where string, b []byte) []Finding {
	var out []Finding
	for _, m := range x.shown {
		at := bytes.Index(b, []byte(`"id":"`+m.ID+`"`))
		if at < 0 {
			continue
		}
		for _, s := range m.OrdinaryElem.Strings {
			if !bytes.Contains(b, []byte(s)) {
				out = append(out, Finding{Where: where, Pattern: s, Context: around(b, at, len(m.ID)+7),
					Reason: "ordinary element " + m.OrdinaryElem.Path + " of " + m.Ref() + " missing from an answer that has the resource"})
				break
			}
		}
	}
	return out
}

// ForbidMatchedPatients is for a search that selects resources carrying
// needle (`"code":"F11.20"`, `"reference":"Organization/x"`) with the
// patients included: a patient none of whose resources carrying it may be
// disclosed must not appear, since its presence would show whose withheld
// record matched.
func (o *Oracle) ForbidMatchedPatients(x *Expectation, needle string) {
	carries := map[string]bool{} // patient -> has a visible carrier
	for _, r := range o.ds.Resources {
		if r.Patient == "" || !bytes.Contains(r.JSON, []byte(needle)) {
			continue
		}
		_, forbidden := x.Forbidden[r.Ref()]
		carries[r.Patient] = carries[r.Patient] || !forbidden
	}
	for p, visible := range carries {
		if !visible {
			id := strings.TrimPrefix(p, "Patient/")
			x.marks = append(x.marks, mark{text: `"id":"` + id + `"`, reason: p + " matched the search only by withheld resources"},
				mark{text: "/" + p, reason: p + " matched the search only by withheld resources", boundID: true})
		}
	}
}

func hasTopic(r synth.Resource, t string) bool {
	for _, x := range r.Topics {
		if x == t {
			return true
		}
	}
	return false
}

func allForbidden(rs []synth.Resource, forbidden map[string]synth.Resource) bool {
	for _, r := range rs {
		if _, ok := forbidden[r.Ref()]; !ok {
			return false
		}
	}
	return true
}

// sudCode is an ICD-10-CM code of a mental or behavioural disorder due to
// psychoactive substance use (F10-F19, except F17 nicotine), as a JSON
// string or in narrative parentheses.
var sudCode = regexp.MustCompile(`["(]F1[0-689](\.[0-9A-Z]{1,4})?[")]`)

// Scan returns every forbidden pattern in b.
func (x *Expectation) Scan(where string, b []byte) []Finding {
	var out []Finding
	for _, m := range x.marks {
		for off := 0; ; {
			i := bytes.Index(b[off:], []byte(m.text))
			if i < 0 {
				break
			}
			i += off
			off = i + len(m.text)
			if m.boundID && off < len(b) && idByte(b[off]) {
				continue
			}
			out = append(out, Finding{Where: where, Pattern: m.text, Reason: m.reason, Context: around(b, i, len(m.text))})
			break
		}
	}
	if x.noSUD {
		if loc := sudCode.FindIndex(b); loc != nil {
			out = append(out, Finding{Where: where, Pattern: string(b[loc[0]:loc[1]]),
				Reason: "an SUD diagnosis code, and the caller may see no SUD data", Context: around(b, loc[0], loc[1]-loc[0])})
		}
	}
	return out
}

func idByte(c byte) bool {
	return c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func around(b []byte, i, n int) string {
	lo, hi := max(0, i-80), min(len(b), i+n+80)
	return string(b[lo:hi])
}
