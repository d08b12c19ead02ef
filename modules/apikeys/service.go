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

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/revocation"
	"github.com/cashlessmedia/cashless-auth/core/state"
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
	clients *EventClients
	cache   *revocation.Cache[map[string]any]
}

// NewService builds the service.
func NewService(events *store.Events, clients *EventClients, cache *revocation.Cache[map[string]any]) *Service {
	return &Service{events: events, clients: clients, cache: cache}
}

// Created is a new key: the plaintext, shown once, and its stored record.
type Created struct {
	Key    string
	Client EventClient
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
	c, err := s.clients.Create(ctx, NewEventClient{
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

// Revoke clears a key's hash so it never verifies again, and pushes the revocation to every
// replica's verify cache. It reports whether this call revoked it (false if it already was);
// store.ErrNotFound for an unknown id.
func (s *Service) Revoke(ctx context.Context, id int64) (bool, error) {
	c, err := s.clients.ByID(ctx, id)
	if err != nil {
		return false, err
	}
	revoked, err := s.clients.Revoke(ctx, id)
	if err != nil {
		return false, err
	}
	if c.Hash != nil {
		if err := s.cache.Revoke(ctx, *c.Hash); err != nil {
			return revoked, fmt.Errorf("apikeys: push revocation: %w", err)
		}
	}
	return revoked, nil
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

// Verifier reports API keys to POST /tokens/verify. Live keys are cached per replica so the
// steady state costs no query; Revoke pushes the revocation to every replica's cache, and
// entries expire after redis.cache_ttl in case a push is lost.
type Verifier struct {
	clients *EventClients
	cache   *revocation.Cache[map[string]any]
}

// NewVerifier builds the verifier.
func NewVerifier(clients *EventClients, cache *revocation.Cache[map[string]any]) *Verifier {
	return &Verifier{clients: clients, cache: cache}
}

// cacheChannel carries the revocations of keys to every replica's verify cache; the CLI's
// api-keys revoke pushes on it too.
const cacheChannel = "revoked:api_keys"

// newCache is the cache of live keys by hash, shared by the verifier and Revoke.
func newCache(lc fx.Lifecycle, st state.Store, cfg config.Core) *revocation.Cache[map[string]any] {
	return core.NewRevocationCache[map[string]any](lc, st, cfg, cacheChannel)
}

// Accepts recognises the key prefix.
func (v *Verifier) Accepts(token string) bool { return strings.HasPrefix(token, keyPrefix) }

// Verify looks a live key up by its hash.
func (v *Verifier) Verify(ctx context.Context, token string) (map[string]any, bool, error) {
	if !wellFormed(token) {
		return nil, false, nil
	}
	hash := hashKey(token)
	return v.cache.Load(ctx, hash, func(ctx context.Context) (map[string]any, bool, error) {
		return v.lookup(ctx, hash)
	})
}

func (v *Verifier) lookup(ctx context.Context, hash string) (map[string]any, bool, error) {
	c, err := v.clients.ByHash(ctx, hash)
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
