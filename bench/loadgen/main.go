// Command loadgen is the constant-rate (open-loop) load generator of `make bench`: it sends
// POST requests at a fixed rate over a bounded pool of keep-alive connections and reports
// latency percentiles.
//
// Why not vegeta: on the one CPU the bench gives the load generator, vegeta's own cost and
// pacing put its floor (the bare baseline handler at the same rate) at tens of milliseconds of
// p99 around 10 000 req/s, far above the 2 ms under test. loadgen writes pre-built requests on
// raw connections and parses only the status line and Content-Length, so the floor is the
// machine's, not the tool's.
//
// Each request has an intended send time (start + i/rate). Two latencies are kept:
//   - service: from the moment the request is written to the end of its response (vegeta's
//     definition);
//   - corrected: from the intended send time, so time spent waiting for a free connection or
//     behind a slow response counts too (no coordinated omission, like wrk2).
//
// The request i carries X-Forwarded-For 10.a.b.c with a.b.c = i mod -ips (header only: the
// packets go to -addr) and, with -bodies, body i mod their number: the same rotation as
// bench/wrk/xff.lua.
//
//	loadgen -addr 127.0.0.1:18080 -path /tokens/verify -body '{"token":"…"}' -rate 5000 -duration 20s
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type job struct {
	i        int
	intended time.Time
}

