package oracle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
)

// world is everything one seed decides: the data, the consents, the callers.
type world struct {
	seed     int64
	rng      *rand.Rand
	ds       *synth.Dataset
	patients []string // "Patient/pat-0", ...
	consents []Consent
	callers  []Caller
	// mixed are the resources with an ordinary and an SUD element
	// (ds.Mixed()), loaded beside ds.
	mixed []synth.MixedResource
}

// Organisations that ask through the proxy; consents name them.
var orgs = []string{"Organization/org-a", "Organization/org-b", "Organization/org-c", synth.HIEOrgRef}

// purposeSets are the purposes of use callers state (nil: none).
var purposeSets = [][]string{
	nil, {"TREAT"}, {"TREAT"}, {"HPAYMT"}, {"HOPERAT"}, {"HMARKT"}, {"ETREAT"}, {"ETREAT"},
	{"TREAT", "HPAYMT"}, {"TREAT", "HPAYMT", "HOPERAT"}, {"PUBHLTH"}, {"BTG"}, {"ETREAT", "BTG"}, {"HRESCH"},
}

// grantPurposes are the purposes a consent's permit names.
var grantPurposes = [][]string{{"TREAT"}, {"TREAT"}, {"TREAT", "HPAYMT", "HOPERAT"}, {"HPAYMT"}, {"HMARKT"}, {"ETREAT"}}

func newWorld(seed int64) *world {
	w := &world{seed: seed, rng: rand.New(rand.NewPCG(uint64(seed), 0x0DA7A5E6))}
	w.ds = synth.Generate(synth.Options{Seed: seed, Patients: 4 + w.rng.IntN(4)})
	w.mixed = w.ds.Mixed()
	for _, r := range w.ds.Resources {
		if r.Type == "Patient" {
			w.patients = append(w.patients, r.Ref())
		}
	}
	now := time.Now()
	for _, p := range w.patients {
		for range w.rng.IntN(3) {
			w.consents = append(w.consents, w.consent(p, len(w.consents), now))
		}
	}
	for i := range 7 {
		w.callers = append(w.callers, w.caller(i))
	}
	return w
}

func (w *world) pick(n int) int { return w.rng.IntN(n) }

// consent draws one consent of patient p: grants to an organisation for
// some purposes (sometimes except one resource type), expired, not yet
// valid or revoked grants, blanket permits and outright objections.
func (w *world) consent(p string, n int, now time.Time) Consent {
	c := Consent{ID: fmt.Sprintf("oc-%d-%d", w.seed, n), Patient: p}
	org := orgs[w.pick(len(orgs))]
	grant := Provision{Type: "permit", Actors: []string{org}, Purposes: grantPurposes[w.pick(len(grantPurposes))]}
	c.Root = Provision{Type: "deny", Children: []Provision{grant}}
	switch v := w.pick(9); v {
	case 0, 1, 2:
		c.Variant = "grant"
	case 3:
		c.Variant = "grant-except-type"
		c.Root.Children[0].Children = []Provision{{Type: "deny", Classes: []string{[]string{"Condition", "Observation", "Encounter"}[w.pick(3)]}}}
	case 4:
		c.Variant = "expired"
		c.Start, c.End = now.AddDate(0, -2, 0), now.AddDate(0, 0, -3)
	case 5:
		c.Variant = "not-yet-valid"
		c.Start, c.End = now.AddDate(0, 0, 20), now.AddDate(1, 0, 0)
	case 6:
		c.Variant = "revoked"
		c.Revoked = true
	case 7:
		c.Variant = "objection"
		c.Root = Provision{Type: "deny"}
	case 8:
		c.Variant = "blanket-permit"
		c.Root = Provision{Type: "permit", Purposes: []string{"TREAT"}}
	}
	if c.Variant == "grant" && w.pick(2) == 0 {
		c.Start, c.End = now.AddDate(0, -1, 0), now.AddDate(1, 0, 0)
	}
	return c
}

// caller draws one caller; caller 0 is always a plain treating clinician
// and caller 1 a break-the-glass emergency physician, so every seed tries
// both.
func (w *world) caller(i int) Caller {
	c := Caller{Sub: fmt.Sprintf("u%d", i), Org: orgs[w.pick(len(orgs))], Scope: "user/*.read", TTL: time.Hour}
	c.Purposes = purposeSets[w.pick(len(purposeSets))]
	switch {
	case i == 0:
		c.Purposes = []string{"TREAT"}
	case i == 1:
		c.Purposes, c.BreakGlass, c.TTL = []string{"ETREAT"}, "unresponsive in the ED, overdose suspected", 15*time.Minute
	case w.pick(5) == 0:
		c.BreakGlass = []string{"cardiac arrest", "  x ", "unconscious"}[w.pick(3)]
		c.TTL = []time.Duration{10 * time.Minute, 2 * time.Hour}[w.pick(2)]
	}
	if i > 1 && w.pick(4) == 0 {
		c.Patient = strings.TrimPrefix(w.patients[w.pick(len(w.patients))], "Patient/")
		c.Scope = []string{"patient/*.rs", "patient/*.read"}[w.pick(2)]
	}
	return c
}

// tokenArgs are the `ds4p token` flags for the caller.
func (c Caller) tokenArgs() []string {
	args := []string{"--sub", c.Sub, "--org", c.Org, "--scope", c.Scope, "--ttl", c.TTL.String()}
	if len(c.Purposes) > 0 {
		args = append(args, "--purpose", strings.Join(c.Purposes, ","))
	}
	if c.Patient != "" {
		args = append(args, "--patient", c.Patient)
	}
	if c.BreakGlass != "" {
		args = append(args, "--break-glass", c.BreakGlass)
	}
	return args
}

// inForce lists the consents of the given patients as they stand, for reports.
func (w *world) consentsOf(patients []string) []Consent {
	var out []Consent
	for _, c := range w.consents {
		if len(patients) == 0 || slices.Contains(patients, c.Patient) {
			out = append(out, c)
		}
	}
	return out
}

// secondVersions returns a second version of n sensitive resources (the
// same content and a language), so that history and vread meet resources
// with more than one version.
func (w *world) secondVersions(n int) [][]byte {
	var sens []synth.Resource
	for _, r := range w.ds.Resources {
		if r.Sensitive() {
			sens = append(sens, r)
		}
	}
	var out [][]byte
	for range n {
		r := sens[w.pick(len(sens))]
		head := `"id":"` + r.ID + `",`
		out = append(out, []byte(strings.Replace(string(r.JSON), head, head+`"language":"en-US",`, 1)))
	}
	return out
}
