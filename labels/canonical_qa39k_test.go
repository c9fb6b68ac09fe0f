package labels_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// canonForm is a form kept as Questionnaire/<id> whose canonical is url
// (and version v); coded is whether it carries the PHQ-9's LOINC code.
func canonForm(id, url, v string, coded bool) string {
	s := `{"resourceType":"Questionnaire","id":"` + id + `","url":"` + url + `",`
	if v != "" {
		s += `"version":"` + v + `",`
	}
	if coded {
		s += `"code":[{"system":"http://loinc.org","code":"44249-1"}],`
	}
	return s + `"status":"active","item":[{"linkId":"/44261-6","type":"integer"}]}`
}

// canonUpstream answers canonical targets from forms, by url; it records
// what it was asked.
type canonUpstream struct {
	mu    sync.Mutex
	forms map[string][]string
	asked []labels.Target
	err   error
}

func (u *canonUpstream) fetch(ts []labels.Target) ([][]byte, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out [][]byte
	for _, t := range ts {
		u.asked = append(u.asked, t)
		if t.Canonical == "" {
			continue
		}
		if u.err != nil {
			return nil, u.err
		}
		for _, f := range u.forms[t.Canonical] {
			out = append(out, []byte(f))
		}
	}
	return out, nil
}

func (u *canonUpstream) canonicalAsks() []labels.Target {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []labels.Target
	for _, t := range u.asked {
		if t.Canonical != "" {
			out = append(out, t)
		}
	}
	return out
}

func resolveCanon(t *testing.T, l *labels.Labeller, u *canonUpstream, resources ...string) ([]labels.Result, error) {
	t.Helper()
	b := l.NewBatch()
	out := make([]labels.Result, len(resources))
	for k, r := range resources {
		if err := b.AddValid([]byte(r), &out[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Resolve(u.fetch); err != nil {
		return nil, err
	}
	b.Finish()
	return out, nil
}

// TestCanonicalFormResolvedQA39K: a QuestionnaireResponse names its form by
// the form's canonical (Questionnaire.url), which is not where the server
// keeps it (http://acme.example/forms/PHQ-9|2.0, kept as Questionnaire/7).
// Read only as a reference, the PHQ-9 answers took nothing from the form
// and went out ordinary. The canonical is found by url in the batch, else
// searched for (Target.Canonical), whatever host it names.
func TestCanonicalFormResolvedQA39K(t *testing.T) {
	t.Parallel()
	const acme = "http://acme.example/forms/PHQ-9"
	qr := phq9Answers(`"` + acme + `|2.0"`)

	// Searched: the match's labels pass on; the search names the url and
	// version, as Questionnaire.
	u := &canonUpstream{forms: map[string][]string{acme: {canonForm("7", acme, "2.0", true)}}}
	got, err := resolveCanon(t, part2Labeller(t, 100), u, qr)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Labels.Has(mhLabel) {
		t.Errorf("searched: labels %v, want MH (asked %+v)", got[0].Labels, u.asked)
	}
	if a := u.canonicalAsks(); len(a) != 1 || a[0].Type != "Questionnaire" || a[0].Canonical != acme || a[0].CanonicalVersion != "2.0" {
		t.Errorf("asked %+v, want one search for Questionnaire %s version 2.0", a, acme)
	}

	// Every match passes on: an ordinary version beside the coded one; a
	// server that ignores the version answers both.
	u = &canonUpstream{forms: map[string][]string{acme: {canonForm("6", acme, "1.0", false), canonForm("7", acme, "2.0", true)}}}
	if got, err = resolveCanon(t, part2Labeller(t, 0), u, phq9Answers(`"`+acme+`"`)); err != nil || !got[0].Labels.Has(mhLabel) {
		t.Errorf("two matches: labels %v (%v), want MH", got[0].Labels, err)
	}

	// In the same batch: the form stands for its canonical, and the
	// upstream is searched still (it may keep other forms of that url: QA
	// round 40, helper A); a form deriving from the canonical inherits as
	// well.
	u = &canonUpstream{}
	got, err = resolveCanon(t, part2Labeller(t, 100), u, qr, canonForm("7", acme, "2.0", true))
	if err != nil || !got[0].Labels.Has(mhLabel) {
		t.Errorf("form in the batch: labels %v (%v), want MH", got[0].Labels, err)
	}
	if a := u.canonicalAsks(); len(a) != 1 {
		t.Errorf("form in the batch: searched %+v, want one search", a)
	}
	adapted := `{"resourceType":"Questionnaire","id":"a1","status":"active","derivedFrom":["` + acme + `"]}`
	u = &canonUpstream{forms: map[string][]string{acme: {canonForm("7", acme, "", true)}}}
	if got, err = resolveCanon(t, part2Labeller(t, 0), u, adapted); err != nil || !got[0].Labels.Has(mhLabel) {
		t.Errorf("derivedFrom the canonical: labels %v (%v), want MH", got[0].Labels, err)
	}

	// No match passes nothing; a failed search fails the batch.
	u = &canonUpstream{}
	if got, err = resolveCanon(t, part2Labeller(t, 0), u, qr); err != nil || got[0].Labels.Has(mhLabel) {
		t.Errorf("no match: labels %v (%v), want ordinary", got[0].Labels, err)
	}
	u = &canonUpstream{err: errors.New("upstream down")}
	if _, err = resolveCanon(t, part2Labeller(t, 0), u, qr); err == nil {
		t.Error("a failed search: no error")
	}

	// A canonical is not noted as known: the next batch searches again
	// (the form may have changed; its Type/id is not the canonical).
	l := part2Labeller(t, 100)
	u = &canonUpstream{}
	for range 2 {
		if _, err := resolveCanon(t, l, u, qr); err != nil {
			t.Fatal(err)
		}
	}
	if a := u.canonicalAsks(); len(a) != 2 {
		t.Errorf("two batches: searched %d times, want 2", len(a))
	}
}

// TestCanonicalHeldByFullURLQA39K: a response in a document naming its form
// by the urn:uuid fullUrl of the form's entry takes the form's labels from
// that entry, and searches nothing (a server may refuse url=urn:uuid:...).
func TestCanonicalHeldByFullURLQA39K(t *testing.T) {
	t.Parallel()
	const uuid = "urn:uuid:6c1f2b8e-1d3a-4c5e-9f70-0a1b2c3d4e5f"
	l := part2Labeller(t, 0)
	b := l.NewBatch()
	var qr, form labels.Result
	if err := b.AddValid([]byte(phq9Answers(`"`+uuid+`"`)), &qr); err != nil {
		t.Fatal(err)
	}
	if err := b.AddValid([]byte(canonForm("7", "http://acme.example/forms/PHQ-9", "", true)), &form); err != nil {
		t.Fatal(err)
	}
	b.NameByURL(uuid, &form)
	u := &canonUpstream{}
	if err := b.Resolve(u.fetch); err != nil {
		t.Fatal(err)
	}
	b.Finish()
	if !qr.Labels.Has(mhLabel) {
		t.Errorf("labels %v, want MH", qr.Labels)
	}
	if a := u.canonicalAsks(); len(a) != 0 {
		t.Errorf("searched %+v", a)
	}
}