type worker struct {
	service, corrected []time.Duration
	sentAt             []time.Duration // with -trace: when each answered request was written, from the start
	codes              map[int]int
	errors             int
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server address")
	path := flag.String("path", "/tokens/verify", "request path")
	body := flag.String("body", "{}", "JSON request body")
	bodiesFile := flag.String("bodies", "", "file of JSON bodies, one a line: request i carries body i mod their number")
	ips := flag.Int("ips", 20000, "rotate X-Forwarded-For over this many addresses (0: no header)")
	rate := flag.Float64("rate", 1000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	conns := flag.Int("conns", 64, "keep-alive connections (the most requests in flight)")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request read/write deadline")
	trace := flag.String("trace", "", "write one line per answered request to this file: ms since the start it was sent, service latency in µs (where in time the tail happens)")
	flag.Parse()
	if *rate <= 0 || *duration <= 0 || *conns <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -rate, -duration and -conns must be positive")
		os.Exit(2)
	}
	debug.SetGCPercent(400) // few allocations anyway; keep GC out of the measurement

	bodies := []string{*body}
	if *bodiesFile != "" {
		b, err := os.ReadFile(*bodiesFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
		bodies = slices.DeleteFunc(strings.Split(string(b), "\n"), func(s string) bool { return strings.TrimSpace(s) == "" })
	}
	reqs := build(*addr, *path, bodies, *ips)
	total := int(*rate * duration.Seconds())
	interval := time.Duration(float64(time.Second) / *rate)
	jobs := make(chan job, total)
	workers := make([]*worker, *conns)
	var wg sync.WaitGroup
	var inflight atomic.Int64
	start := time.Now().Add(50 * time.Millisecond) // let the workers dial
	for w := range workers {
		workers[w] = &worker{codes: map[int]int{}, service: make([]time.Duration, 0, total / *conns * 2), corrected: make([]time.Duration, 0, total / *conns * 2)}
		wg.Add(1)
		go func(wk *worker) {
			defer wg.Done()
			run(wk, *addr, reqs, jobs, *timeout, &inflight, start, *trace != "")
		}(workers[w])
	}

	for i := 0; i < total; i++ {
		t := start.Add(time.Duration(i) * interval)
		if d := time.Until(t); d > 0 {
			time.Sleep(d)
		}
		jobs <- job{i: i, intended: t}
	}
	sendEnd := time.Now()
	close(jobs)
	wg.Wait()
	end := time.Now()
	report(workers, total, start, sendEnd, end, *rate)
	if *trace != "" {
		if err := writeTrace(*trace, workers); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	}
}

func writeTrace(path string, ws []*worker) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, wk := range ws {
		for i, at := range wk.sentAt {
			fmt.Fprintf(w, "%.3f %d\n", float64(at)/1e6, wk.service[i].Microseconds())
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// build pre-formats the requests: request i has client address i mod ips and body i mod
// len(bodies), the same pairing as bench/wrk/xff.lua.
func build(addr, path string, bodies []string, ips int) [][]byte {
	out := make([][]byte, max(ips, len(bodies), 1))
	for i := range out {
		body := bodies[i%len(bodies)]
		var b bytes.Buffer
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n", path, addr)
		if ips > 0 {
			ip := i % ips
			fmt.Fprintf(&b, "X-Forwarded-For: 10.%d.%d.%d\r\n", ip>>16&255, ip>>8&255, ip&255)
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		out[i] = b.Bytes()
	}
	return out
}

func run(wk *worker, addr string, reqs [][]byte, jobs <-chan job, timeout time.Duration, inflight *atomic.Int64, start time.Time, trace bool) {
	var conn net.Conn
	var br *bufio.Reader
	closeConn := func() {
		if conn != nil {
			conn.Close()
			conn = nil
		}
	}
	defer closeConn()
	dial := func() error {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return err
		}
		conn, br = c, bufio.NewReaderSize(c, 16<<10)
		return nil
	}
	_ = dial()
	for j := range jobs {
		inflight.Add(1)
		if conn == nil {
			if err := dial(); err != nil {
				wk.errors++
				inflight.Add(-1)
				continue
			}
		}
		sent := time.Now()
		_ = conn.SetDeadline(sent.Add(timeout))
		code, err := roundTrip(conn, br, reqs[j.i%len(reqs)])
		done := time.Now()
		inflight.Add(-1)
		if err != nil {
			wk.errors++
			closeConn()
			continue
		}
		wk.codes[code]++
		wk.service = append(wk.service, done.Sub(sent))
		wk.corrected = append(wk.corrected, done.Sub(j.intended))
		if trace {
			wk.sentAt = append(wk.sentAt, sent.Sub(start))
		}
	}
}

var errBadResponse = errors.New("bad response")

// roundTrip writes req and reads one response: status line, headers (Content-Length), body.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (int, error) {
	if _, err := conn.Write(req); err != nil {
		return 0, err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, errBadResponse
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, errBadResponse
	}
	length := -1
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 { // "\r\n"
			break
		}
		if len(h) > 15 && strings.EqualFold(string(h[:15]), "content-length:") {
			length, err = strconv.Atoi(strings.TrimSpace(string(h[15:])))
			if err != nil {
				return 0, errBadResponse
			}
		}
	}
	if length < 0 {
		return 0, errBadResponse // the service always sends Content-Length for these answers
	}
	if _, err := br.Discard(length); err != nil {
		return 0, err
	}
	return code, nil
}

func report(ws []*worker, total int, start, sendEnd, end time.Time, rate float64) {
	var service, corrected []time.Duration
	codes := map[int]int{}
	errs := 0
	for _, w := range ws {
		service = append(service, w.service...)
		corrected = append(corrected, w.corrected...)
		for c, n := range w.codes {
			codes[c] += n
		}
		errs += w.errors
	}
	slices.Sort(service)
	slices.Sort(corrected)
	ok := len(service)
	var keys []int
	for c := range codes {
		keys = append(keys, c)
	}
	sort.Ints(keys)
	var cs []string
	non2xx := 0
	for _, c := range keys {
		cs = append(cs, fmt.Sprintf("%d:%d", c, codes[c]))
		if c < 200 || c > 299 {
			non2xx += codes[c]
		}
	}
	sendSecs := sendEnd.Sub(start).Seconds()
	fmt.Printf("loadgen: %d requests at %.0f/s intended, sent over %.2fs (%.0f/s), done %.2fs after the start\n",
		total, rate, sendSecs, float64(total)/sendSecs, end.Sub(start).Seconds())
	fmt.Printf("loadgen: answers %d, errors %d, codes %s\n", ok, errs, strings.Join(cs, " "))
	fmt.Printf("loadgen: service   p50 %s p90 %s p99 %s p99.9 %s max %s\n", q(service, .5), q(service, .9), q(service, .99), q(service, .999), q(service, 1))
	fmt.Printf("loadgen: corrected p50 %s p90 %s p99 %s p99.9 %s max %s\n", q(corrected, .5), q(corrected, .9), q(corrected, .99), q(corrected, .999), q(corrected, 1))
	fmt.Printf("BENCH requests=%d answers=%d errors=%d non2xx=%d achieved=%.0f p50_ms=%s p99_ms=%s p999_ms=%s max_ms=%s cp50_ms=%s cp99_ms=%s cp999_ms=%s codes=%s\n",
		total, ok, errs, non2xx, float64(ok)/end.Sub(start).Seconds(),
		ms(service, .5), ms(service, .99), ms(service, .999), ms(service, 1),
		ms(corrected, .5), ms(corrected, .99), ms(corrected, .999), strings.Join(cs, ","))
}

// at is the nearest-rank quantile.
func at(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	k := int(p*float64(len(d))+0.999999) - 1
	return d[min(max(k, 0), len(d)-1)]
}

func q(d []time.Duration, p float64) string { return at(d, p).Round(time.Microsecond).String() }

func ms(d []time.Duration, p float64) string {
	return strconv.FormatFloat(float64(at(d, p))/1e6, 'f', 3, 64)
}
