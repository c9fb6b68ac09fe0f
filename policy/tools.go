package policy

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego test.
type TestResult struct {
	Package, Name string
	Pass          bool
	Err           error
}

// RunTests runs the Rego unit tests (rules named test_*) of the policy tree,
// as `opa test` does.
func RunTests(ctx context.Context, fsys fs.FS) ([]TestResult, error) {
	res, err := loadTree(fsys, true)
	if err != nil {
		return nil, err
	}
	store, err := res.Store()
	if err != nil {
		return nil, fmt.Errorf("policy: building data store: %w", err)
	}
	ch, err := tester.NewRunner().
		SetStore(store).
		SetModules(res.ParsedModules()).
		RaiseBuiltinErrors(true).
		RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("policy: running tests: %w", err)
	}
	var out []TestResult
	for r := range ch {
		out = append(out, TestResult{Package: r.Package, Name: r.Name, Pass: r.Pass(), Err: r.Error})
	}
	return out, nil
}

// Unformatted lists the .rego files of fsys that `opa fmt` would change.
func Unformatted(fsys fs.FS) ([]string, error) {
	var bad []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		got, err := format.Source(p, src)
		if err != nil {
			return fmt.Errorf("policy: formatting %s: %w", p, err)
		}
		if !bytes.Equal(got, src) {
			bad = append(bad, p)
		}
		return nil
	})
	return bad, err
}
