package proxy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// TestAlertsSealed stores a blocking alert in plaintext, reopens the store
// with a sealer as serve does once encryption is on: the old alert is
// sealed on open, a new one as written, both read back, the live pages
// hold neither in plaintext, and the encrypted store refuses to open
// without its sealer.
func TestAlertsSealed(t *testing.T) {
	t.Parallel()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	plain, err := OpenAlerts(db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	old := Alert{ID: "bulk-old", Status: AlertOpen, Blocking: true, Caller: "sub:Practitioner/dr-zq-harrowgate",
		Subject: "Practitioner/dr-zq-harrowgate", Window: "zq-old-window", RaisedAt: at}
	if err := plain.PutAlert(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k.Active = true
	ring, err := seal.NewKeyring([]seal.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.Open(db, ring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAlerts(db); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("OpenAlerts without the sealer on an encrypted store = %v", err)
	}
	a, err := OpenAlerts(db, AlertsWithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	fresh := old
	fresh.ID, fresh.Window, fresh.RaisedAt = "bulk-new", "zq-new-window", at.Add(time.Minute)
	if err := a.PutAlert(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := a.GetAlert(t.Context(), "bulk-old"); err != nil || !ok || !got.Blocking || got.Window != "zq-old-window" {
		t.Fatalf("GetAlert(bulk-old) = %+v, %v, %v", got, ok, err)
	}
	list, err := a.Alerts(t.Context(), false)
	if err != nil || len(list) != 2 || list[0].ID != "bulk-new" || list[1].ID != "bulk-old" {
		t.Fatalf("Alerts = %+v, %v", list, err)
	}
	c, err := seal.Count(db, []seal.Path{AlertsPath})
	if err != nil || c.Plain != 0 || c.BucketCount[alertsName] != 2 {
		t.Fatalf("Count = %+v, %v", c, err)
	}
	// bbolt leaves freed pages as they were: scan the live pages, copied
	// as a backup (or ds4p keys compact) would.
	live := filepath.Join(t.TempDir(), "live.db")
	dst, err := bbolt.Open(live, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bbolt.Compact(dst, db, 0); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"zq-old-window", "zq-new-window", "harrowgate"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the live pages hold %q in plaintext", s)
		}
	}
}
