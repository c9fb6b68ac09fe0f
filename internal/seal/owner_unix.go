//go:build unix

package seal

import (
	"os"
	"syscall"
)

// KeepOwner gives f the owner and group of the file at path, when there is
// one and this process may (root may; anyone else only keeps its own). A key
// file replaced by `ds4p keys add` run as root stays readable by the
// service user that owned it: a file owned by root, mode 0600, would lock
// serve out of its own keys; `ds4p keys compact` keeps the database's so.
func KeepOwner(f *os.File, path string) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(s.Uid), int(s.Gid)) // not permitted: the writer's, as before
	}
}
