package attacks_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/docs"
)

// Input the legacy service's stack would not have let through (NOTES.md, "Hardening
// decisions"): text PostgreSQL cannot store (NUL) in any string of a body, and bodies whose
// media type FastAPI does not read as JSON. Every operation of the contract that takes a JSON
// body is attacked, as the contract lists them, so that a new operation is covered unedited.

const nulMsg = "Value error, String should not contain NUL characters"

// inputService is every module, Firebase included (its body is attacked too; no Firebase call
// happens before the body is refused), with the server's error log kept for inspection.
func inputService() (testkit.Options, *observer.ObservedLogs) {
	o := service(map[string]any{
		"modules.firebase.enabled":        true,
		"modules.firebase.project_id":     "demo-input-attacks",
		"modules.firebase.allow_emulator": true,
	})
	errCore, errLogs := observer.New(zapcore.ErrorLevel)
	o.Log = zap.New(errCore)
	return o, errLogs
}

// noErrorLogged fails the test with what the server logged at error level, if anything.
func noErrorLogged(t *testing.T, errLogs *observer.ObservedLogs) {
	t.Helper()
	for _, e := range errLogs.TakeAll() {
		t.Errorf("server logged an error: %s %v", e.Message, e.ContextMap())
	}
}

// bodyOperation is one contract operation taking a JSON body: a plausible body for its schema
// and where each string of that body sits.
type bodyOperation struct {
	method, path string // path parameters filled in
	body         map[string]any
	strings      [][]any // locs of the body's strings below "body": ["email"], ["scopes", 0]
}

func (op bodyOperation) String() string { return op.method + " " + op.path }

// bodyOperations reads the contract's operations with a JSON request body, in a stable order.
func bodyOperations(t *testing.T) []bodyOperation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string         `json:"name"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
			RequestBody struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(docs.Contract, &doc); err != nil {
		t.Fatal(err)
	}
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
		}
		return s
	}
	var ops []bodyOperation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			media, ok := op.RequestBody.Content["application/json"]
			if !ok {
				continue
			}
			filled := path
			for _, p := range op.Parameters {
				v := "abc"
				if p.Schema["type"] == "integer" {
					v = "1"
				}
				filled = strings.ReplaceAll(filled, "{"+p.Name+"}", v)
			}
			bo := bodyOperation{method: strings.ToUpper(method), path: filled, body: map[string]any{}}
			schema := resolve(media.Schema)
			props, _ := schema["properties"].(map[string]any)
			names := make([]string, 0, len(props))
			for name := range props {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				ps := resolve(props[name].(map[string]any))
				bo.body[name] = sample(ps)
				for _, rest := range stringLocs(ps) {
					bo.strings = append(bo.strings, append([]any{name}, rest...))
				}
			}
			ops = append(ops, bo)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	if len(ops) < 16 {
		t.Fatalf("the contract lists %d operations with a JSON body, want at least 16", len(ops))
	}
	return ops
}

// nonNull is a schema's one non-null anyOf member, or the schema itself.
func nonNull(s map[string]any) map[string]any {
	if members, ok := s["anyOf"].([]any); ok {
		for _, m := range members {
			if mm := m.(map[string]any); mm["type"] != "null" {
				return mm
			}
		}
	}
	return s
}

// sample is a value of the schema's type (not always a valid one: patterns are ignored).
func sample(s map[string]any) any {
	s = nonNull(s)
	switch s["type"] {
	case "string":
		n, _ := s["minLength"].(float64)
		return strings.Repeat("x", max(1, int(n)))
	case "integer":
		return 1
	case "boolean":
		return true
	case "array":
		items, _ := s["items"].(map[string]any)
		return []any{sample(items)}
	}
	return map[string]any{}
}

// stringLocs lists where strings sit in sample(s), relative to s.
func stringLocs(s map[string]any) [][]any {
	s = nonNull(s)
	switch s["type"] {
	case "string":
		return [][]any{{}}
	case "array":
		items, _ := s["items"].(map[string]any)
		var locs [][]any
		for _, l := range stringLocs(items) {
			locs = append(locs, append([]any{0}, l...))
		}
		return locs
	}
	return nil
}

// withString returns a deep copy of body with the string at loc replaced by v.
func withString(body map[string]any, loc []any, v string) map[string]any {
	var cp map[string]any
	raw, _ := json.Marshal(body)
	_ = json.Unmarshal(raw, &cp)
	var cur any = cp
	for i, step := range loc {
		last := i == len(loc)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[step.(string)] = v
			}
			cur = c[step.(string)]
		case []any:
			if last {
				c[step.(int)] = v
			}
			cur = c[step.(int)]
		}
	}
	return cp
}

type issue struct {
	Loc   []any  `json:"loc"`
	Msg   string `json:"msg"`
	Type  string `json:"type"`
	Input any    `json:"input"`
}

// issues decodes a 422's detail list; any other answer fails the test (and is no issue), which
// goes on, so that every request a regression lets through is listed.
func issues(t *testing.T, what string, r *testkit.Response) []issue {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("%s: %d %.200s, want 422", what, r.Status, r.Body)
		return nil
	}
	var body struct {
		Detail []issue `json:"detail"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("%s: 422 body: %v: %s", what, err, r.Body)
	}
	return body.Detail
}

