package labels

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
)

// walker carries the state of one Label call. It lives on the caller's
// stack; what it finds points into the resource bytes.
type walker struct {
	rs *ruleset
	b  []byte
	// valid: b is known to be valid JSON (LabelAllValid), so the walk
	// skips values and keys by their delimiters instead of checking them.
	valid bool
	// check, when not nil, checks every byte the walk reads as
	// fjson.Validate would (Batch.AddChecked): objects and arrays are
	// opened through it and every value the walk does not open is checked
	// whole. jd is the nesting depth of the object or array being read.
	check *fjson.Checker
	jd    int
	// strs holds the strings of the results of a batch (LabelAll); nil:
	// each string is allocated on its own.
	strs *strArena
	// reasonArena, when not nil, holds the reasons of the batch's results.
	reasonArena *[]Reason

	depth int
	path  [maxDepth]segment

	typ, id, versionID field
	refs               [len(patientKeys)]field // reference strings of subject, patient, beneficiary
	refObjs            [len(patientKeys)]int   // where their objects start (0: not an object)
	meta, security     bool                    // seen, to catch duplicates
	contained          int                     // where the value of the top-level contained member starts (0: none)
	attachedTypes      []string                // types of a type rule found in an attachment's FHIR JSON (attachmentCodes)
	inflated           int                     // bytes inflated from the resource's attachments so far (attachedDocument)
	inflateLimit       int                     // and the bound on them, grown by each attachment (attachedDocument)
	foreignPatient     bool                    // patientIDs took a reference to another server's Patient

	// References to a Patient anywhere in the resource (compartment.go):
	// the first maxPatientRefs in patientRefs, the rest in morePatientRefs.
	patientRefs     [maxPatientRefs]patientRef
	nPatientRefs    int
	morePatientRefs []patientRef

	existing []Label
	// inexact marks the entries of existing (the first 64) that
	// meta.security spells otherwise than ds4p writes them (readLabel).
	inexact uint64
	hits    []hit
	tags    []tagLabel // security labels in meta.tag (tagLabels)
	// docLabels are a document's own labels (documentLabels).
	docLabels []docLabel

	source                             field  // meta.source
	program, programMatch, programPath string // the Part 2 program that recorded the resource
	// partOfProgram is the Part 2 program a directory entry's partOf or
	// providedBy names (a department of the program, a service it
	// provides): such an entry stands for the program (Result.directory).
	partOfProgram string
	// ownProgram is the Part 2 program a top-level identifier names: a
	// directory entry carrying the program's NPI is the program's own
	// (Result.directory).
	ownProgram string
	// ownIdents are a directory entry's own top-level identifiers
	// ("system|value"), on sites with programs: a reference naming the
	// entry by identifier alone finds it by them (link.ident).
	ownIdents []string
	links     []link

	pending []pendingInline // inline labels whose element is still open
	inline  []ElementLabel  // elements with existing inline labels
	div     field           // text.div
	// canonURL and canonVersion are the top-level url and version of a
	// definition (a Questionnaire): its canonical.
	canonURL, canonVersion field
}

// patientKeys are the top-level members whose reference names the patient,
// in order of preference.
var patientKeys = [...]string{"subject", "patient", "beneficiary"}

// segment is one step of the JSON path to the current value: a member name
// (the bytes b[start:end]) or, when end < 0, the array index start.
type segment struct{ start, end int32 }

// field is a string member read once: the bounds of its value, quotes
// included.
type field struct {
	start, end int
	seen       bool
}

// hit is one coding matched by one rule.
type hit struct {
	rule    int
	matched string // "system|code"
	path    string
	elem    elemRef // the segmentable element the coding is in, if any
}

// coding gathers the system and code members of one object, and the
// reference and value members that make it a Reference or an Identifier.
type coding struct {
	system, code, ref, value    field
	sysStr, str, refStr, valStr bool // the member is a JSON string
	url, valueCoding, div       field
	urlStr, objStr, divStr      bool
	data, contentType           field // an Attachment's (attachment.go)
	dataStr, ctStr              bool
	valNum                      bool // value is a JSON number (an NPI so written)
}

// errDuplicate reports a second copy of a member Label relies on.
func errDuplicate(key string) error {
	return fmt.Errorf("duplicate %q member", key)
}

// push enters a member or array element; name is a member name taken from
// w.b, or nil for the array element idx.
func (w *walker) push(name []byte, idx int) error {
	if w.depth >= maxDepth {
		return errTooDeep
	}
	s := segment{start: int32(idx), end: -1}
	if name != nil {
		start := cap(w.b) - cap(name) // name is a subslice of w.b
		s = segment{start: int32(start), end: int32(start + len(name))}
	}
	w.path[w.depth] = s
	w.depth++
	return nil
}

// errTooDeep is push's error, made once so that push is small enough to be
// inlined into the walk's callbacks.
var errTooDeep = errors.New("nested deeper than " + strconv.Itoa(maxDepth))

// pop leaves the current member or element.
func (w *walker) pop() { w.depth-- }

