// Package policy is the OPA v1 engine of ds4p: it loads Rego modules and
// policy data from an fs.FS (the embedded default lives in package rego, a
// directory is watched and reloaded by WatchDir), compiles and prepares the
// decision query once per policy revision, and answers one Decision per
// decision class.
//
// # Contract
//
// The input and decision contract is versioned (InputVersion) and documented
// by the JSON Schemas in rego/schema, with example inputs and decisions. A
// decision is permit, deny or redact, with obligations (security labels the
// proxy adds to what it discloses), notices (statements that go with the
// disclosure, such as the 42 CFR 2.32 notice), a break-the-glass flag for
// the ledger, and reasons (rule, consent id and version, provision path,
// labels involved) for explanations and the ledger. Every decision names the
// policy revision that made it.
//
// # Decision classes
//
// An Input carries the request context (caller, request, patient, the
// patient's normalised consents) and one decision class (Item: resource
// type, labels, source), and, as a rule, nothing about any single
// resource: no id, no code, no date. A decision therefore depends only on
// the class and the request context, which is what lets the proxy evaluate
// once for all items of a response that share patient, type, label set and
// source, and lets the engine reuse a decision across requests.
// TestItemCarriesOnlyTheClass and TestCachedDecisionsEqualFreshOnes hold
// this guarantee.
//
// The exception is Item.Facts (the resource's codes, its Type/id, its
// clinical date): the proxy passes them only for a patient whose consents
// have provisions naming codes, specific data or a data period, and then
// both its class key and the engine's cache key include them, so those
// provisions apply precisely. Without facts, the default policy reads such
// provisions protectively (they match a deny, never a permit).
//
// Two fields the engine sets, both optional in the contract: Input.Brief
// (input.brief) asks for brief reasons (a deny's summarised in one, a
// permit's consent reasons cut to the rule and the consent), for callers
// that use neither (the proxy's response path); and
// input.fixed_verdicts (fixed.go) carries the verdicts of the consents
// whose provisions name only caller and request criteria, evaluated once
// per response context by data.ds4p.fixed_verdicts and shared by its
// decision classes, and by the same caller's later requests about the
// patient while their evaluation would come out the same at the new
// request time (window.go). Neither changes an effect,
// obligation or notice (TestFixedVerdictsChangeNoDecision,
// TestFixedVerdictsAcrossRequests, the Rego tests of explain.rego).
//
// # Cache
//
// With Input.ConsentKey set, decisions are cached per policy revision, keyed
// by the consent versions, the item class and the input fields the policy's
// modules read (found by walking their references at load time: the default
// policy reads no caller client or scopes and no patient id, so decisions
// are shared across them). The item's type is left out of the key for a
// patient whose consents state no criterion whose clauses read it (the
// default policy reads input.item.type only to test provision.class):
// found at load time by the same walk, which gives up when any other rule
// reads the type or the item as a whole, so the classes of a response that
// differ only in type share one evaluation (TestTypeBlindMatchesFresh).
// The request time is not in the key: an entry is reused only at request
// times for which its evaluation would come out the same. The interpreter
// reports them (regovm.Watch): it follows input.request.time_ns through
// the evaluation by identity, and each comparison of it with a number (a
// consent's period bound, a break-the-glass token's expiry, a date a
// policy author wrote) narrows the window to the times for which that
// comparison comes out the same. Any other use of the time (arithmetic, a
// built-in such as time.weekday, time.now_ns()) or evaluation by topdown
// leaves the decision valid for its own request time only: reused within
// its response, never across requests (Status.DecisionReuse, and a log
// line the first time). So a policy may read the time as it likes without
// telling the engine (TestDecisionReuseFollowsThePolicysTime). A new
// consent version, a new revision (reload) or a different caller attribute
// the policy reads misses the cache.
//
// The consents' policy form (compacted, indexed by actor, index.go) is
// cached too, by Input.ConsentKey. Consents given as *Consent or as a
// ConsentForm (the proxy passes its normalised consents so) are built into
// it directly; any other Go value is converted generically, a struct
// through a JSON round trip, about twice the cost of a Part 2 read whose
// consent versions are new (consentform.go).
//
// # Evaluators
//
// By default (EvaluatorIR) a revision's queries are planned by OPA's
// planner and interpreted by internal/regovm, about six times faster than
// OPA's evaluator (topdown) on the default policy. Each revision is checked
// against topdown on its own case inputs when it loads (vm.go); a
// difference, or a construct the interpreter does not run, makes that
// revision use topdown, which Status reports. TestInterpreterMatchesTopdown
// compares the two on the case matrix and a random grid.
//
// # Loading
//
// Load compiles a tree; with WithVerify it also runs the tree's Rego tests
// and validates its policy data against schema/config.schema.json. A tree
// that fails is rejected and the revision in force keeps serving; Status,
// ReadyCheck (for /readyz), an error log line and the ds4p.policy.loads
// metric report the rejection. Panics in evaluation are recovered as
// errors, which the proxy treats as deny.
//
// Policies come from the embedded default, a directory (WatchDir) or an OPA
// bundle served over HTTP (WatchBundle, bundle.go), optionally signed:
// BuildBundle writes one, ReadBundle verifies and reads one.
package policy
