// Package sessions issues access/refresh pairs and keeps each login session (a refresh family)
// in the shared state store, so rotation, reuse detection and revocation hold across replicas.
package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/revocation"
	"github.com/cashlessmedia/cashless-auth/core/seal"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Errors of refresh and logout; handlers answer each with a 401.
var (
	ErrRevoked = errors.New("sessions: session revoked or expired")
	ErrReuse   = errors.New("sessions: refresh token reused")
	ErrForeign = errors.New("sessions: token belongs to another principal")
)

// Principal is who a session is for.
type Principal struct {
	Subject       string
	Role          string
	EventID       *int64
	MFAVerifiedAt *int64 // unix seconds of the last TOTP verification, carried through refreshes
}

// Pair is the contract's TokenResponse.
type Pair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// Config sets lifetimes and the revocation check.
type Config struct {
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// NotBefore is the per-subject revocation time (core/notbefore); nil checks none.
	NotBefore NotBefore
	// Binding re-checks at each refresh what the tokens carry; nil checks nothing.
	Binding Binding
	// ReuseGrace is how long after a rotation the refresh token it spent still gets the pair it
	// was rotated to, instead of revoking the session (config jwt.refresh_reuse_grace); 0: never.
	ReuseGrace time.Duration
	// Sealer seals those pairs in the state store, with a key of their own; required with
	// ReuseGrace.
	Sealer *seal.Sealer
}

// Binding tells whether a session's principal still matches its account, at each refresh.
type Binding interface {
	// Check returns ErrRevoked when p's claims no longer match its account (the refresh is
	// refused and the session ended), another error when it cannot tell.
	Check(ctx context.Context, p Principal) error
}

// NotBefore is the revocation primitive of docs/contract/NOTES.md ("Hardening decisions"): a
// durable per-subject time at or before which every token of the subject is refused.
type NotBefore interface {
	// Revoked reports whether c was issued at or before its subject's time.
	Revoked(ctx context.Context, c *tokens.Claims) (bool, error)
	// RevokeSubject ends every token the subject of role and sub holds until now.
	RevokeSubject(ctx context.Context, role, sub string) error
}

// Service manages sessions.
type Service struct {
	tok *tokens.Service
	st  state.Store
	cfg Config
	// alive caches "this session exists" for access-token checks, the hot path of
	// /tokens/verify and every bearer guard; revocations are pushed to every replica.
	alive *revocation.Cache[struct{}]
}

// New builds a Service. alive may be nil (no caching).
func New(tok *tokens.Service, st state.Store, cfg Config, alive *revocation.Cache[struct{}]) *Service {
	if cfg.ReuseGrace > 0 && cfg.Sealer == nil {
		panic("sessions: Config.ReuseGrace needs Config.Sealer")
	}
	return &Service{tok: tok, st: st, cfg: cfg, alive: alive}
}

func sessionKey(sid string) string { return "sess:" + sid }

// rotatedKey holds, for ReuseGrace, the sealed pair whose refresh token is next and the token
// it replaced. It is named by the successor, so that contenders rotating the same token each
// write their own, and the one whose swap won is the one a retry finds.
func rotatedKey(sid, next string) string { return "sess:" + sid + ":rotated:" + next }

// sealPurpose binds a sealed pair to its use and its key (core/seal): moved under another
// key, it does not open.
func sealPurpose(key string) string { return "sessions/rotated-pair:" + key }

func subjectKey(role, sub string) string { return "subj:" + role + ":" + sub }

// Start opens a new session for p and returns its first pair.
func (s *Service) Start(ctx context.Context, p Principal) (Pair, error) {
	sid := tokens.NewID()
	pair, refreshJTI, err := s.issue(p, sid)
	if err != nil {
		return Pair{}, err
	}
	// The record first: a session is never listed without it.
	if err := s.st.Set(ctx, metaKey(sid), encodeRecord(origin(ctx, s.tok.Now())), s.cfg.RefreshTTL); err != nil {
		return Pair{}, fmt.Errorf("sessions: store session record: %w", err)
	}
	if err := s.st.Set(ctx, sessionKey(sid), refreshJTI, s.cfg.RefreshTTL); err != nil {
		return Pair{}, fmt.Errorf("sessions: store session: %w", err)
	}
	if err := s.st.SAdd(ctx, subjectKey(p.Role, p.Subject), sid, s.cfg.RefreshTTL); err != nil {
		return Pair{}, fmt.Errorf("sessions: index session: %w", err)
	}
	return pair, nil
}

