package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// Replayed bundles. A bundle's signature proves who built it, not that it
// is the latest: anyone who can make the bundle URL serve an older bundle
// the key signed (a compromised mirror or cache, a man in the middle of
// plain http, a server restored from a backup) would make every proxy
// decide by that older policy, one that may disclose what a later
// revision withholds.
//
// BuildBundle writes the time it built a bundle into the bundle's manifest
// (metadata.ds4p_built_at, RFC 3339), which the signature covers (OPA
// signs the .manifest with the other files). A proxy whose BundleSource
// has a BundleHighWater refuses a signed bundle built before the newest it
// has loaded, and one that carries no build time once any bundle that did
// has loaded; the newest build time is kept in a file of the data
// directory, so a restart refuses the older bundle too. A bundle that is
// not signed proves nothing about its age and is not compared. Rolling
// back is building the older policy again: it carries a new build time.
// A bundle built more than MaxBuiltAhead ahead of the proxy's clock is
// refused until then, so a build machine's wrong clock cannot lock out
// the bundles after it.

// BuiltAtKey is the manifest metadata key holding a bundle's build time.
const BuiltAtKey = "ds4p_built_at"

// builtAt reads a bundle's build time from its manifest's metadata; ok is
// false when it carries none.
func builtAt(m bundle.Manifest) (t time.Time, ok bool, err error) {
	v, ok := m.Metadata[BuiltAtKey]
	if !ok {
		return time.Time{}, false, nil
	}
	s, isString := v.(string)
	if !isString {
		return time.Time{}, false, fmt.Errorf("policy: the bundle's manifest metadata %s is not a time (RFC 3339 text)", BuiltAtKey)
	}
	if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return time.Time{}, false, fmt.Errorf("policy: the bundle's manifest metadata %s is not an RFC 3339 time: %q", BuiltAtKey, s)
	}
	return t, true, nil
}

// MaxBuiltAhead is how far a bundle's build time may lie ahead of the
// proxy's clock. A bundle built further ahead (a build machine's clock
// set wrong) is refused until then: loaded, its time would become the
// newest, and every bundle built correctly after it would be refused as
// older until the clock caught up.
const MaxBuiltAhead = 10 * time.Minute

// builtAhead refuses a bundle built more than MaxBuiltAhead after now.
func builtAhead(age bundleAge, now time.Time) error {
	if age.has && age.at.After(now.Add(MaxBuiltAhead)) {
		return fmt.Errorf("policy: the bundle is refused for now: it was built at %s, %s ahead of this proxy's clock (%s): the clock of the machine that built it, or this one, is wrong; a running proxy downloads it again at each poll and loads it once the clocks agree, a starting one does not start on it", age.at.Format(time.RFC3339Nano), age.at.Sub(now).Round(time.Second), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// BundleHighWater is the build time of the newest bundle a proxy has
// loaded, kept in a file so that it outlives a restart.
type BundleHighWater struct {
	mu   sync.Mutex
	path string
	t    time.Time // zero: no bundle with a build time has loaded
	// saved is what the file holds: a write that failed is tried again
	// at the next raise (each poll raises the bundle in force).
	saved time.Time
	// follow (policy.bundle_allow_older): nothing is refused, and the
	// mark is the build time of the bundle in force, older or not, so
	// that turning the comparison on again compares with what serves.
	follow bool
}

// OpenBundleHighWater reads the high-water mark kept at path (none yet when
// the file does not exist; "" keeps it in memory only). A file that does not hold a time is an error:
// the proxy would otherwise forget which bundles are older. Remove it to
// accept any validly signed bundle once.
func OpenBundleHighWater(path string) (*BundleHighWater, error) {
	h := &BundleHighWater{path: path}
	if path == "" { // kept in memory only
		return h, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policy: reading the newest bundle's build time: %w", err)
	}
	if h.t, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(string(raw))); err != nil {
		return nil, fmt.Errorf("policy: %s does not hold the newest bundle's build time (RFC 3339); remove it to accept any validly signed bundle once: %w", path, err)
	}
	h.saved = h.t
	return h, nil
}

// OpenBundleMarkFollowing is the mark kept while older bundles are allowed
// (policy.bundle_allow_older): it refuses nothing and records the build
// time of each bundle that loads, so that a proxy rolled back to an older
// bundle, its option turned off again, compares later bundles with the one
// serving rather than with the newer one it left. What the file held is
// not needed: one that cannot be read is written over.
func OpenBundleMarkFollowing(path string) *BundleHighWater {
	h := &BundleHighWater{path: path, follow: true}
	if path == "" {
		return h
	}
	if raw, err := os.ReadFile(path); err == nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(raw))); err == nil {
			h.t, h.saved = t, t
			return h
		}
	}
	h.saved = time.Unix(0, 1) // differs from anything loaded: written at the first load
	return h
}

// Newest returns the build time of the newest bundle loaded (zero: none).
func (h *BundleHighWater) Newest() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.t
}

// check refuses a bundle built at t (has: it says when) that is older than
// the newest loaded, or that says nothing once a bundle that said has.
func (h *BundleHighWater) check(t time.Time, has bool) error {
	h.mu.Lock()
	newest := h.t
	h.mu.Unlock()
	switch {
	case newest.IsZero() || h.follow:
		return nil
	case !has:
		return fmt.Errorf("policy: the bundle is refused: its manifest carries no build time (metadata.%s), and a bundle built at %s has loaded: an older bundle served again (a replay) would look like this. Build bundles with `ds4p policy build`, or set metadata.%s in the .manifest of an `opa build` source", BuiltAtKey, newest.Format(time.RFC3339Nano), BuiltAtKey)
	case t.Before(newest):
		return fmt.Errorf("policy: the bundle is refused: it was built at %s, before the bundle already loaded (built at %s): an older signed bundle is not taken back, since a replay would look the same. To roll back, build the older policy again (`ds4p policy build`), which gives it a new build time", t.Format(time.RFC3339Nano), newest.Format(time.RFC3339Nano))
	}
	return nil
}

// raise records t as the newest build time when it is later, in memory and
// in the file (written whole, then renamed over the old one). A mark that
// follows records t whatever it is (zero: a bundle without a build time,
// and the file is removed).
func (h *BundleHighWater) raise(t time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t.After(h.t) || h.follow {
		h.t = t
	}
	if h.path == "" || h.saved.Equal(h.t) {
		return nil
	}
	if h.t.IsZero() {
		if err := os.Remove(h.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("policy: removing the newest bundle's build time: %w", err)
		}
		h.saved = h.t
		return nil
	}
	if err := writeFileSynced(h.path, []byte(h.t.UTC().Format(time.RFC3339Nano)+"\n")); err != nil {
		return err
	}
	h.saved = h.t
	return nil
}

// writeFileSynced replaces path with data durably: a temporary file beside
// it, fsynced, renamed over it, and the directory fsynced.
func writeFileSynced(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("policy: keeping the newest bundle's build time: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("policy: keeping the newest bundle's build time: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
