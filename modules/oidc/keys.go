package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrUnavailable says the provider's keys could not be fetched and none cached would do: the
// login is a 503, not the client's fault.
var ErrUnavailable = errors.New("oidc: the provider's keys are unreachable")

// errUnknownKey says no key of the provider has the token's kid, even after a refresh (or while
// refreshes are throttled): the token is refused.
var errUnknownKey = errors.New("oidc: no key of the provider has this kid")

// maxDocument bounds a discovery document or key set read from a provider.
const maxDocument = 1 << 20

// keySource holds one provider's signing keys. It fetches them lazily (a provider down at start
// stops nothing), refreshes them when a token names a kid it does not hold — at most once per
// minInterval, so forged kids cannot make the service hammer the provider — and once the keys are
// older than maxAge, so a key the provider withdrew stops being accepted. Key rotation needs no
// restart.
type keySource struct {
	issuer      string
	jwksURL     string // "" until discovery names it, unless configured
	client      *http.Client
	minInterval time.Duration
	maxAge      time.Duration
	now         func() time.Time

	mu        sync.Mutex
	keys      map[string]jose.JSONWebKey // by kid; "" holds a key set's only key without kid
	fetchedAt time.Time                  // last successful fetch
	triedAt   time.Time                  // last attempt, successful or not
	inflight  chan struct{}              // closed when the running fetch ends
	lastErr   error
}

func newKeySource(issuer, jwksURL string, client *http.Client, minInterval, maxAge time.Duration) *keySource {
	return &keySource{issuer: issuer, jwksURL: jwksURL, client: client, minInterval: minInterval, maxAge: maxAge, now: time.Now}
}

// key returns the key with kid, fetching or refreshing the set as the rules above allow.
func (s *keySource) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	for {
		s.mu.Lock()
		k, found := s.keys[kid]
		stale := s.keys != nil && s.now().Sub(s.fetchedAt) > s.maxAge
		if found && !stale {
			s.mu.Unlock()
			return k, nil
		}
		if s.inflight != nil {
			wait := s.inflight
			s.mu.Unlock()
			select {
			case <-wait:
				continue // look again at what the fetch brought
			case <-ctx.Done():
				return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
			}
		}
		if !s.triedAt.IsZero() && s.now().Sub(s.triedAt) < s.minInterval {
			// Throttled: answer from what is held.
			err := s.lastErr
			s.mu.Unlock()
			switch {
			case found:
				return k, nil
			case err != nil:
				return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
			default:
				return jose.JSONWebKey{}, errUnknownKey
			}
		}
		done := make(chan struct{})
		s.inflight, s.triedAt = done, s.now()
		s.mu.Unlock()

		keys, err := s.fetch(ctx)

		s.mu.Lock()
		s.inflight, s.lastErr = nil, err
		if err == nil {
			s.keys, s.fetchedAt = keys, s.now()
		}
		k, found = s.keys[kid]
		s.mu.Unlock()
		close(done)
		switch {
		case found:
			// A failed refresh of stale keys keeps serving them: the provider being down must not
			// lock every consumer out; the next refresh is minInterval away.
			return k, nil
		case err != nil:
			return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		default:
			return jose.JSONWebKey{}, errUnknownKey
		}
	}
}

// fetch reads the key set, discovering its URL first when it is not configured.
func (s *keySource) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	s.mu.Lock()
	url := s.jwksURL
	s.mu.Unlock()
	if url == "" {
		var err error
		if url, err = s.discover(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.jwksURL = url
		s.mu.Unlock()
	}
	var set jose.JSONWebKeySet
	if err := s.getJSON(ctx, url, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		// Only public signing keys; a provider publishing a private or an encryption key is
		// not one to take keys from blindly, but its other keys stay usable.
		if !k.IsPublic() || !k.Valid() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, errors.New("key set: no public signing key")
	}
	return keys, nil
}

// discover reads the provider's discovery document; its issuer must be the configured one
// exactly (OpenID Connect Discovery 1.0, section 4.3), or the document is someone else's.
func (s *keySource) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	url := strings.TrimSuffix(s.issuer, "/") + "/.well-known/openid-configuration"
	if err := s.getJSON(ctx, url, &doc); err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	if doc.Issuer != s.issuer {
		return "", fmt.Errorf("discovery: the document's issuer %q is not the configured %q", doc.Issuer, s.issuer)
	}
	if !strings.HasPrefix(doc.JWKSURI, "https://") && !strings.HasPrefix(doc.JWKSURI, "http://") {
		return "", fmt.Errorf("discovery: jwks_uri %q is not an http(s) URL", doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}

func (s *keySource) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxDocument {
		return fmt.Errorf("GET %s: larger than %d bytes", url, maxDocument)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