// value walks the value at b[i], which is not whitespace.
func (w *walker) value(i int) (int, error) {
	switch w.b[i] {
	case '{':
		return w.object(i)
	case '[':
		return w.array(i)
	case '"': // most values: checked here, as skip would, one call instead of three
		var end int
		var err error
		if w.check != nil || !w.valid {
			end, err = fjson.String(w.b, i)
		} else {
			end, err = w.skip(i)
		}
		if err == nil && w.program == "" && (len(w.rs.programs.npis) > 0 || len(w.rs.programs.names) > 0) {
			w.npiString(i, end)
			w.nameString(i, end)
		}
		return end, err
	}
	end, err := w.skip(i)
	if err == nil && w.program == "" && len(w.rs.programs.npis) > 0 && w.b[i] >= '0' && w.b[i] <= '9' {
		w.npiNumber(i, end)
	}
	return end, err
}

// npiNumber is npiString for the JSON number at b[i:end]: an extension's
// valueInteger or valueDecimal holding a program's NPI (an NPI starting
// with 1 fits a FHIR integer), which only an identifier's value (object)
// was matched as.
func (w *walker) npiNumber(i, end int) {
	if n := end - i; n < 10 || n > 32 {
		return
	}
	if w.depth > 0 {
		if s := w.path[w.depth-1]; s.end >= 0 && fjson.KeyIs(w.b[s.start:s.end], "value") {
			return
		}
	}
	v := numericCode(w.b[i:end])
	if p := w.rs.programs.byNPIValue(v); p != "" {
		w.program, w.programMatch, w.programPath = p, npiSystem+"|"+string(npiDigits(v)), w.pathString()
	}
}

// npiString matches the string at b[i:end] against the programs' NPIs
// (byNPIValue) wherever it is, but as an identifier's value, which
// object matches knowing the identifier's system (an MRN that happens to
// be written with the NPI's digits is no NPI).
func (w *walker) npiString(i, end int) {
	if n := end - i - 2; n < 10 || n > 64 {
		return
	}
	if w.depth > 0 {
		if s := w.path[w.depth-1]; s.end >= 0 && fjson.KeyIs(w.b[s.start:s.end], "value") {
			return
		}
	}
	v := decodedBytes(w.b, field{start: i, end: end, seen: true})
	if p := w.rs.programs.byNPIValue(v); p != "" {
		w.program, w.programMatch, w.programPath = p, npiSystem+"|"+string(bytes.TrimSpace(v)), w.pathString()
	}
}

// nameString matches the string at b[i:end] against the programs' names
// (byName) when it is a display (a Reference's or a Coding's), or the
// name of a contained resource (an Organization or Location that is the
// program, which its container refers to).
func (w *walker) nameString(i, end int) {
	ix := &w.rs.programs
	n := end - i - 2
	if w.program != "" || len(ix.names) == 0 || n < ix.nameMin || n > 6*ix.nameMax+32 || w.depth == 0 {
		return
	}
	s := w.path[w.depth-1]
	if s.end < 0 {
		return
	}
	key := w.b[s.start:s.end]
	if !fjson.KeyIs(key, "display") && (w.depth != 3 || !w.inContained() || !fjson.KeyIs(key, "name")) {
		return
	}
	if n > ix.nameMax+32 && bytes.IndexByte(w.b[i+1:end-1], '\\') < 0 {
		return // longer than any name, and not for its escapes (\u00e9)
	}
	v := decodedBytes(w.b, field{start: i, end: end, seen: true})
	if p := ix.byName(v); p != "" {
		w.program, w.programMatch, w.programPath = p, string(bytes.TrimSpace(v)), w.pathString()
	}
}

// skip returns the index just past the value at or after i.
func (w *walker) skip(i int) (int, error) {
	if w.check != nil {
		return w.check.Value(i, w.jd)
	}
	if w.valid {
		return fjson.SkipValid(w.b, i)
	}
	return fjson.SkipValue(w.b, i)
}

// scanObject is fjson.ObjectScan over w.b, or ObjectScanValid when valid.
func (w *walker) scanObject(i int, fn func(key []byte, v int) (int, error)) (int, error) {
	if w.check != nil {
		w.jd++
		end, err := w.check.ObjectScan(i, w.jd, fn)
		w.jd--
		return end, err
	}
	if w.valid {
		return fjson.ObjectScanValid(w.b, i, fn)
	}
	return fjson.ObjectScan(w.b, i, fn)
}

