package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// Create validates a FHIR R4 Consent and stores it under a new, random id,
// ignoring any id the resource carries (FHIR create).
func (s *Store) Create(ctx context.Context, raw []byte) (Record, error) {
	return s.write(ctx, raw, writeOpts{generate: true})
}

// Update validates a FHIR R4 Consent and stores it as the next version of
// consent id, or as its first version when there is none (FHIR update). The
// resource must carry the same id. When ifMatch is not 0 the current version
// must be ifMatch, or Update fails with ErrConflict and changes nothing.
func (s *Store) Update(ctx context.Context, id string, raw []byte, ifMatch uint64) (Record, error) {
	if !fhirID.MatchString(id) {
		return Record{}, &ValidationError{Problems: []Problem{{Path: "Consent.id",
			Message: fmt.Sprintf("%q is not a FHIR id ([A-Za-z0-9-.]{1,64})", id)}}}
	}
	return s.write(ctx, raw, writeOpts{id: id, ifMatch: ifMatch})
}

// Version returns one version of consent id (FHIR vread), or ErrNotFound.
func (s *Store) Version(ctx context.Context, id string, version uint64) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, fmt.Errorf("consent: reading %s/%d: %w", id, version, err)
	}
	var rec Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		rec, err = b.version(id, version)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("consent: reading %s/%d: %w", id, version, err)
	}
	return rec, nil
}

// History returns every version of consent id, newest first, or ErrNotFound.
func (s *Store) History(ctx context.Context, id string) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("consent: reading the history of %s: %w", id, err)
	}
	var recs []Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		recs, err = history(b, id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("consent: reading the history of %s: %w", id, err)
	}
	return recs, nil
}

// history reads every stored version of id, newest first.
func history(b buckets, id string) ([]Record, error) {
	prefix := append([]byte(id), 0)
	var recs []Record
	c := b.versions.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+8 {
			continue
		}
		env, err := b.c.open(versionsName, k, v)
		if err != nil {
			return nil, err
		}
		rec, err := decodeEnvelope(id, bytesUint64(k[len(prefix):]), env)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil, ErrNotFound
	}
	slices.Reverse(recs)
	return recs, nil
}

// revokeStatuses are the statuses a revocation may set.
var revokeStatuses = map[string]bool{"inactive": true, "entered-in-error": true, "rejected": true}

// Revoke ends consent id by storing a new version whose status is status
// (inactive, entered-in-error or rejected; "" means inactive). Earlier
// versions stay. Nothing else in the resource changes, and it is not
// validated again, so that a consent stored under older rules can always be
// revoked. A consent that already has that status is returned unchanged,
// with changed false.
func (s *Store) Revoke(ctx context.Context, id, status string) (rec Record, changed bool, err error) {
	if status == "" {
		status = "inactive"
	}
	if !revokeStatuses[status] {
		return Record{}, false, &ValidationError{Problems: []Problem{{Path: "status",
			Message: fmt.Sprintf("%q is not one of inactive, entered-in-error, rejected", status)}}}
	}
	if err := ctx.Err(); err != nil {
		return Record{}, false, fmt.Errorf("consent: revoking %s: %w", id, err)
	}
	updated := s.now().UTC().Truncate(time.Millisecond)
	err = s.db.Update(func(tx *bbolt.Tx) error {
		rec, changed, err = revoke(tx, s.codec, id, status, updated, s.authorOf(ctx))
		return err
	})
	s.writes.Add(1)
	if errors.Is(err, ErrNotFound) {
		return Record{}, false, ErrNotFound
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("consent: revoking %s: %w", id, err)
	}
	return rec, changed, nil
}

// revoke stores the head of id again with status changed.
func revoke(tx *bbolt.Tx, c codec, id, status string, updated time.Time, author string) (Record, bool, error) {
	b, err := bucketsOf(tx, c)
	if err != nil {
		return Record{}, false, err
	}
	prev, err := latest(b, id)
	if err != nil {
		return Record{}, false, err
	}
	if prev.Status == status {
		return prev, false, nil
	}
	written := status
	if status == "rejected" && isR5(prev.JSON) {
		// R5 has no "rejected": its status for a consent that was not
		// given is not-done, which reads as rejected (r5Status). Writing
		// "rejected" made the stored R5 resource one no R5 reader accepts.
		written = "not-done"
	}
	raw, err := withStatus(prev.JSON, written)
	if err != nil {
		return Record{}, false, err
	}
	rec := Record{ID: id, Version: prev.Version + 1, Patient: prev.Patient, Status: status, Updated: updated, Author: author}
	if rec.JSON, err = stamp(raw, id, rec.Version, updated); err != nil {
		return Record{}, false, fmt.Errorf("stamping meta: %w", err)
	}
	return rec, true, commit(b, rec, prev)
}

// withStatus returns a stored resource with its status replaced.
func withStatus(raw []byte, status string) ([]byte, error) {
	ms, err := members(raw)
	if err != nil {
		return nil, fmt.Errorf("reading stored consent: %w", err)
	}
	value, _ := json.Marshal(status)
	return encodeMembers(set(ms, "status", value))
}
