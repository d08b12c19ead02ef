package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestThreatModelNamesRealTests: every test and fuzz target the threat model of
// docs/operations.md cites exists, so the table a reviewer trusts cannot point at a test that was
// renamed or removed.
func TestThreatModelNamesRealTests(t *testing.T) {
	raw, err := os.ReadFile("operations.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Threat model\n")
	if !ok {
		t.Fatal("docs/operations.md has no Threat model section")
	}
	section, _, _ = strings.Cut(section, "\n## ")

	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	cited := regexp.MustCompile("`((?:Test|Fuzz)\\w*)(\\*?)`").FindAllStringSubmatch(section, -1)
	if len(cited) < 20 {
		t.Fatalf("the threat model cites %d tests: the table was not found or lost its rows", len(cited))
	}
	for _, c := range cited {
		name, prefix := c[1], c[2] == "*"
		found := defined[name]
		if prefix {
			for d := range defined {
				found = found || strings.HasPrefix(d, name)
			}
		}
		if !found {
			t.Errorf("docs/operations.md's threat model cites %s, which no _test.go file defines", c[0])
		}
	}
}