// object walks an object and checks whether it is a Coding.
func (w *walker) object(i int) (int, error) {
	var c coding
	nLinks := len(w.links)
	end, err := w.scanObject(i, func(key []byte, v int) (int, error) {
		if err := w.push(key, 0); err != nil {
			return 0, err
		}
		end, err := w.value(v)
		w.pop()
		if err != nil {
			return 0, err
		}
		return end, c.note(w.b, key, v, end)
	})
	if err != nil {
		return 0, err
	}
	if c.sysStr && c.str {
		w.match(&c)
	} else if c.sysStr && c.code.seen && (w.b[c.code.start] == '-' || w.b[c.code.start] >= '0' && w.b[c.code.start] <= '9') {
		// A code written as a JSON number (invalid FHIR, which a lax
		// server stores as sent): its digits are the code. Skipped, an
		// RxNorm 1819 (buprenorphine) or a SNOMED 86406008 (HIV) left its
		// record ordinary (QA round 32, area E).
		w.matchCode(decodedBytes(w.b, c.system), numericCode(w.b[c.code.start:c.code.end]))
	}
	if c.refStr && len(w.links) > nLinks {
		w.dropIdentLinks(nLinks)
	}
	if c.refStr || (c.sysStr && (c.valStr || c.valNum)) {
		w.noteReference(&c)
	}
	if !c.sysStr && (c.valStr || c.valNum) && w.program == "" && len(w.rs.programs.npis) > 0 {
		// An identifier of no system (or a type of NPI only) holding a
		// program's NPI (byNPIValue).
		v := decodedBytes(w.b, c.value)
		if c.valNum {
			v = numericCode(w.b[c.value.start:c.value.end])
		}
		if p := w.rs.programs.byNPIValue(v); p != "" {
			w.program, w.programMatch, w.programPath = p, npiSystem+"|"+string(bytes.TrimSpace(v)), w.pathString()
		}
	}
	if c.url.seen && c.valueCoding.seen {
		w.noteInline(&c)
	}
	if c.dataStr && (c.ctStr || !c.contentType.seen) {
		w.attachmentCodes(&c)
	}
	if c.urlStr && (c.ctStr || !c.contentType.seen) {
		// Beside data too: FHIR wants the two to be the same content,
		// and a viewer may open either (QA round 33, area F).
		w.dataURLCodes(&c)
	}
	if len(w.pending) > 0 {
		w.closeInline(i, end)
	}
	if c.divStr && w.depth == 1 && w.path[0].end >= 0 && string(w.b[w.path[0].start:w.path[0].end]) == "text" {
		w.div = c.div
	}
	return end, nil
}

// scanArray is fjson.ArrayScan over w.b, through w.check when checking.
func (w *walker) scanArray(i int, fn func(v int) (int, error)) (int, error) {
	if w.check != nil {
		w.jd++
		end, err := w.check.ArrayScan(i, w.jd, fn)
		w.jd--
		return end, err
	}
	return fjson.ArrayScan(w.b, i, fn)
}

// array walks the elements of an array.
func (w *walker) array(i int) (int, error) {
	n := 0
	return w.scanArray(i, func(v int) (int, error) {
		if err := w.push(nil, n); err != nil {
			return 0, err
		}
		end, err := w.value(v)
		w.pop()
		n++
		return end, err
	})
}

// note records the member key, whose value is b[v:end], if it is the system
// or code of a coding.
func (c *coding) note(b []byte, key []byte, v, end int) error {
	switch codingIndex(key) {
	case 0:
		return c.system.set(b, v, end, &c.sysStr, "system")
	case 1:
		return c.code.set(b, v, end, &c.str, "code")
	case 2:
		return c.ref.set(b, v, end, &c.refStr, "reference")
	case 3:
		c.valNum = b[v] == '-' || b[v] >= '0' && b[v] <= '9'
		return c.value.set(b, v, end, &c.valStr, "value")
	case 4:
		return c.url.set(b, v, end, &c.urlStr, "url")
	case 5:
		return c.valueCoding.set(b, v, end, &c.objStr, "valueCoding")
	case 6:
		return c.div.set(b, v, end, &c.divStr, "div")
	case 7:
		return c.data.set(b, v, end, &c.dataStr, "data")
	case 8:
		return c.contentType.set(b, v, end, &c.ctStr, "contentType")
	}
	return nil
}

// codingNames are the members coding.note reads, in its order.
var codingNames = newNameSet("system", "code", "reference", "value", "url", "valueCoding", "div", "data", "contentType")

// codingIndex is memberIndex(key, codingNames), which every member of every
// object asks: a switch the compiler turns into a length test and one
// comparison, where memberIndex compares against each name of a length
// that many keys share (3 to 6 bytes). TestNameSwitches holds the two equal.
func codingIndex(key []byte) int {
	switch string(key) {
	case "system":
		return 0
	case "code":
		return 1
	case "reference":
		return 2
	case "value":
		return 3
	case "url":
		return 4
	case "valueCoding":
		return 5
	case "div":
		return 6
	case "data":
		return 7
	case "contentType":
		return 8
	}
	return escapedIndex(key, codingNames)
}

// escapedIndex is memberIndex for a key that is no name of names as it
// stands: only an escaped spelling of one can still match.
func escapedIndex(key []byte, names *nameSet) int {
	if bytes.IndexByte(key, '\\') < 0 {
		return -1
	}
	return memberIndex(key, names)
}

