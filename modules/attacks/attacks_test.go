package attacks_test

import (
	"fmt"
	"sync/atomic"

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
