package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/seal"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/siem"
	"go.etcd.io/bbolt"
)

// StorageConf is encryption at rest of the data directory's database
// (storage: in the config file).
type StorageConf struct {
	// Encryption is "on" (the default) or "off". Off leaves a plaintext
	// store plaintext and refuses an encrypted one.
	Encryption string `yaml:"encryption"`
	// KeyFile is the key file (seal.ParseKeyring's format, mode 0600).
	// Default: storage.key in the data directory, made on the first start
	// of serve or demo.
	KeyFile string `yaml:"key_file"`
	// Key is DS4P_STORAGE_KEY (environment only): one base64 key, or key
	// file lines separated by ";". It takes the place of the key file.
	Key string `yaml:"-"`
}

// StorageKeyFile is the default key file inside the data directory.
const StorageKeyFile = "storage.key"

// keyReloadInterval is how often serve checks the key file for a change
// (a key added for rotation).
const keyReloadInterval = 10 * time.Second

// validate checks the storage settings; a key is never echoed.
func (s StorageConf) validate() []error {
	var errs []error
	switch s.Encryption {
	case "", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("storage.encryption: %q is not on or off", s.Encryption))
	}
	if s.Key != "" && s.KeyFile != "" {
		errs = append(errs, errors.New("storage: set DS4P_STORAGE_KEY or key_file, not both"))
	}
	if s.off() && (s.Key != "" || s.KeyFile != "") {
		errs = append(errs, errors.New("storage: a key is configured but encryption is off"))
	}
	if s.Key != "" {
		if _, err := seal.KeyringFromEnv(s.Key); err != nil {
			errs = append(errs, errors.New("storage: DS4P_STORAGE_KEY is neither a base64 32-byte key nor key file lines"))
		}
	}
	return errs
}

func (s StorageConf) off() bool { return s.Encryption == "off" }

// keyFilePath is the key file in use; "" when the key comes from the
// environment.
func (s StorageConf) keyFilePath(dataDir string) string {
	switch {
	case s.Key != "":
		return ""
	case s.KeyFile != "":
		return s.KeyFile
	}
	return filepath.Join(dataDir, StorageKeyFile)
}

// keyring loads the storage keys. With create, a missing default key file
// is made (one new active key, mode 0600), as the paging key is.
func (s StorageConf) keyring(dataDir string, create bool) (*seal.Keyring, error) {
	if s.Key != "" {
		return seal.KeyringFromEnv(s.Key)
	}
	path := s.keyFilePath(dataDir)
	if create && s.KeyFile == "" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			k, err := seal.GenerateKey()
			if err != nil {
				return nil, err
			}
			k.Active = true
			if err := seal.WriteKeyFile(path, []seal.Key{k}, false); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, err
			}
		}
	}
	return seal.LoadKeyFile(path)
}

// cliStorage is the storage settings of the offline commands (audit,
// consent, keys): the DS4P_STORAGE_* environment, else the data
// directory's storage.key.
func cliStorage() StorageConf {
	return StorageConf{
		Encryption: os.Getenv("DS4P_STORAGE_ENCRYPTION"),
		KeyFile:    os.Getenv("DS4P_STORAGE_KEY_FILE"),
		Key:        os.Getenv("DS4P_STORAGE_KEY"),
	}
}

// openSealer opens the sealer of db, or nil when encryption is off. With
// create (serve, demo, and consent import into a database it makes) a
// missing default key file is made, unless the store is already encrypted
// (its key is then missing: an error), and a plaintext store gets its
// store secret, so the stores encrypt it on open.
// Without create (the offline commands) a missing key or a store never
// encrypted gives nil: a plaintext store then opens as before, an
// encrypted one fails in audit.Open or consent.Open naming its key id.
func openSealer(db *bbolt.DB, s StorageConf, dataDir string, create bool) (*seal.Sealer, error) {
	if s.off() {
		return nil, nil
	}
	var (
		keyID     uint32
		encrypted bool
	)
	_ = db.View(func(tx *bbolt.Tx) error { keyID, encrypted = seal.Encrypted(tx); return nil })
	ring, err := s.keyring(dataDir, create && !encrypted)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create && encrypted:
		return nil, fmt.Errorf("storage key: the store is encrypted with key id %s and its key file %s is missing: %w",
			seal.FormatID(keyID), s.keyFilePath(dataDir), err)
	case errors.Is(err, fs.ErrNotExist) && !create:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage key: %w", err)
	}
	sealer, err := seal.Open(db, ring)
	if errors.Is(err, seal.ErrNotSealed) {
		return nil, nil
	}
	return sealer, err
}