// wantOneNUL checks that r is a 422 whose one issue is the NUL refusal of input at loc.
func wantOneNUL(t *testing.T, what string, r *testkit.Response, loc, input string) {
	t.Helper()
	is := issues(t, what, r)
	if is == nil {
		return // reported already
	}
	if len(is) != 1 || locString(is[0].Loc) != loc || is[0].Type != "value_error" || is[0].Msg != nulMsg || is[0].Input != input {
		t.Errorf("%s: %s, want one NUL value_error at %s", what, r.Body, loc)
	}
}

func locString(loc []any) string {
	b, _ := json.Marshal(loc)
	return string(b)
}

// rowCounts counts the rows of the tables a request could write to.
func rowCounts(t *testing.T, env *testkit.Env) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, table := range []string{"users", "events", "consumers", "devices", "event_clients", "password_resets", "token_not_before"} {
		var n int
		if err := env.DB.X.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// TestNULInEveryStringField sends, for every string of every JSON body the contract takes, a
// body whose only flaw is a NUL in that string. Each must be a 422 at that string's loc, on both
// backends: before this check the e-mail of a login was a 503 with a database error logged on
// PostgreSQL, and an API key's name was stored with its NUL on SQLite.
func TestNULInEveryStringField(t *testing.T) {
	ops := bodyOperations(t)
	opts, errLogs := inputService()
	testkit.ForEachBackend(t, opts, func(t *testing.T, env *testkit.Env) {
		env.User(t, "input-admin@cashless.test", "input-admin-password", "admin", nil, 0)
		event := env.Event(t, "input event")
		access, _ := env.Login(t, "input-admin@cashless.test", "input-admin-password", "admin")
		before := rowCounts(t, env)
		const nul = "a\x00b"
		attacked := 0
		for _, op := range ops {
			for _, loc := range op.strings {
				want := append([]any{"body"}, loc...)
				what := fmt.Sprintf("%s, NUL at %s", op, locString(want))
				r := env.Client.Do(op.method, op.path, withString(op.body, loc, nul), append(fromNewIP(), testkit.Bearer(access)...)...)
				got := issues(t, what, r)
				atLoc := false
				for _, is := range got {
					switch {
					case locString(is.Loc) == locString(want):
						atLoc = true
						if is.Type != "value_error" || is.Msg != nulMsg || is.Input != nul {
							t.Errorf("%s: issue %+v, want the NUL value_error", what, is)
						}
					case is.Msg == nulMsg:
						t.Errorf("%s: NUL reported at %s", what, locString(is.Loc))
					}
				}
				if got != nil && !atLoc {
					t.Errorf("%s: no issue at its loc: %s", what, r.Body)
				}
				attacked++
			}
		}
		if attacked < 20 {
			t.Errorf("attacked %d strings, want every string of the contract's bodies (at least 20)", attacked)
		}

		// The two answers the issue found, with the values a client would really send.
		r := env.Client.Do("POST", "/auth/login", map[string]any{"email": "input-admin@cashless.test\x00", "password": "input-admin-password"}, fromNewIP()...)
		wantOneNUL(t, "login with a NUL after the e-mail", r, `["body","email"]`, "input-admin@cashless.test\x00")
		r = env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": event, "name": "pos\x00", "scopes": []string{"verify"}},
			append(fromNewIP(), testkit.Bearer(access)...)...)
		wantOneNUL(t, "API key named with a NUL", r, `["body","name"]`, "pos\x00")

		if after := rowCounts(t, env); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("refused bodies stored something: rows before %v, after %v", before, after)
		}
		noErrorLogged(t, errLogs)
		// The same requests without the NUL do reach the handlers (the API key is made).
		r = env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": event, "name": "pos", "scopes": []string{"verify"}},
			append(fromNewIP(), testkit.Bearer(access)...)...)
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Errorf("API key without NUL: %d %s", r.Status, r.Body)
		}
	})
}

