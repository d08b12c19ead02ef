package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/cashlessmedia/cashless-auth/docs"
)

// Client talks to a test server and checks every answer against the contract.
type Client struct {
	t    testing.TB
	base string
	http *http.Client
	// Header is sent with every request (e.g. X-Forwarded-For in proxy tests).
	Header http.Header
}

// NewClient builds a Client for base.
func NewClient(t testing.TB, base string) *Client {
	return &Client{t: t, base: base, http: &http.Client{}, Header: http.Header{}}
}

// Response is a received answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object; the test fails if it is not one.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Detail returns the {"detail": "..."} text of an error answer.
func (r *Response) Detail(t testing.TB) string {
	t.Helper()
	s, _ := r.JSON(t)["detail"].(string)
	return s
}

// Raw is a request body sent as is, for malformed-input tests.
type Raw string

// Do sends a request. body is nil, Raw, or a value sent as JSON. headers are key, value pairs.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.t.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case Raw:
		sent = []byte(b)
	default:
		var err error
		if sent, err = json.Marshal(b); err != nil {
			c.t.Fatalf("marshal request: %v", err)
		}
	}
	if sent != nil {
		rd = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	if sent != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if err := CheckContract(req, sent, out); err != nil {
		c.t.Errorf("%s %s → %d breaks the contract: %v\nbody: %s", method, path, out.Status, err, data)
	}
	return out
}

// Bearer is a header pair for Do.
func Bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

var (
	contractOnce   sync.Once
	contractRouter routers.Router
	contractErr    error
)

func contract() (routers.Router, error) {
	contractOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(docs.Contract)
		if err != nil {
			contractErr = fmt.Errorf("load contract: %w", err)
			return
		}
		contractRouter, contractErr = gorillamux.NewRouter(doc)
	})
	return contractRouter, contractErr
}

// CheckContract validates one answer: against the operation's response schema when the
// contract declares the status, and otherwise against the rules of NOTES.md (every non-2xx is
// {"detail": ...} JSON, 401 carries WWW-Authenticate, 429 carries Retry-After).
func CheckContract(req *http.Request, sent []byte, resp *Response) error {
	if resp.Status >= 400 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			return fmt.Errorf("error answer with Content-Type %q", ct)
		}
		if req.Method == http.MethodHead {
			// A HEAD answer has the headers of the GET one and, by HTTP, no body to check.
			return nil
		}
		var body struct {
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil || len(body.Detail) == 0 {
			return fmt.Errorf("error answer without a detail field")
		}
		if resp.Status != http.StatusUnprocessableEntity {
			var s string
			if err := json.Unmarshal(body.Detail, &s); err != nil || s == "" {
				return fmt.Errorf("detail is not a non-empty string")
			}
		}
		if resp.Status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != "Bearer" {
			return fmt.Errorf("401 without WWW-Authenticate: Bearer")
		}
		if resp.Status == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			return fmt.Errorf("429 without Retry-After")
		}
	}
	r, err := contract()
	if err != nil {
		return err
	}
	u, _ := url.Parse(req.URL.String())
	probe := req.Clone(context.Background())
	probe.URL = u
	route, params, err := r.FindRoute(probe)
	if err != nil {
		return nil // not a contract operation (/openapi.json, /ready, unknown paths): rules above only
	}
	op := route.Operation
	if op.Responses.Status(resp.Status) == nil {
		return nil // undeclared status (401/403/404/429…): rules above only
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 resp.Status,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(resp.Body)
	_ = sent
	return openapi3filter.ValidateResponse(context.Background(), in)
}
