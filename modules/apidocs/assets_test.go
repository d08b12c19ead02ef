package apidocs

import (
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
		Files                            []struct{ File, From, SHA256 string }
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
			sum := sha256.Sum256(body)
			if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
				t.Errorf("%s@%s: embedded %s has sha256 %s, manifest records %s (edited or replaced without updating the manifest?)", p.Name, p.Version, f.File, got, f.SHA256)
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
