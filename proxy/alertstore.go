package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// BoltAlerts keeps security alerts in the shared bbolt file, so that a
// block outlives a restart:
//
//	alerts/                      root bucket
//	└── v1/
//	    └── alerts/<id> → JSON   one Alert; ids are random, so order is by RaisedAt
//
// Alerts name callers, never patients. In an encrypted store
// (AlertsWithSealer) every value is sealed; the keys are random ids.
type BoltAlerts struct {
	db     *bbolt.DB
	sealer *seal.Sealer // nil: plaintext
}

// AlertsPath is the bucket of alerts, sealed in an encrypted store; key
// rotation (seal.Sealer.Rotate) walks it.
var AlertsPath = seal.Path{"alerts", "v1", "alerts"}

var alertsName = AlertsPath.String()

// AlertsOption configures OpenAlerts.
type AlertsOption func(*BoltAlerts)

// AlertsWithSealer encrypts the alerts with s (AES-256-GCM, see
// internal/seal): OpenAlerts seals any alert stored in plaintext before
// encryption. Without it, OpenAlerts refuses an encrypted store.
func AlertsWithSealer(s *seal.Sealer) AlertsOption {
	return func(b *BoltAlerts) { b.sealer = s }
}

var (
	alertsRoot   = []byte("alerts")
	alertsSchema = []byte("v1")
	alertsBucket = []byte("alerts")
)

// OpenAlerts creates the buckets in db when needed.
func OpenAlerts(db *bbolt.DB, opts ...AlertsOption) (*BoltAlerts, error) {
	a := &BoltAlerts{db: db}
	for _, o := range opts {
		o(a)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		if id, ok := seal.Encrypted(tx); ok && a.sealer == nil {
			return seal.EncryptedError("alerts", id)
		}
		root, err := tx.CreateBucketIfNotExists(alertsRoot)
		if err != nil {
			return err
		}
		schema, err := root.CreateBucketIfNotExists(alertsSchema)
		if err != nil {
			return err
		}
		if _, err = schema.CreateBucketIfNotExists(alertsBucket); err != nil {
			return err
		}
		if a.sealer != nil {
			_, err = a.sealer.SealPlaintext(tx, AlertsPath) // new buckets: no chunking needed
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: opening the store: %w", err)
	}
	return a, nil
}

// decode reads the alert stored under key k.
func (b *BoltAlerts) decode(k, v []byte, a *Alert) error {
	if b.sealer != nil {
		plain, err := b.sealer.Open(alertsName, k, v)
		if err != nil {
			return err
		}
		v = plain
	}
	return json.Unmarshal(v, a) // copies out of the transaction
}

func alertsOf(tx *bbolt.Tx) (*bbolt.Bucket, error) {
	root := tx.Bucket(alertsRoot)
	if root == nil || root.Bucket(alertsSchema) == nil || root.Bucket(alertsSchema).Bucket(alertsBucket) == nil {
		return nil, errors.New("alerts: buckets missing: was the store opened with OpenAlerts?")
	}
	return root.Bucket(alertsSchema).Bucket(alertsBucket), nil
}

// PutAlert stores a, replacing the alert of the same id, durably.
func (b *BoltAlerts) PutAlert(ctx context.Context, a Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.db.Update(func(tx *bbolt.Tx) error {
		bk, err := alertsOf(tx)
		if err != nil {
			return err
		}
		k := []byte(a.ID)
		if b.sealer != nil {
			v = b.sealer.Seal(alertsName, k, v)
		}
		return bk.Put(k, v)
	})
}

// GetAlert returns the alert id.
func (b *BoltAlerts) GetAlert(ctx context.Context, id string) (Alert, bool, error) {
	var a Alert
	found := false
	err := b.db.View(func(tx *bbolt.Tx) error {
		bk, err := alertsOf(tx)
		if err != nil {
			return err
		}
		v := bk.Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return b.decode([]byte(id), v, &a)
	})
	return a, found, err
}

// Alerts lists the open alerts (every alert with all), newest first.
func (b *BoltAlerts) Alerts(ctx context.Context, all bool) ([]Alert, error) {
	out := []Alert{}
	err := b.db.View(func(tx *bbolt.Tx) error {
		bk, err := alertsOf(tx)
		if err != nil {
			return err
		}
		return bk.ForEach(func(k, v []byte) error {
			var a Alert
			if err := b.decode(k, v, &a); err != nil {
				return err
			}
			if all || a.Status == AlertOpen {
				out = append(out, a)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].RaisedAt.After(out[j].RaisedAt) })
	return out, err
}
