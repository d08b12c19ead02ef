package phoneotp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cashlessmedia/cashless-auth/modules/phoneotp"
)

func TestLogProvider(t *testing.T) {
	msg := phoneotp.Message{To: "+12025550199", Body: "424242 is your verification code.", Code: "424242"}
	for _, reveal := range []bool{false, true} {
		core, logs := observer.New(zapcore.DebugLevel)
		var cfg phoneotp.SMSConfig
		cfg.Provider, cfg.Timeout, cfg.Log.RevealCode = "log", time.Second, reveal
		s, err := phoneotp.NewSender(cfg, zap.New(core))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		var revealed bool
		for _, e := range logs.All() {
			line := e.Message + " " + fmt.Sprint(e.ContextMap())
			if strings.Contains(line, "+12025550199") {
				t.Errorf("reveal=%v: the whole number is logged: %s", reveal, line)
			}
			if strings.Contains(line, "424242") {
				revealed = true
				if e.Level < zapcore.WarnLevel {
					t.Errorf("code logged below warn: %s", line)
				}
			}
		}
		if revealed != reveal {
			t.Errorf("reveal_code=%v but the code was logged: %v (%d entries)", reveal, revealed, logs.Len())
		}
	}
}

func TestMaskPhone(t *testing.T) {
	if got := phoneotp.MaskPhone("+12025550199"); got != "+120******99" {
		t.Fatalf("MaskPhone: %q", got)
	}
	if got := phoneotp.MaskPhone("+123"); strings.Contains(got, "123") {
		t.Fatalf("short number not masked: %q", got)
	}
}