// memberIndex returns the index in names of the member name whose raw key
// (escapes undecoded) is key, or -1: fjson.KeyIs against each name, with
// plain string comparisons when key holds no escape (nearly always).
func memberIndex(key []byte, names *nameSet) int {
	if l := len(key); l < 64 && names.lens&(1<<l) != 0 {
		for k, n := range names.names {
			if string(key) == n {
				return k
			}
		}
	}
	for _, c := range key { // no name holds a backslash: only an escaped spelling can still match
		if c == '\\' {
			for k, n := range names.names {
				if fjson.KeyIs(key, n) {
					return k
				}
			}
			return -1
		}
	}
	return -1
}

// nameSet is a list of member names for memberIndex, with the set of
// their lengths, so that most keys are told apart from all of them by
// their length alone (the walk asks for every member of every object).
type nameSet struct {
	names []string
	lens  uint64 // bit n: a name is n bytes long
}

func newNameSet(names ...string) *nameSet {
	s := &nameSet{names: names}
	for _, n := range names {
		if len(n) >= 64 || strings.IndexByte(n, '\\') >= 0 {
			panic("labels: member name unfit for a nameSet: " + n)
		}
		s.lens |= 1 << len(n)
	}
	return s
}

// set records the value b[v:end] of the member key, noting whether it is a
// string, and reports a duplicate.
func (f *field) set(b []byte, v, end int, isString *bool, key string) error {
	if f.seen {
		return errDuplicate(key)
	}
	*f = field{start: v, end: end, seen: true}
	*isString = b[v] == '"'
	return nil
}

// resource walks the top-level object of a resource. An inline label the
// resource itself owns (in its top-level extension) labels the resource,
// as meta.security does: it is no element's to cut.
func (w *walker) resource(i int) (int, error) {
	end, err := w.scanObject(i, func(key []byte, v int) (int, error) {
		if err := w.push(key, 0); err != nil {
			return 0, err
		}
		end, err := w.topMember(key, v)
		w.pop()
		return end, err
	})
	if err == nil && len(w.pending) > 0 {
		w.resourceInline()
	}
	if err == nil && string(w.decoded(w.typ)) == "Binary" {
		w.binaryCodes(i)
	}
	return end, err
}

// resourceInline makes the pending inline labels owned by the object at
// the current depth (the resource, or its meta) labels of the resource.
func (w *walker) resourceInline() {
	kept := w.pending[:0]
	for _, p := range w.pending {
		if p.owner == w.depth {
			w.existing = append(w.existing, p.label)
			continue
		}
		kept = append(kept, p)
	}
	w.pending = kept
}

// topMember walks one member of the resource, reading the ones Label
// reports.
func (w *walker) topMember(key []byte, v int) (int, error) {
	switch k := topIndex(key); k {
	case 0:
		return w.text(&w.typ, v, "resourceType")
	case 1:
		return w.text(&w.id, v, "id")
	case 2:
		return w.metaObject(v)
	case 3:
		if w.contained == 0 { // a second copy: the body is invalid, and refused
			w.contained = v
		}
	case 4, 5, 6:
		return w.reference(k-4, v)
	case 7, 8:
		end, err := w.value(v) // codings in them match rules as any coding does
		if err == nil {
			w.documentLabels(k == 8, v, "", false)
		}
		return end, err
	case 9:
		end, err := w.value(v)
		if err == nil && w.b[v] == '"' {
			w.questionnaire(v, end)
		}
		return end, err
	case 10:
		// A definition's derivedFrom lists canonicals (an EHR's
		// adaptation of the PHQ-9 names the LOINC form): each is read
		// as a response's questionnaire is. References (an
		// Observation's) are read by value as any are (QA round 39,
		// helper G).
		end, err := w.value(v)
		if err == nil && w.b[v] == '[' {
			err = fjson.ArrayEach(w.b, v, func(s, e int) error {
				if w.b[s] == '"' {
					w.questionnaire(s, e)
				}
				return nil
			})
		}
		return end, err
	case 11, 12:
		// A definition's canonical URL and version (Questionnaire.url):
		// what a response naming the form by its canonical is matched
		// against (link.canonical). A value that is no string is none.
		end, err := w.value(v)
		if err == nil && w.b[v] == '"' {
			f := &w.canonURL
			if k == 12 {
				f = &w.canonVersion
			}
			*f = field{start: v, end: end, seen: true}
		}
		return end, err
	}
	return w.value(v)
}

// topNames are the top-level members topMember reads, in its order:
// patientKeys at 4-6.
var topNames = newNameSet("resourceType", "id", "meta", "contained", patientKeys[0], patientKeys[1], patientKeys[2],
	"securityLabel", "confidentiality", "questionnaire", "derivedFrom", "url", "version")

// topIndex is memberIndex(key, topNames), as a switch (see codingIndex).
func topIndex(key []byte) int {
	switch string(key) {
	case "resourceType":
		return 0
	case "id":
		return 1
	case "meta":
		return 2
	case "contained":
		return 3
	case "subject":
		return 4
	case "patient":
		return 5
	case "beneficiary":
		return 6
	case "securityLabel":
		return 7
	case "confidentiality":
		return 8
	case "questionnaire":
		return 9
	case "derivedFrom":
		return 10
	case "url":
		return 11
	case "version":
		return 12
	}
	return escapedIndex(key, topNames)
}

