package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// An API token is vigil_<id>_<secret>: the prefix lets secret scanners
// and people recognise one, the id (public: listed, revoked by) finds its
// row, and only the SHA-256 of the secret is stored. A 256-bit random
// secret needs no slow hash: nothing can be guessed from its digest.
const (
	tokenPrefix = "vigil_"
	idBytes     = 8
	secretBytes = 32
)

// NewToken makes a token; the caller shows it once and stores only the
// id and the hash.
func NewToken() (token, id, hash string) {
	id, secret := randomHex(idBytes), randomHex(secretBytes)
	return tokenPrefix + id + "_" + secret, id, hashSecret(secret)
}

// ParseToken splits a token into its id and secret, or says it is not one.
func ParseToken(s string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return "", "", errors.New("not a Vigil token")
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || !isHex(id, idBytes) || !isHex(secret, secretBytes) {
		return "", "", errors.New("malformed Vigil token")
	}
	return id, secret, nil
}

// sessionIDBytes is the session id's randomness; the cookie holds it in
// hex and the store its SHA-256.
const sessionIDBytes = 32

func newSessionID() (id, hash string) {
	id = randomHex(sessionIDBytes)
	return id, hashSecret(id)
}

// parseSessionID checks a session cookie's value and returns the hash
// its row is stored under.
func parseSessionID(s string) (hash string, err error) {
	if !isHex(s, sessionIDBytes) {
		return "", errors.New("malformed session cookie")
	}
	return hashSecret(s), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// isHex reports whether s is n bytes in lowercase hex.
func isHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// sameHash compares two hashes in constant time.
func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// NewPassword is a random password for the local admin: 128 bits in
// base32, easy to copy from a log.
func NewPassword() string { return rand.Text() }

// Argon2id parameters: OWASP's recommendation for argon2id (19 MiB, two
// passes, one lane), cheap enough for two cores under a login rate limit.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

var b64 = base64.RawStdEncoding

// HashPassword encodes a password as an argon2id PHC string, the form
// other tools read: $argon2id$v=19$m=...,t=...,p=...$salt$key.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches an encoded hash. A hash
// that does not parse matches nothing.
func checkPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<21 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// dummyHash is checked against when a user does not exist, so a login
// takes as long for an unknown user as for a wrong password.
var dummyHash = sync.OnceValue(func() string { return HashPassword("no user has this password") })
