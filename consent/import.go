package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// ErrOlderVersion is wrapped by the *ValidationError of an import that would
// put back an earlier version of a stored consent: the import changes
// nothing.
var ErrOlderVersion = errors.New("consent: an earlier version of a stored consent")

// Import validates a consent read from a file (ds4p consent import) and
// stores it as Put does, unless the store already holds it:
//
//   - the same as the current version of its consent (the same id, or, for a
//     consent without id, any consent of its patient), apart from id,
//     meta.versionId and meta.lastUpdated: nothing is stored and stored is
//     false, so importing a file twice stores nothing twice;
//   - active, and the same as an earlier version of a stored consent or
//     dated (dateTime) before its current version: an *ValidationError
//     wrapping ErrOlderVersion, and nothing is stored. An old export
//     imported again would otherwise become the newest version and
//     silently undo what replaced it, a revocation included. An earlier
//     version that is not active is stored as the next version: it only
//     withdraws.
//
// A deliberate return to earlier content is an update through the admin API
// (PUT), which takes what it is given.
func (s *Store) Import(ctx context.Context, raw []byte) (rec Record, stored bool, err error) {
	rec, err = s.write(ctx, raw, writeOpts{importing: true})
	var same *unchangedError
	if errors.As(err, &same) {
		return same.rec, false, nil
	}
	return rec, err == nil, err
}

// unchangedError carries the stored version an import equals; Import turns
// it into stored == false. It never leaves the package.
type unchangedError struct{ rec Record }

func (e *unchangedError) Error() string { return "consent: unchanged" }

// importCheck refuses or skips an import that the store already has (see
// Import): rec is the consent about to be written (its id generated when
// generated), doc the parsed import.
//
// A consent without id that shares a Consent.identifier (system|value) with
// a stored consent of its patient is that consent: rec takes its id and
// generated becomes false, so that the rules above apply to it as to a
// consent with the id (an old export without ids, edited since, would
// otherwise be a new consent next to the revoked one, and in force).
func importCheck(b buckets, rec *Record, raw []byte, generated bool, doc *parsed) (bool, error) {
	in, err := canonical(raw)
	if err != nil {
		return generated, err
	}
	if generated {
		id, err := byIdentifier(b, rec.Patient, identifiersOf(doc.res.Identifier))
		if err != nil {
			return generated, err
		}
		if id != "" {
			rec.ID, generated = id, false
		}
	}
	return generated, importCheckID(b, rec, in, generated, doc)
}

// byIdentifier returns the id of the first stored consent of patient (by
// id) that has one of ids as its Consent.identifier, "" when none has.
func byIdentifier(b buckets, patient string, ids []string) (string, error) {
	if len(ids) == 0 {
		return "", nil
	}
	heads, err := forPatient(b, patient)
	if err != nil {
		return "", err
	}
	for _, h := range heads {
		doc, err := parse(h.JSON, 0)
		if err != nil {
			continue
		}
		for _, have := range identifiersOf(doc.res.Identifier) {
			if slices.Contains(ids, have) {
				return h.ID, nil
			}
		}
	}
	return "", nil
}

// importCheckID is importCheck once the consent's id is settled.
func importCheckID(b buckets, rec *Record, in map[string]any, generated bool, doc *parsed) error {
	// An earlier version that is not active (a revocation, a draft) is
	// stored all the same: it can only withdraw what the consent allows,
	// and a revocation the source system made again must not be refused.
	withdraws := doc.res.Status != "active"
	var ids []string
	if generated {
		heads, err := forPatient(b, rec.Patient)
		if err != nil {
			return err
		}
		for _, h := range heads {
			ids = append(ids, h.ID)
		}
	} else {
		ids = []string{rec.ID}
	}
	for _, id := range ids {
		versions, err := history(b, id) // newest first
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		head := versions[0]
		if head.Patient != rec.Patient {
			return nil // another patient's consent: put refuses it as such
		}
		for _, v := range versions {
			have, err := canonical(v.JSON)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(in, have) {
				continue
			}
			if v.Version == head.Version {
				return &unchangedError{rec: head}
			}
			if withdraws {
				break
			}
			return olderVersion(fmt.Sprintf("is version %d of the stored consent, which its current version %d (status %s) replaced",
				v.Version, head.Version, head.Status))
		}
		if !generated && !withdraws {
			if err := datedBefore(doc, head); err != nil {
				return err
			}
			if err := regrant(doc, head); err != nil {
				return err
			}
		}
	}
	return nil
}

// datedBefore refuses an import whose dateTime ends before the current
// version's dateTime begins: a consent given earlier than the stored one.
func datedBefore(doc *parsed, head Record) error {
	if doc.res.DateTime == "" {
		return nil
	}
	in, err := parseSpan(doc.res.DateTime)
	if err != nil {
		return nil
	}
	stored, err := parse(head.JSON, 0)
	if err != nil || stored.res.DateTime == "" {
		return nil
	}
	have, err := parseSpan(stored.res.DateTime)
	if err != nil || in.end.After(have.start) {
		return nil
	}
	return olderVersion(fmt.Sprintf("is dated %s, before the stored consent's current version %d (status %s, dated %s)",
		doc.res.DateTime, head.Version, head.Status, stored.res.DateTime))
}

// regrant refuses an import that would make a revoked consent (inactive,
// entered-in-error, rejected) active again without being dated after it:
// a patient who grants again signs again, and a consent that is not newer
// is most likely the old one, edited since or exported again by a system
// that never saw the revocation. A revoked consent without a date may be
// granted again by one with a date.
func regrant(doc *parsed, head Record) error {
	if !revokeStatuses[head.Status] {
		return nil
	}
	stored, err := parse(head.JSON, 0)
	if err != nil {
		return nil
	}
	in, inErr := parseSpan(doc.res.DateTime)
	have, haveErr := parseSpan(stored.res.DateTime)
	switch {
	case inErr == nil && haveErr != nil:
		return nil
	case inErr == nil && !in.start.Before(have.end):
		return nil
	}
	return &ValidationError{Err: ErrOlderVersion, Problems: []Problem{{Path: "Consent.status",
		Message: fmt.Sprintf("would make the stored consent, %s since its version %d, active again, and it is not dated "+
			"(dateTime) after the stored one: a patient who grants again signs again; nothing was stored "+
			"(to grant it again deliberately, give it the date it was signed, or PUT it through the admin API)",
			head.Status, head.Version)}}}
}

// olderVersion is the problem of an import that would undo a stored
// version; what says why it is older. It names no consent id: the command
// line prints it, and an id may spell a patient's name.
func olderVersion(what string) error {
	return &ValidationError{Err: ErrOlderVersion, Problems: []Problem{{Path: "Consent",
		Message: what + ": importing it would undo that version; nothing was stored " +
			"(to go back to it deliberately, PUT it through the admin API)"}}}
}

// canonical is a consent as a comparable value, without what the store sets
// or chooses: id, meta.versionId and meta.lastUpdated (and meta when nothing
// else is in it). Numbers keep their text.
func canonical(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("reading a consent: %w", err)
	}
	delete(m, "id")
	if meta, ok := m["meta"].(map[string]any); ok {
		delete(meta, "versionId")
		delete(meta, "lastUpdated")
		if len(meta) == 0 {
			delete(m, "meta")
		}
	}
	return m, nil
}
