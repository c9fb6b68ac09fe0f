package consent

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// Distinctive identifiers that must not appear in an encrypted file.
const (
	phiPatient = "Patient/zz-mrn-5521"
	phiOrg     = "Organization/harbor-recovery-clinic"
	phiMirror  = "Patient/zz-upstream-8834"
)

// phiConsent is tpoConsent for phiPatient, permitting phiOrg.
func phiConsent(t *testing.T, id string) string {
	return edit(t, consentOf(t, phiPatient, id), `"Organization/x"`, `"`+phiOrg+`"`)
}

// testSealer opens a Sealer for db with keys (one generated, active, when none).
func testSealer(t testing.TB, db *bbolt.DB, keys ...seal.Key) *seal.Sealer {
	t.Helper()
	if len(keys) == 0 {
		k, err := seal.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		k.Active = true
		keys = []seal.Key{k}
	}
	r, err := seal.NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.Open(db, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openPath opens the bbolt file at path.
func openPath(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// fillPHI stores two versions of a consent for phiPatient, a consent for
// phiPatient and one for another patient, and mirrors an upstream consent.
func fillPHI(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	mustPut(t, s, phiConsent(t, "c1"))
	mustPut(t, s, edit(t, phiConsent(t, "c1"), `"status": "active"`, `"status": "inactive"`))
	mustPut(t, s, consentOf(t, "Patient/zz-mrn-0001", "c3"))
	mustPut(t, s, phiConsent(t, "c2"))
	err := s.Mirror().Apply(ctx, []MirrorEntry{{ID: "u1", Patient: phiMirror, JSON: []byte(`{"resourceType":"Consent","patient":{"reference":"` + phiMirror + `"}}`)}}, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// checkPHIReadable checks every read path finds what fillPHI stored.
func checkPHIReadable(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	recs, err := s.ForPatient(ctx, phiPatient)
	if err != nil || len(recs) != 2 || recs[0].ID != "c1" || recs[0].Status != "inactive" || recs[1].ID != "c2" {
		t.Fatalf("ForPatient = %+v, %v", recs, err)
	}
	if other, _ := s.ForPatient(ctx, "Patient/zz-mrn-0001"); len(other) != 1 || other[0].ID != "c3" {
		t.Fatalf("ForPatient(another patient) = %+v", other)
	}
	if v, err := s.PatientVersion(ctx, phiPatient); err != nil || v != 3 {
		t.Fatalf("PatientVersion = %d, %v; want 3", v, err)
	}
	if h, err := s.History(ctx, "c1"); err != nil || len(h) != 2 || !bytes.Contains(h[1].JSON, []byte(phiOrg)) {
		t.Fatalf("History = %d, %v", len(h), err)
	}
	if ns, _, err := s.Normalized(ctx, phiPatient); err != nil || len(ns) != 2 {
		t.Fatalf("Normalized = %d, %v", len(ns), err)
	}
	if found, err := s.Search(ctx, Query{Patient: phiPatient}); err != nil || len(found) != 2 {
		t.Fatalf("Search = %d, %v", len(found), err)
	}
	m, err := s.Mirror().ForPatient(ctx, phiMirror)
	if err != nil || len(m) != 1 || m[0].ID != "u1" {
		t.Fatalf("Mirror.ForPatient = %+v, %v", m, err)
	}
}

// assertNoPHI fails when the file at path holds an identifier in plaintext.
func assertNoPHI(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"zz-mrn-5521", "zz-mrn-0001", "zz-upstream-8834", "harbor-recovery", "42CFRPart2", "patient-privacy"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the database file holds %q in plaintext", s)
		}
	}
}

func TestSealedStoreHoldsNoPlaintext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openPath(t, path)
	s, err := Open(db, WithSealer(testSealer(t, db)))
	if err != nil {
		t.Fatal(err)
	}
	fillPHI(t, s)
	checkPHIReadable(t, s)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoPHI(t, path)
}

// TestSealedStoreMigration encrypts a store written by the plaintext code
// (the fixture), then checks that everything reads and nothing is left in
// plaintext.
func TestSealedStoreMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openPath(t, path)
	plain, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	fillPHI(t, plain)
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte("zz-mrn-5521")) {
		t.Fatal("the fixture is not plaintext")
	}
	sealer := testSealer(t, db)
	s, err := Open(db, WithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	checkPHIReadable(t, s)
	mustPut(t, s, edit(t, phiConsent(t, "c1"), `"status": "active"`, `"status": "rejected"`))
	if v, _ := s.PatientVersion(t.Context(), phiPatient); v != 4 {
		t.Fatalf("the counter did not survive the migration: %d", v)
	}
	if _, err := Open(db); err == nil {
		t.Fatal("an encrypted store opened without its key")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// bbolt leaves freed pages as they were; compact, as a backup would
	// copy live data, before scanning.
	assertNoPHI(t, compact(t, path))
}

// compact copies the live pages of the file at path to a new file.
func compact(t *testing.T, path string) string {
	t.Helper()
	src, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "compact.db")
	dst := openPath(t, out)
	if err := bbolt.Compact(dst, src, 0); err != nil {
		t.Fatal(err)
	}
	_ = dst.Close()
	return out
}

func TestSealedStoreWrongKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openPath(t, path)
	s, err := Open(db, WithSealer(testSealer(t, db)))
	if err != nil {
		t.Fatal(err)
	}
	fillPHI(t, s)
	_ = db.Close()
	before := sha256.Sum256(mustReadFile(t, path))
	db = openPath(t, path)
	k, _ := seal.GenerateKey()
	k.Active = true
	r, _ := seal.NewKeyring([]seal.Key{k})
	if _, err := seal.Open(db, r); err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := Open(db); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("no key: %v", err)
	}
	_ = db.Close()
	if sha256.Sum256(mustReadFile(t, path)) != before {
		t.Fatal("refused opens changed the file")
	}
}

// mustReadFile reads a file.
func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealedStoreRotation rotates to a new key, drops the old one and
// reads everything back.
func TestSealedStoreRotation(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	old, _ := seal.GenerateKey()
	next, _ := seal.GenerateKey()
	old.Active = true
	sealer := testSealer(t, db, old)
	s, err := Open(db, WithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	fillPHI(t, s)
	old.Active, next.Active = false, true
	r, _ := seal.NewKeyring([]seal.Key{old, next})
	if err := sealer.SetKeyring(r, SealedBuckets); err != nil {
		t.Fatal(err)
	}
	if _, err := sealer.Rotate(t.Context(), SealedBuckets, 2); err != nil {
		t.Fatal(err)
	}
	r2, _ := seal.NewKeyring([]seal.Key{next})
	if err := sealer.SetKeyring(r2, SealedBuckets); err != nil {
		t.Fatal(err)
	}
	s.cache = newNormCache(DefaultCacheSize) // read the store, not the cache
	checkPHIReadable(t, s)
}
