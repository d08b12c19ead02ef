package attacks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// service is the options of a server with every module of the catalogue, cfg over the defaults;
// 127.0.0.1 is a trusted proxy, so an attack can come from as many client IPs as it likes.
func service(cfg map[string]any) testkit.Options {
	c := map[string]any{"ratelimit.trusted_proxies": []string{"127.0.0.1/32"}}
	for k, v := range cfg {
		c[k] = v
	}
	return testkit.Options{Plugins: modules.All(), Config: c}
}

var ipCounter atomic.Uint32

// fromNewIP is a header pair that makes a request come from a client IP no other request of the
// run used (X-Forwarded-For from a trusted proxy).
func fromNewIP() []string {
	n := ipCounter.Add(1)
	return []string{"X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)}
}

// postFromNewIP posts body as JSON to path from a client IP no other request used, with a
// bearer when given, and checks the answer against the contract. It is safe from any goroutine:
// it reports with t.Errorf and returns transport errors, never stops the test.
func postFromNewIP(ctx context.Context, t *testing.T, env *testkit.Env, path string, body any, bearer string) (*testkit.Response, error) {
	sent, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+path, bytes.NewReader(sent))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	ip := fromNewIP()
	req.Header.Set(ip[0], ip[1])
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if err := testkit.CheckContract(req, sent, r); err != nil {
		t.Errorf("POST %s → %d breaks the contract: %v\nbody: %s", path, resp.StatusCode, err, data)
	}
	return r, nil
}
