package consent

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound reports that no consent has the requested id.
var ErrNotFound = errors.New("consent: not found")

// ErrConflict reports that a write expected another current version of the
// consent (an If-Match precondition that failed).
var ErrConflict = errors.New("consent: the consent has a newer version")

// ErrPatientChanged is wrapped by the *ValidationError of a write that would
// give an existing consent another patient: the write changes nothing.
var ErrPatientChanged = errors.New("consent: a consent cannot move to another patient")

// ErrForeignData is wrapped by the *ValidationError of a write whose only
// problems are permits naming, in provision.data, a resource under a base
// URL that is not the upstream FHIR server's (checkForeignData): such a
// permit matches no item.
var ErrForeignData = errors.New("consent: a permit names another server's resource")

// Record is one stored version of a consent.
type Record struct {
	// ID is the consent's logical id.
	ID string
	// Version counts the versions of this consent: 1, 2, ...
	Version uint64
	// Patient is the consent's subject, always "Patient/<id>".
	Patient string
	// Status is the consent's status code, e.g. "active".
	Status string
	// Updated is when this version was stored, in UTC to the millisecond.
	Updated time.Time
	// JSON is the stored resource, with id, meta.versionId and
	// meta.lastUpdated set by the store.
	JSON []byte
	// Author says who wrote this version, when the writer said so
	// (WithAuthor, AuthorContext): "ds4p consent import by alice@host",
	// "admin API by subject (org ..., client ...)". It is empty for
	// versions stored before it existed.
	Author string
}

// Problem is one reason a consent was rejected.
type Problem struct {
	// Path is a FHIRPath-like location, e.g. "Consent.provision.actor[0]".
	Path string
	// Message says what is wrong there.
	Message string
}

// String returns the problem as "path: message".
func (p Problem) String() string {
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem found in a rejected consent.
type ValidationError struct {
	Problems []Problem
	// Err, when set, says what kind of problem it is (ErrPatientChanged).
	Err error
}

// Unwrap returns Err.
func (e *ValidationError) Unwrap() error { return e.Err }

// Error joins all problems into one line.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	if len(parts) == 1 {
		return "consent: invalid consent: " + parts[0]
	}
	return fmt.Sprintf("consent: invalid consent (%d problems): %s",
		len(e.Problems), strings.Join(parts, "; "))
}

// problems collects validation problems as they are found.
type problems []Problem

// add records one problem at path.
func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// err returns a *ValidationError when any problem was found, or nil.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}