// TestNULInPathParameter: a path parameter is text the handler receives too.
func TestNULInPathParameter(t *testing.T) {
	opts, errLogs := inputService()
	testkit.ForEachBackend(t, opts, func(t *testing.T, env *testkit.Env) {
		r := env.Client.Do("POST", "/admin/password-reset/ab%00cd", map[string]any{"new_password": "a-new-password"}, fromNewIP()...)
		wantOneNUL(t, "reset token with a NUL", r, `["path","token"]`, "ab\x00cd")
		noErrorLogged(t, errLogs)
	})
}

// mediaType is a Content-Type header to send, or none at all.
type mediaType struct {
	value  string
	absent bool
}

func (m mediaType) String() string {
	if m.absent {
		return "no Content-Type"
	}
	return fmt.Sprintf("Content-Type %q", m.value)
}

// sendAs sends body with the media type m (testkit's client always says application/json), from
// a new client IP, and checks the answer against the contract.
func sendAs(t *testing.T, env *testkit.Env, method, path string, m mediaType, body string, headers ...string) *testkit.Response {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !m.absent {
		req.Header.Set("Content-Type", m.value)
	}
	headers = append(headers, fromNewIP()...)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", path, m, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	// An empty body's answer (FastAPI's missing body, "input": null) is not checked: kin-openapi
	// reads the OpenAPI 3.1 contract with 3.0 rules, under which the untyped "input" refuses null.
	if body == "" {
		return out
	}
	if err := testkit.CheckContract(req, []byte(body), out); err != nil {
		t.Errorf("%s %s → %d breaks the contract: %v\nbody: %s", path, m, out.Status, err, data)
	}
	return out
}

// wantRefusedAsText checks FastAPI's answer to a body it hands pydantic as bytes.
func wantRefusedAsText(t *testing.T, what string, r *testkit.Response, body string) {
	t.Helper()
	is := issues(t, what, r)
	if is == nil {
		return // reported already
	}
	if len(is) != 1 || locString(is[0].Loc) != `["body"]` || is[0].Type != "model_attributes_type" ||
		is[0].Msg != "Input should be a valid dictionary or object to extract fields from" || is[0].Input != body {
		t.Errorf("%s: %s, want one model_attributes_type at [\"body\"] echoing the body", what, r.Body)
	}
}