// text reads the string member key at v into f.
func (w *walker) text(f *field, v int, key string) (int, error) {
	end, err := w.skip(v)
	if err != nil {
		return 0, err
	}
	var isString bool
	if err := f.set(w.b, v, end, &isString, key); err != nil {
		return 0, err
	}
	if !isString {
		return 0, fmt.Errorf("%q is not a string", key)
	}
	return end, nil
}

// reference reads the reference string of patientKeys[k] and walks the
// value for codings.
//
// Written otherwise than as a Reference with a reference string (invalid
// FHIR JSON, but a server may store it, and other readers show it): a
// string is read as the reference it spells ("patient":"Patient/p2"), and
// a reference member that is no string (an object, a number) makes the
// patient one that cannot be told, as another server's is (a conflict).
// Read as naming no patient, a Condition whose subject named p1 and whose
// patient so named p2 was p1's alone, and went to the organisation p1's
// consent permits (QA round 34, area A).
func (w *walker) reference(k, v int) (int, error) {
	f := &w.refs[k]
	if f.seen {
		return 0, errDuplicate(patientKeys[k])
	}
	f.seen = true
	end, err := w.value(v) // first, so that a checking walk has checked what Lookup reads
	if err != nil {
		return end, err
	}
	switch w.b[v] {
	case '"':
		f.start, f.end = v, end
		return end, nil
	case '{':
	default:
		return end, nil
	}
	w.refObjs[k] = v
	s, e, ok, err := fjson.Lookup(w.b, v, "reference")
	if err != nil {
		return 0, err
	}
	if !ok || w.b[s] == 'n' { // none, or null
		return end, nil
	}
	if _, isString := fjson.RawString(w.b, s, e); isString {
		f.start, f.end = s, e
	} else {
		w.foreignPatient = true
	}
	return end, nil
}

// metaObject walks meta, reading versionId and security.
func (w *walker) metaObject(v int) (int, error) {
	if w.meta {
		return 0, errDuplicate("meta")
	}
	w.meta = true
	if w.b[v] != '{' {
		return 0, errors.New(`"meta" is not an object`)
	}
	end, err := w.scanObject(v, func(key []byte, mv int) (int, error) {
		if err := w.push(key, 0); err != nil {
			return 0, err
		}
		end, err := w.metaMember(key, mv)
		w.pop()
		return end, err
	})
	// An inline label in meta's extension labels the resource meta
	// describes; left pending, the next top-level object closed (code,
	// subject) would have taken it.
	if err == nil && len(w.pending) > 0 {
		w.resourceInline()
	}
	return end, err
}

// metaMember walks one member of meta.
func (w *walker) metaMember(key []byte, v int) (int, error) {
	switch metaIndex(key) {
	case 0:
		return w.text(&w.versionID, v, "versionId")
	case 1:
		end, err := w.text(&w.source, v, "source")
		if err == nil && w.program == "" {
			if p := w.rs.programs.bySource(w.decoded(w.source)); p != "" {
				w.program, w.programMatch, w.programPath = p, string(w.decoded(w.source)), "meta.source"
			}
		}
		return end, err
	case 2:
		if w.security {
			return 0, errDuplicate("security")
		}
		w.security = true
		return w.securityArray(v)
	case 3:
		end, err := w.value(v) // codings in tags match rules as any coding does
		if err == nil {
			err = w.tagLabels(v)
		}
		return end, err
	}
	return w.value(v)
}

// tagLabels reads the meta.tag array (or one object) at v, walked already: a
// confidentiality or v3-ActCode security label code there is a label of
// the resource (Result.Reasons: rule "meta.tag"). FHIR puts security
// labels in meta.security, but a server accepts one in meta.tag, and the
// sender meant it: read as a mere tag it would leave the resource
// ordinary. An entry that is no Coding (a CodeableConcept's coding, an
// array, a code that is no string) cannot be read, and withholds, as in
// meta.security (QA round 36, areas A and F).
func (w *walker) tagLabels(v int) error {
	return readTagLabels(w.b, v, func(lb Label, n int) {
		w.tags = append(w.tags, tagLabel{label: lb, index: n})
	})
}

// readTagLabels calls add with each security label of the meta.tag value
// at b[v], walked already, and its index (tagLabels), and fails when an
// entry is no Coding. A stored Bundle's meta.tag is read so too
// (BundleLabels).
func readTagLabels(b []byte, v int, add func(lb Label, n int)) error {
	var bad error
	if b[v] == '[' {
		_, _ = fjson.ArrayScan(b, v, func(e int) (int, error) {
			if b[e] == '[' {
				bad = errors.New(`"meta.tag" holds an entry that is no Coding`)
			}
			return fjson.SkipValid(b, e)
		})
	}
	eachObject(b, v, func(e, n int) {
		_, lb, ok, _, err := readLabel(b, e, true)
		switch {
		case err != nil:
			bad = fmt.Errorf(`"meta.tag": %w`, err)
		case !ok && !codingShaped(b, e):
			bad = errors.New(`"meta.tag" holds an entry that is no Coding`)
		case ok && (lb.System == SystemConfidentiality || lb.System == SystemActCode) && KnownCode(lb.System, lb.Code):
			add(lb, n)
		}
	})
	return bad
}

