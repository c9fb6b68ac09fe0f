package consent

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestImportKeepsRevocation is QA round 19's finding: importing an old
// export again stored it as the newest version, so a consent revoked since
// (or replaced) was active again, silently. Import refuses an earlier
// version and stores nothing for one the store already has.
func TestImportKeepsRevocation(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	export := consentOf(t, "Patient/p1", "c1")
	// The export as a FHIR server writes it: its own meta, another layout.
	exported := edit(t, export, `"status": "active",`, `"meta": {"versionId": "7", "lastUpdated": "2026-02-16T10:00:00Z"}, "status": "active",`)

	if _, stored, err := s.Import(ctx, []byte(exported)); err != nil || !stored {
		t.Fatalf("first import: stored %v, %v", stored, err)
	}
	if _, stored, err := s.Import(ctx, []byte(export)); err != nil || stored {
		t.Fatalf("the same consent again: stored %v, %v; want nothing stored", stored, err)
	}
	if n := countVersions(t, s, "c1"); n != 1 {
		t.Fatalf("%d versions after importing the same consent twice, want 1", n)
	}
	if _, _, err := s.Revoke(ctx, "c1", "inactive"); err != nil {
		t.Fatal(err)
	}
	_, stored, err := s.Import(ctx, []byte(exported))
	var ve *ValidationError
	if !errors.Is(err, ErrOlderVersion) || !errors.As(err, &ve) || stored {
		t.Fatalf("the old export after a revocation: stored %v, %v; want ErrOlderVersion", stored, err)
	}
	if msg := ve.Error(); !strings.Contains(msg, "version 1") || strings.Contains(msg, "c1") || strings.Contains(msg, "p1") {
		t.Errorf("problem %q should name the version and neither the consent id nor the patient", msg)
	}
	head, err := s.Get(ctx, "c1")
	if err != nil || head.Status != "inactive" || head.Version != 2 {
		t.Fatalf("after the refused import: version %d status %q (%v), want 2 inactive", head.Version, head.Status, err)
	}

	// Content the store has not seen, with the same date, does not make
	// the revoked consent active again: it is most likely the old one
	// edited since.
	changed := edit(t, export, `"2026-12-31"`, `"2027-12-31"`)
	if _, stored, err := s.Import(ctx, []byte(changed)); !errors.Is(err, ErrOlderVersion) || stored {
		t.Fatalf("a changed consent of the same date over the revocation: stored %v, %v; want ErrOlderVersion", stored, err)
	}
	// Dated after the stored one, it is a new grant: the next version.
	changed = edit(t, changed, `"dateTime": "2026-02-16"`, `"dateTime": "2026-02-20"`)
	if rec, stored, err := s.Import(ctx, []byte(changed)); err != nil || !stored || rec.Version != 3 {
		t.Fatalf("a consent signed again: version %d stored %v, %v; want version 3", rec.Version, stored, err)
	}
	// One dated before the current version is an earlier one too.
	earlier := edit(t, changed, `"dateTime": "2026-02-20"`, `"dateTime": "2025-11-30T09:00:00-05:00"`)
	if _, stored, err := s.Import(ctx, []byte(earlier)); !errors.Is(err, ErrOlderVersion) || stored {
		t.Fatalf("a consent dated before the stored one: stored %v, %v; want ErrOlderVersion", stored, err)
	}
	later := edit(t, changed, `"dateTime": "2026-02-20"`, `"dateTime": "2026-02-21"`)
	if _, stored, err := s.Import(ctx, []byte(later)); err != nil || !stored {
		t.Fatalf("a consent dated after the stored one: stored %v, %v", stored, err)
	}
}

