// Command ds4p is a consent-aware data segmentation proxy for FHIR R4.
//
// Usage:
//
//	ds4p serve --upstream URL [--listen HOST:PORT] [--data DIR] [--config FILE] [--dev-auth]
//	ds4p demo  [--listen HOST:PORT] [--data DIR] [--check]
//	ds4p token --data DIR --sub S --org ORG [--purpose CODE] [--scope "..."]
//
// Run `ds4p help COMMAND` for the flags of each command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	_ "time/tzdata" // consents.date_zone on a machine without a zone database
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the proxy in front of a FHIR server", runServe},
		{"demo", "run the proxy in front of a demo FHIR server with synthetic patients, and print example requests", runDemo},
		{"token", "mint a development token trusted by `serve --dev-auth` with the same --data", runToken},
		{"label", "label a FHIR resource, Bundle or NDJSON file offline and summarise why", runLabel},
		{"consent", "import, list, show and revoke consents in the data directory (with serve stopped)", runConsent},
		{"policy", "test, check, evaluate and export the Rego policy (compliance staff)", runPolicy},
		{"audit", "query, report on, export, verify and prune the disclosure ledger (with serve stopped)", runAudit},
		{"keys", "generate, add, rotate and remove the storage keys that encrypt the database; status per key", runKeys},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(stdout)
		return 0
	}
	if args[0] == "help" {
		return help(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "ds4p %s: %s\n", c.name, trimCommandPrefix(c.name, err.Error()))
			if errors.As(err, new(*usageError)) {
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "ds4p: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// trimCommandPrefix drops from msg the "audit: " that the package an
// error comes from puts first (audit, consent, policy, labels ...) when
// it repeats the command name, so that "ds4p audit: audit: indexing: ..."
// reads "ds4p audit: indexing: ...".
func trimCommandPrefix(name, msg string) string {
	for _, p := range []string{name + ": ", name + "s: "} {
		for strings.HasPrefix(msg, p) {
			msg = msg[len(p):]
		}
	}
	return msg
}

func help(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	// All of args: `ds4p help audit query` shows the subcommand's flags,
	// not the group's summary.
	return run(ctx, append(slices.Clip(args), "--help"), stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ds4p: a consent-aware data segmentation proxy for FHIR R4")
	fmt.Fprintln(w, "\nEvery response from the FHIR server is labelled (DS4P security labels),")
	fmt.Fprintln(w, "decided by Rego policy against the caller's purpose of use and the")
	fmt.Fprintln(w, "patient's consents, redacted or withheld, and recorded in a ledger.")
	fmt.Fprintln(w, "\nUsage: ds4p COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  help   show the flags of a command: ds4p help serve")
}

// usageError is a command line a command cannot run, such as a command
// group (audit, consent, keys, policy) without a subcommand or with an
// unknown one, an unknown flag, a flag value of the wrong form, a missing
// required flag or a missing or extra argument: exit 2, as for an unknown
// command, not 1 (the command ran and failed).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef is a usageError with a formatted message.
func usagef(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

// parseFlags parses args with fs. A flag it cannot parse (not defined, or
// a value of the wrong form) is a usage error; -h and --help stay
// flag.ErrHelp (exit 0). Every command parses its flags with it, never
// with fs.Parse, so that every bad command line exits 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageError{err.Error()}
}

// noArgs is a usage error when fs was given arguments after its flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// subcommand is one subcommand of a command group.
type subcommand struct {
	name string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// runGroup runs the subcommand of a command group that args[0] names.
// -h, --help or help prints help to stdout; no subcommand prints it to
// stderr and, like an unknown subcommand, is a usage error.
func runGroup(ctx context.Context, args []string, stdout, stderr io.Writer, help string, subs []subcommand) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	list := strings.Join(names, ", ")
	if len(args) == 0 {
		fmt.Fprintln(stderr, help)
		fmt.Fprintln(stderr)
		return &usageError{"a subcommand is required: " + list}
	}
	if wantsHelp(args[:1]) || args[0] == "help" {
		fmt.Fprintln(stdout, help)
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, args[1:], stdout, stderr)
		}
	}
	return &usageError{fmt.Sprintf("unknown subcommand %q (%s)", args[0], list)}
}

// plural is "1 entry" or "n entries": the count with the noun that agrees
// with it.
func plural[N ~int | ~int64 | ~uint64 | ~uint32](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// allOf is "the 1 entry" said of all of them: "1 entry" or "all n entries".
func allOf[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("all %d %s", n, many)
}

// newFlagSet returns a flag set that prints its usage with a description.
func newFlagSet(name, desc string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		// fs.Output, not out: a command answering --help points the flag
		// set at stdout, and the header must go with the flag list.
		fmt.Fprintf(fs.Output(), "Usage: ds4p %s [flags]\n\n%s\n\nFlags:\n", name, desc)
		fs.PrintDefaults()
	}
	return fs
}
