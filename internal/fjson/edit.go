package fjson

import (
	"errors"
	"strconv"
)

// Edit replaces src[Start:End] with Data; Start == End inserts Data at Start.
type Edit struct {
	Start, End int
	Data       []byte
}

// Apply appends src with edits spliced in to dst and returns the result.
// Edits must lie within src, be sorted by Start and not overlap (an edit may
// start where the previous one ends); otherwise Apply returns dst unchanged
// and an error. Bytes outside the edits are copied unchanged.
func Apply(dst, src []byte, edits []Edit) ([]byte, error) {
	size, err := sizeAfter(src, edits)
	if err != nil {
		return dst, err
	}
	if free := cap(dst) - len(dst); free < size {
		grown := make([]byte, len(dst), len(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	at := 0
	for _, e := range edits {
		dst = append(append(dst, src[at:e.Start]...), e.Data...)
		at = e.End
	}
	return append(dst, src[at:]...), nil
}

// sizeAfter checks edits against src and returns the length of the result.
func sizeAfter(src []byte, edits []Edit) (int, error) {
	size, at := len(src), 0
	for k, e := range edits {
		switch {
		case e.Start < at:
			return 0, editError(k, "overlaps or is out of order")
		case e.End < e.Start:
			return 0, editError(k, "ends before it starts")
		case e.End > len(src):
			return 0, editError(k, "ends past the input")
		}
		size += len(e.Data) - (e.End - e.Start)
		at = e.End
	}
	return size, nil
}

// editError describes a bad edit by its position in the list.
func editError(k int, msg string) error {
	return errors.New("fjson: edit " + strconv.Itoa(k) + " " + msg)
}
