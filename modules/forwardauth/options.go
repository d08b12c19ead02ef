package forwardauth

import (
	"net/url"
	"slices"
	"strings"

	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/schema"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Credential kinds a gateway may admit ("type"). A refresh token is never one: it only buys a
// new pair at POST /auth/refresh and must not open a service.
const (
	kindAccess          = tokens.TypeAccess
	kindOffline         = tokens.TypeOffline
	kindAPIKey          = "api_key"
	kindOperatorSession = "operator_session"
)

var (
	kinds = []string{kindAccess, kindOffline, kindAPIKey, kindOperatorSession}
	roles = []string{auth.RoleAdmin, auth.RoleOperator, auth.RoleNetworkManager, auth.RoleConsumer, auth.RoleDevice}
	mfas  = []string{mfaFresh}
)

const mfaFresh = "fresh"

// OptionsHeader carries the options on paths below /auth/forward (Envoy appends the client's
// path and query there, so that query is the client's and is never read).
const OptionsHeader = "X-Forward-Auth-Options"

// requirements is what a request must present: one of types, one of roles (any when empty),
// and a fresh MFA verification when mfa is set.
type requirements struct {
	types []string
	roles []string
	mfa   bool
}

// defaults admit the credentials a service takes from a person or a program: access tokens and
// API keys, of any role, MFA or not.
var defaults = requirements{types: []string{kindAccess, kindAPIKey}}

// parseOptions reads the grammar of docs/operations.md ("Gateways"): type, role and mfa, each
// given once or repeated, lists comma-separated. Any other key, an empty or unknown value, or
// a repeated mfa is a pydantic-shaped 422 entry at loc (where, key, index).
func parseOptions(raw, where string) (requirements, []schema.Issue) {
	if raw == "" {
		return defaults, nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return requirements{}, []schema.Issue{{Loc: []any{where}, Msg: "Input should be a valid query string", Type: "value_error", Input: raw}}
	}
	req := defaults
	var issues []schema.Issue
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		values := q[k]
		switch k {
		case "type":
			var is []schema.Issue
			req.types, is = enumList(where, k, values, kinds)
			issues = append(issues, is...)
		case "role":
			var is []schema.Issue
			req.roles, is = enumList(where, k, values, roles)
			issues = append(issues, is...)
		case "mfa":
			if len(values) > 1 {
				issues = append(issues, schema.Issue{Loc: []any{where, k}, Msg: "Input should be a single value", Type: "value_error", Input: values})
				continue
			}
			list, is := enumList(where, k, values, mfas)
			issues = append(issues, is...)
			req.mfa = len(list) == 1
		default:
			issues = append(issues, schema.Issue{Loc: []any{where, k}, Msg: "Extra inputs are not permitted", Type: "extra_forbidden", Input: first(values)})
		}
	}
	if len(issues) > 0 {
		return requirements{}, issues
	}
	return req, nil
}

// enumList splits values on commas and checks each item against allowed, as a FastAPI
// list-of-enum parameter would (loc names the item's index).
func enumList(where, key string, values, allowed []string) ([]string, []schema.Issue) {
	var out []string
	var issues []schema.Issue
	i := 0
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if !slices.Contains(allowed, item) {
				issues = append(issues, schema.Issue{
					Loc: []any{where, key, i}, Msg: "Input should be " + expected(allowed), Type: "enum", Input: item,
					Ctx: map[string]any{"expected": expected(allowed)},
				})
			} else if !slices.Contains(out, item) {
				out = append(out, item)
			}
			i++
		}
	}
	return out, issues
}

// expected words allowed as pydantic does: 'a', 'b' or 'c'.
func expected(allowed []string) string {
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = "'" + a + "'"
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

func first(values []string) any {
	if len(values) == 1 {
		return values[0]
	}
	return values
}
