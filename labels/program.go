package labels

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Program is a 42 CFR Part 2 program: a federally assisted substance use
// disorder treatment program whose records need the patient's consent
// before they are disclosed. A resource is a record of the program when one
// of its source references (see SourceKeys) names one of References
// ("Organization/x", "Location/y", "HealthcareService/z", "Practitioner/p";
// absolute and versioned references match too) or carries one of
// Identifiers ("system|value", a logical reference), or when its
// meta.source is one of Sources (or starts with it followed by '#' or '/').
type Program struct {
	Name        string
	References  []string
	Identifiers []string
	Sources     []string
}

// SourceKeys are the top-level members whose references say where a
// resource was recorded (who performed, recorded, requested, authored or
// asserted it, or where). A reference to a Part 2 program anywhere under
// one of them makes the resource a Part 2 record.
var SourceKeys = []string{
	"serviceProvider", "performer", "recorder", "requester", "author", "asserter",
	"participant", "location", "provider", "custodian", "sender", "informationSource",
	"enterer", "organization", "managingOrganization", "attester", "collector",
	"managingEntity", // a Group the program manages: its members are its patients
}

// directoryTypes are not records of a program even when they name it:
// directory entries about the program itself and the Patient (whose
// enrolment must not be inferred from a resource being withheld).
var directoryTypes = map[string]bool{
	"Organization": true, "Location": true, "Practitioner": true, "PractitionerRole": true,
	"HealthcareService": true, "Endpoint": true, "Patient": true, "OrganizationAffiliation": true,
}

// programIndex matches references, identifiers and sources to programs.
type programIndex struct {
	refs    map[string]string // "Type/id" → program name
	idents  map[string]string // "system|value" → program name
	sources []sourcePrefix
}

type sourcePrefix struct{ uri, name string }

// indexPrograms validates ps and indexes them; it reports every problem.
func indexPrograms(ps []Program) (programIndex, error) {
	ix := programIndex{refs: map[string]string{}, idents: map[string]string{}}
	var errs []error
	for k, p := range ps {
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("part2-program-%d", k)
		}
		if len(p.References)+len(p.Identifiers)+len(p.Sources) == 0 {
			errs = append(errs, fmt.Errorf("labels: program %q: no references, identifiers or sources", name))
		}
		for _, r := range p.References {
			typ, id, ok := strings.Cut(r, "/")
			if !ok || typ == "" || !validID([]byte(id)) {
				errs = append(errs, fmt.Errorf("labels: program %q: reference %q is not Type/id", name, r))
				continue
			}
			ix.refs[r] = name
		}
		for _, i := range p.Identifiers {
			if s, v, ok := strings.Cut(i, "|"); !ok || s == "" || v == "" {
				errs = append(errs, fmt.Errorf("labels: program %q: identifier %q is not system|value", name, i))
				continue
			}
			ix.idents[i] = name
		}
		for _, s := range p.Sources {
			if s == "" {
				errs = append(errs, fmt.Errorf("labels: program %q: empty source", name))
				continue
			}
			ix.sources = append(ix.sources, sourcePrefix{uri: s, name: name})
		}
	}
	return ix, errors.Join(errs...)
}

// empty reports whether no program is configured.
func (ix *programIndex) empty() bool {
	return len(ix.refs)+len(ix.idents)+len(ix.sources) == 0
}

// byReference returns the program a reference string names, or "".
func (ix *programIndex) byReference(ref []byte) string {
	if len(ix.refs) == 0 {
		return ""
	}
	key, _ := referenceKey(ref)
	if key == nil {
		return ""
	}
	return ix.refs[string(key)]
}

// byIdentifier returns the program an identifier names, or "".
func (ix *programIndex) byIdentifier(system, value []byte) string {
	if len(ix.idents) == 0 {
		return ""
	}
	var buf [256]byte
	key := append(append(append(buf[:0], system...), '|'), value...)
	return ix.idents[string(key)]
}

// bySource returns the program a meta.source names, or "".
func (ix *programIndex) bySource(src []byte) string {
	for _, s := range ix.sources {
		if !bytes.HasPrefix(src, []byte(s.uri)) {
			continue
		}
		if rest := src[len(s.uri):]; len(rest) == 0 || rest[0] == '#' || rest[0] == '/' {
			return s.name
		}
	}
	return ""
}

// referenceKey returns "Type/id" of a literal reference, a subslice of ref:
// the last two path segments of a relative or absolute reference, with a
// /_history/version suffix removed, and the length of Type. It returns nil
// for references that name no resource (contained, urn:, search URLs).
func referenceKey(ref []byte) (key []byte, typLen int) {
	// No id or type holds '_': only a reference with one can hold
	// "/_history/", and most have none.
	if bytes.IndexByte(ref, '_') >= 0 {
		if i := bytes.Index(ref, []byte("/_history/")); i >= 0 {
			ref = ref[:i]
		}
	}
	slash := bytes.LastIndexByte(ref, '/')
	if slash <= 0 || bytes.IndexByte(ref, '?') >= 0 {
		return nil, 0
	}
	id, head := ref[slash+1:], ref[:slash]
	typStart := bytes.LastIndexByte(head, '/') + 1
	typ := head[typStart:]
	if !validID(id) || len(typ) == 0 || typ[0] < 'A' || typ[0] > 'Z' {
		return nil, 0
	}
	return ref[typStart:], len(typ)
}

// ProgramOfReference returns the name of the Part 2 program a reference
// ("Organization/x", absolute or versioned) names, or "".
func (l *Labeller) ProgramOfReference(ref string) string {
	rs := l.rs.Load()
	return rs.programs.byReference([]byte(ref))
}

// ProgramOfIdentifier returns the name of the Part 2 program an identifier
// names, or "".
func (l *Labeller) ProgramOfIdentifier(system, value string) string {
	rs := l.rs.Load()
	return rs.programs.byIdentifier([]byte(system), []byte(value))
}

// HasPrograms reports whether any Part 2 program is configured.
func (l *Labeller) HasPrograms() bool {
	rs := l.rs.Load()
	return !rs.programs.empty()
}
