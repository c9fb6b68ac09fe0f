package proxy

import (
	"cmp"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Where the response pipeline's consents come from, besides ds4p's store.
const (
	// UpstreamOff reads consents from ds4p's store only.
	UpstreamOff = "off"
	// UpstreamOnDemand also reads Consent?patient= from the upstream FHIR
	// server when a response needs a patient's consents, cached per patient
	// (LRU, TTL).
	UpstreamOnDemand = "on_demand"
	// UpstreamSync also mirrors every upstream Consent, fetched periodically.
	UpstreamSync = "sync"
)

// ConsentSources configures the consents the policy sees besides those of
// ds4p's store, and how consents' actors are resolved (consent/README.md).
type ConsentSources struct {
	// Upstream is off (default), on_demand or sync.
	Upstream string
	// TTL is how long on_demand keeps a patient's upstream consents
	// (default 30s); a consent changed upstream counts after at most TTL.
	TTL time.Duration
	// CacheSize bounds the patients on_demand keeps (default 4096).
	CacheSize int
	// SyncInterval is the period of sync (default 1m).
	SyncInterval time.Duration
	// MaxConsents bounds the upstream consents read for one patient
	// (default 1000); a patient with more fails closed.
	MaxConsents int
	// Directory maps actor references to identifiers (nil: none).
	Directory *consent.Directory
	// ResolveActors reads actor references the directory does not know
	// (Organization/x, Practitioner/y ...) from the upstream for their
	// identifiers, cached for TTL.
	ResolveActors bool
	// PatientIdentifierSystem, when set, lets the consent API take a
	// consent whose patient is given only by an identifier of this system
	// (an MRN, an MPI id): it is matched to exactly one of the upstream's
	// Patient resources (Patient?identifier=system|value) and stored with
	// that patient's reference added.
	PatientIdentifierSystem string
}

// Defaults of ConsentSources.
const (
	defaultUpstreamConsentTTL = 30 * time.Second
	defaultUpstreamCacheSize  = 4096
	defaultSyncInterval       = time.Minute
	defaultMaxUpstream        = 1000
	// fullSyncEvery is how many incremental syncs run between two full
	// ones (incremental ones notice deleted consents by the upstream's
	// Consent history; without one every round is full).
	fullSyncEvery = 10
	// maxSyncConsents bounds one sync; more fails the sync (and keeps the
	// previous mirror).
	maxSyncConsents = 1_000_000
	// maxFailedSyncRounds is how many sync rounds in a row may fail before
	// the mirror stops serving (responses needing consents are withheld)
	// until one succeeds.
	maxFailedSyncRounds = 3
)

// Validate reports every problem with c at once.
func (c ConsentSources) Validate() error {
	var errs []error
	switch c.Upstream {
	case "", UpstreamOff, UpstreamOnDemand, UpstreamSync:
	default:
		errs = append(errs, fmt.Errorf("consents.upstream: %q is not off, on_demand or sync", c.Upstream))
	}
	if c.TTL < 0 || c.SyncInterval < 0 || c.CacheSize < 0 || c.MaxConsents < 0 {
		errs = append(errs, errors.New("consents: upstream_ttl, sync_interval, upstream_cache_size and max_upstream_consents may not be negative"))
	}
	return errors.Join(errs...)
}

func (c ConsentSources) withDefaults() ConsentSources {
	if c.Upstream == "" {
		c.Upstream = UpstreamOff
	}
	if c.TTL == 0 {
		c.TTL = defaultUpstreamConsentTTL
	}
	if c.CacheSize == 0 {
		c.CacheSize = defaultUpstreamCacheSize
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = defaultSyncInterval
	}
	if c.MaxConsents == 0 {
		c.MaxConsents = defaultMaxUpstream
	}
	return c
}

var (
	consentMeter = otel.Meter("github.com/ds4p/ds4p/proxy")
	// upstreamInvalid counts upstream consents that failed validation; each
	// is replaced by a denying stand-in (consent.Unreadable).
	upstreamInvalid, _ = consentMeter.Int64Counter("ds4p.consents.upstream.invalid",
		metric.WithDescription("upstream Consents that failed validation and were read as a denial"))
	// upstreamUnknownCodes counts upstream consents naming purposes or
	// security labels ds4p does not know, by how they were read.
	upstreamUnknownCodes, _ = consentMeter.Int64Counter("ds4p.consents.upstream.unknown_codes",
		metric.WithDescription("upstream Consents naming purposes of use or security labels ds4p does not know, by how they were read (denial, permits_narrowed)"))
	// upstreamFetches counts reads of upstream consents by outcome.
	upstreamFetches, _ = consentMeter.Int64Counter("ds4p.consents.upstream.fetches",
		metric.WithDescription("reads of Consents from the upstream FHIR server, by mode and outcome"))
)

// UseConsentSources makes the response pipeline read consents from the
// upstream FHIR server too (on_demand or sync) and resolve actors through
// the directory and the upstream. Call it once, after New and before
// serving; sync runs until ctx ends. With everything off it changes
// nothing.
func (s *Server) UseConsentSources(ctx context.Context, cfg ConsentSources) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	s.setLocalServer()
	m := &sourcedConsents{consentManager: s.manager(), s: s, cfg: cfg,
		merged: newTTLCache[mergedEntry](cfg.CacheSize, cfg.TTL)}
	if cfg.Directory != nil || cfg.ResolveActors {
		m.resolver = &actorResolver{s: s, dir: cfg.Directory, upstream: cfg.ResolveActors, written: &m.written,
			cache: newTTLCache[actorEntry](cfg.CacheSize, cfg.TTL)}
	}
	if cfg.PatientIdentifierSystem != "" { // patient_identity.go
		m.patients = newTTLCache[patientEntry](cfg.CacheSize, cfg.TTL)
		if cfg.Upstream != UpstreamOff {
			s.checks = maps.Clone(s.checks)
			if s.checks == nil {
				s.checks = map[string]func(context.Context) error{}
			}
			s.checks["consent_identifier_search"] = m.identifierSearchCheck
			m.identifierProbeSem, m.identifierProbeEvery = make(chan struct{}, 1), identifierProbeEvery
			m.identifierListEvery = identifierListEvery
		}
	}
	switch cfg.Upstream {
	case UpstreamOnDemand:
		m.onDemand = newTTLCache[upstreamEntry](cfg.CacheSize, cfg.TTL)
	case UpstreamSync:
		m.mirror = &consentMirror{}
		if cfg.PatientIdentifierSystem != "" {
			m.identifiersOf = newTTLCache[[]string](cfg.CacheSize, cfg.TTL)
		}
		m.written.kick = make(chan struct{}, 1)
		if store, ok := m.consentManager.(*consent.Store); ok {
			m.persist = store.Mirror()
		}
		go m.syncLoop(ctx)
	}
	if m.resolver == nil && cfg.Upstream == UpstreamOff && cfg.PatientIdentifierSystem == "" {
		return nil
	}
	s.consents = m
	return nil
}

// setLocalServer tells the consent package which base URLs are the
// upstream's (its base, its aliases, the proxy's public base, under which
// callers see the upstream's resources), so that a permit's
// provision.data naming another server's resource by URL matches none of
// this one's (consent.SetLocalServer). It is process-wide: serve runs one
// proxy.
func (s *Server) setLocalServer() {
	bases := slices.Clone(s.opts.UpstreamAliases)
	if u, err := url.Parse(s.opts.PublicBaseURL); err == nil && s.opts.PublicBaseURL != "" && u.Host != "" {
		bases = append(bases, u)
	}
	consent.SetLocalServer(LocalServer(s.opts.Upstream, bases))
}

// sourcedConsents is the local consent store with the upstream's consents
// merged in (consent.Merge) and actors resolved, for the response pipeline.
// The consent API still reads and writes the local store alone.
type sourcedConsents struct {
	consentManager
	s        *Server
	cfg      ConsentSources
	resolver *actorResolver // nil: actors as written
	onDemand *ttlCache[upstreamEntry]
	flights  flights // concurrent misses for one patient share one read
	mirror   *consentMirror
	persist  *consent.Mirror // the mirror in the bbolt file; nil: memory only
	merged   *ttlCache[mergedEntry]
	patients *ttlCache[patientEntry] // identifier lookups (patient_identity.go); nil: none configured
	invalid  seenOnce                // invalid upstream consents already logged
	written  consentWrites           // writes through /fhir that may change upstream consents
	// identifiersOf caches, in sync mode with PatientIdentifierSystem, the
	// identifiers of that system each patient has (withIdentified).
	identifiersOf *ttlCache[[]string]
	// noHistory is set once the upstream's Consent history could not be
	// read (logged once): incremental rounds then read every consent.
	noHistory atomic.Bool
	// identifierRefused is the status (400, 403, 405, 422, 501) with which
	// the upstream last refused an on-demand Consent?patient:identifier=
	// search, 0 once one is answered (/readyz, identifierSearchCheck).
	identifierRefused atomic.Int32
	// identifierProbe is the state of the known-answer check of that
	// search (identifier_probe.go); identifierProbeSem serialises the
	// checks, and identifierProbedAt, guarded by it, is when the last ran.
	identifierProbe    atomic.Int32
	identifierProbeSem chan struct{}
	identifierProbedAt time.Time
	// identifierFailures counts the checks and listings that failed, and
	// identifierFailure (guarded by the semaphore) is the last one's
	// error: a response that waited for the semaphore while one failed
	// is withheld with its error, not made to run its own
	// (checkIdentifierSearch). identifierWaiting counts the responses
	// waiting for the semaphore (for tests).
	identifierFailures atomic.Uint64
	identifierFailure  error
	identifierWaiting  atomic.Int32
	// identifierRecheckAt (Unix nanoseconds) is when the search, found
	// to answer, is checked again (recheckIdentifierSearch).
	identifierRecheckAt atomic.Int64
	// identifierProbeEvery is identifierProbeEvery but in tests.
	identifierProbeEvery time.Duration
	// While the check found no consent to check with, the search is
	// trusted until identifierTrustUntil (Unix nanoseconds) without
	// waiting for the semaphore, and the consents written since are
	// listed when identifierListAt has passed (listIdentifiedSince), from
	// identifierListSince (guarded by the semaphore, as is
	// identifierListing: the last check ended so);
	// identifierListEvery is identifierListEvery but in tests.
	identifierTrustUntil atomic.Int64
	identifierListAt     atomic.Int64
	identifierListSince  time.Time
	identifierListing    bool
	identifierListEvery  time.Duration
	// identifierListNext is the page a listing left unread, read by the
	// next listing; identifierListFrom is the Date (zero without one) of
	// the first page of the listing it goes on, and identifierListNewest
	// the newest meta.lastUpdated it read (all guarded by the semaphore).
	identifierListNext   string
	identifierListFrom   time.Time
	identifierListNewest time.Time
	// identifierWrites counts the consent writes through /fhir that
	// ended (identifierConsentWritten): one ending during a check or a
	// listing leaves the listing due (checkIdentifierSearch);
	// identifierListWrites is its count when the listing that
	// identifierListNext goes on began (guarded by the semaphore).
	identifierWrites     atomic.Uint64
	identifierListWrites uint64
	// identifierListKept: the last check left pages unread and kept the
	// time listed from; the listing runs after it at once (guarded by the
	// semaphore).
	identifierListKept bool
	// noElements is set once the upstream refused the presence check's
	// search with _elements: it is asked without from then on.
	noElements atomic.Bool
	// noPresence is set once the upstream could not say which mirrored
	// consents it still holds (logged once): such rounds are full ones.
	noPresence atomic.Bool
	// failedRounds counts the sync rounds that failed since the last one
	// that succeeded.
	failedRounds atomic.Int32
}

// consentWrites follows the requests through /fhir that may write the
// upstream's consents (consentWriting): while one is under way, and until
// what it wrote is read, a patient's upstream consents are read from the
// upstream for each response, neither from the on_demand cache nor from the
// sync mirror, and what is read then is not cached.
//
// A revocation PUT through ds4p (status inactive), or a DELETE, was
// answered while the consent it revoked stayed in the on_demand cache for
// the consent TTL (30 s by default) or in the mirror until the next sync
// round (a deletion until the next full one, ten rounds later), and kept
// disclosing to requests that started after ds4p's answer (QA round 28).
type consentWrites struct {
	// underWay counts the writes under way.
	underWay atomic.Int64
	// epoch moves at each write's start and end: an on_demand read begun
	// in an earlier epoch is not cached.
	epoch atomic.Uint64
	// wrote is the epoch of the last write's end; synced the epoch at
	// which the last successful sync round began (full: a full one). The
	// mirror serves again once a round begun after the write has ended:
	// a full one after a write that may have deleted a consent (fullAfter).
	wrote, synced, fullAfter, syncedFull atomic.Uint64
	// kick asks the sync loop for a round now (buffered, one).
	kick chan struct{}
}

