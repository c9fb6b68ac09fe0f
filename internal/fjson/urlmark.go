package fjson

// IndexURLMark returns the index of the first pair of bytes in b that may
// begin a URL's authority or hide one, as raw JSON writes them: "//", `\/`
// (an escaped slash: "\/\/", "\//" and "/\/" all hold one) or `\u` (an
// escape that could spell anything), or -1 when b holds none. It looks at
// bytes, not at JSON: a pair outside a string, or whose backslash is itself
// escaped (`\\u`), is returned too. With AVX2 it reads 32 positions a step,
// so a search over a body with a slash every few dozen bytes (narratives'
// closing tags, code systems' URLs) does not stop at each lone one.
func IndexURLMark(b []byte) int {
	i := 0
	if haveAVX2 && len(b) > 32 {
		i = indexURLMark32(b)
		if i < (len(b)-1)&^31 {
			return i
		}
	}
	for ; i+1 < len(b); i++ {
		if c := b[i]; c == '/' || c == '\\' {
			if n := b[i+1]; n == '/' || c == '\\' && n == 'u' {
				return i
			}
		}
	}
	return -1
}