// Refresh rotates: the presented refresh token is spent and a new pair returned. Presenting a
// spent token again is treated as theft and revokes the whole session, except within
// Config.ReuseGrace of its rotation while its successor is still current: then it gets the
// same successor pair again.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Pair, error) {
	c, err := s.tok.Verify(refreshToken, tokens.TypeRefresh)
	if err != nil {
		return Pair{}, err
	}
	if c.Session == "" {
		return Pair{}, tokens.ErrInvalid
	}
	revoked, err := s.revoked(ctx, c)
	if err != nil {
		return Pair{}, err
	}
	if revoked {
		// The family began before its subject's revocation; end it here too, where the
		// revoking command could not reach the state store (embedded backend).
		if err := s.revoke(ctx, c.Role, c.Subject, c.Session); err != nil {
			return Pair{}, err
		}
		return Pair{}, ErrRevoked
	}
	key := sessionKey(c.Session)
	vals, err := s.st.MGet(ctx, key, metaKey(c.Session))
	if err != nil {
		return Pair{}, fmt.Errorf("sessions: load session: %w", err)
	}
	if vals[0] == nil {
		return Pair{}, ErrRevoked
	}
	if current := *vals[0]; current != c.ID {
		return s.reused(ctx, c, current)
	}
	p := Principal{Subject: c.Subject, Role: c.Role, EventID: c.EventID, MFAVerifiedAt: c.MFAVerifiedAt}
	if s.cfg.Binding != nil {
		if err := s.cfg.Binding.Check(ctx, p); errors.Is(err, ErrRevoked) {
			if err := s.revoke(ctx, c.Role, c.Subject, c.Session); err != nil {
				return Pair{}, err
			}
			return Pair{}, ErrRevoked
		} else if err != nil {
			return Pair{}, err
		}
	}
	pair, next, err := s.issue(p, c.Session)
	if err != nil {
		return Pair{}, err
	}
	if s.cfg.ReuseGrace > 0 {
		// Before the swap: a retry that finds the successor current must find its pair too.
		if err := s.remember(ctx, c, next, pair); err != nil {
			return Pair{}, err
		}
	}
	// Before the swap too: once swapped, a failure here would cost the client its session.
	if err := s.touch(ctx, c, decodeRecord(vals[1])); err != nil {
		return Pair{}, err
	}
	swapped, err := s.st.CompareAndSwap(ctx, key, c.ID, next, s.cfg.RefreshTTL)
	if err != nil {
		return Pair{}, fmt.Errorf("sessions: rotate: %w", err)
	}
	if !swapped {
		// Another request spent this token between our read and our swap: same as reuse,
		// which within the grace is the client's own retry racing its first try.
		if s.cfg.ReuseGrace == 0 {
			return Pair{}, s.theft(ctx, c)
		}
		current, _, err := s.st.Get(ctx, key)
		if err != nil {
			return Pair{}, fmt.Errorf("sessions: load session: %w", err)
		}
		return s.reused(ctx, c, current)
	}
	return pair, nil
}

// touch records a refresh of c's session and keeps its record and its index entry as long as
// the session, which each rotation extends.
func (s *Service) touch(ctx context.Context, c *tokens.Claims, rec record) error {
	rec.Refreshed = s.tok.Now().Unix()
	if err := s.st.Set(ctx, metaKey(c.Session), encodeRecord(rec), s.cfg.RefreshTTL); err != nil {
		return fmt.Errorf("sessions: store session record: %w", err)
	}
	if err := s.st.SAdd(ctx, subjectKey(c.Role, c.Subject), c.Session, s.cfg.RefreshTTL); err != nil {
		return fmt.Errorf("sessions: index session: %w", err)
	}
	return nil
}

