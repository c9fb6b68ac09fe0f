package policy

// LoadEvent reports a policy revision loaded or rejected, for security
// monitoring (the SIEM export). It carries no policy data.
type LoadEvent struct {
	// Loaded is true for a revision now in force, false for a rejection
	// (the previous revision keeps serving).
	Loaded   bool
	Source   string
	Revision string
	// Error says why a revision was rejected.
	Error string
}

// WithLoadHook calls fn after every load and every rejection, including
// the first load by New. fn must not block for long: it runs on the
// loading goroutine.
func WithLoadHook(fn func(LoadEvent)) Option { return func(e *Engine) { e.onLoad = fn } }

func (e *Engine) notifyLoad(ev LoadEvent) {
	if e.onLoad != nil {
		e.onLoad(ev)
	}
}