// eachObject calls fn with the start and the index of each object element
// of the array at b[v], walked already, or with v and 0 when the value is
// one object. FHIR's JSON writes a repeating element as an array, but a
// server may store one object, and other readers take it as the array's
// one element: a label in a meta.tag or a DocumentReference.securityLabel
// (or its coding) so written was read as nothing, and its resource passed
// as ordinary (QA round 34, area A).
func eachObject(b []byte, v int, fn func(e, n int)) {
	switch b[v] {
	case '{':
		fn(v, 0)
	case '[':
		n := 0
		_, _ = fjson.ArrayScan(b, v, func(e int) (int, error) {
			end, err := fjson.SkipValid(b, e)
			if err == nil && b[e] == '{' {
				fn(e, n)
			}
			n++
			return end, err
		})
	}
}

// tagLabel is a security label found in meta.tag, at index.
type tagLabel struct {
	label Label
	index int
}

// documentLabels reads the top-level member at v, walked already, as the
// labels a document carries of its own (QA round 32, area B): a
// DocumentReference's securityLabel (CodeableConcepts; FHIR R4: "a
// snapshot of the security labels applied to the document", which the
// reference may hold inline) and a Composition's confidentiality (a
// v3-Confidentiality code). A confidentiality or v3-ActCode code there is
// a label of the resource (Result.Reasons: rule "DocumentReference.
// securityLabel", "Composition.confidentiality"): read as any other
// coding, a psychotherapy note its EHR labelled PSYTHPN, or a document it
// marked R, went out as ordinary data. Kept for the resource's type,
// known only once the walk ends (result). prefix is "" for the resource
// itself and "contained[n]." for a contained one, whose labels are its
// container's whatever its type (attached).
func (w *walker) documentLabels(confidentiality bool, v int, prefix string, attached bool) {
	if confidentiality {
		// A code; also, written otherwise (invalid FHIR JSON, but a
		// server may store it, and other readers show it), an array of
		// codes, or a Coding's code: each is the document's
		// confidentiality. Read as none, a Composition whose
		// confidentiality was ["R"] or {"code":"R"} went out as
		// ordinary data (QA round 34, area A).
		one := func(s int) {
			if w.b[s] == '{' {
				cs, _, ok, err := fjson.Lookup(w.b, s, "code")
				if err != nil || !ok {
					return
				}
				s = cs
			}
			end, err := fjson.SkipValid(w.b, s)
			if err != nil || w.b[s] != '"' {
				return
			}
			system, code := labelCode(SystemConfidentiality, intern(bytes.TrimSpace(decodedBytes(w.b, field{start: s, end: end, seen: true}))))
			if lb := (Label{System: system, Code: code}); lb.System == SystemConfidentiality && KnownCode(lb.System, lb.Code) {
				w.docLabels = append(w.docLabels, docLabel{label: lb, path: prefix + "confidentiality", composition: true, attached: attached})
			}
		}
		if w.b[v] != '[' {
			one(v)
			return
		}
		_, _ = fjson.ArrayScan(w.b, v, func(e int) (int, error) {
			end, err := fjson.SkipValid(w.b, e)
			if err == nil {
				one(e)
			}
			return end, err
		})
		return
	}
	eachObject(w.b, v, func(e, i int) {
		s, _, ok, err := fjson.Lookup(w.b, e, "coding")
		if err != nil || !ok {
			return
		}
		eachObject(w.b, s, func(c, j int) {
			_, lb, ok, _, err := readLabel(w.b, c, true)
			if err == nil && ok && (lb.System == SystemConfidentiality || lb.System == SystemActCode) && KnownCode(lb.System, lb.Code) {
				w.docLabels = append(w.docLabels, docLabel{label: lb, path: prefix + "securityLabel[" + strconv.Itoa(i) + "].coding[" + strconv.Itoa(j) + "]", attached: attached})
			}
		})
	})
}

// containedDocumentLabels reads the own labels of each contained
// DocumentReference and Composition (documentLabels) as labels of the
// container, which discloses them: a List or a DiagnosticReport holding a
// DocumentReference its EHR labelled PSYTHPN, the note inline, went out
// as ordinary data (QA round 32, area F).
func (w *walker) containedDocumentLabels() {
	w.eachContained(func(n, vs int, typ []byte) {
		member := ""
		switch string(typ) {
		case "DocumentReference":
			member = "securityLabel"
		case "Composition":
			member = "confidentiality"
		default:
			return
		}
		if s, _, ok, err := fjson.Lookup(w.b, vs, member); err == nil && ok {
			w.documentLabels(member == "confidentiality", s, "contained["+strconv.Itoa(n)+"].", true)
		}
	})
}

