package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// errSessionsInProcess: without redis.url, sessions live in the serving process's memory,
// which no other process can read.
var errSessionsInProcess = errors.New("users sessions needs redis.url: without it the serving process keeps sessions " +
	"in its own memory (the admin sees them at GET /admin/sessions; users revoke-session ends them all)")

// listedSession is what users sessions prints of one session, as GET /admin/sessions shows
// it (no current one: the command is nobody's session). Never a token.
type listedSession struct {
	SessionID       string     `json:"session_id"`
	CreatedAt       *time.Time `json:"created_at"`
	LastRefreshedAt *time.Time `json:"last_refreshed_at"`
	Lane            *string    `json:"lane"`
	IPPrefix        *string    `json:"ip_prefix"`
	UserAgent       *string    `json:"user_agent"`
}

func listedSessionOf(in sessions.Info) listedSession {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return listedSession{SessionID: in.ID, CreatedAt: at(in.Created), LastRefreshedAt: at(in.Refreshed),
		Lane: opt(in.Lane), IPPrefix: opt(in.Network), UserAgent: opt(in.UserAgent)}
}

const sessionHeader = "SESSION\tCREATED\tREFRESHED\tLANE\tNETWORK\tUSER AGENT"

func sessionCells(s listedSession) []string {
	text := func(p *string) string {
		if p == nil {
			return "-"
		}
		return cell(*p)
	}
	return []string{s.SessionID, timeCell(s.CreatedAt), timeCell(s.LastRefreshedAt), text(s.Lane), text(s.IPPrefix), text(s.UserAgent)}
}

func usersSessionsCmd(g *globals) *cobra.Command {
	var (
		id     int64
		output string
	)
	cmd := &cobra.Command{
		Use: "sessions --id N", Short: "List a staff user's active sessions (never a token)",
		Long: "Prints one JSON object per live session and line, newest first: session_id, created_at,\n" +
			"last_refreshed_at, lane, ip_prefix (/24 or /48), user_agent; -o table prints columns instead.\n" +
			"Sessions are read from the replicas' shared state (redis.url). users revoke-session ends them all.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("id") {
				return errors.New("--id is required")
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				u, err := store.NewUsers(db).ByID(cmd.Context(), id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("user %d does not exist", id)
				}
				if err != nil {
					return err
				}
				live, err := listSessions(cmd.Context(), g, u)
				if err != nil {
					return err
				}
				rows := make([]listedSession, len(live))
				for i, in := range live {
					rows[i] = listedSessionOf(in)
				}
				return printRows(cmd.OutOrStdout(), output, rows, sessionHeader, sessionCells)
			})
		},
	}
	cmd.Flags().Int64Var(&id, "id", 0, "user id")
	outputFlag(cmd, &output)
	return cmd
}

// listSessions reads u's sessions from the configured Redis.
func listSessions(ctx context.Context, g *globals, u store.User) ([]sessions.Info, error) {
	_, cfg, err := load(g)
	if err != nil {
		return nil, err
	}
	if cfg.Redis.URL == "" {
		return nil, errSessionsInProcess
	}
	client, err := state.OpenRedis(cfg.Redis.URL)
	if err != nil {
		return nil, fmt.Errorf("redis.url: %w", err)
	}
	defer client.Close()
	st := state.NewRedis(client, cfg.Redis.Prefix)
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s := sessions.New(nil, st, sessions.Config{AccessTTL: cfg.JWT.AccessTTL, RefreshTTL: cfg.JWT.RefreshTTL}, nil)
	return s.List(ctx, u.Role, strconv.FormatInt(u.ID, 10))
}
