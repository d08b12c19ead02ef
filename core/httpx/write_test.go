package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/outage"
)

// TestWriteErrorOutages: an outage no handler answered is the contract's 503, not a 500; every
// 5xx is logged once, naming the dependency when an outage caused it; a request its client
// abandoned is recorded as 499 and not logged as a failure.
func TestWriteErrorOutages(t *testing.T) {
	down := fmt.Errorf("store: users.by_email: %w", &outage.Error{Dependency: outage.Database, Err: errors.New("dial tcp: connection refused")})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name       string
		ctx        context.Context
		err        error
		status     int
		level      zapcore.Level // of the one line logged
		dependency string        // its dependency field
	}{
		{"outage left unanswered", context.Background(), down, 503, zapcore.ErrorLevel, "database"},
		{"outage answered 503 by its handler", context.Background(), httpx.Unavailable("Login temporarily unavailable", down), 503, zapcore.ErrorLevel, "database"},
		{"503 without an outage (SMS provider)", context.Background(), httpx.Unavailable("Could not send", errors.New("sms: 502")), 503, zapcore.ErrorLevel, ""},
		{"a bug", context.Background(), errors.New("nil map"), 500, zapcore.ErrorLevel, ""},
		{"client gone", cancelled, httpx.Unavailable("Login temporarily unavailable", fmt.Errorf("load user: %w", context.Canceled)), httpx.StatusClientClosedRequest, zapcore.DebugLevel, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/auth/login", nil).WithContext(c.ctx)
			httpx.WriteError(w, r, zap.New(core), c.err)
			if w.Code != c.status {
				t.Errorf("status %d, want %d", w.Code, c.status)
			}
			if body := w.Body.String(); c.status == httpx.StatusClientClosedRequest {
				if body != "" {
					t.Errorf("body %q for a client that is gone", body)
				}
			} else if !strings.HasPrefix(body, `{"detail":"`) || strings.Contains(body, "dial tcp") {
				t.Errorf("body %s: want a detail sentence without the cause", body)
			}
			entries := logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d lines logged, want 1: %v", len(entries), entries)
			}
			e := entries[0]
			if e.Level != c.level {
				t.Errorf("logged at %s, want %s", e.Level, c.level)
			}
			if dep, _ := e.ContextMap()["dependency"].(string); dep != c.dependency {
				t.Errorf("dependency field %q, want %q", dep, c.dependency)
			}
		})
	}
}