// eachContained calls fn with the index, the start and the type of each
// contained resource that has one. The type is the raw bytes of its
// resourceType, decoded only when escaped: most contained resources are
// of no type a caller looks for, and need no string of their own.
// A contained member written as one object rather than an array of one is
// its one resource (eachObject).
func (w *walker) eachContained(fn func(n, vs int, typ []byte)) {
	eachObject(w.b, w.contained, func(vs, n int) {
		i, e, ok, err := fjson.Lookup(w.b, vs, "resourceType")
		if err != nil || !ok {
			return
		}
		raw, ok := fjson.RawString(w.b, i, e)
		if !ok {
			return
		}
		if bytes.IndexByte(raw, '\\') >= 0 {
			s, ok := fjson.StringValue(w.b, i, e)
			if !ok {
				return
			}
			raw = []byte(s)
		}
		fn(n, vs, raw)
	})
}

// docLabel is a label a document carries of its own (documentLabels):
// a Composition's confidentiality, or a DocumentReference's securityLabel.
type docLabel struct {
	label       Label
	path        string
	composition bool
	attached    bool // in an attachment's document (attachedLabel): any type's
}

// of tells whether the label is one of a resource of type typ.
func (d docLabel) of(typ string) bool {
	if d.attached {
		return true
	}
	if d.composition {
		return typ == "Composition"
	}
	return typ == "DocumentReference"
}

// member names the element the label is in.
func (d docLabel) member() string {
	if d.attached {
		if strings.HasPrefix(d.path, "contained[") {
			return "contained"
		}
		return "attachment"
	}
	if d.composition {
		return "confidentiality"
	}
	return "securityLabel"
}

// metaNames are the members of meta metaMember reads, in its order.
var metaNames = newNameSet("versionId", "source", "security", "tag")

// metaIndex is memberIndex(key, metaNames), as a switch (see codingIndex).
func metaIndex(key []byte) int {
	switch string(key) {
	case "versionId":
		return 0
	case "source":
		return 1
	case "security":
		return 2
	case "tag":
		return 3
	}
	return escapedIndex(key, metaNames)
}

// respelt reports whether a label of meta.security is spelt only
// otherwise than ds4p writes it: no entry spells it exactly.
func (w *walker) respelt() bool {
	for i := 0; w.inexact>>i != 0; i++ {
		if w.inexact&(1<<i) == 0 {
			continue
		}
		exact := false
		for j, lb := range w.existing {
			if j < 64 && w.inexact&(1<<j) == 0 && lb == w.existing[i] {
				exact = true
				break
			}
		}
		if !exact {
			return true
		}
	}
	return false
}

// securityArray reads the existing labels in meta.security. Their own
// extensions are label metadata, not clinical codes, so rules do not see
// them.
func (w *walker) securityArray(v int) (int, error) {
	if w.b[v] != '[' {
		return 0, errors.New(`"meta.security" is not an array`)
	}
	return w.scanArray(v, func(e int) (int, error) {
		if w.check != nil { // check the label whole, then read it as valid
			if _, err := w.check.Value(e, w.jd); err != nil {
				return 0, err
			}
		}
		end, lb, ok, exact, err := readLabel(w.b, e, w.valid || w.check != nil)
		if ok {
			if !exact && len(w.existing) < 64 {
				w.inexact |= 1 << len(w.existing)
			}
			w.existing = append(w.existing, lb)
		}
		if err == nil && !ok && !codingShaped(w.b, e) {
			// A label written in another shape than a Coding (a
			// CodeableConcept's coding, a valueCoding): read as none, a
			// record its EHR labelled SUD or R went out ordinary (QA round
			// 36, area A). It cannot be read, and withholds.
			return 0, errors.New(`"meta.security" holds an entry that is no Coding`)
		}
		return end, err
	})
}

// codingMembers are the members of a FHIR Coding, with the primitive
// extensions of its primitive members.
var codingMembers = newNameSet("id", "extension", "system", "version", "code", "display", "userSelected",
	"_system", "_version", "_code", "_display", "_userSelected")

// codingShaped says whether every member of the object at b[e] (checked
// already) is a member of a Coding.
func codingShaped(b []byte, e int) bool {
	shaped := true
	_, err := fjson.ObjectScanValid(b, e, func(key []byte, v int) (int, error) {
		if memberIndex(key, codingMembers) < 0 {
			shaped = false
		}
		return fjson.SkipValid(b, v)
	})
	return shaped && err == nil
}

