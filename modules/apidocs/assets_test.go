package apidocs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"path"
	"testing"
)

// ownAssets are the files of assets/ written here rather than vendored.
var ownAssets = map[string]bool{"swagger-init.js": true, "redoc-init.js": true, "redoc.css": true}

type manifest struct {
	Packages []struct {
		Name, Version, Source, Integrity string
		Files                            []struct {
			File, From, SHA256 string
			// Patch, when set, is one string of the package's file replaced: the embedded file
			// is then ServedSHA256, and undoing the replacement gives back SHA256.
			Patch *struct {
				Replace, With, Why string
			}
			ServedSHA256 string `json:"served_sha256"`
		}
	}
}

// TestVendoredAssetsMatchManifest: every vendored file embedded in the binary is byte for byte
// the one its npm package ships, as recorded in assets/manifest.json, and every servable file
// is either recorded there or one of ours.
func TestVendoredAssetsMatchManifest(t *testing.T) {
	raw, err := files.ReadFile("assets/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	listed := map[string]bool{}
	for _, p := range m.Packages {
		if p.Name == "" || p.Version == "" || p.Source == "" || p.Integrity == "" || len(p.Files) == 0 {
			t.Errorf("manifest package %+v: name, version, source, integrity and files are required", p)
		}
		for _, f := range p.Files {
			listed[f.File] = true
			body, err := files.ReadFile("assets/" + f.File)
			if err != nil {
				t.Errorf("%s@%s: %s is not embedded: %v", p.Name, p.Version, f.File, err)
				continue
			}
			if f.Patch != nil {
				if got := sha256Hex(body); got != f.ServedSHA256 {
					t.Errorf("%s@%s: embedded %s has sha256 %s, manifest records served_sha256 %s", p.Name, p.Version, f.File, got, f.ServedSHA256)
				}
				if n := bytes.Count(body, []byte(f.Patch.With)); n != 1 || f.Patch.Why == "" {
					t.Errorf("%s: the patch's replacement occurs %d times (want once, with a why)", f.File, n)
				}
				body = bytes.Replace(body, []byte(f.Patch.With), []byte(f.Patch.Replace), 1)
			}
			if got := sha256Hex(body); got != f.SHA256 {
				t.Errorf("%s@%s: embedded %s is, patch undone, sha256 %s; the package's file is %s (edited or replaced without updating the manifest?)", p.Name, p.Version, f.File, got, f.SHA256)
			}
		}
	}
	entries, err := fs.ReadDir(files, "assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, servable := assetTypes[path.Ext(e.Name())]; servable && !listed[e.Name()] && !ownAssets[e.Name()] {
			t.Errorf("assets/%s is served but neither in manifest.json nor one of ours", e.Name())
		}
	}
	for name := range ownAssets {
		if listed[name] {
			t.Errorf("%s is both vendored and ours", name)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
