package schema

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestTmpCorpusTiming(t *testing.T) {
	dir := os.Getenv("CORPUS")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	b := mustBody(t, "ValidationError")
	worst, worstName := time.Duration(0), ""
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		// "go test fuzz v1\n[]byte(...)\n"
		lines := string(raw)
		i := len("go test fuzz v1\n[]byte(")
		s, err := strconv.Unquote(lines[i : len(lines)-2])
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		start := time.Now()
		for _, n := range []string{"LoginRequest", "TokenVerifyRequest", "APIKeyRequest", "ValidationError", "TokenVerifyResponse"} {
			_ = n
			b.Decode([]byte(s), new(map[string]any))
		}
		if d := time.Since(start); d > worst {
			worst, worstName = d, f
		}
	}
	t.Logf("%d files, worst %v %s", len(files), worst, worstName)
}
