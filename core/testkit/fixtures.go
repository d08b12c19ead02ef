package testkit

import (
	"context"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

var fixtureHasher = passwords.New(passwords.OWASP, 0, passwords.Isolation{})

// User creates a staff user with an argon2id hash of password.
func (e *Env) User(t testing.TB, email, password, role string, eventID *int64, mode int) int64 {
	t.Helper()
	hash, err := fixtureHasher.Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	id, err := store.NewUsers(e.DB).Create(context.Background(), store.NewUser{Email: email, PasswordHash: hash, Role: role, EventID: eventID, Mode: mode})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return id
}

// Event creates an event.
func (e *Env) Event(t testing.TB, name string) int64 {
	t.Helper()
	id, err := store.NewEvents(e.DB).Create(context.Background(), name)
	if err != nil {
		t.Fatalf("create event: %v", err)
	}
	return id
}

// Device registers a POS device for eventID; mac is normalised as the CLI does.
func (e *Env) Device(t testing.TB, eventID int64, mac, name string, operatorID *int64) int64 {
	t.Helper()
	norm, ok := store.NormalizeMAC(mac)
	if !ok {
		t.Fatalf("device fixture: %q is not a MAC address", mac)
	}
	id, err := store.NewDevices(e.DB).Create(context.Background(), store.NewDevice{EventID: eventID, MAC: norm, Name: name, OperatorID: operatorID})
	if err != nil {
		t.Fatalf("create device %s: %v", mac, err)
	}
	return id
}

// Login logs a staff user in and returns the token pair; the test fails unless it is a 200.
func (e *Env) Login(t testing.TB, email, password, role string) (access, refresh string) {
	t.Helper()
	r := e.Client.Do("POST", "/auth/login", map[string]any{"email": email, "password": password, "role": role})
	if r.Status != 200 {
		t.Fatalf("login %s as %s: %d %s", email, role, r.Status, r.Body)
	}
	m := r.JSON(t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// Verify asks POST /tokens/verify about token and returns valid and the claims. It fails the
// test unless the answer is a 200, and when an invalid token comes back with claims.
func (e *Env) Verify(t testing.TB, token string) (bool, map[string]any) {
	t.Helper()
	r := e.Client.Do("POST", "/tokens/verify", map[string]any{"token": token})
	if r.Status != 200 {
		t.Fatalf("verify: status %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	claims, _ := m["claims"].(map[string]any)
	if m["valid"] != true && m["claims"] != nil {
		t.Fatalf("invalid token reported with claims: %v", m)
	}
	return m["valid"] == true, claims
}