// sealedPaths are every bucket of the file whose values are sealed.
func sealedPaths() []seal.Path {
	return slices.Concat(audit.SealedBuckets, consent.SealedBuckets,
		siem.SealedBuckets, []seal.Path{proxy.AlertsPath}, audit.ReviewSealedBuckets)
}

// auditSealing and consentSealing are the stores' options for sealer.
func auditSealing(s *seal.Sealer) []audit.Option {
	if s == nil {
		return nil
	}
	return []audit.Option{audit.WithSealer(s)}
}

func consentSealing(s *seal.Sealer) []consent.Option {
	if s == nil {
		return nil
	}
	return []consent.Option{consent.WithSealer(s)}
}

// queueSealing, alertSealing and reviewSealing are the options of the
// SIEM queue, the alert store and the console's review store for sealer.
func queueSealing(s *seal.Sealer) []siem.QueueOption {
	if s == nil {
		return nil
	}
	return []siem.QueueOption{siem.WithSealer(s)}
}

func alertSealing(s *seal.Sealer) []proxy.AlertsOption {
	if s == nil {
		return nil
	}
	return []proxy.AlertsOption{proxy.AlertsWithSealer(s)}
}

func reviewSealing(s *seal.Sealer) []audit.ReviewsOption {
	if s == nil {
		return nil
	}
	return []audit.ReviewsOption{audit.ReviewsWithSealer(s)}
}

// startKeyRotation re-encrypts in the background whenever the active key
// is not the one everything is sealed with (now, after a restart midway,
// and after the key file gains a new active key, checked every
// keyReloadInterval).
func startKeyRotation(ctx context.Context, s StorageConf, dataDir string, sealer *seal.Sealer, log *slog.Logger) {
	if sealer == nil {
		return
	}
	paths := sealedPaths()
	sealer.StartRotator(ctx, paths, func(n int, err error) {
		if err != nil {
			log.Error("storage key rotation failed; it resumes on the next key change or restart", "error", err)
			return
		}
		log.Info("storage key rotation done", "resealed", n, "active_key", seal.FormatID(sealer.Keyring().Active()))
	})
	if path := s.keyFilePath(dataDir); path != "" {
		go watchKeyFile(ctx, path, keyReloadInterval, sealer, paths, log)
	}
}

// watchKeyFile reloads the keyring when the key file changes, checking
// every interval.
func watchKeyFile(ctx context.Context, path string, interval time.Duration, sealer *seal.Sealer, paths []seal.Path, log *slog.Logger) {
	last := fileStamp(path)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stamp := fileStamp(path)
		if stamp == last {
			continue
		}
		last = stamp
		ring, err := seal.LoadKeyFile(path)
		if err == nil {
			err = sealer.SetKeyring(ring, paths)
		}
		if err != nil {
			log.Error("storage key file changed but was not loaded; the previous keys stay in use", "error", err)
			continue
		}
		log.Info("storage keys reloaded", "active_key", seal.FormatID(ring.Active()), "keys", len(ring.IDs()))
	}
}

// fileStamp is a file's modification time and size, to notice a change.
func fileStamp(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return st.ModTime().String() + "/" + strconv.FormatInt(st.Size(), 10)
}

const keysHelp = `Manages the storage keys that encrypt the data directory's database
(AES-256-GCM; see README "Encryption at rest"):

  ds4p keys generate --out FILE
                        writes a new key file (mode 0600) holding one active key
  ds4p keys add --file FILE
                        adds a new active key to a key file; the others stay, to
                        read what they sealed. A running serve notices within
                        10 s and re-encrypts in the background
  ds4p keys status [--data DIR]
                        how many stored values each key id seals, and any
                        rotation under way (needs no key)
  ds4p keys rotate [--data DIR]
                        re-encrypts under the active key now (serve stopped;
                        serve does it by itself in the background)
  ds4p keys remove --file FILE --id ID [--data DIR]
                        removes a key that no value of DIR's database needs
  ds4p keys compact [--data DIR]
                        rewrites DIR/ds4p.db with only its live pages (serve
                        stopped), so no page freed by an encryption or a
                        rotation keeps old plaintext or ciphertext

The key is DS4P_STORAGE_KEY, else DS4P_STORAGE_KEY_FILE, else DIR/storage.key.`