// bypass reports whether a patient's upstream consents must be read from
// the upstream now, neither cache nor mirror being current.
func (w *consentWrites) bypass(mirror bool) bool {
	if w.underWay.Load() > 0 {
		return true
	}
	return mirror && (w.synced.Load() < w.wrote.Load() || w.syncedFull.Load() < w.fullAfter.Load())
}

// consentWriting is called before a request through /fhir is forwarded;
// the function it returns is called once the upstream has answered and
// the answer has been written (or the request failed). A request that may
// write the upstream's consents (any method but GET and HEAD on the
// Consent type or one of its resources, or at the system level: a batch,
// a transaction, an operation; or an operation that is not read-only on any
// type) makes every response that starts while it
// is under way, or after it, read the patient's upstream consents afresh
// until what it wrote is known (consentWrites). Other requests, and a
// proxy whose consents are ds4p's alone, are not affected.
//
// A write of a resource an actor reference is read from (Organization,
// Practitioner ..., with consents.resolve_actors) is followed alike, for
// the actors resolved from the upstream and the consents expanded with
// them: an identifier removed from an Organization through ds4p no longer
// matches a caller once ds4p answered.
// So is a write of a Patient, with consents.patient_identifier_system: an
// identifier given to a Patient through ds4p counts once ds4p answered.
func (s *Server) consentWriting(method string, req fhirRequest) func() {
	m, ok := s.consents.(*sourcedConsents)
	if !ok || method == http.MethodGet || method == http.MethodHead || req.Interaction == Search ||
		req.Interaction == Operation && readOnlyOperations[req.Operation] {
		// A search by POST (Type/_search) writes nothing: followed as a
		// write, any caller allowed to search dropped every upstream
		// cache for all (QA round 32, area F).
		return func() {}
	}
	// An operation that is not read-only may write any type, whatever type
	// it is called on: Patient/$merge (let through by
	// enforcement.allow_operations) moves the source patient's Consents,
	// its opt-out among them, to the target, whose consents read before
	// stayed cached for upstream_ttl (QA round 36, area B).
	// The built-in operations that are not read-only write no consent,
	// actor or patient (ownWriteOperations), at any level ($closure is a
	// system one): followed as writes of every type, any reader's POST of
	// Patient/$summary dropped every cache for all.
	// Nor, on a Patient or an actor's type, as a write of its identifiers:
	// with consents.patient_identifier_system, any reader's POST of
	// Patient/p1/$summary still cleared every cache (QA round 37, area A).
	operation := req.Interaction == Operation
	own := operation && ownWriteOperations[req.Operation]
	anyType := (req.Type == "" || operation) && !own
	consents := (m.onDemand != nil || m.mirror != nil) && (req.Type == "Consent" || anyType)
	actors := m.resolver != nil && m.resolver.upstream && (actorTypes[req.Type] && !own || anyType)
	// A Patient's identifiers decide which consents named by an identifier
	// alone are its (fetchByIdentifier, withIdentified): a Patient given an
	// opted-out MRN through ds4p kept its old identifiers, cached, for
	// upstream_ttl. With consents.upstream off too: a record naming its
	// patient by such an identifier alone is the one Patient's that has
	// it (resolvePatient), cached as well (QA round 32, area D).
	patients := m.cfg.PatientIdentifierSystem != "" && (req.Type == "Patient" && !own || anyType)
	if !consents && !actors && !patients {
		return func() {}
	}
	// A create, update or patch of one Consent is seen by an incremental
	// sync; a deletion, or what a batch or an operation did, only by a
	// full one.
	full := !(req.Type == "Consent" && (req.Interaction == Create || req.Interaction == Update || req.Interaction == Patch))
	w := &m.written
	w.underWay.Add(1)
	w.epoch.Add(1)
	m.clearUpstream()
	return func() {
		e := w.epoch.Add(1)
		if consents {
			storeMax(&w.wrote, e)
			if full {
				storeMax(&w.fullAfter, e)
			}
		}
		m.clearUpstream()
		if consents {
			// It may have written an opt-out naming its patient by MRN:
			// the consents written since the last check are listed by
			// the next response that needs the identifier search.
			m.identifierConsentWritten()
		}
		w.underWay.Add(-1)
		if w.kick != nil {
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
	}
}

// clearUpstream drops the patients' upstream consents cached on demand,
// the actors resolved from the upstream, and the merged consents built on
// them.
func (m *sourcedConsents) clearUpstream() {
	if m.onDemand != nil {
		m.onDemand.clear()
	}
	if m.resolver != nil {
		m.resolver.cache.clear()
	}
	if m.identifiersOf != nil {
		m.identifiersOf.clear()
	}
	if m.patients != nil {
		m.patients.clear()
	}
	m.merged.clear()
}

// storeMax sets a to v unless it holds more.
func storeMax(a *atomic.Uint64, v uint64) {
	for {
		cur := a.Load()
		if cur >= v || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// seenOnce remembers up to maxSeen content hashes, so that a problem met
// again at every sync round is logged once; past the bound it starts over.
type seenOnce struct {
	mu   sync.Mutex
	seen map[[32]byte]bool
}

const maxSeen = 4096

// first reports whether raw was not seen before, and remembers it.
func (o *seenOnce) first(raw []byte) bool {
	h := sha256.Sum256(raw)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[h] {
		return false
	}
	if o.seen == nil || len(o.seen) >= maxSeen {
		o.seen = map[[32]byte]bool{}
	}
	o.seen[h] = true
	return true
}

// upstreamEntry is one patient's upstream consents, as read at gen, and
// what the answer that carried them told of the upstream's clock (Merge
// reads the copies' stamps by it).
type upstreamEntry struct {
	gen      uint64
	consents []consent.Normalized
	clock    consent.Clock
	// withdrawn are the consents read and left out (consent.Withdrawn):
	// they go to no policy, but stand for revoked copies of local
	// consents in consent.Merge.
	withdrawn []consent.Normalized
}

// newUpstreamEntry is the entry of cs, the withdrawn ones set apart.
func newUpstreamEntry(gen uint64, cs []consent.Normalized, clock consent.Clock) upstreamEntry {
	e := upstreamEntry{gen: gen, consents: make([]consent.Normalized, 0, len(cs)), clock: clock}
	for _, n := range cs {
		if n.Gone() {
			e.withdrawn = append(e.withdrawn, n)
		} else {
			e.consents = append(e.consents, n)
		}
	}
	return e
}

// mergedEntry is one patient's merged, resolved consents, valid while the
// local version and the upstream generation it was built from are current.
type mergedEntry struct {
	local, gen uint64
	consents   []consent.Normalized
}

// generations numbers upstream reads, so caches built on one can tell.
var generations struct {
	sync.Mutex
	n uint64
}

func nextGeneration() uint64 {
	generations.Lock()
	defer generations.Unlock()
	generations.n++
	return generations.n
}

// Normalized returns the patient's local and upstream consents merged, with
// their actors resolved. Any failure to read the upstream is an error, so
// the response is withheld: an upstream opt-out must not be missed.
func (m *sourcedConsents) Normalized(ctx context.Context, patient string) ([]consent.Normalized, uint64, error) {
	epoch := m.written.epoch.Load() // what is built is kept only if no write began or ended since
	local, version, err := m.consentManager.Normalized(ctx, patient)
	if err != nil {
		return nil, 0, err
	}
	up, err := m.upstream(ctx, patient)
	if err != nil {
		return nil, 0, err
	}
	if e, ok := m.merged.get(patient); ok && e.local == version && e.gen == up.gen {
		return e.consents, version, nil
	}
	merged := slices.Clone(consent.MergeClocked(local, append(slices.Clip(up.consents), up.withdrawn...), up.clock))
	if m.resolver != nil {
		for i := range merged {
			if merged[i], err = consent.ExpandActors(ctx, merged[i], m.resolver); err != nil {
				return nil, 0, err
			}
		}
	}
	if _, versionless := m.consentManager.(basicConsents); !versionless {
		m.merged.addIf(patient, mergedEntry{local: version, gen: up.gen, consents: merged}, func() bool {
			return m.written.underWay.Load() == 0 && m.written.epoch.Load() == epoch
		})
	}
	return merged, version, nil
}

// upstream returns the patient's upstream consents in the configured mode.
func (m *sourcedConsents) upstream(ctx context.Context, patient string) (upstreamEntry, error) {
	if (m.onDemand != nil || m.mirror != nil) && m.written.bypass(m.mirror != nil) {
		// A consent write through /fhir under way, or not yet read: the
		// upstream's consents as they are now, shared with no one
		// (consentWrites).
		if m.mirror != nil {
			if err := m.mirror.readyErr(); err != nil {
				return upstreamEntry{}, err
			}
		}
		cs, clock, err := m.fetchPatient(ctx, patient)
		if err != nil {
			return upstreamEntry{}, err
		}
		return newUpstreamEntry(nextGeneration(), cs, clock), nil
	}
	switch {
	case m.onDemand != nil:
		if e, ok := m.onDemand.get(patient); ok {
			return e, nil
		}
		epoch := m.written.epoch.Load()
		// Flights of an earlier epoch began before a consent write
		// ended: not joined.
		return m.flights.do(ctx, patient+"\x00"+strconv.FormatUint(epoch, 10), func(ctx context.Context) (upstreamEntry, error) {
			cs, clock, err := m.fetchPatient(ctx, patient)
			if err != nil {
				return upstreamEntry{}, err
			}
			e := newUpstreamEntry(nextGeneration(), cs, clock)
			// Not kept when a consent write began or ended since the
			// read began: it may hold what the write changed.
			m.onDemand.addIf(patient, e, func() bool {
				return m.written.underWay.Load() == 0 && m.written.epoch.Load() == epoch
			})
			return e, nil
		})
	case m.mirror != nil:
		held, err := m.stillIdentified(ctx, patient)
		if err != nil {
			return upstreamEntry{}, err
		}
		if m.identifiersOf == nil || !m.mirror.anyIdentified() {
			return m.mirror.getWith(patient, nil, held)
		}
		return m.withIdentified(ctx, patient, held)
	}
	return upstreamEntry{}, nil
}

// withIdentified returns the patient's mirrored consents and those the
// mirror holds under an identifier the patient has (identifierKey): an
// upstream consent naming its patient by an identifier of
// consents.patient_identifier_system alone that no single Patient has (a
// deleted Patient, searched away; two Patients sharing an MRN). A sync
// round kept such a consent without a patient, a denial of no one, and the
// deleted Patient's records, which the upstream still serves, went out as
// if its opt-out were not there, where on demand its identifiers are read
// from its history (QA round 32, area C). The patient's identifiers are
// read as on demand (the Patient, a deleted one's last version), cached
// for upstream_ttl; a read that fails withholds the response. Called only
// while the mirror holds such a consent.
func (m *sourcedConsents) withIdentified(ctx context.Context, patient string, held map[string]bool) (upstreamEntry, error) {
	if err := m.mirror.readyErr(); err != nil {
		return upstreamEntry{}, err
	}
	var keys []string
	if patient != unresolvedPatient && strings.HasPrefix(patient, "Patient/") {
		values, ok := m.identifiersOf.get(patient)
		if !ok {
			epoch := m.written.epoch.Load()
			var err error
			if values, err = m.patientIdentifiers(ctx, patient); err != nil {
				return upstreamEntry{}, fmt.Errorf("reading the identifiers of the patient: %w", err)
			}
			m.identifiersOf.addIf(patient, values, func() bool {
				return m.written.underWay.Load() == 0 && m.written.epoch.Load() == epoch
			})
		}
		for _, v := range values {
			keys = append(keys, identifierKey(m.cfg.PatientIdentifierSystem, v))
		}
	}
	return m.mirror.getWith(patient, keys, held)
}

// stillIdentified returns which of the identifiers (system|value) that the
// patient's mirrored consents name their patient by alone (consentMirror.
// alone) still find the patient, the one Patient having it
// (resolvePatient, cached for upstream_ttl). A round found the Patient
// having it; the EHR may since have moved the MRN to another Patient, or
// removed it. The upstream failing to tell is an error: the response is
// withheld.
func (m *sourcedConsents) stillIdentified(ctx context.Context, patient string) (map[string]bool, error) {
	idents := m.mirror.aloneOf(patient)
	if len(idents) == 0 {
		return nil, nil
	}
	held := make(map[string]bool, len(idents))
	for _, ident := range idents {
		ref, err := m.s.resolvePatient(ctx, ident)
		switch {
		case errors.Is(err, errPatientUnmatched):
		case err != nil:
			return nil, fmt.Errorf("finding the patient of a consent naming it by identifier: %w", err)
		case ref == patient:
			held[ident] = true
		}
	}
	return held, nil
}

// identifierKey is where the mirror holds a consent naming its patient by
// system|value alone that no single Patient has: no patient reference has
// '?', so it is no patient's.
func identifierKey(system, value string) string {
	return "Patient?identifier=" + system + "|" + value
}

// looseKey is an identifierKey as a FHIR server may match it: a token
// search compares an Identifier.value, a string, without regard to case
// (FHIR R4 search, token), and an EHR's interface may write a value or a
// system with blanks around it, or a system with a trailing '/'. The mirror
// held an opt-out naming its patient by urn:mrn|ABC123 (no single Patient
// has it exactly: identifiedPatient takes no other spelling) under that
// key alone, and the Patient whose MRN is abc123, the one the server's
// Patient?identifier= finds for it, got nothing from it: its records went
// out under its permit in sync mode. A patient gets the denies of what is
// held under a key spelled otherwise, never what it permits (getWith).
func looseKey(key string) string {
	system, value, _ := strings.Cut(strings.TrimPrefix(key, "Patient?identifier="), "|")
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(system), "/")) + "|" + strings.ToLower(strings.TrimSpace(value))
}

// looseSystem tells whether system is the configured one as looseKey
// spells it.
func looseSystem(system, configured string) bool {
	return configured != "" && looseKey(identifierKey(system, "")) == looseKey(identifierKey(configured, ""))
}

// byIdentifierSuffix ends the id of byIdentifier's reading.
const byIdentifierSuffix = "/_history/by-identifier"

// byIdentifier returns the denies of n, a consent naming its patient by an
// identifier of consents.patient_identifier_system that the one Patient
// having it now is not patient, as patient's (deny-only, its id suffixed
// byIdentifierSuffix); false when n denies nothing. The EHR that deleted a
// Patient (whose records remain and are served) and registered the person
// again under a new id, or merged the record away, left the person's MRN
// opt-out matched to the new record alone: the old record's permit applied
// to its records, on demand and in sync mode (QA round 32, area C). A
// patient that has the identifier gets what the consent denies, never what
// it permits.
func byIdentifier(n consent.Normalized, patient string) (consent.Normalized, bool) {
	d, ok := consent.DenyOnly(n)
	if !ok {
		return consent.Normalized{}, false
	}
	d.ID, d.Patient = n.ID+byIdentifierSuffix, patient
	return d, true
}

// isIdentifierKey tells whether p is an identifierKey.
func isIdentifierKey(p string) bool { return strings.HasPrefix(p, "Patient?identifier=") }

// fetchPatient reads Consent?patient=<patient> from the upstream, every
// page, at most MaxConsents, in every status as a sync round reads them: a
// copy of a local consent the EHR marked entered-in-error or rejected after
// the local one was stored wins over it (consent.Merge), and with
// status=active,inactive it was not read, so the local permit disclosed on
// demand what sync mode withheld (QA round 31, area C). It also returns
// what the search's answer told of the upstream's clock.
func (m *sourcedConsents) fetchPatient(ctx context.Context, patient string) ([]consent.Normalized, consent.Clock, error) {
	q := url.Values{"patient": {patient}, "_count": {"100"}}
	var read []consent.Normalized
	_, clock, err := m.s.upstreamConsentSearchDated(ctx, q, m.cfg.MaxConsents, func(raw []byte) {
		n, ok := m.readUpstream(raw)
		if !ok {
			n, ok = consent.Withdrawn(raw) // stands for the consent in OneEach, then goes
		}
		if ok && n.Patient == "" {
			n.Patient = patient // a stand-in whose patient could not be read
		}
		if ok && n.Patient == patient {
			read = append(read, n)
		}
	})
	if err == nil {
		err = m.fetchByIdentifier(ctx, patient, func(raw []byte) {
			n, ok := m.readUpstream(raw)
			if !ok {
				n, ok = consent.Withdrawn(raw)
			}
			if ok && n.Patient == "" {
				n.Patient = patient // found by the patient's identifier
			}
			if ok && n.Patient != patient {
				// Named by an identifier the patient has, and matched to
				// another Patient (one registered again after this one was
				// deleted, or merged): its denies apply to this one too
				// (byIdentifier).
				n, ok = byIdentifier(n, patient)
			}
			if ok && n.Patient == patient && !slices.ContainsFunc(read, func(r consent.Normalized) bool {
				return r.ID == n.ID && r.Version == n.Version // named both ways: read once
			}) {
				read = append(read, n)
			}
		})
	}
	recordFetch(ctx, UpstreamOnDemand, err)
	if err != nil {
		return nil, consent.Clock{}, fmt.Errorf("reading the patient's consents from the FHIR server: %w", err)
	}
	keep, denies := consent.OneEach(read) // one version of each consent
	out := make([]consent.Normalized, 0, len(keep)+len(denies))
	for _, i := range keep {
		// A withdrawn one too: it goes to no policy, but stands for a
		// revoked copy of a local consent in consent.Merge.
		out = append(out, read[i])
	}
	out = append(out, denies...)
	slices.SortStableFunc(out, func(a, b consent.Normalized) int { return strings.Compare(a.ID, b.ID) })
	return out, clock, nil
}

// fetchByIdentifier reads, with consents.patient_identifier_system set,
// the consents naming the patient by an identifier of that system alone
// (Consent?patient:identifier=<system>|<value> for each such identifier
// of the upstream's Patient), each with its patient reference filled in
// as a sync round fills it (patientByIdentifier). Consent?patient=Patient/x
// does not match them on a FHIR server, so an opt-out the EHR wrote with
// the patient's MRN went unread on demand (QA round 30, area F). A patient
// the upstream does not know (404) has none; a deleted one (410), whose
// records may still be served, has those of its last version
// (deletedPatient); any other failure is an error (the response is
// withheld).
func (m *sourcedConsents) fetchByIdentifier(ctx context.Context, patient string, each func([]byte)) error {
	system := m.cfg.PatientIdentifierSystem
	if system == "" {
		return nil
	}
	values, err := m.patientIdentifiers(ctx, patient)
	if err != nil {
		return err
	}
	if len(values) > 0 {
		if err := m.checkIdentifierSearch(ctx); err != nil {
			return err
		}
	}
	for _, value := range values {
		q := url.Values{"patient:identifier": {searchEscape(system) + "|" + searchEscape(value)},
			"_count": {"100"}}
		var lookupErr error
		err := m.s.upstreamConsentSearch(ctx, q, m.cfg.MaxConsents, func(raw []byte) {
			filled, err := m.patientByIdentifier(ctx, raw)
			if err != nil {
				lookupErr = cmp.Or(lookupErr, err)
				return
			}
			each(filled)
		})
		var status upstreamStatusError
		switch {
		case errors.As(err, &status) && refusedSearch[int(status)]:
			// Told from a failing server by the status: the search as
			// written is refused, most likely its :identifier modifier.
			// Still withheld, and said where an operator looks (no
			// identifier, no patient).
			if m.identifierRefused.Swap(int32(status)) != int32(status) {
				m.s.log.Warn("the FHIR server refuses Consent?patient:identifier= searches; responses that need a patient's "+
					"consents are withheld until it answers them or consents.patient_identifier_system is unset", "status", int(status))
			}
			return identifierSearchRefused{status: int(status)}
		case err == nil:
			if m.identifierRefused.Swap(0) != 0 {
				m.s.log.Info("the FHIR server answers Consent?patient:identifier= searches again")
			}
		}
		if err = cmp.Or(err, lookupErr); err != nil {
			return err
		}
	}
	return nil
}

// patientIdentifiers returns the values of the identifiers of
// consents.patient_identifier_system the upstream's patient
// (Patient/<id>) has: none when the upstream does not know it (404); a
// deleted one's (410) from its last version (deletedPatient). Any other
// failure is an error.
func (m *sourcedConsents) patientIdentifiers(ctx context.Context, patient string) ([]string, error) {
	system := m.cfg.PatientIdentifierSystem
	body, err := m.s.getJSON(ctx, "/"+patient, 1<<20)
	switch {
	case errors.Is(err, errGoneUpstream):
		if body, err = m.s.deletedPatient(ctx, patient); err != nil {
			return nil, err
		}
	case errors.Is(err, errNotFoundUpstream):
		return nil, nil
	case err != nil:
		return nil, err
	}
	var p struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Identifier   []struct {
			System string `json:"system"`
			Value  string `json:"value"`
		} `json:"identifier"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	if p.ResourceType != "Patient" || "Patient/"+p.ID != patient {
		// An OperationOutcome, a Bundle, another Patient: what identifiers
		// the patient has is not told, and an opt-out naming it by one
		// would go unread (QA round 31, area C).
		return nil, errors.New("the FHIR server's read of the patient did not answer it")
	}
	var values []string
	for _, id := range p.Identifier {
		if id.System == system && id.Value != "" && !slices.Contains(values, id.Value) {
			values = append(values, id.Value)
		}
	}
	return values, nil
}

// deletedPatient returns the last version of patient (Patient/<id>),
// which the upstream answers 410 Gone: the first version its history
// (Patient/<id>/_history, newest first) holds. A deleted Patient's records
// may remain and be served (an Observation naming Patient/<id>), and read
// as 404 its identifiers were none: the consents naming the patient by MRN
// alone went unread, an opt-out among them (QA round 31, area F). A
// history that holds no version of it, or cannot be read, is an error.
func (s *Server) deletedPatient(ctx context.Context, patient string) ([]byte, error) {
	// Ten versions, newest first: the whole history of a Patient with a
	// photo in each version passed the 1 MiB bound, and every response
	// about it was withheld (QA round 32, area A's note).
	body, err := s.getJSON(ctx, "/"+patient+"/_history?_count=10", 1<<20)
	if err != nil {
		return nil, fmt.Errorf("reading the history of a deleted patient: %w", err)
	}
	var h struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &h) != nil || h.ResourceType != "Bundle" || h.Type != "history" {
		return nil, errors.New("the FHIR server's history of a deleted patient is not a history Bundle")
	}
	for _, e := range h.Entry {
		var p struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if len(e.Resource) > 0 && json.Unmarshal(e.Resource, &p) == nil && p.ResourceType == "Patient" && "Patient/"+p.ID == patient {
			return e.Resource, nil
		}
	}
	return nil, errors.New("the FHIR server's history of a deleted patient holds no version of it")
}

// refusedSearch are the statuses with which a FHIR server refuses a search
// as written (a parameter or modifier it does not support), as opposed to
// failing to run it.
var refusedSearch = map[int]bool{
	http.StatusBadRequest: true, http.StatusForbidden: true, http.StatusMethodNotAllowed: true,
	http.StatusUnprocessableEntity: true, http.StatusNotImplemented: true,
}

// readUpstream validates one upstream consent; one that fails becomes a
// denying stand-in (counted and logged without identifiers), or nothing
// when it is plainly not in force.
func (m *sourcedConsents) readUpstream(raw []byte) (consent.Normalized, bool) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if json.Unmarshal(raw, &head) == nil && head.ResourceType != "" && head.ResourceType != "Consent" {
		return consent.Normalized{}, false // not a consent at all (an OperationOutcome ...)
	}
	if consent.NotPrivacy(raw) {
		// A research, treatment or advance-directive consent directs no
		// disclosure: left out, not read as a denial of everything. One
		// whose policyRule is an opt-out (OPTOUT, OPTOUTE) is a privacy
		// directive whatever its scope says: read as a denial of what it
		// says at least (research purposes; under treatment or adr,
		// everything), not ignored (QA round 31).
		n, ok := consent.ScopedOptOut(raw)
		if ok && m.invalid.first(raw) {
			m.s.log.Warn("an upstream consent whose scope is research, treatment or adr names an opt-out as its policyRule; "+
				"it is read as a denial (research purposes under research; otherwise everything) (logged once per version)",
				"research_only", len(n.Rules) == 1 && len(n.Rules[0].Conditions) == 1 && len(n.Rules[0].Conditions[0].Purposes) > 0)
		}
		return n, ok
	}
	n, err := consent.NormalizeUpstream(raw)
	if err == nil {
		return m.checkUpstreamCodes(raw, n), true
	}
	problems, paths := 1, []string{}
	var ve *consent.ValidationError
	if errors.As(err, &ve) {
		problems = len(ve.Problems)
		for _, p := range ve.Problems {
			paths = append(paths, p.Path) // element paths only: no values, no ids
		}
	}
	upstreamInvalid.Add(context.Background(), 1)
	if m.invalid.first(raw) {
		m.s.log.Warn("an upstream consent failed validation and is read as a denial (logged once per version)",
			"problems", problems, "paths", paths)
	}
	n, ok := consent.Unreadable(raw)
	if ok && len(unknownPolicyCodes(raw)) > 0 && !slices.Contains(n.Policies, "OPTOUT") {
		n.Policies = append(n.Policies, "OPTOUT") // a misspelt opt-out, as checkUpstreamCodes reads it
	}
	return n, ok
}

// checkUpstreamCodes holds an upstream consent to the vocabulary a written
// one is checked against (consent/README.md: purposes of use and security
// labels ds4p knows, labels.KnownPurpose and labels.KnownCode), which
// NormalizeUpstream does not do: the upstream's consents were written by
// other tools. A provision compares codes exactly, so an unknown code
// ("TRET", "SUDX", a sensitivity code under v3-ActReason) matches nothing.
// In a permit that only narrows it (the permit, and the permits under it,
// match less), and the consent is kept as read. On the path of a deny it
// would drop the deny, or with it an exception of a permit above it, and
// widen the disclosure: the consent is then read as a denial (AsDenial),
// as one that fails validation is. Either way it is counted and logged
// once per version, with the provisions' paths only (no codes, no ids).
//
// A v3-ActCode policyRule (R5: regulatoryBasis) code ds4p does not know
// ("OPTOUTT") may be a misspelt general opt-out: read as written, the
// consent would not count as general (config.consents.general_policies)
// and the patient's ordinary records would flow as if it were not there.
// Such a consent is read as a denial that is also a general opt-out
// (read_as "general_denial"): it withholds the patient's records, ordinary
// ones included, until the consent is corrected.
func (m *sourcedConsents) checkUpstreamCodes(raw []byte, n consent.Normalized) consent.Normalized {
	paths, denies := unknownCodes(n)
	policyPaths := unknownPolicyCodes(raw)
	if len(paths)+len(policyPaths) == 0 {
		return n
	}
	readAs := "permits_narrowed"
	if denies {
		readAs = "denial"
	}
	if len(policyPaths) > 0 {
		readAs = "general_denial"
		paths = append(policyPaths, paths...)
		upstreamUnknownCodes.Add(context.Background(), 1, metric.WithAttributes(attribute.String("read_as", readAs)))
		if m.invalid.first(raw) {
			m.s.log.Warn("an upstream consent names a policy (policyRule) ds4p does not know; it is read as a denial "+
				"and a general opt-out, withholding the patient's ordinary records too (logged once per version)", "paths", paths)
		}
		n = consent.AsDenial(n)
		if !slices.Contains(n.Policies, "OPTOUT") {
			n.Policies = append(slices.Clone(n.Policies), "OPTOUT")
		}
		return n
	}
	upstreamUnknownCodes.Add(context.Background(), 1, metric.WithAttributes(attribute.String("read_as", readAs)))
	if m.invalid.first(raw) {
		msg := "an upstream consent names purposes of use or security labels ds4p does not know; " +
			"the permits naming them match nothing, the rest is read as written (logged once per version)"
		if denies {
			msg = "an upstream consent names purposes of use or security labels ds4p does not know where they " +
				"could drop a deny; it is read as a denial (logged once per version)"
		}
		m.s.log.Warn(msg, "paths", paths)
	}
	if denies {
		return consent.AsDenial(n)
	}
	return n
}

// unknownCodes returns the paths of the provision elements of n that name a
// purpose of use or a security label ds4p does not know, and whether one of
// them lies on the path of a deny (a deny's own level or one above it).
func unknownCodes(n consent.Normalized) (paths []string, denies bool) {
	for _, r := range n.Rules {
		if len(r.Conditions) == 0 {
			continue
		}
		own := r.Conditions[len(r.Conditions)-1]
		if p, l := unknownIn(own); p || l {
			if p {
				paths = append(paths, r.Path+".purpose")
			}
			if l {
				paths = append(paths, r.Path+".securityLabel")
			}
		}
		if r.Type == "permit" {
			continue
		}
		for _, level := range r.Conditions {
			if p, l := unknownIn(level); p || l {
				denies = true
			}
		}
	}
	return paths, denies
}

// unknownPolicyCodes returns the paths of the v3-ActCode codes of raw's
// policyRule (R4) or regulatoryBasis (R5) that ds4p does not know
// (labels.KnownCode), as a written consent's are checked (consent/vocab.go).
// Codes of other systems are an organisation's own and are not checked.
func unknownPolicyCodes(raw []byte) []string {
	type coding struct {
		System string `json:"system"`
		Code   string `json:"code"`
	}
	var c struct {
		PolicyRule struct {
			Coding []coding `json:"coding"`
		} `json:"policyRule"`
		RegulatoryBasis []struct {
			Coding []coding `json:"coding"`
		} `json:"regulatoryBasis"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return nil // NormalizeUpstream read it: not reached
	}
	unknown := func(cd coding) bool {
		return labels.NormalizeSystem(cd.System) == labels.SystemActCode && cd.Code != "" && !labels.KnownCode(cd.System, cd.Code)
	}
	var paths []string
	for i, cd := range c.PolicyRule.Coding {
		if unknown(cd) {
			paths = append(paths, "policyRule.coding["+strconv.Itoa(i)+"].code")
		}
	}
	for i, b := range c.RegulatoryBasis {
		for j, cd := range b.Coding {
			if unknown(cd) {
				paths = append(paths, "regulatoryBasis["+strconv.Itoa(i)+"].coding["+strconv.Itoa(j)+"].code")
			}
		}
	}
	return paths
}

