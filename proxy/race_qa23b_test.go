//go:build race

package proxy

// raceEnabled: the race detector's build, whose sync.Pool drops what it
// is given at random (allocation counts then say nothing).
const raceEnabled = true
