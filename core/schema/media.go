package schema

import (
	"encoding/json"
	"strings"
)

// JSONMediaType reports whether FastAPI reads a body sent with this Content-Type header value
// ("" when there is none) as JSON: with no or an empty header, or when Python's email.message
// parses it to the main type "application" and the subtype "json" or "<anything>+json".
// Parameters (charset) do not matter. Anything else FastAPI hands to pydantic as raw bytes,
// which a model refuses; before FastAPI 0.65.2 it parsed those as JSON too, which let any web
// page post "simple" cross-site requests (text/plain, forms) without a CORS preflight.
//
// Python's parse is followed step by step, on the header's bytes read as Latin-1 (Starlette
// decodes headers so): the text before the first ';', stripped of what Python's str.strip calls
// whitespace, lower-cased; a type without exactly one '/' is text/plain. Case is folded for
// ASCII only, as Python's lower() folds no other Latin-1 letter onto an ASCII one.
func JSONMediaType(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = trimPySpace(mt)
	main, sub, ok := strings.Cut(mt, "/")
	if !ok || strings.IndexByte(sub, '/') >= 0 || !asciiEqualFold(main, "application") {
		return false
	}
	const suffix = "+json"
	return asciiEqualFold(sub, "json") ||
		len(sub) >= len(suffix) && asciiEqualFold(sub[len(sub)-len(suffix):], suffix)
}

// DecodeMedia is Decode for a request body that came with the Content-Type header value
// contentType ("" when absent). A body FastAPI would not read as JSON (JSONMediaType) is
// validated as pydantic validates the raw bytes FastAPI then hands it, as text: a model refuses
// it with model_attributes_type at ["body"], echoing the body as a string. An empty body is
// "missing" whatever its type, as FastAPI skips an empty body before it looks at the header.
//
// Deliberate difference: FastAPI answers 500 when such a body is not UTF-8 (it cannot echo it);
// here invalid sequences are echoed as U+FFFD.
func (b *Body) DecodeMedia(contentType string, body []byte, dst any) []Issue {
	if len(body) == 0 || JSONMediaType(contentType) {
		return b.Decode(body, dst)
	}
	// Validating the body as a JSON string holding its text gives pydantic's answer for text
	// against any schema (a model's, a string's) without a second validator.
	text, _ := json.Marshal(strings.ToValidUTF8(string(body), "\uFFFD")) // a string always marshals
	return b.Decode(text, dst)
}

// trimPySpace strips, from both ends, the Latin-1 characters Python's str.isspace() accepts:
// \t \n \v \f \r, the separators \x1c-\x1f, space, NEL (\x85) and no-break space (\xa0).
func trimPySpace(s string) string {
	start, end := 0, len(s)
	for start < end && isPySpace(s[start]) {
		start++
	}
	for end > start && isPySpace(s[end-1]) {
		end--
	}
	return s[start:end]
}

func isPySpace(c byte) bool {
	return c >= '\t' && c <= '\r' || c >= 0x1c && c <= 0x20 || c == 0x85 || c == 0xa0
}

// asciiEqualFold is strings.EqualFold without Unicode folding (which would match the Kelvin
// sign to 'k', or 'ſ' to 's').
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
