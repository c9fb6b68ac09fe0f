package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestUnitAllowsServesOwnSyscallsQA30E: the system calls serve makes by
// number itself, outside the Go runtime and the standard library's
// wrappers, are allowed by the unit's SystemCallFilter. mincore (the heap
// floor's check that its ballast is untouched, internal/heapfloor) is in
// none of systemd's groups the unit allows (`systemd-analyze
// syscall-filter @system-service`, systemd 252), so under the unit it
// failed with EPERM, the check could never tell, and a resident ballast
// was kept (memory counted against MemoryMax). When systemd-analyze is
// installed, the groups are expanded and checked too.
func TestUnitAllowsServesOwnSyscallsQA30E(t *testing.T) {
	t.Parallel()
	u := unitFile(t, "../../deploy/ds4p.service")
	own := []string{"mincore"} // syscall.Syscall(syscall.SYS_MINCORE, ...): internal/heapfloor/resident_linux.go
	var allowNames, allowGroups, deny []string
	for _, v := range u["SystemCallFilter"] {
		neg := strings.HasPrefix(v, "~")
		for _, f := range strings.Fields(strings.TrimPrefix(v, "~")) {
			switch {
			case neg:
				deny = append(deny, f)
			case strings.HasPrefix(f, "@"):
				allowGroups = append(allowGroups, f)
			default:
				allowNames = append(allowNames, f)
			}
		}
	}
	expand := func(group string) []string { return nil }
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		var walk func(g string, seen map[string]bool) []string
		walk = func(g string, seen map[string]bool) []string {
			if seen[g] {
				return nil
			}
			seen[g] = true
			out, err := exec.Command("systemd-analyze", "syscall-filter", g).Output()
			if err != nil {
				t.Fatalf("systemd-analyze syscall-filter %s: %v", g, err)
			}
			var names []string
			for i, line := range strings.Split(string(out), "\n") {
				line = strings.TrimSpace(line)
				if i == 0 || line == "" || line[0] == '#' {
					continue
				}
				f := strings.Fields(line)[0]
				if strings.HasPrefix(f, "@") {
					names = append(names, walk(f, seen)...)
				} else {
					names = append(names, f)
				}
			}
			return names
		}
		expand = func(g string) []string { return walk(g, map[string]bool{}) }
	}
	for _, s := range own {
		allowed := slices.Contains(allowNames, s)
		for _, g := range allowGroups {
			allowed = allowed || slices.Contains(expand(g), s)
		}
		denied := slices.Contains(deny, s)
		for _, g := range deny {
			if strings.HasPrefix(g, "@") {
				denied = denied || slices.Contains(expand(g), s)
			}
		}
		if !allowed || denied {
			t.Errorf("deploy/ds4p.service: SystemCallFilter does not allow %s, which serve calls itself (allowed %v %v, denied %v)", s, allowGroups, allowNames, deny)
		}
	}
}