// rotation is what rotatedKey holds, sealed.
type rotation struct {
	From string `json:"from"` // jti of the refresh token that was spent
	Pair Pair   `json:"pair"` // what it was rotated to
}

// remember keeps the pair c is being rotated to, for a retry of c within the grace. The
// tokens are sealed: a copy of the state store alone must not hand out live sessions.
func (s *Service) remember(ctx context.Context, c *tokens.Claims, next string, pair Pair) error {
	plain, err := json.Marshal(rotation{From: c.ID, Pair: pair})
	if err != nil {
		return fmt.Errorf("sessions: encode rotation: %w", err)
	}
	key := rotatedKey(c.Session, next)
	sealed, err := s.cfg.Sealer.Seal(sealPurpose(key), string(plain))
	if err != nil {
		return fmt.Errorf("sessions: seal rotation: %w", err)
	}
	if err := s.st.Set(ctx, key, sealed, s.cfg.ReuseGrace); err != nil {
		return fmt.Errorf("sessions: store rotation: %w", err)
	}
	return nil
}

// reused answers a refresh token that is no longer its session's current one (current, ""
// when the session is gone). Within the grace, the token the current one replaced gets the
// current one's pair again: the client lost the answer, not the token. An older token, one
// whose successor was itself rotated, or any token after the grace, is theft.
func (s *Service) reused(ctx context.Context, c *tokens.Claims, current string) (Pair, error) {
	if s.cfg.ReuseGrace > 0 && current != "" {
		key := rotatedKey(c.Session, current)
		sealed, ok, err := s.st.Get(ctx, key)
		if err != nil {
			return Pair{}, fmt.Errorf("sessions: load rotation: %w", err)
		}
		if ok {
			// A value that does not open (another key, tampered) grants nothing: theft below.
			if plain, err := s.cfg.Sealer.Open(sealPurpose(key), sealed); err == nil {
				var r rotation
				if json.Unmarshal([]byte(plain), &r) == nil && r.From == c.ID {
					return r.Pair, nil
				}
			}
		}
	}
	return Pair{}, s.theft(ctx, c)
}

// Logout revokes the session of refreshToken, which must belong to the bearer.
func (s *Service) Logout(ctx context.Context, bearer *tokens.Claims, refreshToken string) error {
	c, err := s.tok.Verify(refreshToken, tokens.TypeRefresh)
	if err != nil {
		return err
	}
	if c.Subject != bearer.Subject || c.Role != bearer.Role {
		return ErrForeign
	}
	return s.revoke(ctx, c.Role, c.Subject, c.Session)
}

// RevokeSubject ends everything a principal holds (password reset, users revoke-session): it
// sets the principal's not-before time first, durably, so every token issued until now is
// refused even if the state store then fails, and then deletes every session (refresh family).
func (s *Service) RevokeSubject(ctx context.Context, role, sub string) error {
	if s.cfg.NotBefore != nil {
		if err := s.cfg.NotBefore.RevokeSubject(ctx, role, sub); err != nil {
			return fmt.Errorf("sessions: revoke subject: %w", err)
		}
	}
	key := subjectKey(role, sub)
	sids, err := s.st.SMembers(ctx, key)
	if err != nil {
		return fmt.Errorf("sessions: list sessions: %w", err)
	}
	keys := make([]string, 0, 2*len(sids)+1)
	for _, sid := range sids {
		keys = append(keys, sessionKey(sid), metaKey(sid))
	}
	keys = append(keys, key)
	if err := s.st.Del(ctx, keys...); err != nil {
		return fmt.Errorf("sessions: revoke: %w", err)
	}
	for _, sid := range sids {
		if err := s.forget(ctx, sid); err != nil {
			return err
		}
	}
	return nil
}

// forget pushes a revocation to every replica's cache, after the store no longer has the
// session, so no replica can re-cache it.
func (s *Service) forget(ctx context.Context, sid string) error {
	if s.alive == nil {
		return nil
	}
	if err := s.alive.Revoke(ctx, sid); err != nil {
		return fmt.Errorf("sessions: push revocation: %w", err)
	}
	return nil
}

