package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

func eventsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Manage events"}
	var name string
	create := &cobra.Command{
		Use: "create", Short: "Create an event; prints {\"id\": N}", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--name is required")
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				id, err := store.NewEvents(db).Create(cmd.Context(), name)
				if err != nil {
					return err
				}
				return printID(cmd.OutOrStdout(), id)
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "event name")
	cmd.AddCommand(create, eventsListCmd(g))
	return cmd
}

func usersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage staff users"}
	var (
		email, password, role string
		eventID               int64
		mode                  int
		fromStdin             bool
	)
	create := &cobra.Command{
		Use: "create", Short: "Create a staff user; prints {\"id\": N}", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fromStdin {
				pw, err := readPassword(cmd.InOrStdin())
				if err != nil {
					return err
				}
				password = pw
			}
			switch {
			case strings.TrimSpace(email) == "":
				return errors.New("--email is required")
			case password == "":
				return errors.New("--password or --password-stdin is required")
			case !store.ValidRole(role):
				return fmt.Errorf("--role must be admin, operator or network_manager, got %q", role)
			}
			if err := checkPassword(password); err != nil {
				return err
			}
			var ev *int64
			if cmd.Flags().Changed("event-id") {
				ev = &eventID
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				hash, err := hashPassword(cmd.Context(), g, password)
				if err != nil {
					return err
				}
				id, err := store.NewUsers(db).Create(cmd.Context(), store.NewUser{Email: email, PasswordHash: hash, Role: role, EventID: ev, Mode: mode})
				if errors.Is(err, store.ErrReference) {
					return fmt.Errorf("event %d does not exist", eventID)
				}
				if err != nil {
					return conflict(err, "a user with this email")
				}
				return printID(cmd.OutOrStdout(), id)
			})
		},
	}
	f := create.Flags()
	f.StringVar(&email, "email", "", "login e-mail (unique, case-insensitive)")
	f.StringVar(&password, "password", "", "password (prefer --password-stdin: flags show in ps and shell history)")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin")
	f.StringVar(&role, "role", "admin", "admin, operator or network_manager")
	f.Int64Var(&eventID, "event-id", 0, "event the account is bound to (operators, network managers)")
	f.IntVar(&mode, "mode", 0, "legacy operator mode (see POST /devices/operator-token)")
	cmd.AddCommand(create, revokeSessionCmd(g))
	cmd.AddCommand(unlockCmd(g), usersListCmd(g), usersShowCmd(g), usersDisableCmd(g), usersEnableCmd(g),
		usersSetPasswordCmd(g), usersBindEventCmd(g), usersUnbindEventCmd(g), usersSessionsCmd(g))
	return cmd
}

// revokeSessionCmd ends everything a user holds (NOTES.md, "Hardening decisions"): every
// token issued to it until now — access, refresh and offline tokens — is refused on every
// replica, its sessions end, and its legacy operator session token (ost_) is cleared, so the
// next POST /devices/operator-token issues a new one.
func revokeSessionCmd(g *globals) *cobra.Command {
	var id int64
	revoke := &cobra.Command{
		Use: "revoke-session", Short: "End every session and token of a user, its operator session token included; prints {\"id\": N}", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("id") {
				return errors.New("--id is required")
			}
			return withRevoker(cmd.Context(), g, cmd.ErrOrStderr(), func(r *core.Revoker) error {
				err := r.RevokeUser(cmd.Context(), id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("user %d does not exist", id)
				}
				if err != nil {
					return err
				}
				return printID(cmd.OutOrStdout(), id)
			})
		},
	}
	revoke.Flags().Int64Var(&id, "id", 0, "user id")
	return revoke
}

func devicesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "devices", Short: "Manage POS devices"}
	var (
		eventID, operatorID int64
		mac, name           string
	)
	create := &cobra.Command{
		Use: "create", Short: "Register a device; prints {\"id\": N}", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			norm, ok := store.NormalizeMAC(mac)
			if !ok {
				return fmt.Errorf("--mac %q is not a MAC address", mac)
			}
			if !cmd.Flags().Changed("event-id") {
				return errors.New("--event-id is required")
			}
			var op *int64
			if cmd.Flags().Changed("operator-id") {
				op = &operatorID
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				id, err := store.NewDevices(db).Create(cmd.Context(), store.NewDevice{EventID: eventID, MAC: norm, Name: name, OperatorID: op})
				if errors.Is(err, store.ErrReference) {
					return errors.New("the event or operator does not exist")
				}
				if err != nil {
					return conflict(err, "a device with this MAC at this event")
				}
				return printID(cmd.OutOrStdout(), id)
			})
		},
	}
	f := create.Flags()
	f.Int64Var(&eventID, "event-id", 0, "event the device sells at")
	f.StringVar(&mac, "mac", "", "MAC address (any case, separators : - . or none)")
	f.StringVar(&name, "name", "", "display name")
	f.Int64Var(&operatorID, "operator-id", 0, "operator associated with the device")
	cmd.AddCommand(create, archiveDeviceCmd(g), devicesListCmd(g))
	return cmd
}

// archiveDeviceCmd retires a device: it can no longer log in or get tokens, and the tokens
// issued to it until now are refused by POST /tokens/verify on every replica (a POS checking
// offline tokens itself still accepts them until they expire); its MAC stays taken at its event.
func archiveDeviceCmd(g *globals) *cobra.Command {
	var id int64
	archive := &cobra.Command{
		Use: "archive", Short: "Archive a device and end its tokens; prints {\"id\": N}", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("id") {
				return errors.New("--id is required")
			}
			return withRevoker(cmd.Context(), g, cmd.ErrOrStderr(), func(r *core.Revoker) error {
				err := r.ArchiveDevice(cmd.Context(), id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("device %d does not exist", id)
				}
				if err != nil {
					return err
				}
				return printID(cmd.OutOrStdout(), id)
			})
		},
	}
	archive.Flags().Int64Var(&id, "id", 0, "device id")
	return archive
}

func withStore(ctx context.Context, g *globals, fn func(*store.DB) error) error {
	db, _, err := openStore(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
