package router

import "testing"

func TestDocumentedPath(t *testing.T) {
	for template, want := range map[string]string{
		"/tokens/verify":             "/tokens/verify",
		"/tokens/api-key/{key_id}":   "/tokens/api-key/{key_id}",
		"/auth/forward/{rest:.*}":    "/auth/forward/{rest}",
		"/x/{id:[0-9]{3}}/y/{b:a|b}": "/x/{id}/y/{b}",
		"/a:b/{c}":                   "/a:b/{c}",
	} {
		if got := DocumentedPath(template); got != want {
			t.Errorf("DocumentedPath(%q) = %q, want %q", template, got, want)
		}
	}
}
