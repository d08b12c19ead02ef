package schema

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode"
)

type mediaCase struct {
	ContentType string `json:"content_type"`
	JSON        bool   `json:"json"`
}

// mediaGolden loads what Python's email.message, as FastAPI uses it, decided for each header
// (testdata/gen_media_types.py), with each value turned back into the bytes it stands for.
func mediaGolden(t testing.TB) []mediaCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/media_types_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []mediaCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	for i, c := range golden.Cases {
		b := make([]byte, 0, len(c.ContentType))
		for _, r := range c.ContentType {
			if r > 0xff {
				t.Fatalf("golden value %q is not Latin-1", c.ContentType)
			}
			b = append(b, byte(r))
		}
		golden.Cases[i].ContentType = string(b)
	}
	return golden.Cases
}

func TestJSONMediaTypeGolden(t *testing.T) {
	cases := mediaGolden(t)
	if len(cases) < 40 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		if got := JSONMediaType(c.ContentType); got != c.JSON {
			t.Errorf("JSONMediaType(%q) = %v, Python says %v", c.ContentType, got, c.JSON)
		}
		if got := pyReadsJSON(c.ContentType); got != c.JSON {
			t.Errorf("reference pyReadsJSON(%q) = %v, Python says %v", c.ContentType, got, c.JSON)
		}
	}
}

// pyReadsJSON transcribes FastAPI's check with Unicode-aware operations on the header's Latin-1
// text, step for step as Python runs it, independently of JSONMediaType's byte-level shortcuts.
func pyReadsJSON(header string) bool {
	if header == "" {
		return true
	}
	runes := make([]rune, len(header))
	for i := 0; i < len(header); i++ {
		runes[i] = rune(header[i]) // Latin-1: one code point per byte
	}
	ctype, _, _ := strings.Cut(string(runes), ";")
	ctype = strings.TrimFunc(ctype, func(r rune) bool {
		return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f // Python's str.isspace
	})
	ctype = strings.ToLower(ctype)
	if strings.Count(ctype, "/") != 1 {
		ctype = "text/plain" // RFC 2045 5.2, as email.message applies it
	}
	main, sub, _ := strings.Cut(ctype, "/")
	return main == "application" && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

func TestDecodeMedia(t *testing.T) {
	login := mustBody(t, "LoginRequest")
	const body = `{"email":"a@b.c","password":"pw"}`
	refused := func(input string) string {
		return wire(t, []Issue{{Loc: []any{"body"}, Msg: "Input should be a valid dictionary or object to extract fields from",
			Type: "model_attributes_type", Input: input}})
	}
	tests := []struct {
		name, contentType, body, want string
	}{
		{"no content type is JSON", "", body, "null"},
		{"json with charset", "application/json; charset=utf-8", body, "null"},
		{"structured syntax suffix", "application/merge-patch+json", body, "null"},
		{"text/plain is text", "text/plain;charset=UTF-8", body, refused(body)},
		{"form is text", "application/x-www-form-urlencoded", "email=a%40b.c&password=pw", refused("email=a%40b.c&password=pw")},
		{"lookalike subtype", "application/jsonx", body, refused(body)},
		{"invalid UTF-8 echoed with replacement characters", "text/plain", "a\xffb\xc3", refused("a\ufffdb\ufffd")},
		{"byte order mark kept in the echo", "text/plain", "\ufeff{}", refused("\ufeff{}")},
		{"NUL echoed, not refused as NUL: the body is no string field", "text/plain", "a\x00b", refused("a\x00b")},
		{"empty body is missing whatever its type", "text/plain", "", `[{"loc":["body"],"msg":"Field required","type":"missing","input":null}]`},
		{"invalid JSON under a JSON type", "application/vnd.x+json", "{", `[{"loc":["body",1],"msg":"JSON decode error","type":"json_invalid","input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := loginReq{Role: "admin"}
			issues := login.DecodeMedia(tc.contentType, []byte(tc.body), &dst)
			if got := wire(t, issues); got != tc.want {
				t.Errorf("DecodeMedia(%q, %q)\n got: %s\nwant: %s", tc.contentType, tc.body, got, tc.want)
			}
			if issues != nil && (dst != loginReq{Role: "admin"}) {
				t.Errorf("refused body filled dst: %+v", dst)
			}
		})
	}

	t.Run("a string body takes the text as pydantic takes bytes for str", func(t *testing.T) {
		b, err := CompileBodySchema(nil, []byte(`{"type":"string","maxLength":3}`))
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if issues := b.DecodeMedia("text/plain", []byte(`a"c`), &s); issues != nil || s != `a"c` {
			t.Errorf("got %q, issues %s", s, wire(t, issues))
		}
		want := `[{"loc":["body"],"msg":"String should have at most 3 characters","type":"string_too_long","input":"abcd","ctx":{"max_length":3}}]`
		if got := wire(t, b.DecodeMedia("text/plain", []byte("abcd"), &s)); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// FuzzJSONMediaType holds JSONMediaType to the step-by-step transcription of Python's parse.
func FuzzJSONMediaType(f *testing.F) {
	for _, c := range mediaGolden(f) {
		f.Add(c.ContentType)
	}
	f.Fuzz(func(t *testing.T, contentType string) {
		if got, want := JSONMediaType(contentType), pyReadsJSON(contentType); got != want {
			t.Fatalf("JSONMediaType(%q) = %v, Python's parse gives %v", contentType, got, want)
		}
	})
}

// FuzzDecodeMedia checks that the media type alone decides how a body is read: a JSON type (or
// none, or an empty body) is exactly Decode, any other type is the one model_attributes_type
// issue echoing the body as text, for every request model of the contract.
func FuzzDecodeMedia(f *testing.F) {
	for _, s := range [][2]string{
		{"", `{"token":"x"}`}, {"application/json", `{"email":"a","password":"b"}`},
		{"text/plain", `{"token":"x"}`}, {"application/x-www-form-urlencoded", "token=x"},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nx\r\n--b--\r\n"},
		{"application/merge-patch+json", `{"code":"123456"}`}, {"application/jsonx", `{}`},
		{"text/plain", ""}, {"text/plain", "\xff\xfe\x00"}, {"APPLICATION/JSON ; q=1", `{"token":"a\u0000"}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	doc := contract(f)
	var bodies []*Body
	for _, name := range []string{"LoginRequest", "TokenVerifyRequest", "APIKeyRequest", "MFAVerifyRequest",
		"OperatorLoginRequest", "OfflineTokenRequest", "PasswordResetRequestBody"} {
		b, err := CompileBody(doc, "#/components/schemas/"+name)
		if err != nil {
			f.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		for _, b := range bodies {
			var dst map[string]any
			issues := b.DecodeMedia(contentType, body, &dst)
			for _, is := range issues {
				checkIssue(t, is)
			}
			if len(body) == 0 || JSONMediaType(contentType) {
				if got, want := wire(t, issues), wire(t, b.Decode(body, nil)); got != want {
					t.Fatalf("JSON body under %q: DecodeMedia %s, Decode %s", contentType, got, want)
				}
				continue
			}
			want := strings.ToValidUTF8(string(body), "\ufffd")
			if len(issues) != 1 || issues[0].Type != "model_attributes_type" || len(issues[0].Loc) != 1 ||
				issues[0].Loc[0] != "body" || issues[0].Input != want {
				t.Fatalf("text body under %q: got %s", contentType, wire(t, issues))
			}
			if dst != nil {
				t.Fatalf("refused body filled dst: %v", dst)
			}
		}
	})
}
