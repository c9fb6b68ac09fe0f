// Command fillledger writes N synthetic entries into the ledger of a ds4p
// data directory (DIR/ds4p.db), for measuring the console on a large
// ledger:
//
//	go run ./test/console/fillledger -data DIR -n 1000000
//
// Entries are spread 30 s apart ending now, over 10,000 patients and 50
// organisations; every 5th withholds SUD data, every 1,000th is a
// break-the-glass disclosure. The file is written with plain (unsealed)
// values, as ds4p writes without storage encryption.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/test/console/ledgerfill"
	"go.etcd.io/bbolt"
)

func main() {
	data := flag.String("data", "", "data directory (created if missing)")
	n := flag.Int("n", 1_000_000, "entries to write")
	flag.Parse()
	if *data == "" {
		log.Fatal("-data is required")
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		log.Fatal(err)
	}
	// A directory for `ds4p demo --data` (bench-ledger.mjs): the demo uses
	// only directories it made, or marked like this.
	if err := os.WriteFile(filepath.Join(*data, ".ds4p-demo"), []byte("made by fillledger\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(*data, "ds4p.db"), 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	l, err := audit.Open(db)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close() // before the database's Close: stores what the journal holds
	start := time.Now()
	if err := ledgerfill.Fill(context.Background(), l, *n, time.Now().UTC()); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %d entries in %s\n", *n, time.Since(start).Round(time.Millisecond))
}