// runKeys is ` + "`ds4p keys`" + `.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, args, stdout, stderr, keysHelp, []subcommand{
		{"generate", runKeysGenerate}, {"add", runKeysAdd}, {"status", runKeysStatus},
		{"rotate", runKeysRotate}, {"remove", runKeysRemove}, {"compact", runKeysCompact},
	})
}

// parseKeysFlags parses a keys subcommand's flags.
func parseKeysFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	if wantsHelp(args) {
		fs.SetOutput(stdout) // asked for: help goes to stdout, as for the other commands
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return noArgs(fs)
}

func runKeysGenerate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys generate", keysHelp, stderr)
	out := fs.String("out", "", "the key file to write (must not exist)")
	if err := parseKeysFlags(fs, args, stdout); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	k, err := seal.GenerateKey()
	if err != nil {
		return err
	}
	k.Active = true
	if err := seal.WriteKeyFile(*out, []seal.Key{k}, false); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: key %s (active)\n", *out, seal.FormatID(k.ID))
	return nil
}

func runKeysAdd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys add", keysHelp, stderr)
	file := fs.String("file", "", "the key file")
	if err := parseKeysFlags(fs, args, stdout); err != nil {
		return err
	}
	ring, err := seal.LoadKeyFile(*file)
	if err != nil {
		return err
	}
	k, err := seal.GenerateKey(ring.IDs()...)
	if err != nil {
		return err
	}
	k.Active = true
	keys := ring.Keys()
	for i := range keys {
		keys[i].Active = false
	}
	if err := seal.WriteKeyFile(*file, append(keys, k), true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added key %s (active) to %s; %s stays to read older values until rotation is done\n",
		seal.FormatID(k.ID), *file, seal.FormatID(ring.Active()))
	return nil
}

// openKeysDB opens DIR's database for a keys subcommand.
func openKeysDB(dir string, writable bool) (*bbolt.DB, error) {
	path := filepath.Join(dir, DBFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s (is --data right?)", path)
	}
	db, err := openBolt(path, &bbolt.Options{ReadOnly: !writable, Timeout: 2 * time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("%s is locked: is `ds4p serve` running on this data directory? Stop it first", path)
	}
	return db, err
}

func runKeysStatus(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys status", keysHelp, stderr)
	data := fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)")
	if err := parseKeysFlags(fs, args, stdout); err != nil {
		return err
	}
	db, err := openKeysDB(*data, false)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := seal.Count(db, sealedPaths())
	if err != nil {
		return err
	}
	if !c.Encrypted {
		fmt.Fprintf(stdout, "not encrypted: %s in plaintext (serve encrypts it on start unless storage.encryption is off)\n", plural(c.Plain, "stored value", "stored values"))
		return nil
	}
	ring, _ := cliStorage().keyring(*data, false) // optional: marks the active key
	writeKeyStatus(stdout, c, ring)
	return nil
}

