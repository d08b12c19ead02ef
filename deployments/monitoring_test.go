package deployments

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// The monitoring objects of the chart: what their queries name must be on /metrics.
var monitoringSources = []string{
	filepath.Join(chartDir, "templates", "prometheusrule.yaml"),
	filepath.Join(chartDir, "dashboards", "cashless-auth.json"),
}

// selector is one use of a metric in a query: its name and the label matchers that do not
// depend on where it runs (a Grafana variable or the release's namespace).
type selector struct {
	source, name string
	matchers     []matcher
}

type matcher struct {
	label, op, value string
}

func (s selector) String() string {
	parts := make([]string, len(s.matchers))
	for i, m := range s.matchers {
		parts[i] = m.label + m.op + `"` + m.value + `"`
	}
	return s.name + "{" + strings.Join(parts, ", ") + "}"
}

var (
	// A Helm action ({{ ... }}): the release's namespace matcher, or an escaped Prometheus
	// template of an annotation.
	helmAction = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	metricUse  = regexp.MustCompile(`\b(cashless_auth_[a-z0-9_]+)(\{[^}]*\})?`)
	matcherRE  = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$`)
	sampleRE   = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
	labelRE    = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// monitoredSelectors reads every cashless_auth_* selector the alert rules and the dashboard use.
func monitoredSelectors(t *testing.T) []selector {
	t.Helper()
	var out []selector
	for _, path := range monitoringSources {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := helmAction.ReplaceAllString(string(b), "")
		for _, m := range metricUse.FindAllStringSubmatch(text, -1) {
			s := selector{source: path, name: m[1]}
			for _, part := range strings.Split(strings.Trim(m[2], "{}"), ",") {
				if strings.TrimSpace(part) == "" {
					continue
				}
				mm := matcherRE.FindStringSubmatch(strings.ReplaceAll(part, `\"`, `"`))
				if mm == nil {
					t.Fatalf("%s: cannot read the matcher %q of %s", path, part, m[0])
				}
				if strings.Contains(mm[3], "$") || mm[1] == "namespace" {
					continue // a dashboard variable, or where the release runs
				}
				s.matchers = append(s.matchers, matcher{mm[1], mm[2], mm[3]})
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no cashless_auth_* metric in %v", monitoringSources)
	}
	return out
}

type sample struct {
	name   string
	labels map[string]string
}

func parseExposition(t *testing.T, text string) []sample {
	t.Helper()
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("cannot read /metrics line %q", line)
		}
		s := sample{name: m[1], labels: map[string]string{}}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			s.labels[l[1]] = l[2]
		}
		out = append(out, s)
	}
	return out
}

func (s selector) matches(x sample) bool {
	if x.name != s.name {
		return false
	}
	for _, m := range s.matchers {
		v := x.labels[m.label]
		var ok bool
		switch m.op {
		case "=":
			ok = v == m.value
		case "!=":
			ok = v != m.value
		case "=~", "!~":
			ok = regexp.MustCompile("^(?:"+m.value+")$").MatchString(v) == (m.op == "=~")
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestMonitoredMetricsExistAtFirstScrape starts the service as the chart runs it (PostgreSQL and
// Redis, the default modules) and reads /metrics once, before any other request: every series
// the alerts and the dashboard select (templates/prometheusrule.yaml, dashboards/*.json) must be
// there already, at 0. A series that only appears with its first increment hides that first
// event from rate() and increase(), and an alert cannot tell "none yet" from a missing target.
func TestMonitoredMetricsExistAtFirstScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the service runs on PostgreSQL + Redis; `make test` runs it")
	}
	selectors := monitoredSelectors(t)
	env := testkit.Start(t, postgres(t), testkit.Options{Plugins: modules.All()})

	res, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", res.StatusCode, err)
	}
	samples := parseExposition(t, string(body))

	missing := map[string]bool{}
	for _, s := range selectors {
		found := false
		for _, x := range samples {
			if s.matches(x) {
				found = true
				break
			}
		}
		if !found {
			missing[s.String()+" ("+s.source+")"] = true
		}
	}
	if len(missing) > 0 {
		list := make([]string, 0, len(missing))
		for m := range missing {
			list = append(list, m)
		}
		sort.Strings(list)
		t.Errorf("not on the first scrape of /metrics, though the alerts or the dashboard select them "+
			"(pre-initialise their labels in core/metrics):\n  %s", strings.Join(list, "\n  "))
	}

	// The alerts cover these; a rule or panel rewritten without one must say so here.
	names := map[string]bool{}
	for _, s := range selectors {
		names[s.name] = true
	}
	for _, want := range []string{
		"cashless_auth_dependency_errors_total", "cashless_auth_http_requests_total",
		"cashless_auth_logins_total", "cashless_auth_lockouts_total", "cashless_auth_refresh_reuse_total",
		"cashless_auth_http_request_duration_seconds_bucket", "cashless_auth_rate_limited_total",
	} {
		if !names[want] {
			t.Errorf("neither the alerts nor the dashboard use %s", want)
		}
	}
	t.Logf("%d selectors of %d metrics found on the first scrape", len(selectors), len(names))
}
