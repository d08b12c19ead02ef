package schema

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func FuzzTmpSlow(f *testing.F) {
	f.Add([]byte(`{"token":"abc"}`))
	f.Add([]byte(`{"loc":[1.5,null,"5"],"msg":"m","type":"t","ctx":[]}`))
	doc := contract(f)
	var bodies []*Body
	for _, name := range []string{"LoginRequest", "TokenVerifyRequest", "APIKeyRequest", "MFAVerifyRequest",
		"OperatorLoginRequest", "OfflineTokenRequest", "ValidationError", "TokenVerifyResponse"} {
		b, _ := CompileBody(doc, "#/components/schemas/"+name)
		bodies = append(bodies, b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for i, b := range bodies {
			os.WriteFile("/tmp/cur.bin", append([]byte{byte('0' + i)}, body...), 0o644)
			start := time.Now()
			var dst map[string]any
			b.Decode(body, &dst)
			if d := time.Since(start); d > 200*time.Millisecond {
				os.WriteFile(fmt.Sprintf("/tmp/slow_%d_%d.bin", i, time.Now().UnixNano()), body, 0o644)
			}
		}
	})
}
