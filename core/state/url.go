package state

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// OpenRedis builds a client from a URL without connecting (Ping is the caller's job). Forms:
//
//	redis://[[user]:password@]host[:port][/db][?option=value&...]    one server
//	rediss://...                                                      one server over TLS
//	unix://[[user]:password@]/path/to/redis.sock[?db=N&...]           one server on a Unix socket
//	redis+cluster://[[user]:password@]host1:port,host2:port[?option=value&...]
//	rediss+cluster://...                                              Cluster, seed nodes, TLS
//	redis+sentinel://[[user]:password@]host1:26379,host2:26379[/db]?master_name=NAME[&sentinel_username=U&sentinel_password=P]
//	redis+sentinel://NAME[:password]@host1:26379,host2:26379[/db]     shorthand: the user part names the master
//	rediss+sentinel://...                                             Sentinel with TLS
//
// In the Sentinel form the user info holds the Redis credentials; Sentinel's own credentials go in
// sentinel_username / sentinel_password. Without master_name the user part is the master name (so
// no Redis user name can be given that way). Default ports are 6379, and 26379 for Sentinel
// addresses. Options are go-redis's snake_case names (dial_timeout=3s, pool_size=20, skip_verify
// ...; see redis.ParseURL); Cluster accepts no database other than 0. Special characters in
// credentials must be percent-encoded. Errors never contain the password.
func OpenRedis(rawURL string) (redis.UniversalClient, error) {
	cfg, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.cluster != nil:
		return redis.NewClusterClient(cfg.cluster), nil
	case cfg.failover != nil:
		return redis.NewFailoverClient(cfg.failover), nil
	}
	return redis.NewClient(cfg.single), nil
}

// redisConfig holds exactly one of the three option kinds; split from OpenRedis so parsing is
// testable without clients.
type redisConfig struct {
	single   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

func parseRedisURL(rawURL string) (redisConfig, error) {
	fail := func(err error) (redisConfig, error) {
		// url.Error quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return redisConfig{}, fmt.Errorf("state: redis URL %q: %w", RedactRedisURL(rawURL), err)
	}
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return fail(errors.New("empty"))
	}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return fail(errors.New("missing scheme (expected redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://)"))
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return fail(err)
		}
		return redisConfig{single: o}, nil
	case "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel":
	default:
		return fail(fmt.Errorf("unsupported scheme %q", scheme))
	}
	base, kind, _ := strings.Cut(scheme, "+")

	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	var userinfo string
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, authority = authority[:at], authority[at+1:]
	}
	user, pass, hasPass, err := parseUserinfo(userinfo)
	if err != nil {
		return fail(err)
	}
	defPort := "6379"
	if kind == "sentinel" {
		defPort = "26379"
	}
	var addrs []string
	for _, h := range strings.Split(authority, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		a, err := hostPort(h, defPort)
		if err != nil {
			return fail(err)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return fail(errors.New("no host"))
	}
	path, rawQuery, _ := strings.Cut(tail, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fail(err)
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}

	if kind == "cluster" {
		if p := strings.Trim(path, "/"); p != "" && p != "0" {
			return fail(errors.New("a cluster has only database 0"))
		}
		// Credentials are set below rather than embedded, so no URL with a password is rebuilt.
		o, err := redis.ParseClusterURL(base + "://" + addrs[0] + "?" + q.Encode())
		if err != nil {
			return fail(err)
		}
		o.Username, o.Password = user, pass
		return redisConfig{cluster: o}, nil
	}

	sentUser, sentPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	if q.Get("master_name") == "" {
		if user == "" {
			return fail(errors.New("sentinel needs a master name: master_name=NAME or NAME@host"))
		}
		q.Set("master_name", user)
		user = ""
	}
	o, err := redis.ParseFailoverURL(base + "://" + addrs[0] + path + "?" + q.Encode())
	if err != nil {
		return fail(err)
	}
	if user != "" {
		o.Username = user
	}
	if hasPass {
		o.Password = pass
	}
	o.SentinelUsername, o.SentinelPassword = sentUser, sentPass
	return redisConfig{failover: o}, nil
}

func parseUserinfo(s string) (user, pass string, hasPass bool, err error) {
	if s == "" {
		return "", "", false, nil
	}
	u, p, hasPass := strings.Cut(s, ":")
	if user, err = url.PathUnescape(u); err != nil {
		return "", "", false, errors.New("invalid escape in user name")
	}
	if pass, err = url.PathUnescape(p); err != nil {
		return "", "", false, errors.New("invalid escape in password")
	}
	return user, pass, hasPass, nil
}

func hostPort(h, defPort string) (string, error) {
	if host, port, err := net.SplitHostPort(h); err == nil && host != "" && port != "" {
		return net.JoinHostPort(host, port), nil
	}
	// No port given: "host" or "[v6]".
	if host, port, err := net.SplitHostPort(h + ":" + defPort); err == nil && host != "" {
		return net.JoinHostPort(host, port), nil
	}
	return "", fmt.Errorf("invalid address %q", h)
}

// RedactRedisURL returns rawURL with the password in its user info and in any password-like query
// option replaced, for logs and error messages.
func RedactRedisURL(rawURL string) string {
	const mask = "xxxxx"
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if u, _, hasPass := strings.Cut(authority[:at], ":"); hasPass {
			authority = u + ":" + mask + authority[at:]
		}
	}
	if path, rawQuery, ok := strings.Cut(tail, "?"); ok {
		parts := strings.Split(rawQuery, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if strings.Contains(strings.ToLower(k), "password") {
				parts[i] = k + "=" + mask
			}
		}
		tail = path + "?" + strings.Join(parts, "&")
	}
	return scheme + "://" + authority + tail
}