// Active reports whether a verified token still stands: it must postdate its subject's
// not-before time (Config.NotBefore), an access or offline token's session must exist, and a
// refresh token must be its session's current one. Offline tokens issued without a session
// (device tokens, or issued before offline tokens carried one) have only the not-before time.
func (s *Service) Active(ctx context.Context, c *tokens.Claims) (bool, error) {
	revoked, err := s.revoked(ctx, c)
	if err != nil || revoked {
		return false, err
	}
	if c.Session == "" {
		return c.Type == tokens.TypeOffline, nil
	}
	if (c.Type == tokens.TypeAccess || c.Type == tokens.TypeOffline) && s.alive != nil {
		_, ok, err := s.alive.Load(ctx, c.Session, func(ctx context.Context) (struct{}, bool, error) {
			_, ok, err := s.st.Get(ctx, sessionKey(c.Session))
			return struct{}{}, ok, err
		})
		if err != nil {
			return false, fmt.Errorf("sessions: load session: %w", err)
		}
		return ok, nil
	}
	current, ok, err := s.st.Get(ctx, sessionKey(c.Session))
	if err != nil {
		return false, fmt.Errorf("sessions: load session: %w", err)
	}
	if !ok {
		return false, nil
	}
	if c.Type == tokens.TypeRefresh {
		return current == c.ID, nil
	}
	return true, nil
}

// revoked reports whether c predates its subject's not-before time.
func (s *Service) revoked(ctx context.Context, c *tokens.Claims) (bool, error) {
	if s.cfg.NotBefore == nil {
		return false, nil
	}
	revoked, err := s.cfg.NotBefore.Revoked(ctx, c)
	if err != nil {
		return false, fmt.Errorf("sessions: load not-before time: %w", err)
	}
	return revoked, nil
}

// theft revokes the session of a reused refresh token. If the revocation itself fails, the
// caller must see that failure (a 503), not a plain 401 that hides a session still alive.
func (s *Service) theft(ctx context.Context, c *tokens.Claims) error {
	if err := s.revoke(ctx, c.Role, c.Subject, c.Session); err != nil {
		return err
	}
	return &ReuseError{Subject: c.Subject, Role: c.Role}
}

// ReuseError reports a reused refresh token; it matches ErrReuse and names the principal, for
// the audit log.
type ReuseError struct{ Subject, Role string }

func (e *ReuseError) Error() string { return ErrReuse.Error() }

// Is makes errors.Is(err, ErrReuse) hold.
func (e *ReuseError) Is(target error) bool { return target == ErrReuse }

// AccessTTL is the access-token lifetime, the contract's expires_in.
func (s *Service) AccessTTL() time.Duration { return s.cfg.AccessTTL }

func (s *Service) revoke(ctx context.Context, role, sub, sid string) error {
	if err := s.st.Del(ctx, sessionKey(sid), metaKey(sid)); err != nil {
		return fmt.Errorf("sessions: revoke: %w", err)
	}
	if err := s.st.SRem(ctx, subjectKey(role, sub), sid); err != nil {
		return fmt.Errorf("sessions: unindex: %w", err)
	}
	return s.forget(ctx, sid)
}

func (s *Service) issue(p Principal, sid string) (Pair, string, error) {
	base := tokens.Claims{Subject: p.Subject, Role: p.Role, EventID: p.EventID, MFAVerifiedAt: p.MFAVerifiedAt, Session: sid}
	access := base
	access.Type = tokens.TypeAccess
	at, _, err := s.tok.Issue(access, s.cfg.AccessTTL)
	if err != nil {
		return Pair{}, "", err
	}
	refresh := base
	refresh.Type = tokens.TypeRefresh
	rt, rc, err := s.tok.Issue(refresh, s.cfg.RefreshTTL)
	if err != nil {
		return Pair{}, "", err
	}
	return Pair{AccessToken: at, RefreshToken: rt, TokenType: "bearer", ExpiresIn: int(s.cfg.AccessTTL / time.Second)}, rc.ID, nil
}
