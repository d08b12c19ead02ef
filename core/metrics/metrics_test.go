package metrics_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

// The alerts of deployments/helm/cashless-auth count the outcomes audit records: a new audit
// outcome must be pre-initialised too.
func TestLoginOutcomesCoverAudit(t *testing.T) {
	for _, o := range []string{audit.Success, audit.Failure, audit.Blocked} {
		if !slices.Contains(metrics.LoginOutcomes, o) {
			t.Errorf("audit outcome %q is not in metrics.LoginOutcomes", o)
		}
	}
}

// The /tokens/verify SLO (99 % under 10 ms) is read from a bucket: 10 ms must be an edge.
func TestVerifySLOIsABucketEdge(t *testing.T) {
	if !slices.Contains(metrics.LatencyBuckets, 0.01) {
		t.Fatalf("0.01 s is not a bucket of cashless_auth_http_request_duration_seconds: %v", metrics.LatencyBuckets)
	}
}

func TestPreinitialisedSeriesExistAtZero(t *testing.T) {
	m := metrics.New()
	m.LoginLane("password")
	m.Dependency("mail")
	m.Route("session.verify", "POST", true)
	m.Route("system.health", "GET", false)

	want := map[string]int{
		"cashless_auth_logins_total":                  len(metrics.LoginOutcomes),
		"cashless_auth_dependency_errors_total":       1,
		"cashless_auth_http_requests_total":           2 * len(metrics.ServerErrorStatuses),
		"cashless_auth_http_request_duration_seconds": 2,
		"cashless_auth_rate_limited_total":            1, // system.health has no limit
		"cashless_auth_refresh_reuse_total":           1,
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var verifyEdge bool
	for _, f := range families {
		for _, s := range f.GetMetric() {
			got[f.GetName()]++
			if c := s.GetCounter(); c != nil && c.GetValue() != 0 && strings.HasPrefix(f.GetName(), "cashless_auth_") {
				t.Errorf("%s %v = %v, want 0", f.GetName(), s.GetLabel(), c.GetValue())
			}
			for _, b := range s.GetHistogram().GetBucket() {
				verifyEdge = verifyEdge || b.GetUpperBound() == 0.01
			}
		}
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: %d series, want %d", name, got[name], n)
		}
	}
	if !verifyEdge {
		t.Error("no le=0.01 bucket in cashless_auth_http_request_duration_seconds")
	}
}
