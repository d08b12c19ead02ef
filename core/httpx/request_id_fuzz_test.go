package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
)

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// FuzzRequestIDs: X-Request-ID is the client's text, echoed in the answer and written to every
// log line of the request. The id kept is always short and printable, so it can inject no log
// line or header; an incoming id of that form is kept as it is.
func FuzzRequestIDs(f *testing.F) {
	for _, s := range []string{"", "abc-123", "a\nb", "x\r\nSet-Cookie: a=b", "id with spaces", "é", "a.b_c-D", string(make([]byte, 65))} {
		f.Add(s)
	}
	h := httpx.RequestIDs()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	f.Fuzz(func(t *testing.T, in string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["X-Request-Id"] = []string{in}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		seen := w.Header().Get("X-Request-Id")
		if !safeRequestID.MatchString(seen) {
			t.Fatalf("X-Request-ID %q kept as %q", in, seen)
		}
		if safeRequestID.MatchString(in) && seen != in {
			t.Fatalf("X-Request-ID %q replaced by %q", in, seen)
		}
	})
}
