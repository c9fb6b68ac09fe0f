package main

import (
	"strings"
	"testing"
)

// TestHelpOfASubcommandQA28C: `ds4p help COMMAND` gives the flags of a
// command (README, Commands), a subcommand included: `ds4p help audit
// query` printed the audit group's summary, without query's flags.
func TestHelpOfASubcommandQA28C(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "audit", "query"}, "Usage: ds4p audit query"},
		{[]string{"help", "consent", "list"}, "Usage: ds4p consent list"},
		{[]string{"help", "keys", "generate"}, "Usage: ds4p keys generate"},
		{[]string{"help", "policy", "eval"}, "Usage: ds4p policy eval"},
		{[]string{"help", "serve"}, "Usage: ds4p serve"},
		{[]string{"help", "audit"}, "ds4p audit query"},
	} {
		code, out, errOut := runCLI(c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("ds4p %s: exit %d, stdout lacks %q\n%s%s", strings.Join(c.args, " "), code, c.want, out, errOut)
		}
	}
}
