package apikeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/revocation"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Output formats of api-keys list.
const (
	outputJSON  = "json"
	outputTable = "table"
)

// apiKeysCommand is `cashless-auth api-keys list|revoke`, the module's own commands on its
// own data (Plugin.Commands): an operator audits or revokes keys without an admin token.
func apiKeysCommand(cli *core.CLI) *cobra.Command {
	group := &cobra.Command{Use: "api-keys", Short: "List and revoke the API keys of events' clients"}
	group.AddCommand(listCommand(cli), revokeCommand(cli))
	return group
}

func listCommand(cli *core.CLI) *cobra.Command {
	var (
		event  int64
		output string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API keys, live and revoked (never the key or its hash)",
		Long: "Prints one JSON object per key and line: id, event_id, name, key_prefix, scopes, created_at, revoked_at\n" +
			"(null while live). -o table prints columns for people instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != outputJSON && output != outputTable {
				return fmt.Errorf("--output: must be %s or %s, got %q", outputJSON, outputTable, output)
			}
			var only *int64
			if cmd.Flags().Changed("event") {
				only = &event
			}
			return cli.WithStore(cmd.Context(), func(db *store.DB) error {
				keys, err := NewEventClients(db).List(cmd.Context(), only)
				if err != nil {
					return err
				}
				if output == outputTable {
					return printTable(cmd.OutOrStdout(), keys)
				}
				return printJSONLines(cmd.OutOrStdout(), keys)
			})
		},
	}
	cmd.Flags().Int64Var(&event, "event", 0, "only the keys of this event id")
	cmd.Flags().StringVarP(&output, "output", "o", outputJSON, "json (one object per line) or table")
	return cmd
}

// listedKey is what list shows of a key: no hash, and no key, which is never stored.
type listedKey struct {
	ID        int64      `json:"id"`
	EventID   int64      `json:"event_id"`
	Name      string     `json:"name"`
	KeyPrefix string     `json:"key_prefix"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func listed(c EventClient) listedKey {
	return listedKey{ID: c.ID, EventID: c.EventID, Name: c.Name, KeyPrefix: c.Prefix, Scopes: c.Scopes,
		CreatedAt: c.CreatedAt, RevokedAt: c.RevokedAt}
}

func printJSONLines(w io.Writer, keys []EventClient) error {
	enc := json.NewEncoder(w)
	for _, c := range keys {
		if err := enc.Encode(listed(c)); err != nil {
			return err
		}
	}
	return nil
}

func printTable(w io.Writer, keys []EventClient) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEVENT\tNAME\tPREFIX\tSCOPES\tCREATED\tREVOKED")
	for _, c := range keys {
		revoked := "-"
		if c.RevokedAt != nil {
			revoked = c.RevokedAt.Format(time.RFC3339)
		}
		scopes := strings.Join(c.Scopes, ",")
		if scopes == "" {
			scopes = "-"
		}
		// Names are free text from the API: quoted, so a tab or newline cannot forge a row.
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.EventID, strconv.Quote(c.Name), c.Prefix,
			scopes, c.CreatedAt.Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

func revokeCommand(cli *core.CLI) *cobra.Command {
	var id int64
	cmd := &cobra.Command{
		Use:   "revoke --id N",
		Short: "Revoke an API key: it never verifies again",
		Long: "Revokes key N as DELETE /tokens/api-key/{key_id} does. Revoking a revoked key succeeds and says so;\n" +
			"an unknown id fails.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			revoked, err := revoke(cmd.Context(), cli, cmd.ErrOrStderr(), id)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no API key with id %d", id)
			}
			if err != nil {
				return err
			}
			if revoked {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "API key %d revoked\n", id)
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "API key %d was already revoked\n", id)
			}
			return err
		},
	}
	cmd.Flags().Int64Var(&id, "id", 0, "id of the key (api-keys list)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

// revoke revokes key id through the service's own code. With redis.url the revocation is
// pushed to every replica's verify cache, as the HTTP revocation is; without it (the embedded
// backend, whose cache lives in the serving process) the database alone carries it, and the
// serving process stops accepting the key when its cached entry expires.
func revoke(ctx context.Context, cli *core.CLI, stderr io.Writer, id int64) (bool, error) {
	db, cfg, err := cli.OpenStore(ctx)
	if err != nil {
		return false, err
	}
	defer db.Close()
	clients := NewEventClients(db)
	if cfg.Redis.URL == "" {
		revoked, err := clients.Revoke(ctx, id)
		if err == nil {
			fmt.Fprintf(stderr, "without redis.url the serving process applies this within redis.cache_ttl (%s)\n", cfg.Redis.CacheTTL)
		}
		return revoked, err
	}
	client, err := state.OpenRedis(cfg.Redis.URL)
	if err != nil {
		return false, fmt.Errorf("redis.url: %w", err)
	}
	defer client.Close()
	st := state.NewRedis(client, cfg.Redis.Prefix)
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// A started cache joins the replicas' membership, so Revoke waits for each to confirm.
	cache := revocation.New[map[string]any](st, cacheChannel, cfg.Redis.CacheTTL)
	if err := cache.Start(ctx); err != nil {
		return false, fmt.Errorf("apikeys: join the replicas' revocations: %w", err)
	}
	defer cache.Stop()
	return NewService(nil, clients, cache).Revoke(ctx, id)
}
