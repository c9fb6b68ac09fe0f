package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramNameSpellingsQA34E: a display naming a Part 2 program whose
// name goes beyond ASCII, written in capitals (as systems that keep names
// in upper case write it), with a no-break space, or escaped as
// serializers that write ASCII only do (a long name's escapes took it past
// the length any name could have), makes the record the program's. Only
// ASCII letters were compared without case, and an escaped display longer
// than the name by 32 bytes was not looked at: such records went to a
// payer as ordinary data.
func TestProgramNameSpellingsQA34E(t *testing.T) {
	t.Parallel()
	const name = "Centro Médico de Recuperación Señora María Ángeles Núñez"
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: name, References: []string{"Organization/part2-clinic"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	escaped := strings.NewReplacer("é", `\u00e9`, "ó", `\u00f3`, "ñ", `\u00f1`, "í", `\u00ed`, "Á", `\u00c1`, "ú", `\u00fa`, " ", `\u0020`).Replace(name)
	const head = `{"resourceType":"Encounter","subject":{"reference":"Patient/1"},`
	for _, c := range []struct{ name, display string }{
		{"capitals", strings.ToUpper(name)},
		{"no-break space", strings.Replace(name, " ", "\u00a0", 2)},
		{"escaped", escaped},
		{"as configured", name},
	} {
		r, err := l.Label([]byte(head + `"serviceProvider":{"display":"` + c.display + `"}}`))
		if err != nil || r.Program != name || !r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s (%s): program %q, labels %v, %v; want the program's record", c.name, c.display, r.Program, r.Labels, err)
		}
	}
	for _, d := range []string{"Centro Médico de Recuperación", name + " Norte"} {
		r, err := l.Label([]byte(head + `"serviceProvider":{"display":"` + d + `"}}`))
		if err != nil || r.Program != "" {
			t.Errorf("%q: program %q, %v; want none", d, r.Program, err)
		}
	}
}
