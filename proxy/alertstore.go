package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"go.etcd.io/bbolt"
)

// BoltAlerts keeps security alerts in the shared bbolt file, so that a
// block outlives a restart:
//
//	alerts/                      root bucket
//	└── v1/
//	    └── alerts/<id> → JSON   one Alert; ids are random, so order is by RaisedAt
//
// Alerts name callers, never patients.
type BoltAlerts struct {
	db *bbolt.DB
}

var (
	alertsRoot   = []byte("alerts")
	alertsSchema = []byte("v1")
	alertsBucket = []byte("alerts")
)

// OpenAlerts creates the buckets in db when needed.
func OpenAlerts(db *bbolt.DB) (*BoltAlerts, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(alertsRoot)
		if err != nil {
			return err
		}
		schema, err := root.CreateBucketIfNotExists(alertsSchema)
		if err != nil {
			return err
		}
		_, err = schema.CreateBucketIfNotExists(alertsBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: creating buckets: %w", err)
	}
	return &BoltAlerts{db: db}, nil
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
		return bk.Put([]byte(a.ID), v)
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
		return json.Unmarshal(v, &a) // copies out of the transaction
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
		return bk.ForEach(func(_, v []byte) error {
			var a Alert
			if err := json.Unmarshal(v, &a); err != nil {
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
