// Package audit records security events (logins, refresh reuse, MFA, resets, API keys, rate
// limit blocks) as one structured stream, separate from access logs, for SIEM ingestion. It
// never records a secret: callers pass identifiers, never credentials.
package audit

import (
	"context"

	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Blocked = "blocked"
)

// Log writes audit events through a dedicated zap logger named "audit".
type Log struct {
	z *zap.Logger
	m *metrics.Metrics
}

// New builds the audit log on the process logger; m counts logins (may be nil).
func New(log *zap.Logger, m *metrics.Metrics) *Log { return &Log{z: log.Named("audit"), m: m} }

// Login records a login attempt and counts it in cashless_auth_logins_total{lane,outcome}, so
// the audit stream and the metric never disagree.
func (l *Log) Login(ctx context.Context, e Event) {
	l.Record(ctx, e)
	if l != nil {
		l.m.Login(e.Lane, e.Outcome)
	}
}

// Event is one security event.
type Event struct {
	Name    string // e.g. "login", "refresh.reuse", "mfa.verified", "api_key.created"
	Lane    string // module that produced it, e.g. "password"
	Outcome string // Success, Failure, Blocked
	Actor   string // principal id ("admin:12", "consumer:5"), or "" when unknown
	Target  string // what was acted on (an account id, a key id); never a secret
	EventID *int64 // platform event (festival) concerned, when known
	Reason  string // short machine word for failures ("bad_credentials", "locked")
}

// Record writes e with the request's id and client IP.
func (l *Log) Record(ctx context.Context, e Event) {
	if l == nil {
		return
	}
	fields := []zap.Field{
		zap.String("event", e.Name),
		zap.String("outcome", e.Outcome),
		zap.String("request_id", httpx.RequestID(ctx)),
	}
	if ip := httpx.ClientIP(ctx); ip.IsValid() {
		fields = append(fields, zap.String("ip", ip.String()))
	}
	if e.Lane != "" {
		fields = append(fields, zap.String("lane", e.Lane))
	}
	if e.Actor != "" {
		fields = append(fields, zap.String("actor", e.Actor))
	}
	if e.Target != "" {
		fields = append(fields, zap.String("target", e.Target))
	}
	if e.EventID != nil {
		fields = append(fields, zap.Int64("event_id", *e.EventID))
	}
	if e.Reason != "" {
		fields = append(fields, zap.String("reason", e.Reason))
	}
	l.z.Info("audit", fields...)
}
