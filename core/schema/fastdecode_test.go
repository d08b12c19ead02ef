package schema

import (
	"encoding/json"
	"reflect"
	"testing"
)

type flatDst struct {
	Token    string  `json:"token"`
	Role     string  `json:"role,omitempty"`
	Remember bool    `json:"remember"`
	Count    int64   `json:"count"`
	Small    int8    `json:"small"`
	Ratio    float64 `json:"ratio"`
	F32      float32 `json:"f32"`
	Plain    string
	hidden   string //nolint:unused // unexported: encoding/json ignores it, so must fastDecode
	Skipped  string `json:"-"`
}

type nestedDst struct {
	Token string   `json:"token"`
	Tags  []string `json:"tags"`
}

// TestFastDecodeMatchesEncodingJSON: whatever fastDecode accepts, it decodes exactly as
// encoding/json does, starting from the same pre-filled destination; what it declines is left
// to encoding/json.
func TestFastDecodeMatchesEncodingJSON(t *testing.T) {
	bodies := []string{
		`{"token":"abc.def.ghi"}`,
		`{"token":"a","role":"operator","remember":true,"count":42,"small":-7,"ratio":0.5,"f32":1.25,"Plain":"p"}`,
		`{"token":null,"role":null,"remember":null}`,
		`{ "token" : "x" , "count" : -9223372036854775808 }`,
		`{"count":9223372036854775808}`, // overflow: encoding/json errors
		`{"small":300}`,                 // overflow of int8
		`{"count":1.5}`,                 // float into an int field
		`{"count":1e3}`,
		`{"ratio":7}`,
		`{"ratio":1e400}`,
		`{"token":"esc\"aped\u00e9"}`,
		`{"token":"é漢字"}`,
		`{"TOKEN":"case"}`,
		`{"plain":"case"}`,
		`{"token":"a","token":"b"}`,
		`{"unknown":1}`,
		`{"hidden":"h","Skipped":"s","-":"dash"}`,
		`{"token":1}`,
		`{"remember":"true"}`,
		`{"token":["x"]}`,
		`{"token":{"a":1}}`,
		`{}`,
		`[]`,
		`"token"`,
	}
	mustAccept := map[string]bool{bodies[0]: true, bodies[1]: true, bodies[2]: true, bodies[3]: true, `{"ratio":7}`: true, `{"token":"é漢字"}`: true}
	for _, body := range bodies {
		t.Run(body, func(t *testing.T) {
			st := getState()
			defer putState(st)
			st.data = []byte(body)
			if err := st.parse(); err != nil {
				t.Fatalf("parse: %v", err.msg)
			}
			fast := flatDst{Role: "admin", Count: 3}
			want := flatDst{Role: "admin", Count: 3}
			wantErr := json.Unmarshal([]byte(body), &want)
			if !st.fastDecode(&fast) {
				if mustAccept[body] {
					t.Fatal("declined a flat body it is there for")
				}
				if fast != (flatDst{Role: "admin", Count: 3}) {
					t.Fatalf("declined but wrote %+v", fast)
				}
				return
			}
			if wantErr != nil {
				t.Fatalf("fastDecode accepted what encoding/json refuses (%v): %+v", wantErr, fast)
			}
			if fast != want {
				t.Fatalf("fastDecode %+v, encoding/json %+v", fast, want)
			}
		})
	}
	// Types it does not handle are declined.
	st := getState()
	defer putState(st)
	st.data = []byte(`{"token":"x","tags":["a"]}`)
	if err := st.parse(); err != nil {
		t.Fatal(err.msg)
	}
	var n nestedDst
	if st.fastDecode(&n) || !reflect.DeepEqual(n, nestedDst{}) {
		t.Fatalf("a struct with a slice field was fast-decoded: %+v", n)
	}
	var m map[string]any
	if st.fastDecode(&m) {
		t.Fatal("a map was fast-decoded")
	}
}
