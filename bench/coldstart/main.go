// Command coldstart measures the cold start of the embedded default (SQLite + in-process state):
// from exec of `cashless-auth serve` with a fresh data dir and no database or Redis configured,
// to the first 200 from GET /health. It runs -n starts and prints each and the median.
//
//	go run ./bench/coldstart -bin bin/cashless-auth -n 5 [-pin 0]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/cashless-auth", "the service binary")
	n := flag.Int("n", 5, "number of cold starts")
	pin := flag.String("pin", "", "CPU list for taskset -c (empty: no pinning)")
	timeout := flag.Duration("timeout", 30*time.Second, "give up on one start after this long")
	flag.Parse()
	if err := run(*bin, *n, *pin, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(bin string, n int, pin string, timeout time.Duration) error {
	var ds []time.Duration
	for i := range n {
		d, err := once(bin, pin, timeout)
		if err != nil {
			return fmt.Errorf("start %d: %w", i+1, err)
		}
		fmt.Printf("coldstart run=%d ms=%.1f\n", i+1, float64(d.Microseconds())/1000)
		ds = append(ds, d)
	}
	slices.Sort(ds)
	med := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		med = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	fmt.Printf("BENCH coldstart_median_ms=%.1f min_ms=%.1f max_ms=%.1f runs=%d\n",
		ms(med), ms(ds[0]), ms(ds[len(ds)-1]), len(ds))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func once(bin, pin string, timeout time.Duration) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "cashless-coldstart-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	addr, err := freePort()
	if err != nil {
		return 0, err
	}
	args := []string{bin, "serve"}
	if pin != "" {
		args = append([]string{"taskset", "-c", pin}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...) //nolint:gosec // runs the binary this benchmark just built
	cmd.Dir = dir                             // no config.yaml there: defaults only, the embedded default
	cmd.Env = append(cleanEnv(),
		"CASHLESS_AUTH_SERVER_ADDR="+addr,
		"CASHLESS_AUTH_DATA_DIR="+dir+"/data",
		"CASHLESS_AUTH_LOG_LEVEL=warn",
	)
	logf, err := os.Create(dir + "/server.log")
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + addr + "/health"

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			_ = err // exit status after SIGTERM is not what this measures
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited //nolint:errcheck // killed: its exit status says nothing
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(dir + "/server.log")
			return 0, fmt.Errorf("server exited before /health answered 200 (%w):\n%s", err, log)
		case <-ctx.Done():
			return 0, errors.New("no 200 from /health within " + timeout.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// cleanEnv drops every CASHLESS_AUTH_* variable of the caller, so the start is the default one.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CASHLESS_AUTH_") {
			out = append(out, kv)
		}
	}
	return out
}
