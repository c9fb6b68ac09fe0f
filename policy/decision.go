package policy

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// termResult hands the evaluation result over as its AST term: the decision
// is read from it directly, with no conversion to Go maps and no JSON.
func termResult(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

// decodeDecision reads a decision object. Unknown keys are ignored; a
// missing or unknown effect is an error (the caller withholds the item).
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
	if d.Obligations, err = strs(obj, kObligations); err != nil {
		return Decision{}, err
	}
	if d.Redact, err = strs(obj, kRedact); err != nil {
		return Decision{}, err
	}
	if d.Mask, err = strs(obj, kMask); err != nil {
		return Decision{}, err
	}
	if b, ok := get(obj, kBreakGlass).(ast.Boolean); ok {
		d.BreakGlass = bool(b)
	}
	if d.Notices, err = notices(obj); err != nil {
		return Decision{}, err
	}
	if d.Reasons, err = reasons(obj); err != nil {
		return Decision{}, err
	}
	return d, nil
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
	ts, err := elems(get(obj, key), key)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		s, ok := t.Value.(ast.String)
		if !ok {
			return nil, fmt.Errorf("policy: decision %s holds a %s, not a string", keyName(key), ast.ValueName(t.Value))
		}
		out[i] = string(s)
	}
	return out, nil
}

// elems are the members of an array or set, in order; none when absent.
func elems(v ast.Value, key *ast.Term) ([]*ast.Term, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case *ast.Array:
		out := make([]*ast.Term, x.Len())
		for i := range out {
			out[i] = x.Elem(i)
		}
		return out, nil
	case ast.Set:
		return x.Slice(), nil
	}
	return nil, fmt.Errorf("policy: decision %s is %s, not an array", keyName(key), ast.ValueName(v))
}

func objects(obj ast.Object, key *ast.Term, f func(ast.Object) error) error {
	ts, err := elems(get(obj, key), key)
	if err != nil {
		return err
	}
	for _, t := range ts {
		o, ok := t.Value.(ast.Object)
		if !ok {
			return fmt.Errorf("policy: decision %s holds a %s, not an object", keyName(key), ast.ValueName(t.Value))
		}
		if err := f(o); err != nil {
			return err
		}
	}
	return nil
}

func notices(obj ast.Object) ([]Notice, error) {
	var out []Notice
	err := objects(obj, kNotices, func(o ast.Object) error {
		out = append(out, Notice{ID: str(o, kId), Regulation: str(o, kRegulation), Text: str(o, kText)})
		return nil
	})
	return out, err
}

func reasons(obj ast.Object) ([]Reason, error) {
	out := []Reason{}
	err := objects(obj, kReasons, func(o ast.Object) error {
		labels, err := strs(o, kLabels)
		if err != nil {
			return err
		}
		out = append(out, Reason{
			Rule: str(o, kRule), Message: str(o, kMessage), Consent: str(o, kConsent),
			Version: str(o, kVersion), Provision: str(o, kProvision), Labels: labels,
		})
		return nil
	})
	return out, err
}