// unknownIn reports whether c names a purpose, or a security label, that
// ds4p does not know.
func unknownIn(c consent.Cond) (purpose, label bool) {
	for _, code := range c.Purposes {
		purpose = purpose || !labels.KnownPurpose(code)
	}
	for _, l := range c.Labels {
		system, code := l, ""
		if i := strings.LastIndexByte(l, '|'); i >= 0 {
			system, code = l[:i], l[i+1:]
		}
		label = label || !labels.KnownCode(system, code)
	}
	return purpose, label
}

func recordFetch(ctx context.Context, mode string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	upstreamFetches.Add(ctx, 1, metric.WithAttributes(attribute.String("mode", mode), attribute.String("outcome", outcome)))
}

// searchBundleJSON is the part of a search Bundle the consent reads use.
type searchBundleJSON struct {
	ResourceType string `json:"resourceType"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
		Search   *struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
	bundleStampJSON
}

// bundleStampJSON is when a Bundle says the server assembled it.
type bundleStampJSON struct {
	Meta struct {
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
	Timestamp string `json:"timestamp"`
}

// stamp returns the Bundle's meta.lastUpdated, else its timestamp: a time
// by the FHIR server's own clock (HAPI sets it on searches and
// histories); zero when it tells none.
func (b bundleStampJSON) stamp() time.Time {
	t, err := time.Parse(time.RFC3339Nano, cmp.Or(b.Meta.LastUpdated, b.Timestamp))
	if err != nil {
		return time.Time{}
	}
	return t
}

// byBundleStamp corrects what an answer's Date told (clock, and began: the
// upstream's time when the request was sent) by the time its Bundle says
// it was assembled, stamp, read at sent and received at recv. The Date may
// be a gateway's, by a clock other than the FHIR server's, and a Date
// ahead of the server's clock was not caught (one behind is: a copy
// stamped after it, consent.MergeClocked): the EHR's copy read as older
// than it was and lost to a local copy it had narrowed or revoked, and a
// sync round's point lay ahead of the server's clock, so that the next
// incremental round missed what the EHR stamped in between, a revocation
// among them (QA round 32, area C; round 31 area F's note). The clock now
// spans both readings, copies within their difference are in doubt (both
// deny, a revocation wins), and began is the earlier one. A stamp older
// than the request (a server reusing a cached search) only widens the
// doubt and reads more; without a Date nothing changes (the clock is
// unknown, and the proxy's own clock dates the round).
func byBundleStamp(clock consent.Clock, began, stamp, sent, recv time.Time) (consent.Clock, time.Time) {
	if !clock.Known || stamp.IsZero() {
		return clock, began
	}
	if o := consent.ClockFromDate(stamp.Truncate(time.Second), sent, recv); o.Known {
		clock.Min, clock.Max = min(clock.Min, o.Min), max(clock.Max, o.Max)
	}
	if b := stamp.Add(-recv.Sub(sent)); b.Before(began) {
		began = b
	}
	return clock, began
}

// maxConsentPage bounds one page of an upstream Consent search.
const maxConsentPage = 64 << 20

// upstreamConsentSearch runs GET Consent?q on the upstream and calls each with
// every Consent of every page. It follows next links by their query only,
// always against the configured upstream, and fails when more than limit
// consents come back (a truncated list could miss an opt-out).
func (s *Server) upstreamConsentSearch(ctx context.Context, q url.Values, limit int, each func([]byte)) error {
	_, _, err := s.upstreamConsentSearchDated(ctx, q, limit, each)
	return err
}

// upstreamConsentSearchDated is upstreamConsentSearch; it also returns when
// the search began by the upstream's clock (the Date of the first page's
// answer less the time the proxy waited for it; zero without a Date), and
// what that Date tells of the upstream's clock (consent.ClockFromDate;
// unknown without one).
func (s *Server) upstreamConsentSearchDated(ctx context.Context, q url.Values, limit int, each func([]byte)) (time.Time, consent.Clock, error) {
	path, seen := "/Consent?"+q.Encode(), 0
	var (
		began time.Time
		clock consent.Clock
	)
	for i := range limit/100 + 2 {
		sent := time.Now()
		page, date, err := s.getJSONDated(ctx, path, maxConsentPage)
		if err != nil {
			return time.Time{}, consent.Clock{}, err
		}
		recv := time.Now()
		if i == 0 && !date.IsZero() {
			began, clock = date.Add(-recv.Sub(sent)), consent.ClockFromDate(date, sent, recv)
		}
		var b searchBundleJSON
		if err := json.Unmarshal(page, &b); err != nil || b.ResourceType != "Bundle" {
			return time.Time{}, consent.Clock{}, errors.New("the FHIR server's Consent search did not answer a Bundle")
		}
		if i == 0 {
			clock, began = byBundleStamp(clock, began, b.stamp(), sent, recv)
		}
		for _, e := range b.Entry {
			if e.Search != nil && e.Search.Mode != "" && e.Search.Mode != "match" {
				continue
			}
			if seen++; seen > limit {
				return time.Time{}, consent.Clock{}, fmt.Errorf("the FHIR server holds more than %d consents to read", limit)
			}
			each(e.Resource)
		}
		next := ""
		for _, l := range b.Link {
			if hasRelation(l.Relation, "next") {
				next = l.URL
			}
		}
		if next == "" {
			return began, clock, nil
		}
		var ok bool
		if path, ok = s.nextPage(next, "/Consent"); !ok {
			return time.Time{}, consent.Clock{}, errors.New("the FHIR server's next link is not a Consent search")
		}
	}
	return time.Time{}, consent.Clock{}, fmt.Errorf("the FHIR server's Consent search has more pages than %d consents need", limit)
}

// nextPage returns the path (with query) under the configured upstream at
// which a consent read follows a Bundle's next link: the link's query, on
// the link's own path when that ends in own (Consent, Consent/_history), or
// at the upstream's base when the link is a paging handle there (HAPI's
// [base]?_getpages=<id>&_getpagesoffset=..., which HAPI answers at its
// base only). Every page of a HAPI server after the first was refused as
// "not a Consent search": a full sync round of more than one page failed,
// every time, and after three the mirror lapsed and every response needing
// consents was withheld. The link's host is never followed: the path is
// always asked of the configured upstream. false for anything else.
func (s *Server) nextPage(next, own string) (string, bool) {
	u, err := url.Parse(next)
	if err != nil {
		return "", false
	}
	if strings.HasSuffix(u.Path, own) {
		return own + "?" + u.RawQuery, true
	}
	base, err := url.Parse(s.upBase)
	if err != nil || strings.TrimRight(u.Path, "/") != strings.TrimRight(base.Path, "/") || !u.Query().Has("_getpages") {
		return "", false
	}
	return "?" + u.RawQuery, true
}

// historyBundleJSON is the part of a history Bundle a sync round reads.
type historyBundleJSON struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		Request *struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	} `json:"entry"`
	bundleStampJSON
}

// errNoConsentHistory: the upstream's type history of Consent cannot be
// read, or not for sure (the round then reads every consent).
var errNoConsentHistory = errors.New("the FHIR server's Consent history cannot tell which consents were deleted")

// upstreamConsentDeletions reads the upstream's Consent type history
// (GET Consent/_history?_since=since, paged as the search is) and returns
// the ids of the consents it lists as deleted since, and when the reading
// began by the upstream's clock (zero without a Date). Any answer that does
// not say for sure which consents were deleted (an error status, a body
// that is not a history Bundle, a DELETE entry naming no Consent id, a
// next link off the type history, too many entries) is an error: the
// incremental search never lists a deleted consent, so a round without
// this reading could keep a deleted permit disclosing.
func (s *Server) upstreamConsentDeletions(ctx context.Context, since time.Time, limit int) (map[string]bool, time.Time, error) {
	path := "/Consent/_history?" + url.Values{"_since": {since.UTC().Format(time.RFC3339)}, "_count": {"100"}}.Encode()
	deleted, seen := map[string]bool{}, 0
	var began time.Time
	for i := range limit/100 + 2 {
		sent := time.Now()
		page, date, err := s.getJSONDated(ctx, path, maxConsentPage)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %w", errNoConsentHistory, err)
		}
		recv := time.Now()
		if i == 0 && !date.IsZero() {
			began = date.Add(-recv.Sub(sent))
		}
		var b historyBundleJSON
		if err := json.Unmarshal(page, &b); err != nil || b.ResourceType != "Bundle" || b.Type != "history" {
			return nil, time.Time{}, errNoConsentHistory
		}
		if i == 0 && !date.IsZero() {
			_, began = byBundleStamp(consent.Clock{Known: true}, began, b.stamp(), sent, recv)
		}
		for _, e := range b.Entry {
			if seen++; seen > limit {
				return nil, time.Time{}, errNoConsentHistory
			}
			if e.Request == nil {
				return nil, time.Time{}, errNoConsentHistory // what the entry did is not told
			}
			if !strings.EqualFold(e.Request.Method, http.MethodDelete) {
				continue // a version written: the search reads what it changed
			}
			id, ok := deletedConsentID(e.Request.URL)
			if !ok {
				return nil, time.Time{}, errNoConsentHistory
			}
			deleted[id] = true
		}
		next := ""
		for _, l := range b.Link {
			if hasRelation(l.Relation, "next") {
				next = l.URL
			}
		}
		if next == "" {
			return deleted, began, nil
		}
		var ok bool
		if path, ok = s.nextPage(next, "/Consent/_history"); !ok {
			return nil, time.Time{}, errNoConsentHistory
		}
	}
	return nil, time.Time{}, errNoConsentHistory
}

// Bounds of the presence check of an incremental sync round
// (upstreamConsentsMissing).
const (
	// presenceIDs and presenceQuery bound one Consent?_id= search: at most
	// so many ids, and so many bytes of them, so that URLs stay short.
	presenceIDs   = 100
	presenceQuery = 3000
	// maxMissingConsentReads bounds the mirrored consents one round reads
	// one by one because the _id search did not list them; more make the
	// round a full one (an upstream whose _id search lists nothing).
	maxMissingConsentReads = 100
)

var (
	errTooManyMissing = errors.New("the Consent?_id= search left out too many mirrored consents")
	errIgnoresID      = errors.New("the Consent?_id= search listed a consent not asked for: the server ignores _id")
)

// upstreamConsentsMissing asks the upstream for the consents ids names
// (Consent?_id=a,b,c&_elements=id, in chunks whose URLs stay short, every
// page; without _elements when elements is false) and returns those no
// answer listed, sorted. A consent removed with no entry in the type
// history (HAPI's $expunge, a hard delete that erases the history too) is
// listed neither by an incremental round's search nor by its history
// reading: its permit disclosed from the mirror, and the stored mirror
// across restarts, until the next full round, up to ten sync intervals
// (QA round 31). A server that ignores _elements answers whole consents,
// one that ignores _id every consent: either is read for the ids alone.
// Any error is returned: the caller asks again without _elements when the
// server refused the search, and reads every consent otherwise.
func (s *Server) upstreamConsentsMissing(ctx context.Context, ids []string, elements bool) ([]string, error) {
	var missing []string
	for chunk := range idChunks(ids, presenceIDs, presenceQuery) {
		var ask []string
		for _, id := range chunk {
			if fhirID.MatchString(id) { // upstream ids are checked when read: all are
				ask = append(ask, id)
			}
		}
		if len(ask) == 0 {
			continue
		}
		q := url.Values{"_id": {strings.Join(ask, ",")}, "_count": {strconv.Itoa(len(ask))}}
		if elements {
			q.Set("_elements", "id")
		}
		asked := make(map[string]bool, len(ask))
		for _, id := range ask {
			asked[id] = true
		}
		listed := make(map[string]bool, len(ask))
		// A server that ignores _id lists every consent, page after page,
		// for each chunk: the first one not asked for ends the search, and
		// the round is a full one, which reads each consent once (QA round
		// 31, area D).
		sctx, cancel := context.WithCancel(ctx)
		ignored := false
		err := s.upstreamConsentSearch(sctx, q, maxSyncConsents, func(raw []byte) {
			var got struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			}
			if json.Unmarshal(raw, &got) == nil && got.ResourceType == "Consent" {
				if !asked[got.ID] {
					ignored = true
					cancel()
				}
				listed[got.ID] = true
			}
		})
		cancel()
		if ignored && ctx.Err() == nil {
			return nil, errIgnoresID
		}
		if err != nil {
			return nil, err
		}
		for _, id := range ask {
			if !listed[id] {
				missing = append(missing, id)
			}
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// deletedConsentID returns the id a history entry's DELETE request.url
// names: Consent/<id>, perhaps after a base and before /_history/<version>.
// Anything else (a conditional delete's query, another type) names none.
func deletedConsentID(ref string) (string, bool) {
	if strings.ContainsAny(ref, "?#") {
		return "", false
	}
	parts := strings.Split(ref, "/")
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		parts = parts[:n-2]
	}
	n := len(parts)
	if n < 2 || parts[n-2] != "Consent" || !fhirID.MatchString(parts[n-1]) {
		return "", false
	}
	if n > 2 && !strings.Contains(ref, "://") { // a relative path deeper than Consent/<id>
		return "", false
	}
	return parts[n-1], true
}

// getJSON GETs path (with query) from the upstream and returns the body of
// a 200 answer, at most limit bytes; errNotFoundUpstream on 404,
// errGoneUpstream (which is errNotFoundUpstream too) on 410.
func (s *Server) getJSON(ctx context.Context, path string, limit int64) ([]byte, error) {
	body, _, err := s.getJSONDated(ctx, path, limit)
	return body, err
}

// getJSONDated is getJSON; it also returns the answer's Date (zero when
// it has none that parses).
//
// It asks with Cache-Control: no-cache: what it reads decides disclosures
// now. HAPI FHIR answers a search asked again within a minute (its
// default) with the results it found the first time: a patient's consents
// read again after a revocation through ds4p's /fhir (QA round 28), the
// full sync round a deletion starts, and the presence check of unchanged
// mirrored ids got the consents as they were before, and org-a read what
// the revoked permit had let it read (QA round 32, area C).
func (s *Server) getJSONDated(ctx context.Context, path string, limit int64) ([]byte, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upBase+path, nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		return nil, time.Time{}, err
	case resp.StatusCode == http.StatusGone:
		return nil, time.Time{}, errGoneUpstream
	case resp.StatusCode == http.StatusNotFound:
		return nil, time.Time{}, errNotFoundUpstream
	case resp.StatusCode != http.StatusOK:
		return nil, time.Time{}, upstreamStatusError(resp.StatusCode)
	case int64(len(body)) > limit:
		return nil, time.Time{}, errors.New("the FHIR server's answer is too large")
	}
	return body, upstreamDate(resp.Header.Get("Date")), nil
}

// readOnlyOperations are the operations ds4p lets through (builtinOperations)
// that write nothing, sent by POST as by GET: followed as writes, any caller
// allowed them dropped every upstream cache for all (QA round 32, area F's
// note). $document and $summary may persist what they build, $meta-add and
// $meta-delete change labels, $closure keeps state: they stay followed.
var readOnlyOperations = map[string]bool{
	"$everything": true, "$lastn": true, "$match": true, "$meta": true, "$validate": true,
	"$expand": true, "$lookup": true, "$validate-code": true, "$translate": true, "$subsumes": true, "$versions": true,
}

// ownWriteOperations are the built-in operations that may write, but only
// what they are about: $meta-add and $meta-delete the labels of the one
// resource they are called on, $document and $summary the document Bundle
// they build (persist), $closure the server's closure table. None writes
// a Consent, an actor's or a Patient's identifiers, so they are followed
// as writes of a Consent they are called on only (consentWriting).
var ownWriteOperations = map[string]bool{
	"$meta-add": true, "$meta-delete": true, "$document": true, "$summary": true, "$closure": true,
}

// upstreamDate reads an answer's Date header; zero when it has none or
// one that names no time for certain. HTTP dates are GMT (RFC 9110); an
// obsolete RFC 850 date in another zone (`Sunday, 06-Dec-26 17:40:00 CET`)
// was read by http.ParseTime as that time in UTC, an hour or more off, and
// a clock ahead moved a sync round's point past revocations stamped in
// between (QA round 32, area A's note). ANSIC dates carry no zone and are
// GMT by definition.
func upstreamDate(h string) time.Time {
	h = strings.TrimSpace(h)
	if !strings.HasSuffix(h, " GMT") {
		t, err := time.Parse(time.ANSIC, h)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	t, _ := http.ParseTime(h)
	return t
}

// upstreamStatusError is an upstream answer's status other than 200, 404
// and 410.
type upstreamStatusError int

func (e upstreamStatusError) Error() string {
	return "the FHIR server answered " + strconv.Itoa(int(e))
}

// identifierSearchRefused is the readiness detail while the upstream
// refuses the on-demand Consent?patient:identifier= search
// (sourcedConsents.identifierRefused): degraded, not failed, since the
// responses that need no consents still go out.
type identifierSearchRefused struct{ status int }

func (e identifierSearchRefused) Error() string {
	return "the FHIR server answered " + strconv.Itoa(e.status) + " to Consent?patient:identifier= " +
		"(consents.patient_identifier_system): it may not support the :identifier modifier of Consent's patient " +
		"parameter; responses that need a patient's consents are withheld until it answers, or the setting is unset"
}

func (identifierSearchRefused) Degraded() bool { return true }

// identifierSearchCheck is the readiness check of the on-demand identifier
// search: degraded while the upstream's last answer to it refused it.
func (m *sourcedConsents) identifierSearchCheck(context.Context) error {
	if status := m.identifierRefused.Load(); status != 0 {
		return identifierSearchRefused{status: int(status)}
	}
	if m.identifierProbe.Load() == identifierSearchIgnores {
		return identifierSearchIgnored{}
	}
	return nil
}

// errNotFoundUpstream reports a 404 or 410 from the upstream.
var errNotFoundUpstream = errors.New("the FHIR server does not know the resource")

// errGoneUpstream reports a 410: the resource was deleted. It is
// errNotFoundUpstream too.
var errGoneUpstream = fmt.Errorf("%w: it was deleted", errNotFoundUpstream)

// consentMirror holds every upstream consent, by patient, as of the last
// sync.
type consentMirror struct {
	mu    sync.RWMutex
	ready bool
	// lapsed: maxFailedSyncRounds rounds in a row failed; not ready until
	// one succeeds.
	lapsed bool
	// byPatient holds each patient's consents by id, among them the
	// deny-only readings of older versions an answer also listed
	// (consent.OneEach: upstream:<id>/_history/<version>) and the privacy
	// consents read and left out (withdrawn, consent.Withdrawn), which
	// get sets apart for consent.Merge alone.
	byPatient map[string]map[string]consent.Normalized
	gens      map[string]uint64          // patient → generation of its last change
	clock     consent.Clock              // what the last round's answer told of the upstream's clock
	where     map[string]map[string]bool // id → the patients holding it or its deny-only readings
	// identified are the identifierKeys byPatient has held consents under
	// since the last full apply (withIdentified); spelled are they by
	// their looseKey.
	identified map[string]bool
	spelled    map[string]map[string]bool
	// alone maps the id (upstream:<id>) of a consent held for a Patient
	// it names by an identifier of consents.patient_identifier_system
	// alone (the Patient a round found having it) to that identifier
	// (system|value): getWith gives the Patient what it permits only while
	// the identifier still finds it (stillIdentified).
	alone map[string]string
}

// anyIdentified tells whether the mirror holds a consent under an
// identifierKey: a consent naming its patient by an identifier no single
// Patient has.
func (c *consentMirror) anyIdentified() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for k := range c.identified {
		if len(c.byPatient[k]) > 0 {
			return true
		}
	}
	return false
}

// aloneOf returns the identifiers (system|value) that the patient's
// consents name it by alone (alone), sorted.
func (c *consentMirror) aloneOf(patient string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for id := range c.byPatient[patient] {
		if ident, ok := c.alone[id]; ok && !slices.Contains(out, ident) {
			out = append(out, ident)
		}
	}
	slices.Sort(out)
	return out
}

// getWith is get with the consents held under keys (identifierKeys of the
// patient's identifiers) given as the patient's, and of those of its own
// that name it by an identifier alone, what they permit only when held
// holds that identifier (stillIdentified). The entry has a
// generation of its own when they add any: the patient's identifiers are
// not part of the mirror's generations.
func (c *consentMirror) getWith(patient string, keys []string, held map[string]bool) (upstreamEntry, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if err := c.readyErrLocked(); err != nil {
		return upstreamEntry{}, err
	}
	cs := make([]consent.Normalized, 0, len(c.byPatient[patient]))
	gen, added := c.gens[patient], false
	for id, n := range c.byPatient[patient] {
		if ident, ok := c.alone[id]; ok && !held[ident] && !n.DenyOnly && !n.Gone() {
			// Named by an identifier alone that no longer finds the
			// patient (the EHR moved the MRN to another Patient, gave
			// it to a second one, or removed it): its denies alone. What
			// it permitted stayed the patient's until the next full
			// round, where on demand the patient's identifiers no longer
			// find it (QA round 34, area B's finding).
			d, ok := consent.DenyOnly(n)
			added = true
			if !ok {
				continue
			}
			n = d
		}
		cs = append(cs, n)
	}
	for _, k := range keys {
		for id, n := range c.byPatient[k] {
			base, _, _ := strings.Cut(id, "/_history/")
			if _, own := c.byPatient[patient][base]; own {
				continue
			}
			if _, own := c.byPatient[patient][id]; own {
				continue
			}
			n.Patient, added = patient, true
			cs = append(cs, n)
		}
	}
	// The consents held under a key spelled otherwise (looseKey), their
	// denies alone.
	for _, k := range keys {
		for other := range c.spelled[looseKey(k)] {
			if slices.Contains(keys, other) {
				continue
			}
			for id, n := range c.byPatient[other] {
				base, _, _ := strings.Cut(id, "/_history/")
				if _, own := c.byPatient[patient][base]; own {
					continue
				}
				d, ok := consent.DenyOnly(n)
				if !ok {
					continue
				}
				if !strings.HasSuffix(d.ID, byIdentifierSuffix) {
					d.ID += byIdentifierSuffix
				}
				d.Patient, added = patient, true
				cs = append(cs, d)
			}
		}
	}
	if added {
		gen = nextGeneration()
	}
	slices.SortFunc(cs, func(a, b consent.Normalized) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Version, b.Version))
	})
	cs = slices.CompactFunc(cs, func(a, b consent.Normalized) bool { return a.ID == b.ID && reflect.DeepEqual(a, b) })
	return newUpstreamEntry(gen, cs, c.clock), nil
}

// get returns the patient's mirrored consents; before the first sync has
// finished it fails, so that no response goes out without them.
func (c *consentMirror) get(patient string) (upstreamEntry, error) {
	return c.getWith(patient, nil, nil)
}

// patientsOf returns the patients whose consents the mirror holds id (a
// policy id, upstream:<id>) for, sorted.
func (c *consentMirror) patientsOf(id string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for p := range c.where[id] {
		if _, ok := c.byPatient[p][id]; ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// holds tells whether the mirror holds id (a policy id, upstream:<id>) for
// any patient, itself or a deny-only reading of it.
func (c *consentMirror) holds(id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.where[id]) > 0
}

// ids returns the upstream ids (without upstream:) of the consents the
// mirror holds, itself or deny-only readings of it, sorted; the denying
// stand-ins of consents without a readable id (upstream:unreadable) are
// left out: no read can name them.
func (c *consentMirror) ids() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.where))
	for id, patients := range c.where {
		if len(patients) == 0 {
			continue
		}
		if id == "upstream:unreadable" && !c.heldOtherThanUnreadableLocked(id, patients) {
			continue
		}
		out = append(out, strings.TrimPrefix(id, "upstream:"))
	}
	slices.Sort(out)
	return out
}

// heldOtherThanUnreadableLocked tells whether one of the patients holds id
// as something other than a denying stand-in.
func (c *consentMirror) heldOtherThanUnreadableLocked(id string, patients map[string]bool) bool {
	for p := range patients {
		for k, n := range c.byPatient[p] {
			if (k == id || strings.HasPrefix(k, id+"/_history/")) && !n.Unreadable {
				return true
			}
		}
	}
	return false
}

// holdsJust tells whether the mirror holds n as it is, for its patient
// alone.
func (c *consentMirror) holdsJust(n consent.Normalized) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	held, ok := c.byPatient[n.Patient][n.ID]
	return ok && len(c.where[n.ID]) == 1 && reflect.DeepEqual(held, n)
}

// readyErr fails until the first sync round has succeeded: until then no
// response can go out (get fails), and /readyz says so.
func (c *consentMirror) readyErr() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.readyErrLocked()
}

// readyErrLocked is readyErr without the lock.
func (c *consentMirror) readyErrLocked() error {
	switch {
	case c.lapsed:
		return errors.New("the upstream consents could not be synchronised in the last rounds")
	case !c.ready:
		return errors.New("the upstream consents have not been synchronised yet")
	}
	return nil
}

// lapse stops the mirror serving until a round succeeds (apply): its
// consents may no longer be the upstream's.
func (c *consentMirror) lapse() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lapsed = true
}

// preload fills the mirror from the bbolt file at start, without making it
// ready: a round against the upstream must succeed first.
func (c *consentMirror) preload(cs []consent.Normalized, alone map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applyLocked(cs, true)
	c.setAloneLocked(alone)
}

// apply stores a sync's consents; a full sync replaces everything.
func (c *consentMirror) apply(cs []consent.Normalized, full bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applyLocked(cs, full)
	c.ready, c.lapsed = true, false
}

// applyRound is apply with what the round's search told of the upstream's
// clock, which get then gives with every patient's consents.
func (c *consentMirror) applyRound(cs []consent.Normalized, full bool, clock consent.Clock, alone map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applyLocked(cs, full)
	c.setAloneLocked(alone)
	c.ready, c.lapsed, c.clock = true, false, clock
}

// setAloneLocked records, after applyLocked, the identifiers that the
// consents just applied name their patient by alone (consentMirror.alone).
func (c *consentMirror) setAloneLocked(alone map[string]string) {
	for id, ident := range alone {
		if len(c.where[id]) == 0 {
			continue
		}
		if c.alone == nil {
			c.alone = make(map[string]string)
		}
		c.alone[id] = ident
	}
}

// applyLocked is apply without the lock and without making the mirror ready.
// A consent replaces its earlier version and the deny-only readings kept
// beside it, whichever patient held them (one that moved to another patient
// leaves the old one); one without patient (gone) only removes them; a
// deny-only reading (DenyOnly) is added beside its consent.
func (c *consentMirror) applyLocked(cs []consent.Normalized, full bool) {
	if full || c.byPatient == nil {
		for p := range c.byPatient {
			c.gens[p] = nextGeneration() // their consents may be gone
		}
		c.byPatient = make(map[string]map[string]consent.Normalized)
		c.where = make(map[string]map[string]bool)
		c.identified, c.spelled, c.alone = nil, nil, nil
		if c.gens == nil {
			c.gens = make(map[string]uint64)
		}
	}
	for _, n := range cs {
		id := n.ID // of the consent a deny-only reading is of
		if n.DenyOnly {
			id, _, _ = strings.Cut(n.ID, "/_history/")
		} else {
			for p := range c.where[id] {
				for k := range c.byPatient[p] {
					if k == id || strings.HasPrefix(k, id+"/_history/") {
						delete(c.byPatient[p], k)
					}
				}
				c.gens[p] = nextGeneration()
			}
			delete(c.where, id)
			delete(c.alone, id)
		}
		if n.Patient == "" {
			continue
		}
		if c.byPatient[n.Patient] == nil {
			c.byPatient[n.Patient] = make(map[string]consent.Normalized)
		}
		if c.where[id] == nil {
			c.where[id] = make(map[string]bool)
		}
		c.byPatient[n.Patient][n.ID] = n
		c.where[id][n.Patient] = true
		if isIdentifierKey(n.Patient) {
			if c.identified == nil {
				c.identified = make(map[string]bool)
			}
			c.identified[n.Patient] = true
			if c.spelled == nil {
				c.spelled = make(map[string]map[string]bool)
			}
			lk := looseKey(n.Patient)
			if c.spelled[lk] == nil {
				c.spelled[lk] = make(map[string]bool)
			}
			c.spelled[lk][n.Patient] = true
		}
		c.gens[n.Patient] = nextGeneration()
	}
}

// syncLoop mirrors the upstream's consents every SyncInterval: a full read
// first and every fullSyncEvery rounds, otherwise those changed since the
// previous round's sync point (_lastUpdated, with a second of overlap; see
// sync) and, gone from the mirror, those the upstream's Consent history lists
// as deleted since and a read confirms are (a round that cannot tell reads
// every consent). With the mirror kept in the bbolt file, a restart resumes
// from the last round stored there: its first round reads only what
// changed since. Until a round has succeeded since the start, responses
// needing consents are withheld.
func (m *sourcedConsents) syncLoop(ctx context.Context) {
	since, round := m.resume(ctx)
	for {
		if err := m.syncRound(ctx, &since, &round); err != nil {
			m.s.log.Warn("synchronising upstream consents failed", "error", errString(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(m.cfg.SyncInterval):
		case <-m.written.kick: // a consent write through /fhir ended
		}
	}
}

// syncRound runs one round of syncLoop from since and, when it succeeds,
// moves since and round on.
func (m *sourcedConsents) syncRound(ctx context.Context, since *time.Time, round *int) error {
	full := since.IsZero() || *round%fullSyncEvery == 0 || m.written.syncedFull.Load() < m.written.fullAfter.Load()
	point, err := m.sync(ctx, *since, full)
	if err != nil {
		// A mirror no round can refresh keeps what the upstream may have
		// revoked or deleted since (a permit disclosing for as long as the
		// rounds fail, while the resources themselves can still be read):
		// after maxFailedSyncRounds in a row it serves no more.
		if ctx.Err() == nil && m.failedRounds.Add(1) >= maxFailedSyncRounds {
			m.mirror.lapse()
		}
		return err
	}
	m.failedRounds.Store(0)
	*since, *round = point.Add(-time.Second), *round+1
	return nil
}

// resume loads the mirror stored in the bbolt file, if any, without making
// it ready, and returns where the first round starts: since the stored
// round (with a second of overlap), or from scratch (zero time).
func (m *sourcedConsents) resume(ctx context.Context) (since time.Time, round int) {
	if m.persist == nil {
		return time.Time{}, 0
	}
	entries, at, err := m.persist.Load(ctx)
	if err != nil {
		m.s.log.Warn("reading the stored upstream consent mirror failed", "error", err.Error())
		return time.Time{}, 0
	}
	if at.IsZero() {
		return time.Time{}, 0
	}
	current := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !strings.Contains(e.ID, "/_history/") {
			current[e.ID] = true
		}
	}
	var read, orphans []consent.Normalized
	alone := map[string]string{}
	// filledBefore: the file holds a consent naming its patient by an
	// identifier of consents.patient_identifier_system beside a
	// reference, as a ds4p before the file kept consents as the upstream
	// sent them wrote one named by the identifier alone (the reference its
	// round filled in). Which it is cannot be told: the first round is a
	// full one, which reads each again (and what it permits is then the
	// Patient's only while the identifier finds it). Resumed by an
	// incremental round, a permit whose MRN had moved stayed the old
	// Patient's until the next full round.
	filledBefore := false
	for _, e := range entries {
		if system, _, ok := consent.PatientIdentifierBeside(e.JSON); ok && m.cfg.PatientIdentifierSystem != "" &&
			system == m.cfg.PatientIdentifierSystem {
			if _, _, alone := consent.PatientIdentifier(e.JSON); !alone {
				filledBefore = true
			}
		}
		if system, value, ok := consent.PatientIdentifier(e.JSON); ok && strings.HasPrefix(e.Patient, "Patient/") {
			// Named by an identifier alone, stored as the upstream sent
			// it, for the Patient the round found having it: read as the
			// round read it, and what it permits given to that Patient
			// while it has the identifier (consentMirror.alone).
			if filled, err := consent.WithPatientReference(e.JSON, e.Patient); err == nil {
				e.JSON = filled
				if !strings.Contains(e.ID, "/_history/") {
					alone["upstream:"+e.ID] = system + "|" + value
				}
			}
		}
		n, ok := m.readUpstream(e.JSON)
		if w, withdrawn := consent.Withdrawn(e.JSON); !ok && withdrawn && !strings.Contains(e.ID, "/_history/") {
			// A withdrawn version kept for its patient (sync): it stands
			// for a revoked copy of a local consent in consent.Merge.
			if w.Patient = cmp.Or(w.Patient, e.Patient); w.Patient != "" {
				read = append(read, w)
			}
			continue
		}
		if ok {
			if n.Patient == "" {
				n.Patient = e.Patient // a stand-in kept for the patient of the version it replaced
			}
			if n.Patient == "" {
				continue
			}
			if strings.HasSuffix(e.ID, byIdentifierSuffix) && isIdentifierKey(e.Patient) {
				// The denies of a consent named by an identifier, for the
				// other patients that have it, as the round stored them.
				if d, ok := byIdentifier(n, e.Patient); ok {
					d.ID = "upstream:" + e.ID
					orphans = append(orphans, d)
				}
				continue
			}
			if id, _, older := strings.Cut(e.ID, "/_history/"); older && !current[id] {
				// An older version stored beside a newer one that withdrew
				// the consent (no entry of its own): its denies alone, as
				// in the round that read them. Read whole, it won OneEach
				// and its permits applied again (QA round 31, area C).
				if d, ok := consent.DenyOnly(n); ok {
					d.ID = "upstream:" + e.ID
					orphans = append(orphans, d)
				}
				continue
			}
			read = append(read, n)
		}
	}
	// The older versions stored beside a consent give their denies again,
	// as in the round that read them.
	keep, denies := consent.OneEach(read)
	cs := make([]consent.Normalized, 0, len(keep)+len(denies))
	for _, i := range keep {
		cs = append(cs, read[i])
	}
	m.mirror.preload(append(append(cs, denies...), orphans...), alone)
	if filledBefore {
		return at.Add(-time.Second), 0 // syncRound: round 0 is a full one
	}
	return at.Add(-time.Second), 1
}

// syncOnce reads the upstream's consents (all, or changed since) into the
// mirror.
func (m *sourcedConsents) syncOnce(ctx context.Context, since time.Time, full bool) error {
	_, err := m.sync(ctx, since, full)
	return err
}

// sync is syncOnce; it returns the round's sync point, which the mirror
// stored in the bbolt file also records: the time by the upstream's clock
// (the Date of its first answer, less the time the answer took) at which
// the round began reading, so that the next round asks for every consent
// stamped (meta.lastUpdated, by that same clock) after it. The proxy's
// clock was used before: an upstream whose clock runs behind the proxy's
// stamps a revocation made just after a round began with a time before
// that round's start, and every incremental round missed it until the
// next full one (by default ten rounds later) while the revoked consent
// kept disclosing. Without a Date the proxy's clock is all there is.
func (m *sourcedConsents) sync(ctx context.Context, since time.Time, full bool) (time.Time, error) {
	q := url.Values{"_count": {"100"}}
	if !full {
		q.Set("_lastUpdated", "gt"+since.UTC().Format(time.RFC3339))
	}
	var (
		read    []consent.Normalized
		raws    [][]byte
		cs      []consent.Normalized
		entries []consent.MirrorEntry
		alone   = map[string]string{} // consentMirror.alone of the consents applied
	)
	started := time.Now()
	epoch := m.written.epoch.Load() // the writes this round sees, if it succeeds
	// An incremental round reads the consents deleted since first: the
	// search below never lists them (QA round 30). Read before the search,
	// so that the round's point is no later than this reading's start: a
	// deletion after it is the next round's.
	var (
		deleted      map[string]bool
		historyStart time.Time
	)
	if !full {
		var err error
		deleted, historyStart, err = m.s.upstreamConsentDeletions(ctx, since, maxSyncConsents)
		switch {
		case ctx.Err() != nil:
			return time.Time{}, ctx.Err()
		case err != nil:
			// Unsure which consents were deleted: read them all.
			if !m.noHistory.Swap(true) {
				m.s.log.Warn("the FHIR server's Consent history cannot be read; every sync round reads every consent", "error", errString(err))
			}
			full, deleted, historyStart = true, nil, time.Time{}
			q.Del("_lastUpdated")
		}
	}
	if !full {
		// A consent removed with no history entry (an expunge, a hard
		// delete that erases its history too) is in neither the history
		// nor the search: each mirrored id the upstream no longer answers
		// is read as the history's deletions are (below). An upstream that
		// cannot tell makes the round a full one.
		ids := m.mirror.ids()
		missing, err := m.s.upstreamConsentsMissing(ctx, ids, !m.noElements.Load())
		var status upstreamStatusError
		if errors.As(err, &status) && refusedSearch[int(status)] && !m.noElements.Swap(true) {
			// A server refusing _elements: asked without it from now on
			// (whole consents, read for their ids).
			missing, err = m.s.upstreamConsentsMissing(ctx, ids, false)
		}
		switch {
		case ctx.Err() != nil:
			return time.Time{}, ctx.Err()
		case err != nil || len(missing) > maxMissingConsentReads:
			if !m.noPresence.Swap(true) {
				m.s.log.Warn("the FHIR server cannot say which mirrored consents it still holds (Consent?_id=); "+
					"such rounds read every consent", "error", errString(cmp.Or(err, errTooManyMissing)))
			}
			full, deleted = true, nil
			q.Del("_lastUpdated")
		default:
			for _, id := range missing {
				deleted[id] = true
			}
		}
	}
	var (
		lookupErr error
		stamps    []time.Time // the meta.lastUpdated listed: the server's clock
	)
	namedBy := map[int]string{} // index in read → the identifierKey a matched consent was named by
	aloneBy := map[int]string{} // index in read → the identifier (system|value) a matched consent was named by alone
	searchSent := time.Now()
	upstreamStart, clock, err := m.s.upstreamConsentSearchDated(ctx, q, maxSyncConsents, func(raw []byte) {
		var stamped struct {
			Meta struct {
				LastUpdated string `json:"lastUpdated"`
			} `json:"meta"`
		}
		if json.Unmarshal(raw, &stamped) == nil {
			if t, err := time.Parse(time.RFC3339Nano, stamped.Meta.LastUpdated); err == nil {
				stamps = append(stamps, t)
			}
		}
		// Named by an identifier of the configured system: held under
		// it (withIdentified), whole when named by it alone and no single
		// Patient has it (patientByIdentifier leaves it so), its denies
		// when one has, or when a reference names the patient beside it:
		// on demand such a consent, found by the MRN of another Patient
		// (the record's survivor, one registered again), gives that
		// Patient its denies; held for the reference alone, it gave none
		// in sync mode (QA round 33, area A).
		named, alone := "", false
		if system, value, ok := consent.PatientIdentifierBeside(raw); ok && looseSystem(system, m.cfg.PatientIdentifierSystem) {
			named = identifierKey(system, value)
			_, _, alone = consent.PatientIdentifier(raw)
		}
		// What the bbolt file keeps: the consent as the upstream sent
		// it, its patient found again by resume, which so tells one
		// named by an identifier alone from one naming its patient.
		stored := raw
		raw, err := m.patientByIdentifier(ctx, raw)
		if err != nil {
			lookupErr = cmp.Or(lookupErr, err)
			return
		}
		n, ok := m.readUpstream(raw)
		if ok && n.Patient == "" && named != "" && alone {
			n.Patient = named
		}
		if named == "" || !alone {
			stored = raw
		}
		switch {
		case ok && (n.Patient != "" || n.ID != "upstream:unreadable"):
			// Without a patient: a denying stand-in whose patient cannot
			// be read, which takes the place of the consent's earlier
			// version for the patient that one was of (below).
			if named != "" && n.Patient != named && n.Patient != "" {
				namedBy[len(read)] = named // matched to n.Patient
				if alone {
					aloneBy[len(read)] = strings.TrimPrefix(named, "Patient?identifier=")
				}
			}
			read, raws = append(read, n), append(raws, stored)
		case !ok:
			// A consent now plainly not in force, or not a privacy
			// consent: the version mirrored before goes with it.
			if w, ok := consent.Withdrawn(raw); ok {
				if w.Patient == "" && named != "" && alone {
					w.Patient = named
				}
				// Kept (below) when it is a privacy consent no longer in
				// force: a revoked copy of a local consent. Not one of
				// another scope (research ...), which an EHR may hold by
				// the thousand: the mirror only drops its earlier version.
				kept := stored
				if consent.NotPrivacy(raw) {
					kept = nil
				}
				read, raws = append(read, w), append(raws, kept)
			}
		}
	})
	err = cmp.Or(err, lookupErr)
	recordFetch(ctx, UpstreamSync, err)
	if err != nil {
		return time.Time{}, err
	}
	// One version of each consent the answer holds more than once, the
	// others' denies kept beside it (stored after it, below).
	keep, denies := consent.OneEach(read)
	listings := make(map[string]int, len(read))
	for _, n := range read {
		listings[n.ID]++
	}
	for _, i := range keep {
		n, id := read[i], strings.TrimPrefix(read[i].ID, "upstream:")
		patients := []string{n.Patient}
		if n.Patient == "" && !n.Gone() {
			// A version naming no patient the proxy can read (an
			// identifier of another system, a display): it stood aside
			// and the earlier version kept applying, a permit the EHR
			// had replaced included. Its denial stands for the patients
			// the earlier version was of (none: it is dropped).
			patients = m.mirror.patientsOf(n.ID)
		} else if isIdentifierKey(n.Patient) && !n.Gone() {
			// Its denial still stands for the patients an earlier version
			// was of, as above; the key last (the bbolt file keeps one
			// patient per consent: the last).
			patients = nil
			for _, p := range m.mirror.patientsOf(n.ID) {
				if !isIdentifierKey(p) {
					patients = append(patients, p)
				}
			}
			patients = append(patients, n.Patient)
		}
		if !full && listings[n.ID] == 1 && n.Patient != "" && !n.Gone() && m.mirror.holdsJust(n) {
			// Listed again unchanged, alone (the rounds overlap by a
			// second): the mirror keeps it, and the denies of the older
			// versions an earlier answer listed beside it, which applying
			// it again dropped until the next full round. Listed with
			// older versions, all are applied again, replacing those held.
			continue
		}
		if n.Gone() && n.Patient != "" && raws[i] != nil {
			// Kept for its patient, stored too: it goes to no policy, but
			// stands for a revoked copy of a local consent in
			// consent.Merge. Dropped, the local permit an EHR's revocation
			// of a copy failing validation replaced applied again (QA
			// round 31, area F).
			cs = append(cs, n)
			entries = append(entries, consent.MirrorEntry{ID: id, Patient: n.Patient, JSON: raws[i]})
			continue
		}
		if n.Gone() || len(patients) == 0 || patients[0] == "" {
			cs = append(cs, consent.Normalized{ID: n.ID}) // no patient: gone (applyLocked)
			entries = append(entries, consent.MirrorEntry{ID: id})
			continue
		}
		for _, p := range patients {
			n.Patient = p
			cs = append(cs, n)
			entries = append(entries, consent.MirrorEntry{ID: id, Patient: p, JSON: raws[i]})
		}
		if ident := aloneBy[i]; ident != "" {
			alone[n.ID] = ident
		}
		if key := namedBy[i]; key != "" {
			if d, ok := byIdentifier(n, key); ok {
				cs = append(cs, d) // after n, which drops the one held before
				entries = append(entries, consent.MirrorEntry{ID: id + byIdentifierSuffix, Patient: key, JSON: raws[i]})
			}
		}
	}
	// The other versions the answer listed, whose denies apply beside the
	// kept one (consent.OneEach), are stored too, after it: a restart's
	// first round is incremental, lists none of them again, and their
	// denies were lost until the next full round (QA round 30, area F's
	// finding).
	kept := make(map[int]bool, len(keep))
	for _, i := range keep {
		kept[i] = true
	}
	for i, n := range read {
		if kept[i] || n.Gone() || n.Patient == "" || raws[i] == nil {
			continue
		}
		id := strings.TrimPrefix(n.ID, "upstream:")
		entries = append(entries, consent.MirrorEntry{ID: id + "/_history/" + strconv.Itoa(i), Patient: n.Patient, JSON: raws[i]})
	}
	// A mirrored consent the history lists as deleted goes when the
	// upstream, asked for it now, says it is gone (404, 410): the search,
	// which began after the history was read, does not list it, and a
	// history that ignores _since, or lists a deletion older than a
	// re-creation, cannot drop a consent in force. An upstream that answers
	// anything else makes the round a full one.
	listed := make(map[string]bool, len(read))
	for _, n := range read {
		listed[strings.TrimPrefix(n.ID, "upstream:")] = true
	}
	for _, id := range slices.Sorted(maps.Keys(deleted)) {
		if listed[id] || !m.mirror.holds("upstream:"+id) {
			continue
		}
		body, err := m.s.getJSON(ctx, "/Consent/"+id, maxConsentPage)
		var got struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if err == nil && (json.Unmarshal(body, &got) != nil || got.ResourceType != "Consent" || got.ID != id) {
			err = errors.New("the FHIR server's read of a consent did not answer it")
		}
		switch {
		case errors.Is(err, errNotFoundUpstream):
			cs = append(cs, consent.Normalized{ID: "upstream:" + id}) // no patient: gone
			entries = append(entries, consent.MirrorEntry{ID: id})
		case err == nil: // it is there: the search reads its next change
		case ctx.Err() != nil:
			return time.Time{}, ctx.Err()
		default:
			return m.sync(ctx, since, true)
		}
	}
	cs = append(cs, denies...)
	point := started
	if !upstreamStart.IsZero() {
		point = upstreamStart
	}
	switch {
	case !historyStart.IsZero() && historyStart.Before(point):
		point = historyStart
	case !full && historyStart.IsZero() && !upstreamStart.IsZero():
		point = upstreamStart.Add(-searchSent.Sub(started)) // the history's start, by the search's Date
	}
	// Never past the newest stamp the server gave a consent it listed (a
	// second after it: the next round asks for what is stamped after the
	// point less a second, and lists that consent no more), or, listing
	// none, the previous round's point: the stamps are the server's
	// clock. A Date a gateway set by a clock ahead of it (or its local
	// time written as GMT), with no Bundle stamp to tell (Medplum's search
	// Bundles carry none: byBundleStamp), put the point ahead of the
	// server's clock, and no incremental round listed a revocation the EHR
	// stamped in between, until the next full one (QA round 33, area A).
	// What is stamped later than a consent listed is listed by the next
	// round; the history read from there holds the deletions since.
	// A stamp after the point bounds nothing, and is not taken: one
	// consent stamped in the future (imported with its stamp, or written
	// while the server's clock ran ahead before a step back) is listed by
	// every incremental round, was the newest of each, and let the
	// gateway's Date put the point an hour ahead again (QA round 33,
	// area E). Listing only such stamps is listing none.
	var bound time.Time
	for _, t := range stamps {
		if !t.After(point) && t.After(bound) {
			bound = t
		}
	}
	if !bound.IsZero() {
		bound = bound.Add(time.Second)
	} else if !since.IsZero() {
		bound = since.Add(time.Second) // the previous round's point (syncRound)
	}
	if !bound.IsZero() && bound.Before(point) {
		point = bound
	}
	if m.persist != nil {
		if err := m.persist.Apply(ctx, entries, full, point); err != nil {
			return time.Time{}, err
		}
	}
	m.mirror.applyRound(cs, full, clock, alone)
	// Writes that ended before the round began are in the mirror now.
	storeMax(&m.written.synced, epoch)
	if full {
		storeMax(&m.written.syncedFull, epoch)
	}
	return point, nil
}

// patientByIdentifier returns raw, an upstream consent, with the reference
// of its patient filled in when it names the patient by an identifier of
// the configured system alone (ConsentSources.PatientIdentifierSystem), as
// the admin API does for a written one (patientByIdentifierIn): a sync round
// kept only consents with a patient reference, so an opt-out the EHR wrote
// with the patient's MRN was dropped, and the patient's records flowed as
// if it were not there. An identifier no single Patient has leaves raw as
// it is (validation then reads it as a denial of no known patient); the
// upstream failing to tell is an error, which fails the round and keeps
// the previous mirror.
func (m *sourcedConsents) patientByIdentifier(ctx context.Context, raw []byte) ([]byte, error) {
	if m.cfg.PatientIdentifierSystem == "" {
		return raw, nil
	}
	system, value, ok := consent.PatientIdentifier(raw)
	if !ok || system != m.cfg.PatientIdentifierSystem {
		return raw, nil
	}
	ref, err := m.s.resolvePatient(ctx, system+"|"+value)
	switch {
	case errors.Is(err, errPatientUnmatched):
		return raw, nil
	case err != nil:
		return nil, fmt.Errorf("finding an upstream consent's patient by identifier: %w", err)
	}
	filled, err := consent.WithPatientReference(raw, ref)
	if err != nil {
		return raw, nil
	}
	return filled, nil
}

// actorResolver finds an actor's other names in the directory, then (for
// a reference, when enabled) in the upstream's resource, cached.
type actorResolver struct {
	s        *Server
	dir      *consent.Directory
	upstream bool
	cache    *ttlCache[actorEntry]
	written  *consentWrites // writes through /fhir (consentWriting)
}

// actorEntry is one resolved actor.
type actorEntry struct {
	forms []string
	known bool
}

// actorTypes are the resource types an actor reference is read from.
var actorTypes = map[string]bool{
	"Organization": true, "Practitioner": true, "PractitionerRole": true, "Patient": true,
	"RelatedPerson": true, "CareTeam": true, "Group": true, "Device": true,
}

// DenyOnly reports whether the names ActorForms gives form come from the
// upstream's search by identifier (an identifier the directory does not
// know): anyone allowed to write a Practitioner may put an identifier on
// it, so such names widen a deny and never a permit (consent.ExpandActors).
func (r *actorResolver) DenyOnly(form string) bool {
	if _, _, isIdentifier := strings.Cut(form, "|"); !isIdentifier || !r.upstream {
		return false
	}
	_, known, _ := r.dir.ActorForms(context.Background(), form)
	return !known
}

// ActorForms implements consent.ActorResolver.
func (r *actorResolver) ActorForms(ctx context.Context, form string) ([]string, bool, error) {
	if forms, ok, _ := r.dir.ActorForms(ctx, form); ok {
		return forms, true, nil
	}
	if system, value, isIdentifier := strings.Cut(form, "|"); isIdentifier {
		return r.identifierForms(ctx, form, system, value)
	}
	typ, id, isRef := strings.Cut(form, "/")
	if !r.upstream || !isRef || !actorTypes[typ] || strings.Contains(id, "/") {
		return nil, false, nil
	}
	if e, ok := r.cache.get(form); ok {
		return e.forms, e.known, nil
	}
	epoch := r.written.epoch.Load()
	body, err := r.s.getJSON(ctx, "/"+typ+"/"+url.PathEscape(id), 1<<20)
	var e actorEntry
	switch {
	case errors.Is(err, errNotFoundUpstream):
	case err != nil:
		return nil, false, fmt.Errorf("reading an actor from the FHIR server: %w", err)
	default:
		var res struct {
			ResourceType string `json:"resourceType"`
			Identifier   []struct {
				System string `json:"system"`
				Value  string `json:"value"`
			} `json:"identifier"`
		}
		if json.Unmarshal(body, &res) != nil || res.ResourceType != typ {
			return nil, false, errors.New("the FHIR server answered an actor read with something else")
		}
		e.known, e.forms = true, []string{form}
		for _, i := range res.Identifier {
			if i.System != "" && i.Value != "" {
				e.forms = append(e.forms, i.System+"|"+i.Value)
			}
		}
	}
	// Not kept when a write through /fhir began or ended since the read
	// began: it may have changed the actor.
	r.cache.addIf(form, e, func() bool { return r.written.underWay.Load() == 0 && r.written.epoch.Load() == epoch })
	return e.forms, e.known, nil
}

// npiOtherName gives each name of the NPI's system its other name.
var npiOtherName = map[string]string{
	"http://hl7.org/fhir/sid/us-npi": "urn:oid:2.16.840.1.113883.4.6",
	"urn:oid:2.16.840.1.113883.4.6":  "http://hl7.org/fhir/sid/us-npi",
}

// identifierTypes are the types searched for an actor named by identifier:
// those a caller goes by (its organisation, its fhirUser).
var identifierTypes = []string{"Organization", "Practitioner", "PractitionerRole"}

// identifierForms returns an actor named by identifier (form, "system|value")
// with the references of the upstream's Organizations, Practitioners and
// PractitionerRoles that carry it, cached. Callers are matched by their
// organisation, identifiers, subject and fhirUser, so a consent naming a
// clinician by NPI, as consent forms do, matched no fhirUser: p1's "not Dr
// X (NPI ...)" withheld nothing from Dr X (QA round 41, area B). The value
// is escaped as FHIR search requires and a match counts only carrying the
// identifier exactly (identifiedPatient's rules); a search the upstream
// does not serve (404) finds none, and an answer with more pages or one
// that cannot be read is an error, which withholds.
func (r *actorResolver) identifierForms(ctx context.Context, form, system, value string) ([]string, bool, error) {
	if !r.upstream || system == "" || value == "" {
		return nil, false, nil
	}
	if e, ok := r.cache.get(form); ok {
		return e.forms, e.known, nil
	}
	epoch := r.written.epoch.Load()
	e := actorEntry{forms: []string{form}}
	// The NPI goes by two names, its URL and its OID, as the policy
	// matches a caller's NPI under either: searched and matched under one
	// only, a deny naming Dr X's NPI by the OID found no one when Dr X's
	// Practitioner carries the URL, as US Core writes it (QA round 41,
	// helper F). Each name is searched.
	systems := []string{system}
	if other, ok := npiOtherName[system]; ok {
		systems = append(systems, other)
	}
	for _, sys := range systems {
		if err := r.searchIdentifier(ctx, &e, systems, searchEscape(sys)+"|"+searchEscape(value), value); err != nil {
			return nil, false, err
		}
	}
	r.cache.addIf(form, e, func() bool { return r.written.underWay.Load() == 0 && r.written.epoch.Load() == epoch })
	return e.forms, e.known, nil
}

// searchIdentifier adds to e the references of the upstream's resources of
// identifierTypes that carry value under one of systems, searched by the
// token search identifier.
func (r *actorResolver) searchIdentifier(ctx context.Context, e *actorEntry, systems []string, identifier, value string) error {
	q := url.Values{"identifier": {identifier}, "_count": {"100"}}.Encode()
	for _, typ := range identifierTypes {
		body, err := r.s.getJSON(ctx, "/"+typ+"?"+q, 1<<20)
		if errors.Is(err, errNotFoundUpstream) {
			continue
		}
		if err != nil {
			return fmt.Errorf("searching an actor by identifier on the FHIR server: %w", err)
		}
		var b struct {
			ResourceType string `json:"resourceType"`
			Link         []struct {
				Relation string `json:"relation"`
			} `json:"link"`
			Entry []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
					ID           string `json:"id"`
					Identifier   []struct {
						System string `json:"system"`
						Value  string `json:"value"`
					} `json:"identifier"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if json.Unmarshal(body, &b) != nil || b.ResourceType != "Bundle" {
			return errors.New("the FHIR server answered an actor search with something else")
		}
		for _, l := range b.Link {
			if hasRelation(l.Relation, "next") {
				return errors.New("the FHIR server's actor search has more pages")
			}
		}
		for _, en := range b.Entry {
			res := en.Resource
			if res.ResourceType != typ || !fhirID.MatchString(res.ID) {
				continue
			}
			for _, i := range res.Identifier {
				if slices.Contains(systems, i.System) && i.Value == value && !slices.Contains(e.forms, typ+"/"+res.ID) {
					e.forms, e.known = append(e.forms, typ+"/"+res.ID), true
					break
				}
			}
		}
	}
	return nil
}

