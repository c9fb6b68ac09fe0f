package synth

// rnd is a small splitmix64 generator. It is used instead of math/rand so
// that a seed produces the same data on every Go release, which keeps golden
// files and recorded benchmarks comparable over time.
type rnd struct{ state uint64 }

// newRnd returns a generator for seed and stream; distinct streams of one
// seed are independent, so each patient draws from its own stream.
func newRnd(seed int64, stream uint64) *rnd {
	r := &rnd{state: uint64(seed)}
	r.state ^= mix(stream + 0x9e3779b97f4a7c15)
	return r
}

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// next returns the next 64 random bits.
func (r *rnd) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix(r.state)
}

// intn returns a number in [0, n); n must be positive.
func (r *rnd) intn(n int) int {
	return int(r.next() % uint64(n))
}

// between returns a number in [lo, hi].
func (r *rnd) between(lo, hi int) int {
	return lo + r.intn(hi-lo+1)
}

// chance reports true with probability percent/100.
func (r *rnd) chance(percent int) bool {
	return r.intn(100) < percent
}

// pick returns one element of xs.
func pick[T any](r *rnd, xs []T) T {
	return xs[r.intn(len(xs))]
}
