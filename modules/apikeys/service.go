package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Key format: "ck_" + base64url (no padding) of 32 random bytes (256 bits, NOTES.md). The
// prefix makes keys recognisable (to /tokens/verify, to secret scanners, to people).
const (
	keyPrefix  = "ck_"
	keyBytes   = 32
	keyLength  = len(keyPrefix) + 43 // base64url of 32 bytes without padding is 43 characters
	shownChars = 8                   // random characters kept in the visible prefix
)

// ErrUnknownEvent means the event to issue a key for does not exist.
var ErrUnknownEvent = errors.New("apikeys: unknown event")

// Service creates and revokes keys; only their SHA-256 is stored.
type Service struct {
	events  *store.Events
	clients *store.EventClients
}

// NewService builds the service.
func NewService(events *store.Events, clients *store.EventClients) *Service {
	return &Service{events: events, clients: clients}
}

// Created is a new key: the plaintext, shown once, and its stored record.
type Created struct {
	Key    string
	Client store.EventClient
}

// Create issues a key for an event's client.
func (s *Service) Create(ctx context.Context, eventID int64, name string, scopes []string) (Created, error) {
	ok, err := s.events.Exists(ctx, eventID)
	if err != nil {
		return Created{}, err
	}
	if !ok {
		return Created{}, ErrUnknownEvent
	}
	key, err := newKey()
	if err != nil {
		return Created{}, err
	}
	c, err := s.clients.Create(ctx, store.NewEventClient{
		EventID: eventID, Name: name, Scopes: scopes,
		Prefix: key[:len(keyPrefix)+shownChars], Hash: hashKey(key),
	})
	if errors.Is(err, store.ErrReference) {
		// The event was deleted between the check and the insert.
		return Created{}, ErrUnknownEvent
	}
	if err != nil {
		return Created{}, err
	}
	return Created{Key: key, Client: c}, nil
}

// Revoke clears a key's hash so it never verifies again. It reports whether this call revoked
// it (false if it already was); store.ErrNotFound for an unknown id.
func (s *Service) Revoke(ctx context.Context, id int64) (bool, error) {
	return s.clients.Revoke(ctx, id)
}

func newKey() (string, error) {
	b := make([]byte, keyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("apikeys: random: %w", err)
	}
	return keyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// hashKey is the stored form. A fast hash is enough: the key has 256 bits of entropy, so
// there is nothing to brute-force, and lookups by hash stay one indexed query.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// wellFormed tells cheaply whether token can be a key, so garbage costs no query.
func wellFormed(token string) bool {
	if len(token) != keyLength || !strings.HasPrefix(token, keyPrefix) {
		return false
	}
	for _, c := range token[len(keyPrefix):] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Verifier reports API keys to POST /tokens/verify. It reads the database on every call, so a
// revocation takes effect at once on every replica; a cache would need invalidation through
// state.Store Publish/Subscribe and a short TTL as a safety net (issue 7).
type Verifier struct {
	clients *store.EventClients
}

// NewVerifier builds the verifier.
func NewVerifier(clients *store.EventClients) *Verifier { return &Verifier{clients: clients} }

// Accepts recognises the key prefix.
func (v *Verifier) Accepts(token string) bool { return strings.HasPrefix(token, keyPrefix) }

// Verify looks a live key up by its hash.
func (v *Verifier) Verify(ctx context.Context, token string) (map[string]any, bool, error) {
	if !wellFormed(token) {
		return nil, false, nil
	}
	c, err := v.clients.ByHash(ctx, hashKey(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return map[string]any{
		"type":     "api_key",
		"sub":      "api_key:" + strconv.FormatInt(c.ID, 10),
		"event_id": c.EventID,
		"scopes":   c.Scopes,
		"name":     c.Name,
	}, true, nil
}