// TestImportWithoutIDOnce: a consent without id got a new id on every
// import, so importing a file twice gave the patient every consent twice,
// and importing an old export again brought back a revoked one under a new
// id. Without id, a consent is compared with the patient's consents.
func TestImportWithoutIDOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	raw := []byte(consentOf(t, "Patient/p1", ""))
	first, stored, err := s.Import(ctx, raw)
	if err != nil || !stored {
		t.Fatalf("first import: stored %v, %v", stored, err)
	}
	again, stored, err := s.Import(ctx, raw)
	if err != nil || stored || again.ID != first.ID {
		t.Fatalf("again: %s stored %v, %v; want %s unchanged", again.ID, stored, err, first.ID)
	}
	// Another patient's identical consent is theirs, not a duplicate.
	if _, stored, err := s.Import(ctx, []byte(consentOf(t, "Patient/p2", ""))); err != nil || !stored {
		t.Fatalf("another patient's: stored %v, %v", stored, err)
	}
	if _, _, err := s.Revoke(ctx, first.ID, "inactive"); err != nil {
		t.Fatal(err)
	}
	if _, stored, err := s.Import(ctx, raw); !errors.Is(err, ErrOlderVersion) || stored {
		t.Fatalf("after revocation: stored %v, %v; want ErrOlderVersion", stored, err)
	}
	recs, err := s.ForPatient(ctx, "Patient/p1")
	if err != nil || len(recs) != 1 || recs[0].Status != "inactive" {
		t.Fatalf("patient p1 has %d consents (%v), want the one revoked", len(recs), err)
	}
}

// TestDateTimeChecked: Consent.dateTime (R5 date) was never checked, so
// "yesterday" or "12/01/2026" was stored and then ignored where the date
// decides which copy of a consent is the later (Merge, Import).
func TestDateTimeChecked(t *testing.T) {
	r5, err := os.ReadFile("testdata/r5/tpo.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ raw, path string }{
		{edit(t, tpoConsent, `"dateTime": "2026-02-16"`, `"dateTime": "yesterday"`), "Consent.dateTime"},
		{edit(t, tpoConsent, `"dateTime": "2026-02-16"`, `"dateTime": "2026-02-16T10:00:00"`), "Consent.dateTime"},
		{strings.Replace(string(r5), `"date": "2026-02-16"`, `"date": "12/01/2026"`, 1), "Consent.date"},
	} {
		_, err := Validate([]byte(c.raw))
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Path != c.path {
			t.Errorf("%s: %v, want one problem at %s", c.path, err, c.path)
		}
	}
	for _, ok := range []string{"2026", "2026-02", "2026-02-16T10:00:00.5+01:00"} {
		if _, err := Validate([]byte(edit(t, tpoConsent, `"dateTime": "2026-02-16"`, `"dateTime": "`+ok+`"`))); err != nil {
			t.Errorf("dateTime %s: %v", ok, err)
		}
	}
	// A consent stored before the check still reads.
	bad := edit(t, tpoConsent, `"dateTime": "2026-02-16"`, `"dateTime": "yesterday"`)
	if _, err := Normalize(Record{ID: "old", Version: 1, JSON: []byte(bad)}); err != nil {
		t.Errorf("a stored consent with an unreadable dateTime: %v", err)
	}
}

