package oidc

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
)

// Config is the module's section, modules.oidc.*.
type Config struct {
	// Providers are the OpenID Providers whose ID tokens the lane accepts, by the name that
	// appears in the path: POST /auth/login/oidc/{name}.
	Providers map[string]Provider `mapstructure:"providers"`
	// Timeout bounds one fetch of a provider's discovery document or keys (default 5s).
	Timeout time.Duration `mapstructure:"timeout"`
	// RefreshInterval is the least time between two fetches of one provider's keys: a token
	// with an unknown kid refreshes them at most this often (default 1m), so forged kids cannot
	// make the service hammer the provider.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	// MaxKeyAge is how long fetched keys are used before they are fetched again (default 1h), so
	// a key the provider withdrew stops being accepted without a restart.
	MaxKeyAge time.Duration `mapstructure:"max_key_age"`
}

// Provider is one OpenID Provider.
type Provider struct {
	// Enabled switches the provider (default true); a disabled one answers 404 as an unknown
	// one does. Its consumers' identities stay linked.
	Enabled bool `mapstructure:"enabled"`
	// Issuer is the provider's issuer identifier, exactly as its tokens' iss says it.
	Issuer string `mapstructure:"issuer"`
	// ClientIDs are the audiences accepted: the client ids of the tenant's apps at the provider.
	ClientIDs []string `mapstructure:"client_ids"`
	// JWKSURL is the provider's key set; "" reads jwks_uri from its discovery document.
	JWKSURL string `mapstructure:"jwks_url"`
	// Algorithms are the signature algorithms accepted (default RS256, ES256). Never none or
	// an HMAC: the client secret of a public app is no secret.
	Algorithms []string `mapstructure:"algorithms"`
	// Nonce is none, raw or sha256 (default raw): see the Nonce constants.
	Nonce string `mapstructure:"nonce"`
	// RequireVerifiedEmail refuses tokens without an e-mail the provider verified.
	RequireVerifiedEmail bool `mapstructure:"require_verified_email"`
	// LinkPhone stores a phone number the provider verified on the consumer, who then shares it
	// with the phone OTP lane. Off by default: whoever holds the number's consumer is signed in
	// by an SMS code.
	LinkPhone bool `mapstructure:"link_phone"`
	// Leeway is the clock skew allowed on exp, nbf and iat (default 30s, at most 5m).
	Leeway time.Duration `mapstructure:"leeway"`
}

// providerDefaults are one provider entry's fields with their defaults.
var providerDefaults = config.Defaults{
	"enabled":                true,
	"issuer":                 "",
	"client_ids":             []string{},
	"jwks_url":               "",
	"algorithms":             []string{"RS256", "ES256"},
	"nonce":                  NonceRaw,
	"require_verified_email": false,
	"link_phone":             false,
	"leeway":                 "30s",
}

// Section is the module's typed configuration.
var Section = core.NewSection(core.SectionSpec[Config]{
	Defaults: config.Defaults{
		"timeout":          "5s",
		"refresh_interval": "1m",
		"max_key_age":      "1h",
	},
	Entries:  map[string]config.Defaults{"providers": providerDefaults},
	Validate: (*Config).validate,
})

// asymmetric are the algorithms an ID token may be signed with: public-key ones only.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// providerName is what may stand in the path: letters, digits, '-' and '_'.
var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validate reports every problem at once, each under its key.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Timeout <= 0 || c.Timeout > time.Minute {
		bad("timeout: must be between 1ms and 1m, got %s", c.Timeout)
	}
	if c.RefreshInterval < time.Second || c.RefreshInterval > time.Hour {
		// Below a second a flood of forged kids is a flood of fetches again.
		bad("refresh_interval: must be between 1s and 1h, got %s", c.RefreshInterval)
	}
	if c.MaxKeyAge < c.RefreshInterval || c.MaxKeyAge > 7*24*time.Hour {
		bad("max_key_age: must be between refresh_interval and 168h, got %s", c.MaxKeyAge)
	}
	names := make([]string, 0, len(c.Providers))
	for name := range c.Providers {
		names = append(names, name)
	}
	sort.Strings(names)
	issuers := map[string]string{}
	for _, name := range names {
		p := c.Providers[name]
		key := "providers." + name + "."
		if !providerName.MatchString(name) {
			bad("providers.%s: a provider's name is its path segment: lower-case letters, digits, '-' and '_', at most 63", name)
		}
		if err := checkURL(p.Issuer); err != nil {
			bad("%sissuer: %v", key, err)
		} else if other, dup := issuers[p.Issuer]; dup && p.Enabled {
			// Two names for one issuer would be two doors to the same identities with different
			// rules; an identity is (issuer, subject) whichever name it came through.
			bad("%sissuer: %q is also the issuer of provider %s", key, p.Issuer, other)
		} else if p.Enabled {
			issuers[p.Issuer] = name
		}
		if p.JWKSURL != "" {
			if err := checkURL(p.JWKSURL); err != nil {
				bad("%sjwks_url: %v", key, err)
			}
		}
		p.ClientIDs = trimmed(p.ClientIDs)
		if len(p.ClientIDs) == 0 {
			bad("%sclient_ids: at least one client id (the audience of the tenant's app) is required", key)
		}
		p.Algorithms = trimmed(p.Algorithms)
		if len(p.Algorithms) == 0 {
			bad("%salgorithms: at least one", key)
		}
		for _, a := range p.Algorithms {
			if !slices.Contains(asymmetric, a) {
				bad("%salgorithms: %q is not accepted: one of %s (never none or an HMAC)", key, a, strings.Join(asymmetric, ", "))
			}
		}
		if !slices.Contains([]string{NonceNone, NonceRaw, NonceSHA256}, p.Nonce) {
			bad("%snonce: must be none, raw or sha256, got %q", key, p.Nonce)
		}
		if p.Leeway < 0 || p.Leeway > 5*time.Minute {
			bad("%sleeway: must be between 0s and 5m, got %s", key, p.Leeway)
		}
		c.Providers[name] = p
	}
	return errors.Join(errs...)
}

// checkURL accepts an https URL, or http for a loopback host (a provider run on the machine
// in development and tests).
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL without query or fragment", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1"):
		return nil
	}
	return fmt.Errorf("%q must be https (http only for a loopback host)", raw)
}

func trimmed(items []string) []string {
	out := items[:0:0]
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
