package phoneotp

import (
	"errors"
	"regexp"
	"testing"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// fuzzRegions are the phone_otp.default_region values tried: none (the default: "+" required),
// and a few with national formats of their own.
var fuzzRegions = []string{"", "FR", "US", "GB", "IT", "DE"}

// FuzzNormalize: the number is the client's text. Normalize never panics; it answers E.164 or
// ErrInvalidPhone; normalising the answer again, with the same region or none (E.164 needs no
// region), gives it back, so one number is one rate-limit key and one consumer.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+12025550143", "+33 6 12 34 56 78", "06 12 34 56 78", "+44 20 7946 0958 ext. 123", "(202) 555-0143",
		"+39 06 1234 5678", "+1-800-FLOWERS", "tel:+1-202-555-0143;phone-context=example.com", "+", "", "0033612345678", "+٣٣٦١٢٣٤٥٦٧٨"} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	services := make([]*Service, len(fuzzRegions))
	for i, r := range fuzzRegions {
		services[i] = &Service{cfg: Config{DefaultRegion: r}}
	}
	none := services[0]
	f.Fuzz(func(t *testing.T, region uint8, raw string) {
		s := services[int(region)%len(services)]
		out, err := s.Normalize(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) || out != "" {
				t.Fatalf("Normalize(%q) = %q, %v", raw, out, err)
			}
			return
		}
		if !e164.MatchString(out) {
			t.Fatalf("Normalize(%q) with region %q = %q: not E.164", raw, s.cfg.DefaultRegion, out)
		}
		for _, again := range []*Service{s, none} {
			if twice, err := again.Normalize(out); err != nil || twice != out {
				t.Fatalf("Normalize(%q) = %q, then with region %q: %q, %v", raw, out, again.cfg.DefaultRegion, twice, err)
			}
		}
	})
}
