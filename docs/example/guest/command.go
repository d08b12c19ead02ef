package guest

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// visitsCommand is `cashless-auth guest visits`: one JSON object per wristband.
func visitsCommand(cli *core.CLI) *cobra.Command {
	group := &cobra.Command{Use: "guest", Short: "Day guests' wristbands"}
	group.AddCommand(&cobra.Command{Use: "visits", Short: "List wristbands and their sign-ins", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.WithStore(cmd.Context(), func(db *store.DB) error {
				var rows []struct {
					Code   string `db:"code" json:"code"`
					Gate   string `db:"gate" json:"gate"`
					Visits int    `db:"visits" json:"visits"`
				}
				if err := db.X.SelectContext(cmd.Context(), &rows, `SELECT code, gate, visits FROM guest_visits ORDER BY code`); err != nil {
					return db.Err(cmd.Context(), "guest.visits", err)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, r := range rows {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
				return nil
			})
		}})
	return group
}