// readLabel reads the security label object at b[e]. ok is false when the
// object has no code (but a confidentiality label, which reads as R).
// valid says b is known to be valid JSON. A legacy or OID system is
// normalised (NormalizeSystem), and a label without a system whose code is
// known in exactly one label system gets that system. exact says the
// object spells lb as ds4p writes it: its system and code are lb's, with
// nothing to trim, normalise or infer.
func readLabel(b []byte, e int, valid bool) (end int, lb Label, ok, exact bool, err error) {
	if b[e] != '{' {
		return 0, Label{}, false, false, errors.New(`"meta.security" holds a non-object`)
	}
	var c coding
	scan, skip := fjson.ObjectScan, fjson.SkipValue
	if valid {
		scan, skip = fjson.ObjectScanValid, fjson.SkipValid
	}
	end, err = scan(b, e, func(key []byte, v int) (int, error) {
		end, err := skip(b, v)
		if err != nil {
			return 0, err
		}
		return end, c.note(b, key, v, end)
	})
	switch {
	case err != nil:
		return 0, Label{}, false, false, err
	case (c.system.seen && !c.sysStr) || (c.code.seen && !c.str):
		return 0, Label{}, false, false, errors.New(`"meta.security" system or code is not a string`)
	case !c.code.seen:
		// A confidentiality label without a code still says the data is
		// held confidential: it reads as an unknown code would (labelCode),
		// as R. Any other label without a code is none.
		if c.system.seen && NormalizeSystem(string(bytes.TrimSpace(decodedBytes(b, c.system)))) == SystemConfidentiality {
			return end, Restricted, true, false, nil
		}
		return end, Label{}, false, false, nil
	}
	// White space around a system or code, and a known code in another
	// case, read as the label they spell (NormalizeSystem, labelCode).
	// A known label code without a system, or under another label
	// system than its own, is that label.
	rawSystem, rawCode := decodedBytes(b, c.system), decodedBytes(b, c.code)
	system, code := labelCode(NormalizeSystem(intern(bytes.TrimSpace(rawSystem))), intern(bytes.TrimSpace(rawCode)))
	return end, Label{System: system, Code: code}, true, string(rawSystem) == system && string(rawCode) == code, nil
}

// match applies the rules to the coding c, which has string system and code.
func (w *walker) match(c *coding) {
	w.matchCode(decodedBytes(w.b, c.system), decodedBytes(w.b, c.code))
}

// matchCode records the rules that the code of system matches, at the
// current path.
func (w *walker) matchCode(system, code []byte) {
	m := w.rs.bySystem[string(system)]
	if m == nil { // an OID, https, a trailing slash, white space (codeSystem)
		if cs := codeSystem(system); len(cs) != len(system) || string(cs) != string(system) {
			system = cs
			m = w.rs.bySystem[string(system)]
		}
	}
	// ICD-10-CM extends ICD-10 (WHO), whose categories it shares, and EHRs
	// file ICD-10-CM codes under ICD-10's URL: an ICD-10 coding also
	// matches the ICD-10-CM rules (QA round 25: only SUD had an ICD-10
	// rule, so an HIV B20 or a depression F32 coded so was ordinary).
	var twin *matcher
	if string(system) == SystemICD10 {
		twin = w.rs.bySystem[SystemICD10CM]
	}
	if m == nil {
		if m, twin = twin, nil; m == nil {
			return
		}
	}
	// The reason names the code as the coding spells it (trimmed); rules
	// compare it as matchKey spells it (an ICD-10 code without its dot).
	code = bytes.TrimSpace(code)
	var kb [24]byte
	key := matchKey(kb[:0], code, m.mode)
	var buf [8]int
	cands := m.candidates(buf[:0], key)
	if twin != nil {
		cands = twin.candidates(cands, key)
	}
	for k, r := range cands {
		if slices.Contains(cands[:k], r) || w.rs.rules[r].excluded(key) {
			continue
		}
		w.hits = append(w.hits, hit{rule: r, matched: w.strs.join(system, '|', code), path: w.pathString(), elem: w.currentElem()})
	}
}

// pathString renders the current path, e.g. "contained[0].code.coding[1]".
func (w *walker) pathString() string {
	var buf [128]byte
	out := buf[:0]
	for _, s := range w.path[:w.depth] {
		if s.end < 0 {
			out = strconv.AppendInt(append(out, '['), int64(s.start), 10)
			out = append(out, ']')
			continue
		}
		if len(out) > 0 {
			out = append(out, '.')
		}
		out = append(out, w.b[s.start:s.end]...)
	}
	return w.strs.bytes(out)
}

// decodeString returns the string value of f, or "" when f was not seen.
func decodeString(b []byte, f field) string {
	raw := decodedBytes(b, f)
	return intern(raw)
}

// decodedBytes returns the contents of the string value of f with escapes
// decoded; it aliases b unless the string holds escapes.
func decodedBytes(b []byte, f field) []byte {
	if !f.seen || f.end-f.start < 2 {
		return nil
	}
	raw := b[f.start+1 : f.end-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	s, _ := fjson.StringValue(b, f.start, f.end)
	return []byte(s)
}

// decode returns the string value of f.
func (w *walker) decode(f field) string { return decodeString(w.b, f) }

// decoded returns the string value of f as bytes.
func (w *walker) decoded(f field) []byte { return decodedBytes(w.b, f) }

// toSet normalises, sorts and deduplicates ls in place.
func toSet(ls []Label) Set {
	if len(ls) == 0 {
		return nil
	}
	for k := range ls {
		ls[k] = ls[k].normalized()
	}
	slices.SortFunc(ls, compare)
	return slices.Compact(Set(ls))
}
