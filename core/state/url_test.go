package state

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseRedisURL(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		c, err := parseRedisURL("redis://:s3cret@cache.internal:6380/2?dial_timeout=3s")
		if err != nil {
			t.Fatal(err)
		}
		o := c.single
		if o == nil || o.Addr != "cache.internal:6380" || o.DB != 2 || o.Password != "s3cret" || o.DialTimeout != 3*time.Second || o.TLSConfig != nil {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("tls", func(t *testing.T) {
		c, err := parseRedisURL("rediss://user:p%40ss@cache.internal")
		if err != nil {
			t.Fatal(err)
		}
		o := c.single
		if o.Addr != "cache.internal:6379" || o.TLSConfig == nil || o.Username != "user" || o.Password != "p@ss" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		c, err := parseRedisURL("redis+cluster://:pw@10.0.0.1:7000, 10.0.0.2:7001,[fd00::3]?read_timeout=2s")
		if err != nil {
			t.Fatal(err)
		}
		o := c.cluster
		want := []string{"10.0.0.1:7000", "10.0.0.2:7001", "[fd00::3]:6379"}
		if o == nil || strings.Join(o.Addrs, " ") != strings.Join(want, " ") || o.Password != "pw" || o.ReadTimeout != 2*time.Second || o.TLSConfig != nil {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("cluster tls", func(t *testing.T) {
		c, err := parseRedisURL("rediss+cluster://h1:7000,h2:7000/0")
		if err != nil {
			t.Fatal(err)
		}
		if c.cluster.TLSConfig == nil || len(c.cluster.Addrs) != 2 {
			t.Fatalf("got %+v", c.cluster)
		}
	})
	t.Run("sentinel shorthand", func(t *testing.T) {
		c, err := parseRedisURL("redis+sentinel://mymaster@s1:26379,s2/3")
		if err != nil {
			t.Fatal(err)
		}
		o := c.failover
		if o == nil || o.MasterName != "mymaster" || o.DB != 3 || strings.Join(o.SentinelAddrs, " ") != "s1:26379 s2:26379" || o.Username != "" || o.Password != "" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("sentinel full", func(t *testing.T) {
		c, err := parseRedisURL("rediss+sentinel://app:pw@s1,s2:5000/1?master_name=main&sentinel_password=spw&pool_size=7")
		if err != nil {
			t.Fatal(err)
		}
		o := c.failover
		if o.MasterName != "main" || o.Username != "app" || o.Password != "pw" || o.SentinelPassword != "spw" || o.SentinelUsername != "" ||
			o.DB != 1 || o.PoolSize != 7 || o.TLSConfig == nil || strings.Join(o.SentinelAddrs, " ") != "s1:26379 s2:5000" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("sentinel master with password", func(t *testing.T) {
		c, err := parseRedisURL("redis+sentinel://mymaster:pw@s1")
		if err != nil {
			t.Fatal(err)
		}
		if o := c.failover; o.MasterName != "mymaster" || o.Password != "pw" || o.Username != "" {
			t.Fatalf("got %+v", o)
		}
	})
}

func TestParseRedisURLErrors(t *testing.T) {
	for _, u := range []string{
		"",
		"localhost:6379",
		"http://:secretpw@h",
		"redis://:secretpw@h/x",
		"redis://:secretpw@h:abc",
		"redis+cluster://:secretpw@",
		"redis+cluster://:secretpw@h1:1,h2:1/3",
		"redis+cluster://:secretpw@h1:1?no_such_option=1",
		"redis+sentinel://:secretpw@h1,h2/0",
		"redis+sentinel://m:secretpw@h1:1:2",
		"redis+sentinel://m:secretpw@h1/0?%zz",
	} {
		_, err := parseRedisURL(u)
		if err == nil {
			t.Errorf("%q: no error", u)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%q: error leaks the password: %v", u, err)
		}
	}
}

func TestRedactRedisURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://h:6379/0":                          "redis://h:6379/0",
		"redis://:pw@h:6379/0":                      "redis://:xxxxx@h:6379/0",
		"rediss://user:p@w@h":                       "rediss://user:xxxxx@h",
		"redis+sentinel://m@h1,h2/0":                "redis+sentinel://m@h1,h2/0",
		"redis+sentinel://m@h1?sentinel_password=x": "redis+sentinel://m@h1?sentinel_password=xxxxx",
		"not a url":                                 "not a url",
	} {
		if got := RedactRedisURL(in); got != want {
			t.Errorf("RedactRedisURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenRedisKinds(t *testing.T) {
	for u, want := range map[string]string{
		"redis://127.0.0.1:6379/0":         "*redis.Client",
		"redis+cluster://h1:7000,h2:7000":  "*redis.ClusterClient",
		"redis+sentinel://m@s1:26379,s2/0": "*redis.Client",
	} {
		c, err := OpenRedis(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if got := fmt.Sprintf("%T", c); got != want {
			t.Errorf("%s: %s, want %s", u, got, want)
		}
		_ = c.Close()
	}
}
