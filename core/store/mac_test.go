package store

import "testing"

func TestNormalizeMAC(t *testing.T) {
	for in, want := range map[string]string{
		"AA:BB:CC:DD:EE:FF": "aa:bb:cc:dd:ee:ff",
		"aa-bb-cc-dd-ee-ff": "aa:bb:cc:dd:ee:ff",
		"aabb.ccdd.eeff":    "aa:bb:cc:dd:ee:ff",
		"AABBCCDDEEFF":      "aa:bb:cc:dd:ee:ff",
	} {
		if got, ok := NormalizeMAC(in); !ok || got != want {
			t.Errorf("NormalizeMAC(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "aa:bb", "gg:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff:00", "aa;bb;cc;dd;ee;ff"} {
		if _, ok := NormalizeMAC(bad); ok {
			t.Errorf("NormalizeMAC(%q) accepted", bad)
		}
	}
}
