package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// The service's password policy: what POST /admin/password-reset/{token} accepts as
// new_password (minLength and maxLength of PasswordResetConfirmBody, counted in characters as
// pydantic counts them), and no NUL, which no request string may hold.
const (
	passwordMinChars = 8
	passwordMaxChars = 128
)

func checkPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < passwordMinChars:
		return fmt.Errorf("password must be at least %d characters", passwordMinChars)
	case n > passwordMaxChars:
		return fmt.Errorf("password must be at most %d characters", passwordMaxChars)
	case strings.ContainsRune(pw, 0):
		return errors.New("password must not contain a NUL character")
	}
	return nil
}

// hashPassword hashes pw as the service does, with the configured argon2id parameters.
func hashPassword(ctx context.Context, g *globals, pw string) (string, error) {
	_, cfg, err := load(g)
	if err != nil {
		return "", err
	}
	h := passwords.New(passwords.Params{Memory: cfg.Password.Argon2Memory, Time: cfg.Password.Argon2Time, Threads: cfg.Password.Argon2Threads}, 1, passwords.Isolation{})
	defer h.Close()
	return h.Hash(ctx, pw)
}

// listedUser is what users list and show print of an account: never its password hash, nor
// its operator session token in any form (has_operator_token only says one exists).
type listedUser struct {
	ID               int64      `json:"id"`
	Email            string     `json:"email"`
	Role             string     `json:"role"`
	EventID          *int64     `json:"event_id"`
	Mode             int        `json:"mode"`
	Disabled         bool       `json:"disabled"`
	DisabledAt       *time.Time `json:"disabled_at"`
	HasOperatorToken bool       `json:"has_operator_token"`
	LastDevMAC       *string    `json:"last_dev_mac"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

func listedUserOf(u store.User) listedUser {
	return listedUser{ID: u.ID, Email: u.Email, Role: u.Role, EventID: u.EventID, Mode: u.Mode,
		Disabled: u.Disabled(), DisabledAt: u.DisabledAt, HasOperatorToken: u.SessionTokenHash != nil,
		LastDevMAC: u.LastDevMAC, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

const userHeader = "ID\tEMAIL\tROLE\tEVENT\tMODE\tDISABLED\tCREATED"

func userCells(u listedUser) []string {
	disabled := "-"
	if u.Disabled {
		disabled = timeCell(u.DisabledAt)
		if u.DisabledAt == nil {
			disabled = "yes" // marked by its hash alone (migration 00004_users_disabled)
		}
	}
	return []string{strconv.FormatInt(u.ID, 10), cell(u.Email), u.Role, idCell(u.EventID),
		strconv.Itoa(u.Mode), disabled, timeCell(&u.CreatedAt)}
}

func printUsers(w io.Writer, output string, us []store.User) error {
	rows := make([]listedUser, len(us))
	for i, u := range us {
		rows[i] = listedUserOf(u)
	}
	return printRows(w, output, rows, userHeader, userCells)
}

func usersListCmd(g *globals) *cobra.Command {
	var (
		role, output string
		eventID      int64
		disabled     bool
	)
	cmd := &cobra.Command{
		Use: "list", Short: "List staff users (never a password hash or token)",
		Long: "Prints one JSON object per user and line: id, email, role, event_id, mode, disabled, disabled_at,\n" +
			"has_operator_token, last_dev_mac, created_at, updated_at. -o table prints columns for people instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			var f store.UserFilter
			if cmd.Flags().Changed("role") {
				if !store.ValidRole(role) {
					return fmt.Errorf("--role must be admin, operator or network_manager, got %q", role)
				}
				f.Role = &role
			}
			if cmd.Flags().Changed("event-id") {
				f.EventID = &eventID
			}
			if cmd.Flags().Changed("disabled") {
				f.Disabled = &disabled
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				us, err := store.NewUsers(db).List(cmd.Context(), f)
				if err != nil {
					return err
				}
				return printUsers(cmd.OutOrStdout(), output, us)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&role, "role", "", "only this role: admin, operator or network_manager")
	fl.Int64Var(&eventID, "event-id", 0, "only the users bound to this event")
	fl.BoolVar(&disabled, "disabled", false, "only disabled users (--disabled=false: only enabled ones)")
	outputFlag(cmd, &output)
	return cmd
}

func usersShowCmd(g *globals) *cobra.Command {
	var (
		id            int64
		email, output string
	)
	cmd := &cobra.Command{
		Use: "show --id N | --email E", Short: "Show one staff user (never a password hash or token)",
		Long: "Prints the user as users list does, one JSON object, or -o table.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			byID, byEmail := cmd.Flags().Changed("id"), cmd.Flags().Changed("email")
			if byID == byEmail {
				return errors.New("exactly one of --id and --email is required")
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				users := store.NewUsers(db)
				u, err := users.ByID(cmd.Context(), id)
				what := fmt.Sprintf("user %d", id)
				if byEmail {
					u, err = users.ByEmail(cmd.Context(), email)
					what = fmt.Sprintf("user %q", store.NormalizeEmail(email))
				}
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%s does not exist", what)
				}
				if err != nil {
					return err
				}
				return printUsers(cmd.OutOrStdout(), output, []store.User{u})
			})
		},
	}
	cmd.Flags().Int64Var(&id, "id", 0, "user id")
	cmd.Flags().StringVar(&email, "email", "", "login e-mail (any letter case)")
	outputFlag(cmd, &output)
	return cmd
}

// changeUser applies change to user id and, when change says so, ends everything the user
// holds through the one revocation primitive (core.Revoker.RevokeUser, as users
// revoke-session: access, refresh and offline tokens on every replica, sessions, the ost_
// token), then prints {"id": N}.
func changeUser(cmd *cobra.Command, g *globals, id int64, change func(context.Context, *store.Users, store.User) (revoke bool, err error)) error {
	ctx := cmd.Context()
	var revoke bool
	err := withStore(ctx, g, func(db *store.DB) error {
		users := store.NewUsers(db)
		u, err := users.ByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("user %d does not exist", id)
		}
		if err != nil {
			return err
		}
		revoke, err = change(ctx, users, u)
		return err
	})
	if err != nil {
		return err
	}
	if revoke {
		err := withRevoker(ctx, g, cmd.ErrOrStderr(), func(r *core.Revoker) error { return r.RevokeUser(ctx, id) })
		if err != nil {
			return fmt.Errorf("user %d: changed, but ending what it holds failed; run the command again: %w", id, err)
		}
	}
	return printID(cmd.OutOrStdout(), id)
}

// idCommand is a users command on the one account --id names.
func idCommand(use, short, long string, run func(cmd *cobra.Command, id int64) error) *cobra.Command {
	var id int64
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("id") {
				return errors.New("--id is required")
			}
			return run(cmd, id)
		},
	}
	cmd.Flags().Int64Var(&id, "id", 0, "user id")
	return cmd
}

// usersDisableCmd is the soft delete of a person: ids stay, as devices, audit entries and
// revocations reference them. The account is refused on every lane with the wrong-password
// answer, and everything it holds ends.
func usersDisableCmd(g *globals) *cobra.Command {
	return idCommand("disable --id N", "Disable a staff user and end its sessions and tokens; prints {\"id\": N}",
		"Disables user N (people are never deleted: their ids are referenced): every login lane answers it\n"+
			"as a wrong password, and everything it holds ends as with users revoke-session. users enable undoes it.",
		func(cmd *cobra.Command, id int64) error {
			return changeUser(cmd, g, id, func(ctx context.Context, users *store.Users, u store.User) (bool, error) {
				if u.Disabled() {
					fmt.Fprintf(cmd.ErrOrStderr(), "user %d was already disabled; ending what it holds again\n", id)
				}
				return true, users.Disable(ctx, id)
			})
		})
}

func usersEnableCmd(g *globals) *cobra.Command {
	return idCommand("enable --id N", "Enable a disabled staff user; prints {\"id\": N}",
		"Enables user N again, with the password it had (or was given by users set-password meanwhile).\n"+
			"Tokens it held when disabled stay ended.",
		func(cmd *cobra.Command, id int64) error {
			return changeUser(cmd, g, id, func(ctx context.Context, users *store.Users, u store.User) (bool, error) {
				if !u.Disabled() {
					fmt.Fprintf(cmd.ErrOrStderr(), "user %d was not disabled\n", id)
				}
				return false, users.Enable(ctx, id)
			})
		})
}

// usersSetPasswordCmd sets a password without the mailed reset, for when SMTP is down. The
// password comes from stdin only: a flag shows in ps and shell history.
func usersSetPasswordCmd(g *globals) *cobra.Command {
	return idCommand("set-password --id N < password", "Set a staff user's password, read from stdin, and end its sessions; prints {\"id\": N}",
		fmt.Sprintf("Reads the new password from the first line of stdin (%d to %d characters, as the service's\n"+
			"password reset requires), never echoed; every session and token of the user ends, as with\n"+
			"users revoke-session. A disabled user stays disabled.", passwordMinChars, passwordMaxChars),
		func(cmd *cobra.Command, id int64) error {
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if err := checkPassword(pw); err != nil {
				return err
			}
			return changeUser(cmd, g, id, func(ctx context.Context, users *store.Users, u store.User) (bool, error) {
				hash, err := hashPassword(ctx, g, pw)
				if err != nil {
					return false, err
				}
				if u.Disabled() {
					fmt.Fprintf(cmd.ErrOrStderr(), "user %d is disabled: the password works once users enable --id %d\n", id, id)
				}
				return true, users.UpdatePasswordHash(ctx, id, hash)
			})
		})
}

// bindEvent binds a user to an event, or unbinds it (eventID nil). Tokens carry the
// binding, so a change ends what the user holds: none keeps acting for the event it left.
func bindEvent(cmd *cobra.Command, g *globals, id int64, eventID *int64) error {
	return changeUser(cmd, g, id, func(ctx context.Context, users *store.Users, u store.User) (bool, error) {
		if (u.EventID == nil && eventID == nil) || (u.EventID != nil && eventID != nil && *u.EventID == *eventID) {
			fmt.Fprintf(cmd.ErrOrStderr(), "user %d: binding unchanged\n", id)
			return false, nil
		}
		err := users.SetEvent(ctx, id, eventID)
		if errors.Is(err, store.ErrReference) {
			return false, fmt.Errorf("event %d does not exist", *eventID)
		}
		return err == nil, err
	})
}

func usersBindEventCmd(g *globals) *cobra.Command {
	var eventID int64
	cmd := idCommand("bind-event --id N --event-id M", "Bind a staff user to an event and end its sessions; prints {\"id\": N}",
		"Binds user N to event M (the event its tokens carry); when that changes its binding, everything it\n"+
			"holds ends, as with users revoke-session. users unbind-event removes the binding.",
		func(cmd *cobra.Command, id int64) error {
			if !cmd.Flags().Changed("event-id") {
				return errors.New("--event-id is required")
			}
			return bindEvent(cmd, g, id, &eventID)
		})
	cmd.Flags().Int64Var(&eventID, "event-id", 0, "event id")
	return cmd
}

func usersUnbindEventCmd(g *globals) *cobra.Command {
	return idCommand("unbind-event --id N", "Remove a staff user's event binding and end its sessions; prints {\"id\": N}",
		"Unbinds user N from its event; when it had one, everything it holds ends, as with users revoke-session.",
		func(cmd *cobra.Command, id int64) error { return bindEvent(cmd, g, id, nil) })
}
