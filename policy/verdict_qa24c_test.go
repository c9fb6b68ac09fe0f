package policy

import (
	"context"
	"testing"

	"github.com/ds4p/ds4p/rego"
	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// qa24cOldVerdict is verdict(c) as it was at 4d9afd0 (QA round 24 rewrote
// it to build fewer sets and arrays: the candidate rules are tested in
// place, without a set of positions, a union and a list of them, and the
// deepest rules are not copied into a list of their own before the type
// is chosen), kept here to check the rewrite against; with QA round 29's
// reading of branches (a provision is decided by the matching provisions
// nested in it, not by deeper ones of other branches).
const qa24cOldVerdict = `package ds4p

qa24c_old_verdict(c) := {"consent": c.id, "version": c.version, "type": type, "rules": rules} if {
	matching := [r | some r in qa24c_old_candidate_rules(c); rule_matches(r)]
	count(matching) > 0
	deciding := [r | some r in matching; not refined(r, matching)]
	type := qa24c_old_deepest_type(deciding)
	rules := [r | some r in deciding; r.type == type]
}

qa24c_old_candidate_rules(c) := [c.rules[i] | some i in qa24c_old_candidate_positions(c)] if {
	c.index
} else := c.rules

qa24c_old_candidate_positions(c) := {i | some i in c.index.any_actor} | {i |
	some k in caller_keys
	some i in c.index.by_actor[k]
}

qa24c_old_deepest_type(rules) := "deny" if {
	some r in rules
	r.type == "deny"
} else := "permit"

# Per consent: its verdict now and as it was ("undefined" when there is none).
qa24c_pairs contains [c.id, object.get({"v": v | v := verdict(c)}, "v", "undefined"), object.get({"v": v | v := qa24c_old_verdict(c)}, "v", "undefined")] if {
	some c in input.consents
}
`

// TestQA24CVerdictRewriteAnswersAsBefore: verdict(c) (consent.rego) gives,
// for every consent of every case input of the default policy, indexed and
// not, under each of several callers, exactly what it gave before it was
// rewritten, matched or not, deny or permit, with the same rules in the
// same order (the reasons name their paths in that order).
func TestQA24CVerdictRewriteAnswersAsBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fsys := rego.FS()
	res, err := loadTree(fsys, false)
	if err != nil {
		t.Fatal(err)
	}
	mods := res.ParsedModules()
	extra, err := ast.ParseModuleWithOpts("qa24c_old.rego", qa24cOldVerdict, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	mods["qa24c_old.rego"] = extra
	store := inmem.NewFromObjectWithOpts(res.Documents, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	pq, err := oparego.New(regoOptions("data.ds4p.qa24c_pairs", store, mods)...).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	callers := []Caller{
		{Subject: "u", Org: "Organization/org-a", Purposes: []string{"TREAT"}},
		{Subject: "u", Org: "Organization/org-b", Purposes: []string{"HPAYMT", "TREAT"}},
		{Subject: "Practitioner/dr-x", Org: "Organization/hie-member", OrgIdentifiers: []string{"urn:oid:1.2.3|org-c"}, Purposes: []string{"ETREAT"}},
		{Subject: "u", Org: "Organization/org-3"},
		{Subject: "u", Org: "Organization/org-a", Purposes: []string{"HPAYMT"}},
	}
	var compared, matched, denies, multi int
	for _, index := range []bool{true, false} {
		err := eachCase(fsys, index, func(tc Case, cs *consentSet) bool {
			for i := -1; i < len(callers); i++ {
				in := tc.Input
				if i >= 0 { // the case's own caller, then others
					in.Caller = callers[i]
				}
				v, err := topdownValue(ctx, pq, in.value(cs.value, nil, nil))
				if err != nil {
					t.Fatalf("case %q: %v", tc.Name, err)
				}
				set, ok := v.(ast.Set)
				if !ok {
					t.Fatalf("case %q: %v", tc.Name, v)
				}
				set.Foreach(func(p *ast.Term) {
					arr := p.Value.(*ast.Array)
					compared++
					now, was := arr.Elem(1), arr.Elem(2)
					if !now.Equal(was) {
						t.Errorf("case %q (index %v, caller %d), consent %v: verdict %v, before the rewrite %v", tc.Name, index, i, arr.Elem(0), now, was)
					}
					if o, ok := now.Value.(ast.Object); ok {
						matched++
						if ty := o.Get(ast.StringTerm("type")); ty != nil && ty.Value.Compare(ast.String("deny")) == 0 {
							denies++
						}
						if rs, ok := o.Get(ast.StringTerm("rules")).Value.(*ast.Array); ok && rs.Len() > 1 {
							multi++
						}
					}
				})
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Consents whose provisions match at several depths, with permits and
	// denies side by side, under callers each reaches differently.
	lvl := func(actors, purposes, labels []string) ConsentCond {
		return ConsentCond{Actors: actors, Purposes: purposes, Labels: labels}
	}
	orgA, treat := []string{"Organization/org-a"}, []string{"TREAT"}
	sud := []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD"}
	synthetic := []*Consent{{
		ID: "s1", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
		Rules: []ConsentRule{
			{Path: "provision", Depth: 0, Type: "deny", Conditions: []ConsentCond{{}}},
			{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []ConsentCond{{}, lvl(orgA, nil, nil)}},
			{Path: "provision.provision[1]", Depth: 1, Type: "permit", Conditions: []ConsentCond{{}, lvl(nil, treat, nil)}},
			{Path: "provision.provision[0].provision[0]", Depth: 2, Type: "permit", Conditions: []ConsentCond{{}, lvl(orgA, nil, nil), lvl(nil, treat, nil)}},
			{Path: "provision.provision[0].provision[1]", Depth: 2, Type: "deny", Conditions: []ConsentCond{{}, lvl(orgA, nil, nil), lvl(nil, nil, sud)}},
			{Path: "provision.provision[2]", Depth: 1, Type: "deny", Conditions: []ConsentCond{{}, lvl(nil, []string{"HMARKT"}, nil)}},
			{Path: "provision.provision[3]", Depth: 1, Type: "permit", Conditions: []ConsentCond{{}, lvl([]string{"Organization/org-b", "Organization/org-a"}, nil, nil)}},
		},
	}, {
		ID: "s2", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
		Rules: []ConsentRule{
			{Path: "provision", Depth: 0, Type: "permit", Conditions: []ConsentCond{lvl(nil, treat, nil)}},
			{Path: "provision.provision[0]", Depth: 1, Type: "deny", Conditions: []ConsentCond{lvl(nil, treat, nil), lvl(orgA, nil, nil)}},
			{Path: "provision.provision[1]", Depth: 1, Type: "deny", Conditions: []ConsentCond{lvl(nil, treat, nil), lvl([]string{"Organization/org-b"}, nil, nil)}},
			{Path: "provision.provision[2]", Depth: 1, Type: "permit", Conditions: []ConsentCond{lvl(nil, treat, nil), lvl(orgA, nil, nil)}},
		},
	}}
	for _, index := range []bool{true, false} {
		cs, err := newConsentSet([]any{synthetic[0], synthetic[1]}, "Patient/p1", index)
		if err != nil {
			t.Fatal(err)
		}
		for i, caller := range callers {
			for _, labels := range [][]string{nil, sud} {
				in := Input{Caller: caller, Request: Request{Interaction: "search", Type: "Condition", TimeNS: 1}, Patient: "Patient/p1",
					Item: Item{Type: "Condition", Labels: labels}}
				v, err := topdownValue(ctx, pq, in.value(cs.value, nil, nil))
				if err != nil {
					t.Fatal(err)
				}
				v.(ast.Set).Foreach(func(p *ast.Term) {
					arr := p.Value.(*ast.Array)
					compared++
					if now, was := arr.Elem(1), arr.Elem(2); !now.Equal(was) {
						t.Errorf("synthetic consent %v (index %v, caller %d, labels %v): verdict %v, before the rewrite %v", arr.Elem(0), index, i, labels, now, was)
					}
					if o, ok := arr.Elem(1).Value.(ast.Object); ok {
						if rs, ok := o.Get(ast.StringTerm("rules")).Value.(*ast.Array); ok && rs.Len() > 1 {
							multi++
						}
					}
				})
			}
		}
	}
	// The comparison means something only if the cases reach every kind
	// of verdict.
	if compared < 500 || denies < 50 || matched-denies < 50 || multi < 6 {
		t.Fatalf("compared %d verdicts (%d matched, %d denies, %d with several rules): too few to tell", compared, matched, denies, multi)
	}
	t.Logf("compared %d verdicts (%d matched, %d denies, %d with several rules)", compared, matched, denies, multi)
}