// TestAuthorKept: nothing said who wrote a version, so an import (or a
// revocation from the command line) left no trace an auditor could find
// (QA round 19). WithAuthor names the writer in every version it stores.
func TestAuthorKept(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	cli, err := Open(db, WithAuthor("ds4p consent import by alice@h1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli.Import(ctx, []byte(consentOf(t, "Patient/p1", "c1"))); err != nil {
		t.Fatal(err)
	}
	api, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.Revoke(ctx, "c1", "inactive"); err != nil {
		t.Fatal(err)
	}
	recs, err := cli.History(ctx, "c1")
	if err != nil || len(recs) != 2 {
		t.Fatalf("history: %d versions, %v", len(recs), err)
	}
	if recs[1].Author != "ds4p consent import by alice@h1" || recs[0].Author != "" {
		t.Errorf("authors %q (v1), %q (v2); want the importer's, then none", recs[1].Author, recs[0].Author)
	}
	head, err := api.Get(ctx, "c1")
	if err != nil || head.Author != "" {
		t.Errorf("head author %q, %v", head.Author, err)
	}
	if strings.Contains(string(head.JSON), "alice") {
		t.Errorf("the author is in the resource: %s", head.JSON)
	}
}

// TestNotUTF8Named: a consent saved as Latin-1 was refused for "member
// names that differ only in case"; it is refused for what it is.
func TestNotUTF8Named(t *testing.T) {
	raw := edit(t, tpoConsent, `"Organization/x"`, "\"Organization/M\xfcller\"")
	_, err := Validate([]byte(raw))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(ve.Problems[0].Message, "is not UTF-8") {
		t.Fatalf("Latin-1 consent: %v, want one problem saying it is not UTF-8", err)
	}
}

// TestImportOfAnotherPatientsID: a consent under another patient's
// consent id is refused as a patient change, whatever its date, so the
// operator is told what is wrong.
func TestImportOfAnotherPatientsID(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, _, err := s.Import(ctx, []byte(consentOf(t, "Patient/p1", "c1"))); err != nil {
		t.Fatal(err)
	}
	older := edit(t, consentOf(t, "Patient/p2", "c1"), `"dateTime": "2026-02-16"`, `"dateTime": "2020-01-01"`)
	if _, stored, err := s.Import(ctx, []byte(older)); !errors.Is(err, ErrPatientChanged) || stored {
		t.Fatalf("stored %v, %v; want ErrPatientChanged", stored, err)
	}
}

// TestImportNeverRefusesWithdrawal: the check for earlier versions must not
// refuse a revocation the source made again (its content equal to a
// revocation stored earlier, then re-granted): the consent would stay
// active.
func TestImportNeverRefusesWithdrawal(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	active := consentOf(t, "Patient/p1", "c1")
	revoked := edit(t, active, `"status": "active"`, `"status": "inactive"`)
	regranted := edit(t, active, `"dateTime": "2026-02-16"`, `"dateTime": "2026-03-01"`)
	for _, raw := range []string{active, revoked, regranted} {
		if _, stored, err := s.Import(ctx, []byte(raw)); err != nil || !stored {
			t.Fatalf("stored %v, %v", stored, err)
		}
	}
	rec, stored, err := s.Import(ctx, []byte(revoked)) // version 2 again, dated before version 3
	if err != nil || !stored || rec.Version != 4 || rec.Status != "inactive" {
		t.Fatalf("the revocation again: version %d %s, stored %v, %v; want version 4 inactive", rec.Version, rec.Status, stored, err)
	}
}

// TestImportWithoutIDByIdentifier: a consent without id but with a
// Consent.identifier is the stored consent of its patient with that
// identifier: an edited old export without ids was a new consent, in force
// next to the revoked one.
func TestImportWithoutIDByIdentifier(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	raw := edit(t, consentOf(t, "Patient/p1", ""), `"status": "active",`,
		`"identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5.99", "value": "C2S-1001"}], "status": "active",`)
	first, stored, err := s.Import(ctx, []byte(raw))
	if err != nil || !stored {
		t.Fatalf("first import: stored %v, %v", stored, err)
	}
	if _, _, err := s.Revoke(ctx, first.ID, "inactive"); err != nil {
		t.Fatal(err)
	}
	edited := edit(t, raw, `"2026-12-31"`, `"2027-06-30"`)
	if _, stored, err := s.Import(ctx, []byte(edited)); !errors.Is(err, ErrOlderVersion) || stored {
		t.Fatalf("an edited old export over the revocation: stored %v, %v; want ErrOlderVersion", stored, err)
	}
	signed := edit(t, edited, `"dateTime": "2026-02-16"`, `"dateTime": "2026-04-01"`)
	rec, stored, err := s.Import(ctx, []byte(signed))
	if err != nil || !stored || rec.ID != first.ID || rec.Version != 3 {
		t.Fatalf("signed again: %s version %d stored %v, %v; want %s version 3", rec.ID, rec.Version, stored, err, first.ID)
	}
	recs, err := s.ForPatient(ctx, "Patient/p1")
	if err != nil || len(recs) != 1 {
		t.Fatalf("patient p1 has %d consents (%v), want 1", len(recs), err)
	}
}
