package labels

import "strings"

// strArena hands out the strings of a batch's results (ids, versions,
// matched codings, paths) carved from shared chunks: one allocation per
// chunk instead of one per string. A chunk is a strings.Builder that only
// ever appends within its capacity, so a string already handed out is never
// written again. A chunk stays alive while any of its strings does, so
// strings that outlive a response in long-lived maps are not carved from
// chunks: the patient (a key of the consent cache) is one string per
// patient of the batch, and the label cache copies the version it keeps.
type strArena struct {
	sb       strings.Builder
	chunk    int               // the size of the current chunk
	patients map[string]string // patient id → "Patient/<id>"
}

// patient returns "Patient/<pid>", one string per patient of the batch.
func (a *strArena) patient(pid []byte) string {
	if p, ok := a.patients[string(pid)]; ok {
		return p
	}
	if a.patients == nil {
		a.patients = map[string]string{}
	}
	p := "Patient/" + string(pid)
	a.patients[p[len("Patient/"):]] = p
	return p
}

// Chunks start at arenaFirst bytes, enough for the strings of a read, and
// double up to arenaChunk, the strings of some fifty resources: a read
// allocated a whole arenaChunk for a few hundred bytes.
const (
	arenaFirst = 512
	arenaChunk = 4 << 10
)

// grow makes room for n more bytes in the current chunk and returns where
// they start.
func (a *strArena) grow(n int) int {
	if a.sb.Cap()-a.sb.Len() < n {
		a.chunk = min(max(2*a.chunk, arenaFirst), arenaChunk)
		a.sb = strings.Builder{} // earlier strings keep the old chunk
		a.sb.Grow(max(n, a.chunk))
	}
	return a.sb.Len()
}

// since returns the string written from start on.
func (a *strArena) since(start int) string { return a.sb.String()[start:] }

// bytes returns b as a string of the arena (nil a: a new string).
func (a *strArena) bytes(b []byte) string {
	if a == nil {
		return string(b)
	}
	start := a.grow(len(b))
	a.sb.Write(b)
	return a.since(start)
}

// concat returns x+y (nil a: a new string).
func (a *strArena) concat(x, y string) string {
	if a == nil {
		return x + y
	}
	start := a.grow(len(x) + len(y))
	a.sb.WriteString(x)
	a.sb.WriteString(y)
	return a.since(start)
}

// join returns x, sep and y joined (nil a: a new string).
func (a *strArena) join(x []byte, sep byte, y []byte) string {
	if a == nil {
		return string(x) + string(sep) + string(y)
	}
	start := a.grow(len(x) + 1 + len(y))
	a.sb.Write(x)
	a.sb.WriteByte(sep)
	a.sb.Write(y)
	return a.since(start)
}
