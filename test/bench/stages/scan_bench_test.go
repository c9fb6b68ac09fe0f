package stages

import (
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
)

// BenchmarkScan measures the byte-level passes the proxy makes over a body
// before labelling: validate is fjson.Validate (strict grammar, nesting,
// duplicate keys), collect is the walk that finds each entry's resource and
// its resourceType, and validate+collect is what the proxy runs today (two
// passes). skip is one strict SkipValue over the whole body, the floor for
// any validating pass.
func BenchmarkScan(b *testing.B) {
	for _, c := range corpora(b) {
		body := c.body
		ops := []struct {
			name string
			op   func() error
		}{
			{"skip", func() error { _, err := fjson.SkipValue(body, 0); return err }},
			{"validate", func() error { return fjson.Validate(body, maxJSONDepth) }},
			{"collect", func() error { return collect(body) }},
			{"validate+collect", func() error {
				if err := fjson.Validate(body, maxJSONDepth); err != nil {
					return err
				}
				return collect(body)
			}},
		}
		for _, o := range ops {
			b.Run(o.name+"/"+c.name, func(b *testing.B) {
				measure(b, len(body), c.entries(), o.op)
			})
		}
	}
}

// collect finds every entry resource and reads its resourceType, stopping at
// that key, as the proxy's collect stage does.
func collect(body []byte) error {
	return eachResource(body, func(s, _ int) error {
		_, err := resourceType(body, s)
		return err
	})
}

func resourceType(b []byte, obj int) (string, error) {
	var rt string
	_, err := fjson.ObjectScan(b, obj, func(key []byte, vs int) (int, error) {
		ve, err := fjson.SkipValue(b, vs)
		if err != nil {
			return 0, err
		}
		if fjson.KeyIs(key, "resourceType") {
			rt, _ = fjson.StringValue(b, vs, ve)
			return ve, errStop
		}
		return ve, nil
	})
	if err == errStop {
		err = nil
	}
	return rt, err
}

type stopError struct{}

func (stopError) Error() string { return "stop" }

var errStop error = stopError{}
