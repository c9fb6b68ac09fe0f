package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy"
)

// TestAlertsKeptWithDetectionOff: turning bulk detection off (a load
// test) keeps the alert store, so the open alerts stay listed and
// clearable and their blocks hold.
func TestAlertsKeptWithDetectionOff(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Protection.Bulk.Enabled = false
	db, ledger := openTestLedger(t, filepath.Join(cfg.DataDir, DBFile))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := openProtection(ctx, cfg, db, ledger, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	store := p.alertStore()
	if store == nil {
		t.Fatal("no alert store with bulk detection off: its open alerts and blocks are dropped")
	}
	a := proxy.Alert{ID: "bulk-off", Status: proxy.AlertOpen, Caller: "sub:eve", Subject: "eve", Blocking: true, RaisedAt: time.Now()}
	if err := store.PutAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Alerts(ctx, false); err != nil || len(got) != 1 {
		t.Fatalf("open alerts = %v, %v", got, err)
	}
}
