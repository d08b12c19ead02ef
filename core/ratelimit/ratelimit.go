// Package ratelimit decides requests against "N per period" rules with GCRA, in process (Memory,
// for the embedded single-process default) or shared by all replicas through Redis (Redis, built on
// github.com/go-redis/redis_rate). Both have the same semantics: the burst equals the limit, so
// Limit requests in quick succession pass and the next waits Period/Limit; capacity refills
// continuously. The package also resolves the client IP that per-IP limits are keyed on.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rule is Limit requests per Period, e.g. "10/minute".
type Rule struct {
	Limit  int
	Period time.Duration
}

// Result is the decision for one request.
type Result struct {
	Allowed bool
	// Remaining is how many more requests would pass right now.
	Remaining int
	// RetryAfter is how long until the next request can pass; > 0 exactly when refused.
	RetryAfter time.Duration
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1, for a Retry-After header.
func (r Result) RetryAfterSeconds() int {
	s := int((r.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Limiter decides one request against a rule for an explicit key (callers build keys such as
// "route:password.login:ip:1.2.3.4").
type Limiter interface {
	// Allow counts one request for key under rule. An error means no decision could be made
	// (empty key, invalid rule, Redis down); whether to fail open or closed is the caller's choice.
	Allow(ctx context.Context, key string, rule Rule) (Result, error)
}

var (
	// ErrEmptyKey is returned for an empty key: it would make every caller share one bucket.
	ErrEmptyKey = errors.New("ratelimit: empty key")
	// ErrInvalidRule is returned for a rule with Limit < 1, Period <= 0, or more than one request
	// per nanosecond.
	ErrInvalidRule = errors.New("ratelimit: invalid rule")
)

var units = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
}

// ParseRule parses "10/minute" and its variants: units s/sec/second, m/min/minute, h/hr/hour,
// d/day (plurals too), "per" instead of "/" ("10 per minute"), or a Go duration ("100/5m", the form
// String uses for other periods). Case and surrounding spaces are ignored; Limit must be ≥ 1.
func ParseRule(s string) (Rule, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	n, unit, ok := strings.Cut(in, "/")
	if !ok {
		n, unit, ok = strings.Cut(in, " per ")
	}
	if !ok {
		return Rule{}, fmt.Errorf("ratelimit: rule %q: want N/period such as 10/minute", s)
	}
	n, unit = strings.TrimSpace(n), strings.TrimSpace(unit)
	limit, err := strconv.Atoi(n)
	if err != nil || limit < 1 {
		return Rule{}, fmt.Errorf("ratelimit: rule %q: the count must be a whole number ≥ 1", s)
	}
	period, ok := units[unit]
	if !ok {
		d, err := time.ParseDuration(unit)
		if err != nil || d <= 0 {
			return Rule{}, fmt.Errorf("ratelimit: rule %q: unknown period %q (use second, minute, hour, day or a duration such as 5m)", s, unit)
		}
		period = d
	}
	r := Rule{Limit: limit, Period: period}
	if err := r.validate(); err != nil {
		return Rule{}, fmt.Errorf("ratelimit: rule %q: %w", s, err)
	}
	return r, nil
}

// String formats the rule so that ParseRule reads it back, e.g. "10/minute" or "100/5m0s".
func (r Rule) String() string {
	var unit string
	switch r.Period {
	case time.Second:
		unit = "second"
	case time.Minute:
		unit = "minute"
	case time.Hour:
		unit = "hour"
	case 24 * time.Hour:
		unit = "day"
	default:
		unit = r.Period.String()
	}
	return strconv.Itoa(r.Limit) + "/" + unit
}

// MarshalText implements encoding.TextMarshaler, so rules can be written in configuration.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseRule.
func (r *Rule) UnmarshalText(b []byte) error {
	v, err := ParseRule(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

func (r Rule) validate() error {
	if r.Limit < 1 || r.Period <= 0 {
		return fmt.Errorf("%w: %d per %s", ErrInvalidRule, r.Limit, r.Period)
	}
	// GCRA spaces requests Period/Limit apart; below a nanosecond Memory cannot represent it.
	if r.Period < time.Duration(r.Limit) {
		return fmt.Errorf("%w: %d per %s is finer than one per nanosecond", ErrInvalidRule, r.Limit, r.Period)
	}
	return nil
}

func check(key string, rule Rule) error {
	if key == "" {
		return ErrEmptyKey
	}
	return rule.validate()
}
