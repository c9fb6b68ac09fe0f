package policy_test

import (
	"encoding/json"
	"io/fs"
	"slices"
	"sort"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestDenyOfAPurposeReachesNarrowerOnesQA38P: a consent's deny of purpose w
// withholds from a caller stating p exactly when p is w or narrower than w
// at any depth of the embedded purpose hierarchy (worked out here from
// rego.PurposeHierarchy, apart from the policy), for every pair of the
// purposes the hierarchy names and one it does not; otherwise the decision
// is the one without the deny. A deny naming several purposes denies what
// any of them does. It holds whichever way the policy finds the narrower
// purposes (graph.reachable in each decision, or the closure the
// interpreter keeps per revision). So that the Part 2 item is disclosed for
// every purpose the hierarchy names, the policy data knows them all
// (config.known_purposes); the hierarchy is the embedded one.
func TestDenyOfAPurposeReachesNarrowerOnesQA38P(t *testing.T) {
	h := rego.PurposeHierarchy()
	if len(h) == 0 {
		t.Fatal("no purpose hierarchy")
	}
	known := map[string]bool{}
	for p, children := range h {
		known[p] = true
		for _, c := range children {
			known[c] = true
		}
	}
	var all []string
	for p := range known {
		all = append(all, p)
	}
	sort.Strings(all)
	all = append(all, "XNOTINTHEHIERARCHY")
	narrower := func(w, p string) bool { // p is w or narrower than w
		seen, todo := map[string]bool{w: true}, []string{w}
		for len(todo) > 0 {
			x := todo[0]
			todo = todo[1:]
			if x == p {
				return true
			}
			for _, c := range h[x] {
				if !seen[c] {
					seen[c] = true
					todo = append(todo, c)
				}
			}
		}
		return false
	}
	none := func() policy.ConsentCond {
		return policy.ConsentCond{Actors: []string{}, Roles: []string{}, Purposes: []string{}, Labels: []string{}, Classes: []string{},
			Codes: []string{}, Actions: []string{}, Data: []string{}, DataRefs: []policy.ConsentDataRef{}}
	}
	consent := func(version string, denied ...string) *policy.Consent {
		named := none()
		named.Actors, named.Purposes = []string{"Organization/org-a"}, all[:len(all)-1] // a Part 2 permit names its purposes
		c := &policy.Consent{
			ID: "c1", Version: version, Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
			Rules: []policy.ConsentRule{
				{Path: "provision", Depth: 0, Type: "deny", Conditions: []policy.ConsentCond{none()}},
				{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []policy.ConsentCond{none(), named}},
			},
		}
		if denied != nil {
			deny := none()
			deny.Purposes = denied
			c.Rules = append(c.Rules, policy.ConsentRule{Path: "provision.provision[0].provision[0]", Depth: 2, Type: "deny",
				Conditions: []policy.ConsentCond{none(), named, deny}})
		}
		return c
	}
	tree := fstest.MapFS{}
	err := fs.WalkDir(rego.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(rego.FS(), path)
		tree[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(tree["ds4p/config/data.json"].Data, &data); err != nil {
		t.Fatal(err)
	}
	data["known_purposes"] = all[:len(all)-1]
	if tree["ds4p/config/data.json"].Data, err = json.Marshal(data); err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(t.Context(), tree)
	if err != nil {
		t.Fatal(err)
	}
	decide := func(c *policy.Consent, purpose string) string {
		t.Helper()
		in := sudInput("Organization/org-a", purpose)
		in.Item.Labels = []string{act + "42CFRPart2", act + "SUD"}
		in.Consents = []any{c}
		in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: c.ID, Version: c.Version}})
		in.Brief = true
		d, err := eng.Decide(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		return d.Effect
	}
	without := consent("none")
	base := map[string]string{}
	permitted := 0
	for _, p := range all {
		if base[p] = decide(without, p); base[p] == policy.Permit {
			permitted++
		}
	}
	if permitted != len(all)-1 {
		t.Fatalf("the consent without a deny permits %d of %d purposes: all but the unknown one", permitted, len(all))
	}
	denied := 0
	for _, w := range all {
		for _, wanted := range [][]string{{w}, {"XNOTINTHEHIERARCHY", w}} {
			c := consent("deny-"+w+"-"+wanted[0], wanted...)
			for _, p := range all {
				want := base[p]
				if slices.ContainsFunc(wanted, func(x string) bool { return narrower(x, p) }) {
					want = policy.Deny
				}
				if got := decide(c, p); got != want {
					t.Errorf("a deny of %v, caller's purpose %s: %s, want %s", wanted, p, got, want)
				} else if got == policy.Deny && base[p] == policy.Permit {
					denied++
				}
			}
		}
	}
	if denied == 0 {
		t.Fatal("no deny withheld what the consent otherwise permits")
	}
}
