package policy_test

import (
	"context"
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// TestBreakGlassCacheRespectsTokenLifetime: a break-the-glass permit cached
// while the token lives is not reused once it has expired, and a deny made
// before the token was issued is not reused once it is.
func TestBreakGlassCacheRespectsTokenLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := newEngine(t)
	sec := now / 1e9
	in := sudInput("Organization/er", "ETREAT")
	in.ConsentKey = policy.ConsentKey(nil)
	in.Caller.BreakGlass = &policy.BreakGlass{Reason: "cardiac arrest", IssuedAt: sec - 60, ExpiresAt: sec + 600}

	in.Request.TimeNS = now
	if d, err := eng.Decide(ctx, in); err != nil || !d.Permitted() || !d.BreakGlass {
		t.Fatalf("inside the token's lifetime: %+v, %v", d, err)
	}
	in.Request.TimeNS = (sec + 600) * 1e9
	if d, err := eng.Decide(ctx, in); err != nil || d.Permitted() {
		t.Fatalf("cached break-the-glass permit outlived the token: %+v, %v", d, err)
	}

	early := sudInput("Organization/er", "ETREAT")
	early.ConsentKey = policy.ConsentKey(nil)
	early.Caller.BreakGlass = &policy.BreakGlass{Reason: "cardiac arrest", IssuedAt: sec + 120, ExpiresAt: sec + 720}
	early.Request.TimeNS = now // two minutes before iat, beyond the clock skew allowance
	if d, err := eng.Decide(ctx, early); err != nil || d.Permitted() {
		t.Fatalf("before the token was issued: %+v, %v", d, err)
	}
	early.Request.TimeNS = (sec + 130) * 1e9
	if d, err := eng.Decide(ctx, early); err != nil || !d.Permitted() {
		t.Fatalf("a deny made before iat was reused inside the token's lifetime: %+v, %v", d, err)
	}
}