// ttlCache is a least-recently-used cache whose entries also expire.
type ttlCache[V any] struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	order *list.List // of *ttlItem[V], most recently used first
	byKey map[string]*list.Element
}

type ttlItem[V any] struct {
	key     string
	value   V
	expires time.Time
}

func newTTLCache[V any](max int, ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{max: max, ttl: ttl, now: time.Now, order: list.New(), byKey: make(map[string]*list.Element)}
}

func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.byKey[key]
	if !ok {
		return zero, false
	}
	it := el.Value.(*ttlItem[V])
	if !c.now().Before(it.expires) {
		c.order.Remove(el)
		delete(c.byKey, key)
		return zero, false
	}
	c.order.MoveToFront(el)
	return it.value, true
}

func (c *ttlCache[V]) add(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(key, v)
}

func (c *ttlCache[V]) addLocked(key string, v V) {
	expires := c.now().Add(c.ttl)
	if el, ok := c.byKey[key]; ok {
		it := el.Value.(*ttlItem[V])
		it.value, it.expires = v, expires
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&ttlItem[V]{key: key, value: v, expires: expires})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byKey, oldest.Value.(*ttlItem[V]).key)
	}
}

// addIf is add when keep, asked under the cache's lock, holds: a clear
// that follows what keep reads then also removes what was added.
func (c *ttlCache[V]) addIf(key string, v V, keep func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if keep() {
		c.addLocked(key, v)
	}
}

