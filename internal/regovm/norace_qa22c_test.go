//go:build !race

package regovm

const raceEnabled = false
