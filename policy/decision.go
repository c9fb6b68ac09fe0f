package policy

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// termResult hands the evaluation result over as its AST term: the decision
// is read from it directly, with no conversion to Go maps and no JSON.
func termResult(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

// decodeDecision reads a decision object as rego/schema/decision.schema.json
// defines it. Unknown keys are ignored. Anything else the schema does not
// allow is an error, which withholds what was being decided (fail closed):
// a missing or unknown effect; an obligation, or a label to redact or mask,
// that is not "system|code" (the proxy would drop it silently and disclose
// Part 2 data without NORDSCLCD, or an element it should have cut); a
// break_glass that is not a boolean (the 42 CFR 2.51 record would be lost);
// a notice without a string id and text (an empty 42 CFR 2.32 notice); and
// missing or malformed reasons.
func decodeDecision(v ast.Value) (Decision, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return Decision{}, fmt.Errorf("policy: decision is %s, not an object", ast.ValueName(v))
	}
	var d Decision
	var err error
	d.Effect = str(obj, kEffect)
	switch d.Effect {
	case Permit, Deny, Redact, Mask:
	default:
		return Decision{}, fmt.Errorf("policy: decision has unknown effect %q", d.Effect)
	}
	if d.Obligations, err = labelStrs(obj, kObligations); err != nil {
		return Decision{}, err
	}
	if d.Redact, err = labelStrs(obj, kRedact); err != nil {
		return Decision{}, err
	}
	if d.Mask, err = labelStrs(obj, kMask); err != nil {
		return Decision{}, err
	}
	switch b := get(obj, kBreakGlass).(type) {
	case nil:
	case ast.Boolean:
		d.BreakGlass = bool(b)
	default:
		return Decision{}, fmt.Errorf("policy: decision break_glass is %s, not a boolean", ast.ValueName(b))
	}
	if d.Notices, err = notices(obj); err != nil {
		return Decision{}, err
	}
	if get(obj, kReasons) == nil {
		return Decision{}, fmt.Errorf("policy: decision has no reasons")
	}
	if d.Reasons, err = reasons(obj); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// labelStrs reads an array of "system|code" security labels (the schema's
// pattern ^[^|]+\|[^|]+$); absent is nil.
func labelStrs(obj ast.Object, key *ast.Term) ([]string, error) {
	out, err := strs(obj, key)
	if err != nil {
		return nil, err
	}
	for _, l := range out {
		system, code, ok := strings.Cut(l, "|")
		if !ok || system == "" || code == "" || strings.Contains(code, "|") {
			return nil, fmt.Errorf("policy: decision %s holds %q, not a system|code security label", keyName(key), l)
		}
	}
	return out, nil
}

// optStr reads a member that must be a string when present: what is the
// member's name in errors.
func optStr(obj ast.Object, key *ast.Term, what string) (string, error) {
	switch s := get(obj, key).(type) {
	case nil:
		return "", nil
	case ast.String:
		return string(s), nil
	default:
		return "", fmt.Errorf("policy: decision %s %s is %s, not a string", what, keyName(key), ast.ValueName(s))
	}
}

// reqStr is optStr for a member the schema requires.
func reqStr(obj ast.Object, key *ast.Term, what string) (string, error) {
	if get(obj, key) == nil {
		return "", fmt.Errorf("policy: decision %s has no %s", what, keyName(key))
	}
	return optStr(obj, key, what)
}

func get(obj ast.Object, key *ast.Term) ast.Value {
	if t := obj.Get(key); t != nil {
		return t.Value
	}
	return nil
}

func str(obj ast.Object, key *ast.Term) string {
	s, _ := get(obj, key).(ast.String)
	return string(s)
}

// strs reads an array (or set) of strings; absent is nil.
func strs(obj ast.Object, key *ast.Term) ([]string, error) {
	v := get(obj, key)
	n, err := count(v, key)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]string, 0, n)
	err = each(v, func(t *ast.Term) error {
		s, ok := t.Value.(ast.String)
		if !ok {
			return fmt.Errorf("policy: decision %s holds a %s, not a string", keyName(key), ast.ValueName(t.Value))
		}
		out = append(out, string(s))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// count is how many members an array or set has; 0 when absent.
func count(v ast.Value, key *ast.Term) (int, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case *ast.Array:
		return x.Len(), nil
	case ast.Set:
		return x.Len(), nil
	}
	return 0, fmt.Errorf("policy: decision %s is %s, not an array", keyName(key), ast.ValueName(v))
}

// each calls f with every member of an array or set (count says which v
// are), in order, without copying them.
func each(v ast.Value, f func(*ast.Term) error) error {
	switch x := v.(type) {
	case *ast.Array:
		for i := range x.Len() {
			if err := f(x.Elem(i)); err != nil {
				return err
			}
		}
	case ast.Set:
		for _, t := range x.Slice() {
			if err := f(t); err != nil {
				return err
			}
		}
	}
	return nil
}

func objects(obj ast.Object, key *ast.Term, f func(ast.Object) error) error {
	v := get(obj, key)
	if _, err := count(v, key); err != nil {
		return err
	}
	return each(v, func(t *ast.Term) error {
		o, ok := t.Value.(ast.Object)
		if !ok {
			return fmt.Errorf("policy: decision %s holds a %s, not an object", keyName(key), ast.ValueName(t.Value))
		}
		return f(o)
	})
}

func notices(obj ast.Object) ([]Notice, error) {
	var out []Notice
	err := objects(obj, kNotices, func(o ast.Object) error {
		var n Notice
		var err error
		if n.ID, err = reqStr(o, kId, "notice"); err != nil {
			return err
		}
		if n.Text, err = reqStr(o, kText, "notice"); err != nil {
			return err
		}
		if n.Regulation, err = optStr(o, kRegulation, "notice"); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	return out, err
}

func reasons(obj ast.Object) ([]Reason, error) {
	n, _ := count(get(obj, kReasons), kReasons) // objects reports its error
	out := make([]Reason, 0, n)
	err := objects(obj, kReasons, func(o ast.Object) error {
		var r Reason
		var err error
		if r.Rule, err = reqStr(o, kRule, "reason"); err != nil {
			return err
		}
		if r.Message, err = optStr(o, kMessage, "reason"); err != nil {
			return err
		}
		if r.Consent, err = optStr(o, kConsent, "reason"); err != nil {
			return err
		}
		if r.Version, err = optStr(o, kVersion, "reason"); err != nil {
			return err
		}
		if r.Provision, err = optStr(o, kProvision, "reason"); err != nil {
			return err
		}
		if r.Labels, err = strs(o, kLabels); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}
