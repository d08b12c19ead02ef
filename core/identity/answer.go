package identity

import (
	"net/http"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

// Lane is how an identity lane (Firebase, OpenID Connect, ...) words the outcome of a sign-in.
type Lane struct {
	// Name is the lane of the audit log and of cashless_auth_logins_total.
	Name string
	// Provider is the dependency label of the provider's outages
	// (cashless_auth_dependency_errors_total).
	Provider string
	// IsInvalid tells a token the lane refused (401 with Invalid as detail) from other errors.
	IsInvalid func(error) bool
	Invalid   string
	// IsUnavailable tells an unreachable provider (503 with Unavailable as detail).
	IsUnavailable func(error) bool
	Unavailable   string
}

// Answer writes a sign-in's outcome, records it in the audit log and counts it: 200 with the
// token pair; 401 for a refused token; 503 when the provider, or a store, could not answer.
func (l Lane) Answer(w http.ResponseWriter, r *http.Request, a *audit.Log, m *metrics.Metrics, res Result, err error) error {
	ev := audit.Event{Name: "login", Lane: l.Name}
	switch {
	case err == nil:
		ev.Outcome, ev.Actor = audit.Success, "consumer:"+strconv.FormatInt(res.Consumer.ID, 10)
		if res.PhoneConflict {
			ev.Reason = "phone_claim_held_by_another_consumer"
		}
		a.Record(r.Context(), ev)
		m.Login(l.Name, audit.Success)
		httpx.WriteJSON(w, http.StatusOK, res.Pair)
		return nil
	case l.IsInvalid(err):
		ev.Outcome, ev.Reason = audit.Failure, "invalid_token"
		a.Record(r.Context(), ev)
		m.Login(l.Name, audit.Failure)
		return httpx.Unauthorized(l.Invalid)
	case l.IsUnavailable(err):
		m.Login(l.Name, "error")
		m.DependencyError(l.Provider)
		return httpx.Unavailable(l.Unavailable, err)
	default:
		m.Login(l.Name, "error")
		return httpx.Unavailable("Login temporarily unavailable", err)
	}
}
