// Package seal encrypts the values ds4p keeps in its bbolt file
// (encryption at rest): AES-256-GCM under a keyring of storage keys, with
// the id of the sealing key stored beside each value, and keyed index and
// chain keys derived from a per-file store secret.
//
// # Sealed values
//
// A sealed value is
//
//	0xD5 | 0x01 | key id (4 bytes, big-endian) | nonce (12) | ciphertext | GCM tag (16)
//
// (34 bytes of overhead). The additional data binds it to its header and
// its place: the bucket path (e.g. "audit/v1/entries"), 0x00 and the key,
// so a value copied to another key or bucket, or given another key id, no
// longer opens. Nonces are random: rotate keys well before 2³² values are
// sealed under one key. The AES key is HKDF-SHA256(storage key, "ds4p seal
// aes-256-gcm v1"), so the key file's bytes serve nothing else.
//
// # Keyring
//
// A key file (ParseKeyring, LoadKeyFile) holds one key a line, "ID
// BASE64-KEY [active]", exactly one active; LoadKeyFile refuses a file that
// its group or others may read. The active key seals; every key opens.
// DS4P_STORAGE_KEY (KeyringFromEnv) is one bare base64 key or key file lines
// separated by ";".
//
// # Store secret, index and chain keys
//
// Each file has a random 32-byte store secret, sealed under a storage key
// at seal/secret. [Open] opens it before anything is written, so a wrong
// keyring fails with [ErrWrongKey] naming the key id, and the file is left
// as it was. Index keys ([Sealer.IndexKey]: HMAC-SHA256 of a patient or
// recipient, 16 bytes) and the ledger's chain key ([Sealer.ChainMAC]) derive
// from the secret by HKDF with labels of their own ("ds4p index v1", "ds4p
// ledger chain v1"). Rotation re-seals the secret but never changes it, so
// neither the index keys nor the chain key change with the storage keys, and
// nothing needs re-indexing or re-chaining.
//
// # Rotation
//
// With a new active key, [Sealer.Rotate] re-seals every value of the given
// bucket paths in transactions of [RotateChunk] values, recording its
// progress at seal/rotation so a restart resumes, and finally re-seals the
// secret. Reads accept any key of the ring meanwhile, and writers seal with
// the active key, so it runs beside live traffic. [Count] reports how many
// values each key id seals; a key that seals nothing can be removed.
//
//	seal/                      root bucket
//	├── "secret"   → sealed    the store secret
//	└── "rotation" → JSON      {to, path, after}: a rotation under way
package seal