// writeKeyStatus prints the counts per key id.
func writeKeyStatus(w io.Writer, c seal.Counts, ring *seal.Keyring) {
	ids := []uint32{}
	for id := range c.ByKey {
		ids = append(ids, id)
	}
	if ring != nil {
		for _, id := range ring.IDs() {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	fmt.Fprintf(w, "encrypted; the store secret is sealed with key %s\n", seal.FormatID(c.Secret))
	for _, id := range ids {
		note := ""
		switch {
		case ring != nil && id == ring.Active():
			note = " (active)"
		case c.ByKey[id] == 0:
			note = " (removable: seals nothing)"
		case ring != nil && !ring.Has(id):
			note = " (MISSING from the key file)"
		}
		fmt.Fprintf(w, "key %s: %s%s\n", seal.FormatID(id), plural(c.ByKey[id], "value", "values"), note)
	}
	if c.Plain > 0 {
		fmt.Fprintf(w, "plaintext values: %d (an encryption under way)\n", c.Plain)
	}
	if c.Rotating {
		fmt.Fprintf(w, "rotation to key %s under way, at %s\n", seal.FormatID(c.RotatingTo), c.RotatingAt)
	}
}

func runKeysRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys rotate", keysHelp, stderr)
	data := fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)")
	if err := parseKeysFlags(fs, args, stdout); err != nil {
		return err
	}
	db, err := openKeysDB(*data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	s := cliStorage()
	ring, err := s.keyring(*data, false)
	if err != nil {
		return fmt.Errorf("storage key: %w", err)
	}
	sealer, err := seal.Open(db, ring)
	if err != nil {
		return err
	}
	// Opening the stores first finishes any encryption of plaintext values.
	if _, err := consent.Open(db, consent.WithSealer(sealer)); err != nil {
		return err
	}
	l, err := audit.Open(db, audit.WithSealer(sealer))
	if err != nil {
		return err
	}
	if err := l.Close(); err != nil {
		return err
	}
	n, err := sealer.Rotate(ctx, sealedPaths(), 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-sealed %s under key %s\n", plural(n, "value", "values"), seal.FormatID(ring.Active()))
	c, err := seal.Count(db, sealedPaths())
	if err == nil {
		writeKeyStatus(stdout, c, ring)
	}
	return err
}

func runKeysRemove(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys remove", keysHelp, stderr)
	file := fs.String("file", "", "the key file")
	idText := fs.String("id", "", "the key id (8 hex digits) to remove")
	data := fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set), checked to need no value of the key")
	if err := parseKeysFlags(fs, args, stdout); err != nil {
		return err
	}
	if *idText == "" {
		return usagef("--id is required: the key id (8 hex digits) to remove; ds4p keys status lists them")
	}
	id, err := strconv.ParseUint(*idText, 16, 32)
	if err != nil {
		return usagef("--id %q is not a key id (8 hex digits)", *idText)
	}
	ring, err := seal.LoadKeyFile(*file)
	if err != nil {
		return err
	}
	switch {
	case !ring.Has(uint32(id)):
		return fmt.Errorf("%s holds no key %s", *file, *idText)
	case ring.Active() == uint32(id):
		return fmt.Errorf("key %s is the active key: add another first (ds4p keys add)", *idText)
	}
	db, err := openKeysDB(*data, false)
	if err != nil {
		return err
	}
	c, err := seal.Count(db, sealedPaths())
	_ = db.Close()
	if err != nil {
		return err
	}
	if n := c.ByKey[uint32(id)]; n > 0 || c.Rotating {
		return fmt.Errorf("key %s still seals %s of %s: let the rotation finish (ds4p keys rotate, or serve)", *idText, plural(n, "value", "values"), *data)
	}
	keys := slices.DeleteFunc(ring.Keys(), func(k seal.Key) bool { return k.ID == uint32(id) })
	if err := seal.WriteKeyFile(*file, keys, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed key %s from %s\n", *idText, *file)
	return nil
}

func runKeysCompact(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys compact", keysHelp, stderr)
	data := fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)")
	if err := parseKeysFlags(fs, args, stdout); err != nil {
		return err
	}
	// Open read-write, so serve (or another command) cannot hold the file
	// while it is replaced.
	src, err := openKeysDB(*data, true)
	if err != nil {
		return err
	}
	defer src.Close()
	path := filepath.Join(*data, DBFile)
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	err = bbolt.Compact(dst, src, 64<<20)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compacting: %w", err)
	}
	// The copy is this process's: run as root on the service user's
	// database, it would lock serve out (open: permission denied).
	if f, err := os.Open(tmp); err == nil {
		seal.KeepOwner(f, path)
		_ = f.Close()
	}
	before, after := fileSize(path), fileSize(tmp)
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(*data)
	if err == nil {
		err = errors.Join(d.Sync(), d.Close())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compacted %s: %d bytes, was %d\n", path, after, before)
	return nil
}

// fileSize is a file's size, 0 when unknown.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
