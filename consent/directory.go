package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Directory maps actor references ("Organization/o1") to the identifiers
// the same party goes by ("urn:oid:2.16.840.1.113883.4.6|1234567893") and
// back, from a file the deployment writes (consents.directory):
//
//	entries:
//	  - reference: Organization/o1
//	    identifiers: ["http://hl7.org/fhir/sid/us-npi|1234567893"]
//	    name: Riverside Clinic               # optional: the recipient's name and
//	    address: 1 Main St, Springfield, IL  # address in the accounting of disclosures
//	  - reference: Practitioner/dr-a
//	    identifiers: ["http://hl7.org/fhir/sid/us-npi|1316999999"]
//
// YAML or JSON (JSON is YAML). It is safe for concurrent use; it never
// changes after loading.
type Directory struct {
	forms   map[string][]string // each form → every form of that party, itself included
	parties map[string]Party    // each form → the party's name and address, when given
}

// Party is a directory entry's name and address (either may be empty).
type Party struct{ Name, Address string }

// directoryFile is the file format of a Directory.
type directoryFile struct {
	Entries []struct {
		Reference   string   `yaml:"reference"`
		Identifiers []string `yaml:"identifiers"`
		Name        string   `yaml:"name"`
		Address     string   `yaml:"address"`
	} `yaml:"entries"`
}

// literalRefPattern is a relative literal reference, "Type/id".
var literalRefPattern = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}$`)

// LoadDirectory reads a directory file; every problem is reported at once.
func LoadDirectory(path string) (*Directory, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("consent directory: %w", err)
	}
	return ParseDirectory(raw)
}

// ParseDirectory reads a directory from YAML or JSON. Unknown keys, a
// reference that is not "Type/id", an identifier that is not
// "system|value", and a reference or identifier listed twice are errors.
func ParseDirectory(raw []byte) (*Directory, error) {
	var f directoryFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("consent directory: %w", err)
	}
	d := &Directory{forms: make(map[string][]string), parties: make(map[string]Party)}
	var errs []error
	for i, e := range f.Entries {
		at := fmt.Sprintf("entries[%d]", i)
		if !literalRefPattern.MatchString(e.Reference) {
			errs = append(errs, fmt.Errorf("%s.reference %q is not of the form Type/id", at, e.Reference))
		}
		forms := []string{e.Reference}
		for j, id := range e.Identifiers {
			system, value, ok := strings.Cut(id, "|")
			if !ok || system == "" || value == "" {
				errs = append(errs, fmt.Errorf("%s.identifiers[%d] %q is not system|value", at, j, id))
			}
			forms = append(forms, id)
		}
		for _, form := range forms {
			if _, dup := d.forms[form]; dup {
				errs = append(errs, fmt.Errorf("%s: %q is listed twice", at, form))
			}
			d.forms[form] = forms
			if e.Name != "" || e.Address != "" {
				d.parties[form] = Party{Name: e.Name, Address: e.Address}
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("consent directory: %w", errors.Join(errs...))
	}
	return d, nil
}

// ActorForms returns every form of the party named by form (a reference or
// "system|value"), itself included, and whether the directory knows it.
func (d *Directory) ActorForms(_ context.Context, form string) ([]string, bool, error) {
	if d == nil {
		return nil, false, nil
	}
	forms, ok := d.forms[form]
	return forms, ok, nil
}

// Party returns the name and address of the party named by form (a
// reference or "system|value"), and whether the directory gives either.
func (d *Directory) Party(form string) (Party, bool) {
	if d == nil {
		return Party{}, false
	}
	p, ok := d.parties[form]
	return p, ok
}

// Len returns the number of forms the directory knows.
func (d *Directory) Len() int {
	if d == nil {
		return 0
	}
	return len(d.forms)
}

// ActorResolver finds the other names of a consent's actor: a reference's
// identifiers, an identifier's reference. *Directory is one; the proxy adds
// the upstream FHIR server.
type ActorResolver interface {
	// ActorForms returns every form of the party named by form, itself
	// included, and whether the party is known; err when it cannot tell.
	ActorForms(ctx context.Context, form string) (forms []string, known bool, err error)
}

// ExpandActors returns n with every actor of every rule also named by its
// other forms, so that the policy, which matches a caller's organisation
// reference and identifiers against Cond.Actors, recognises the same party
// by any of its names. Adding names of the same party narrows nothing and
// widens only to that party. n itself is not modified; when nothing
// changes, it is returned as is. An expanded consent's Version gets the
// suffix "+a<hash of the names added>" (the stored version stays its
// prefix), so that caches keyed by consent versions tell expansions apart.
func ExpandActors(ctx context.Context, n Normalized, r ActorResolver) (Normalized, error) {
	extra := map[string][]string{}
	for _, rule := range n.Rules {
		for _, c := range rule.Conditions {
			for _, a := range c.Actors {
				if _, done := extra[a]; done {
					continue
				}
				forms, _, err := r.ActorForms(ctx, a)
				if err != nil {
					return Normalized{}, fmt.Errorf("consent: resolving the actors of %s: %w", n.ID, err)
				}
				extra[a] = forms
			}
		}
	}
	// Names a resolver takes from data a caller may write (an upstream's
	// Practitioner carrying an identifier) widen denies only: a permit
	// naming org-a's NPI admitted a clinician of org-b who wrote that NPI
	// onto his own Practitioner through ds4p (QA round 41, helper F).
	denyOnly := map[string]bool{}
	if d, ok := r.(interface{ DenyOnly(form string) bool }); ok {
		for a := range extra {
			denyOnly[a] = d.DenyOnly(a)
		}
	}
	changed := false
	rules := make([]Rule, len(n.Rules))
	for i, rule := range n.Rules {
		rule.Conditions = slices.Clone(rule.Conditions)
		for j, c := range rule.Conditions {
			actors := slices.Clone(c.Actors)
			for _, a := range c.Actors {
				if rule.Type == "permit" && denyOnly[a] {
					continue
				}
				for _, f := range extra[a] {
					if !slices.Contains(actors, f) {
						actors, changed = append(actors, f), true
					}
				}
			}
			rule.Conditions[j].Actors = actors
		}
		rules[i] = rule
	}
	if !changed {
		return n, nil
	}
	n.Rules = rules
	n.Version += "+a" + formsHash(extra)
	return n, nil
}

// formsHash is a short hash of the names resolution added, so that the
// version of an expanded consent changes when its resolution does: caches
// keyed by consent versions (the policy's) then never serve a consent
// expanded otherwise.
func formsHash(extra map[string][]string) string {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%q=%q;", k, extra[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// Actors returns every actor a consent's provisions name (references and
// "system|value"), each once, in order; the consent must be valid.
func Actors(raw []byte) ([]string, error) {
	doc, err := parse(raw, DefaultMaxSize)
	if err != nil {
		return nil, err
	}
	n, err := normalizeParsed(doc, "", "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rule := range n.Rules {
		for _, c := range rule.Conditions {
			for _, a := range c.Actors {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out, nil
}
