package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
)

// ErrNotFound: no such session among the principal's (ended, expired, or someone else's).
var ErrNotFound = errors.New("sessions: no such session")

// MaxUserAgent is how many bytes of a client's User-Agent a session keeps: enough to tell
// browsers and apps apart, not a store for whatever a client sends.
const MaxUserAgent = 256

// Info is what a principal's session listing shows of one session (ASVS 3.3.4). The client
// address and user agent are personal data: only the network and a sanitised, truncated
// user agent are kept, and they expire with the session.
type Info struct {
	ID        string
	Created   time.Time // zero for a session started before sessions kept this record
	Refreshed time.Time // zero until the first refresh
	// Lane is the login lane that started it: the module part of its route's name
	// ("<module>.<action>"), as the module named the route; "" outside a request.
	Lane string
	// Network is the client's /24 (IPv4) or /48 (IPv6), "" when unknown.
	Network   string
	UserAgent string
}

// record is Info as stored beside the session, at metaKey. The session key itself keeps only
// the current refresh token's id, as every release reads it: rolling back or running replicas
// of two releases side by side must not mistake a session for a stolen one.
type record struct {
	Created   int64  `json:"c,omitempty"`
	Refreshed int64  `json:"r,omitempty"`
	Lane      string `json:"l,omitempty"`
	Network   string `json:"n,omitempty"`
	UserAgent string `json:"ua,omitempty"`
}

func metaKey(sid string) string { return "sess:" + sid + ":meta" }

// origin is the record of a session started now by the request in ctx.
func origin(ctx context.Context, now time.Time) record {
	rec := record{Created: now.Unix(), Network: network(httpx.ClientIP(ctx)), UserAgent: sanitiseUserAgent(httpx.UserAgent(ctx))}
	if ri := httpx.Route(ctx); ri != nil {
		rec.Lane, _, _ = strings.Cut(ri.Name, ".")
	}
	return rec
}

// network is the prefix a session keeps of a client address: /24 of IPv4 (IPv4-mapped IPv6
// included), /48 of IPv6, the usual anonymisation widths.
func network(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.WithZone("").Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// sanitiseUserAgent keeps the printable characters of ua (no control characters, no invalid
// UTF-8, spaces as plain spaces), at most MaxUserAgent bytes, cut at a character boundary.
func sanitiseUserAgent(ua string) string {
	var b strings.Builder
	for _, r := range ua {
		if r == utf8.RuneError || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			continue
		}
		if unicode.IsSpace(r) {
			r = ' '
		}
		if b.Len()+utf8.RuneLen(r) > MaxUserAgent {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

func encodeRecord(rec record) string {
	b, _ := json.Marshal(rec) // plain strings and integers: cannot fail
	return string(b)
}

// decodeRecord reads a stored record; a missing or unreadable one is an empty record, so a
// session is listed even when its metadata is gone.
func decodeRecord(v *string) record {
	var rec record
	if v != nil {
		_ = json.Unmarshal([]byte(*v), &rec)
	}
	return rec
}

// List returns the principal's live sessions, newest first. Index entries of sessions that
// expired are dropped from the index on the way.
func (s *Service) List(ctx context.Context, role, sub string) ([]Info, error) {
	sids, err := s.st.SMembers(ctx, subjectKey(role, sub))
	if err != nil {
		return nil, fmt.Errorf("sessions: list sessions: %w", err)
	}
	if len(sids) == 0 {
		return []Info{}, nil
	}
	keys := make([]string, 0, 2*len(sids))
	for _, sid := range sids {
		keys = append(keys, sessionKey(sid), metaKey(sid))
	}
	vals, err := s.st.MGet(ctx, keys...)
	if err != nil {
		return nil, fmt.Errorf("sessions: load sessions: %w", err)
	}
	out := make([]Info, 0, len(sids))
	var gone []string
	for i, sid := range sids {
		if vals[2*i] == nil {
			gone = append(gone, sid)
			continue
		}
		rec := decodeRecord(vals[2*i+1])
		out = append(out, Info{ID: sid, Created: unixTime(rec.Created), Refreshed: unixTime(rec.Refreshed),
			Lane: rec.Lane, Network: rec.Network, UserAgent: rec.UserAgent})
	}
	if len(gone) > 0 {
		if err := s.st.SRem(ctx, subjectKey(role, sub), gone...); err != nil {
			return nil, fmt.Errorf("sessions: unindex: %w", err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// End ends one of the principal's sessions as logout does: its refresh token at once, its
// access and offline tokens on every replica (the revocation pushed to their caches).
// ErrNotFound when sid is not a live session of this principal.
func (s *Service) End(ctx context.Context, role, sub, sid string) error {
	sids, err := s.st.SMembers(ctx, subjectKey(role, sub))
	if err != nil {
		return fmt.Errorf("sessions: list sessions: %w", err)
	}
	owned := false
	for _, m := range sids {
		owned = owned || m == sid
	}
	if !owned {
		return ErrNotFound
	}
	_, ok, err := s.st.Get(ctx, sessionKey(sid))
	if err != nil {
		return fmt.Errorf("sessions: load session: %w", err)
	}
	if !ok {
		return ErrNotFound
	}
	return s.revoke(ctx, role, sub, sid)
}

// EndOthers ends every session of the principal but keep (the caller's own), as End does
// each, and returns how many it ended.
func (s *Service) EndOthers(ctx context.Context, role, sub, keep string) (int, error) {
	live, err := s.List(ctx, role, sub)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range live {
		if in.ID == keep {
			continue
		}
		if err := s.revoke(ctx, role, sub, in.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