// TestBodyMediaTypes: only bodies FastAPI reads as JSON reach a handler. A web page can make a
// browser post text/plain, form and multipart bodies to any origin without a CORS preflight;
// parsed as JSON, they were logins and reset requests sent from every visitor's address.
func TestBodyMediaTypes(t *testing.T) {
	const email, password = "media-admin@cashless.test", "media-admin-password"
	login, _ := json.Marshal(map[string]string{"email": email, "password": password})
	readAsJSON := []mediaType{
		{absent: true}, {value: "application/json"}, {value: "application/json; charset=utf-8"},
		{value: "APPLICATION/JSON;charset=UTF-8"}, {value: "application/merge-patch+json"},
		{value: "application/vnd.api+json; charset=utf-8"},
	}
	readAsText := []mediaType{
		{value: "text/plain"}, {value: "text/plain;charset=UTF-8"}, {value: "application/x-www-form-urlencoded"},
		{value: "multipart/form-data; boundary=x"}, {value: "application/jsonx"}, {value: "application/json-seq"},
		{value: "application/geo+json-seq"}, {value: "text/json"}, {value: "json"}, {value: "application/ json"},
		{value: "application/octet-stream"},
	}
	ops := bodyOperations(t)
	opts, errLogs := inputService()
	testkit.ForEachBackend(t, opts, func(t *testing.T, env *testkit.Env) {
		env.User(t, email, password, "admin", nil, 0)
		access, _ := env.Login(t, email, password, "admin")

		for _, m := range readAsJSON {
			if r := sendAs(t, env, "POST", "/auth/login", m, string(login)); r.Status != http.StatusOK {
				t.Errorf("login with %s: %d %s, want 200", m, r.Status, r.Body)
			}
		}
		for _, m := range readAsText {
			wantRefusedAsText(t, "login with "+m.String(), sendAs(t, env, "POST", "/auth/login", m, string(login)), string(login))
		}
		// The bodies a browser builds for a form, as a form would send the same fields.
		form := "email=media-admin%40cashless.test&password=media-admin-password"
		wantRefusedAsText(t, "url-encoded form", sendAs(t, env, "POST", "/auth/login", mediaType{value: "application/x-www-form-urlencoded"}, form), form)
		multipart := "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n" + email + "\r\n" +
			"--x\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + password + "\r\n--x--\r\n"
		wantRefusedAsText(t, "multipart form", sendAs(t, env, "POST", "/auth/login", mediaType{value: "multipart/form-data; boundary=x"}, multipart), multipart)
		if is := issues(t, "empty text/plain body", sendAs(t, env, "POST", "/auth/login", mediaType{value: "text/plain"}, "")); len(is) != 1 ||
			locString(is[0].Loc) != `["body"]` || is[0].Type != "missing" {
			t.Errorf("empty text/plain body: %+v, want FastAPI's missing body", is)
		}

		// Refused bodies reach no handler: guesses sent as text/plain count towards no lock,
		// reset requests sent so spend no quota.
		wrong, _ := json.Marshal(map[string]string{"email": email, "password": "not-the-password"})
		for range 12 { // password.lock_after is 10
			wantRefusedAsText(t, "wrong password as text/plain", sendAs(t, env, "POST", "/auth/login", mediaType{value: "text/plain"}, string(wrong)), string(wrong))
		}
		if r := sendAs(t, env, "POST", "/auth/login", mediaType{value: "application/json"}, string(login)); r.Status != http.StatusOK {
			t.Errorf("login after 12 text/plain guesses: %d %s, want 200", r.Status, r.Body)
		}
		reset, _ := json.Marshal(map[string]string{"email": email})
		for range resetQuota + 2 {
			wantRefusedAsText(t, "reset as text/plain", sendAs(t, env, "POST", "/admin/password-reset/email-send", mediaType{value: "text/plain"}, string(reset)), string(reset))
		}
		if r := sendAs(t, env, "POST", "/admin/password-reset/email-send", mediaType{absent: true}, string(reset)); r.Status != http.StatusOK {
			t.Errorf("reset request after text/plain ones: %d %s, want 200 (quota untouched)", r.Status, r.Body)
		}

		// Every operation of the contract with a body refuses it as text, guards passed.
		for _, op := range ops {
			body, _ := json.Marshal(op.body)
			r := sendAs(t, env, op.method, op.path, mediaType{value: "text/plain;charset=UTF-8"}, string(body), testkit.Bearer(access)...)
			wantRefusedAsText(t, op.String()+" as text/plain", r, string(body))
		}
		noErrorLogged(t, errLogs)
	})
}