// clear drops every entry.
func (c *ttlCache[V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	clear(c.byKey)
}

func (c *ttlCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// flights lets concurrent requests for one patient's upstream consents share
// one read. Each waiter still honours its own context; the read runs under
// the first caller's context, and its error reaches every waiter (none is
// cached).
type flights struct {
	mu      sync.Mutex
	pending map[string]*flight
}

type flight struct {
	done    chan struct{}
	entry   upstreamEntry
	err     error
	waiters int // callers that joined it (under flights.mu)
}

func (f *flights) do(ctx context.Context, key string, fn func(context.Context) (upstreamEntry, error)) (upstreamEntry, error) {
	f.mu.Lock()
	if fl, ok := f.pending[key]; ok {
		fl.waiters++
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.entry, fl.err
		case <-ctx.Done():
			return upstreamEntry{}, ctx.Err()
		}
	}
	if f.pending == nil {
		f.pending = make(map[string]*flight)
	}
	fl := &flight{done: make(chan struct{})}
	f.pending[key] = fl
	f.mu.Unlock()
	fl.entry, fl.err = fn(ctx)
	f.mu.Lock()
	delete(f.pending, key)
	f.mu.Unlock()
	close(fl.done)
	return fl.entry, fl.err
}

// errPatientUnmatched reports an identifier that matches no patient, or
// more than one.
var errPatientUnmatched = errors.New("no single patient has the identifier")
