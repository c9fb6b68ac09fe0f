package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const testDirectory = `
entries:
  - reference: Organization/x
    identifiers: ["http://hl7.org/fhir/sid/us-npi|1234567893", "urn:oid:2.16.840.1.113883.19|x"]
  - reference: Practitioner/dr-a
    identifiers: ["http://hl7.org/fhir/sid/us-npi|1316999999"]
`

// TestDirectory checks both directions of the mapping and the file checks.
func TestDirectory(t *testing.T) {
	t.Parallel()
	d, err := ParseDirectory([]byte(testDirectory))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	forms, ok, err := d.ActorForms(ctx, "Organization/x")
	if err != nil || !ok || len(forms) != 3 {
		t.Errorf("Organization/x: %v %v %v", forms, ok, err)
	}
	forms, ok, _ = d.ActorForms(ctx, "http://hl7.org/fhir/sid/us-npi|1316999999")
	if !ok || !slices.Contains(forms, "Practitioner/dr-a") {
		t.Errorf("identifier → reference: %v %v", forms, ok)
	}
	if _, ok, _ := d.ActorForms(ctx, "Organization/unknown"); ok {
		t.Error("an unknown reference is known")
	}
	for name, bad := range map[string]string{
		"unknown key":   "entries: [{reference: Organization/x, identifier: [a|b]}]",
		"bad reference": "entries: [{reference: x, identifiers: [a|b]}]",
		"bad ident":     "entries: [{reference: Organization/x, identifiers: [ab]}]",
		"duplicate":     "entries: [{reference: Organization/x}, {reference: Organization/x}]",
	} {
		if _, err := ParseDirectory([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestExpandActors checks that a consent naming Organization/x by
// reference also names it by its identifiers after expansion, at every
// level, and that the input stays as it was.
// TestDirectoryParty checks that an entry's name and address are found by
// its reference and by each of its identifiers, and that an entry without
// them gives none.
func TestDirectoryParty(t *testing.T) {
	t.Parallel()
	d, err := ParseDirectory([]byte(testDirectory + `  - reference: Organization/clinic
    identifiers: ["urn:oid:1.2|c"]
    name: Riverside Clinic
    address: 1 Main St, Springfield
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Party{Name: "Riverside Clinic", Address: "1 Main St, Springfield"}
	for _, form := range []string{"Organization/clinic", "urn:oid:1.2|c"} {
		if p, ok := d.Party(form); !ok || p != want {
			t.Errorf("Party(%q) = %+v, %v; want %+v", form, p, ok, want)
		}
	}
	if p, ok := d.Party("Organization/x"); ok {
		t.Errorf("an entry without name or address gives %+v", p)
	}
	if _, ok := (*Directory)(nil).Party("Organization/clinic"); ok {
		t.Error("a nil directory knows a party")
	}
}

func TestExpandActors(t *testing.T) {
	t.Parallel()
	d, err := ParseDirectory([]byte(testDirectory))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Normalize(mustPut(t, newStore(t), tpoConsent))
	if err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprint(n.Rules)
	got, err := ExpandActors(context.Background(), n, d)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(n.Rules) != before {
		t.Error("ExpandActors modified its input")
	}
	actors := got.Rules[1].Conditions[1].Actors
	if !slices.Contains(actors, "Organization/x") || !slices.Contains(actors, "http://hl7.org/fhir/sid/us-npi|1234567893") || len(actors) != 3 {
		t.Errorf("expanded actors %v", actors)
	}
	if !strings.HasPrefix(got.Version, n.Version+"+a") || len(got.Version) != len(n.Version)+10 {
		t.Errorf("expanded version %q", got.Version)
	}
	other, _ := ParseDirectory([]byte("entries: [{reference: Organization/x, identifiers: [\"urn:x|1\"]}]"))
	if again, _ := ExpandActors(context.Background(), n, other); again.Version == got.Version {
		t.Error("another resolution kept the version")
	}
	if a, _ := Actors([]byte(tpoConsent)); fmt.Sprint(a) != "[Organization/x]" {
		t.Errorf("Actors = %v", a)
	}
	_, err = ExpandActors(context.Background(), n, failing{})
	if err == nil || !strings.Contains(err.Error(), "down") {
		t.Errorf("a failing resolver: %v", err)
	}
}

type failing struct{}

func (failing) ActorForms(context.Context, string) ([]string, bool, error) {
	return nil, false, errors.New("down")
}
