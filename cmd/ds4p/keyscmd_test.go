package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/seal"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/siem"
	"go.etcd.io/bbolt"
)

// encryptedDir makes a data directory as serve does (storage.key made,
// the stores opened with it) and fills it with identifying entries and a
// consent.
func encryptedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, err := openSealer(db, StorageConf{}, dir, true)
	if err != nil || sealer == nil {
		t.Fatalf("openSealer = %v, %v", sealer, err)
	}
	if st, err := os.Stat(filepath.Join(dir, StorageKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("storage.key: %v, %v", st, err)
	}
	store, err := consent.Open(db, consentSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", "c1"), "Patient/p1", "Patient/zz-mrn-4410")
	if _, err := store.Put(t.Context(), []byte(raw)); err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(db, auditSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		e := audit.Entry{RequestID: fmt.Sprint("r", i), Patient: "Patient/zz-mrn-4410", Interaction: "read",
			Caller:   audit.Party{Subject: "Practitioner/dr-ysolde-marrack", Org: "Organization/lantern-house"},
			Purposes: []string{"TREAT"}}
		if err := l.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil { // as serve does when it stops
		t.Fatal(err)
	}
	fillProtectionStores(t, db, sealer)
	return dir
}

// fillProtectionStores puts one value in each of the later sealed stores:
// a security event in the SIEM queue, a blocking bulk alert, a
// break-glass review with a distinctive note and the console's counters.
func fillProtectionStores(t *testing.T, db *bbolt.DB, sealer *seal.Sealer) {
	t.Helper()
	q, err := siem.OpenQueue(db, queueSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(siem.Event{Kind: siem.KindBulkAlert, Subject: "Practitioner/dr-ysolde-marrack",
		Org: "Organization/lantern-house", Reason: "bulk-zq-siem-reason", AlertID: "bulk-1"}); err != nil {
		t.Fatal(err)
	}
	alerts, err := proxy.OpenAlerts(db, alertSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := alerts.PutAlert(t.Context(), proxy.Alert{ID: "bulk-1", Status: proxy.AlertOpen, Blocking: true,
		Caller: "sub:Practitioner/dr-ysolde-marrack", Subject: "Practitioner/dr-ysolde-marrack",
		Org: "Organization/lantern-house", Window: "zq-alert-window", RaisedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	reviews, err := audit.OpenReviews(db, reviewSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reviews.Add(t.Context(), audit.Review{EntrySeq: 1, EntryHash: strings.Repeat("ab", 32),
		Reviewer: "auditor-quillon", Note: "zq-review-note: justified for Patient/zz-mrn-4410"}); err != nil {
		t.Fatal(err)
	}
	if err := reviews.SaveCounters(t.Context(), "chart", []byte(`{"zq-counter":1}`)); err != nil {
		t.Fatal(err)
	}
}

// protectionStrings are what fillProtectionStores stores that must not
// appear in plaintext.
var protectionStrings = []string{"bulk-zq-siem-reason", "zq-alert-window", "zq-review-note", "auditor-quillon", "zq-counter"}

// TestEncryptedDataDir checks a data directory encrypted as serve does:
// no identifier in the file, the offline commands read it with the key
// in the data directory, and without the key they fail naming the key id
// and change nothing.
func TestEncryptedDataDir(t *testing.T) {
	t.Parallel()
	dir := encryptedDir(t)
	path := filepath.Join(dir, DBFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append([]string{"zz-mrn-4410", "ysolde", "marrack", "lantern-house"}, protectionStrings...) {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the file holds %q in plaintext", s)
		}
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 12 entries") {
		t.Fatalf("audit verify = %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "query", "--data", dir, "--patient", "Patient/zz-mrn-4410"); code != 0 || strings.Count(out, "\n") != 12 {
		t.Fatalf("audit query = %d %q %s", code, out, errOut)
	}
	if code, out, _ := runCLI("consent", "list", "--data", dir, "--patient", "Patient/zz-mrn-4410"); code != 0 || !strings.Contains(out, "c1") {
		t.Fatalf("consent list = %d %s", code, out)
	}
	ring, err := seal.LoadKeyFile(filepath.Join(dir, StorageKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, StorageKeyFile), filepath.Join(t.TempDir(), "elsewhere")); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path) // consent list, opening read-write, committed a transaction
	before := sha256.Sum256(raw)
	for _, args := range [][]string{{"audit", "verify", "--data", dir}, {"audit", "prune", "--data", dir}, {"consent", "list", "--data", dir}} {
		code, _, errOut := runCLI(args...)
		if code == 0 || !strings.Contains(errOut, seal.FormatID(ring.Active())) || !strings.Contains(errOut, "encrypted") {
			t.Errorf("%v without the key = %d %s; want an error naming key %s", args, code, errOut, seal.FormatID(ring.Active()))
		}
	}
	after, _ := os.ReadFile(path)
	if sha256.Sum256(after) != before {
		t.Fatal("commands refused for want of the key changed the file")
	}
}

// TestKeysRotation adds a key, rotates, checks status and removes the old
// key; everything still reads and verifies.
func TestKeysRotation(t *testing.T) {
	t.Parallel()
	dir := encryptedDir(t)
	keyFile := filepath.Join(dir, StorageKeyFile)
	old, _ := seal.LoadKeyFile(keyFile)
	oldID := seal.FormatID(old.Active())
	if code, out, errOut := runCLI("keys", "add", "--file", keyFile); code != 0 || !strings.Contains(out, "added key") {
		t.Fatalf("keys add = %d %s %s", code, out, errOut)
	}
	next, _ := seal.LoadKeyFile(keyFile)
	newID := seal.FormatID(next.Active())
	if code, _, errOut := runCLI("keys", "remove", "--file", keyFile, "--id", oldID, "--data", dir); code == 0 || !strings.Contains(errOut, "still seals") {
		t.Fatalf("removing a key in use = %d %s", code, errOut)
	}
	code, out, errOut := runCLI("keys", "rotate", "--data", dir)
	// 12 entries, the head, keyed_from, one consent version, a SIEM event
	// and the SIEM queue's byte count, an alert, a review, the counters
	// and the secret.
	if code != 0 || !strings.Contains(out, "re-sealed 20 values") || !strings.Contains(out, "key "+newID+": 21 values (active)") {
		t.Fatalf("keys rotate = %d %s %s", code, out, errOut)
	}
	code, out, _ = runCLI("keys", "status", "--data", dir)
	if code != 0 || !regexp.MustCompile("key "+oldID+": 0 values \\(removable").MatchString(out) {
		t.Fatalf("keys status = %d %s", code, out)
	}
	if code, out, errOut := runCLI("keys", "remove", "--file", keyFile, "--id", oldID, "--data", dir); code != 0 {
		t.Fatalf("keys remove = %d %s %s", code, out, errOut)
	}
	if r, _ := seal.LoadKeyFile(keyFile); r.Has(old.Active()) || len(r.IDs()) != 1 {
		t.Fatal("the old key is still in the file")
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 12 entries") {
		t.Fatalf("audit verify after rotation = %d %s %s", code, out, errOut)
	}
	if code, out, _ := runCLI("consent", "show", "--data", dir, "c1"); code != 0 || !strings.Contains(out, "zz-mrn-4410") {
		t.Fatalf("consent show after rotation = %d %s", code, out)
	}
	checkProtectionStores(t, dir)
}

// checkProtectionStores reads back, with the data directory's key, what
// fillProtectionStores stored.
func checkProtectionStores(t *testing.T, dir string) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, err := openSealer(db, StorageConf{}, dir, false)
	if err != nil || sealer == nil {
		t.Fatalf("openSealer = %v, %v", sealer, err)
	}
	if _, err := siem.OpenQueue(db); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("the SIEM queue opened without its key: %v", err)
	}
	q, err := siem.OpenQueue(db, queueSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := q.Pending(); err != nil || n != 1 {
		t.Errorf("queued events = %d, %v", n, err)
	}
	if _, err := proxy.OpenAlerts(db); err == nil {
		t.Error("the alert store opened without its key")
	}
	alerts, err := proxy.OpenAlerts(db, alertSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok, err := alerts.GetAlert(t.Context(), "bulk-1"); err != nil || !ok || !a.Blocking || a.Window != "zq-alert-window" {
		t.Errorf("alert = %+v, %v, %v", a, ok, err)
	}
	if _, err := audit.OpenReviews(db); err == nil {
		t.Error("the review store opened without its key")
	}
	reviews, err := audit.OpenReviews(db, reviewSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reviews.For(t.Context(), []uint64{1})
	if err != nil || len(got[1]) != 1 || !strings.HasPrefix(got[1][0].Note, "zq-review-note") {
		t.Errorf("reviews = %+v, %v", got, err)
	}
	if blob, err := reviews.LoadCounters(t.Context(), "chart"); err != nil || string(blob) != `{"zq-counter":1}` {
		t.Errorf("counters = %q, %v", blob, err)
	}
}

func TestStorageConfig(t *testing.T) {
	t.Parallel()
	k, _ := seal.GenerateKey()
	k.Active = true
	line := strings.TrimSpace(strings.SplitN(string(seal.Format([]seal.Key{k})), "\n", 2)[1])
	for _, tc := range []struct {
		s    StorageConf
		fail bool
	}{
		{StorageConf{}, false},
		{StorageConf{Encryption: "off"}, false},
		{StorageConf{Encryption: "maybe"}, true},
		{StorageConf{Key: line, KeyFile: "/k"}, true},
		{StorageConf{Key: line, Encryption: "off"}, true},
		{StorageConf{Key: "c2hvcnQ="}, true},
		{StorageConf{Key: line}, false},
	} {
		if errs := tc.s.validate(); (len(errs) > 0) != tc.fail {
			t.Errorf("%+v: %v", tc.s.Encryption, errs)
		}
		for _, err := range tc.s.validate() {
			if strings.Contains(err.Error(), "c2hvcnQ") || strings.Contains(err.Error(), line[9:20]) {
				t.Errorf("an error echoes the key: %v", err)
			}
		}
	}
	c := defaultConfig()
	if err := c.applyEnv([]string{"DS4P_STORAGE_KEY=" + line, "DS4P_STORAGE_ENCRYPTION=on"}); err != nil || c.Storage.Key != line {
		t.Fatalf("DS4P_STORAGE_KEY: %v", err)
	}
	if r, err := c.Storage.keyring(t.TempDir(), true); err != nil || r.Active() != k.ID {
		t.Fatalf("keyring from the environment: %v", err)
	}
}

// TestEncryptPlaintextDataDir encrypts a data directory written without
// encryption as serve's first start with a key does, compacts it, and
// checks that no identifier is left and the ledger verifies.
func TestEncryptPlaintextDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store, err := consent.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", "c1"), "Patient/p1", "Patient/zz-mrn-9071")
	if _, err := store.Put(t.Context(), []byte(raw)); err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		e := audit.Entry{RequestID: fmt.Sprint("r", i), Patient: "Patient/zz-mrn-9071", Caller: audit.Party{Subject: "Practitioner/dr-ottoline-vey"}}
		if err := l.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	sealer, err := openSealer(db, StorageConf{}, dir, true) // serve's first start with encryption on
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consent.Open(db, consentSealing(sealer)...); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Open(db, auditSealing(sealer)...); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI("keys", "compact", "--data", dir); code != 0 || !strings.Contains(out, "compacted") {
		t.Fatalf("keys compact = %d %s %s", code, out, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"zz-mrn-9071", "ottoline"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the compacted file holds %q", s)
		}
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 40 entries") {
		t.Fatalf("audit verify = %d %s %s", code, out, errOut)
	}
	if code, out, _ := runCLI("keys", "status", "--data", dir); code != 0 || strings.Contains(out, "plaintext") {
		t.Fatalf("keys status = %d %s", code, out)
	}
}

// TestKeyFileReloadRotates runs what serve runs: the key file watcher and
// the background rotator on an open database. A key added to the file
// while the store takes writes is picked up and everything is re-sealed
// under it, with no restart.
func TestKeyFileReloadRotates(t *testing.T) {
	t.Parallel()
	dir := encryptedDir(t)
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, err := openSealer(db, StorageConf{}, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(db, auditSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	sealer.StartRotator(ctx, sealedPaths(), func(_ int, err error) { done <- err })
	keyFile := filepath.Join(dir, StorageKeyFile)
	go watchKeyFile(ctx, keyFile, 20*time.Millisecond, sealer, sealedPaths(), slog.New(slog.DiscardHandler))
	time.Sleep(50 * time.Millisecond) // the watcher has its first stamp
	old := sealer.Keyring().Active()
	if code, _, errOut := runCLI("keys", "add", "--file", keyFile); code != 0 {
		t.Fatalf("keys add: %s", errOut)
	}
	for i := range 20 { // appends go on during the rotation
		if err := l.Append(ctx, audit.Entry{RequestID: fmt.Sprint("during-", i), Patient: "Patient/p9"}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no rotation after the key file changed")
	}
	c, err := seal.Count(db, sealedPaths())
	if err != nil || c.ByKey[old] != 0 || sealer.Keyring().Active() == old {
		t.Fatalf("after the reload: %+v, %v", c, err)
	}
	if n, err := l.Verify(ctx); err != nil || n != 32 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

// TestServeWithoutItsKey opens an encrypted data directory as serve does
// after its key file was lost: it fails naming the key id, makes no new key
// and leaves the database as it was.
func TestServeWithoutItsKey(t *testing.T) {
	t.Parallel()
	dir := encryptedDir(t)
	keyFile := filepath.Join(dir, StorageKeyFile)
	ring, _ := seal.LoadKeyFile(keyFile)
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DBFile)
	before, _ := os.ReadFile(path)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = openSealer(db, StorageConf{}, dir, true)
	_ = db.Close()
	if err == nil || !strings.Contains(err.Error(), seal.FormatID(ring.Active())) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("openSealer without the key file = %v", err)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new key file was made for an encrypted store")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the database changed")
	}
}

func TestKeysGenerate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys")
	code, out, errOut := runCLI("keys", "generate", "--out", path)
	if code != 0 || !strings.Contains(out, "(active)") {
		t.Fatalf("keys generate = %d %s %s", code, out, errOut)
	}
	r, err := seal.LoadKeyFile(path)
	if err != nil || len(r.IDs()) != 1 || !strings.Contains(out, seal.FormatID(r.Active())) {
		t.Fatalf("the generated file: %v", err)
	}
	if code, _, _ := runCLI("keys", "generate", "--out", path); code == 0 {
		t.Fatal("generate overwrote an existing key file")
	}
	if r2, _ := seal.LoadKeyFile(path); r2.Active() != r.Active() {
		t.Fatal("the key file changed")
	}
}
