package device

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// devicesCmd is `cashless-auth devices`: registering and retiring the POS devices this lane
// logs in.
func devicesCmd(cli *core.CLI) *cobra.Command {
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
			return cli.WithStore(cmd.Context(), func(db *store.DB) error {
				id, err := store.NewDevices(db).Create(cmd.Context(), store.NewDevice{EventID: eventID, MAC: norm, Name: name, OperatorID: op})
				if errors.Is(err, store.ErrReference) {
					return errors.New("the event or operator does not exist")
				}
				if errors.Is(err, store.ErrConflict) {
					return errors.New("a device with this MAC at this event already exists")
				}
				if err != nil {
					return err
				}
				return core.PrintID(cmd.OutOrStdout(), id)
			})
		},
	}
	f := create.Flags()
	f.Int64Var(&eventID, "event-id", 0, "event the device sells at")
	f.StringVar(&mac, "mac", "", "MAC address (any case, separators : - . or none)")
	f.StringVar(&name, "name", "", "display name")
	f.Int64Var(&operatorID, "operator-id", 0, "operator associated with the device")
	cmd.AddCommand(create, archiveCmd(cli))
	return cmd
}

// archiveCmd retires a device: it can no longer log in or get tokens, and the tokens issued to
// it until now are refused by POST /tokens/verify on every replica (a POS checking offline
// tokens itself still accepts them until they expire); its MAC stays taken at its event.
func archiveCmd(cli *core.CLI) *cobra.Command {
	var id int64
	archive := &cobra.Command{
		Use: "archive", Short: "Archive a device and end its tokens; prints {\"id\": N}", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("id") {
				return errors.New("--id is required")
			}
			return cli.WithRevoker(cmd.Context(), cmd.ErrOrStderr(), func(r *core.Revoker) error {
				err := r.ArchiveDevice(cmd.Context(), id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("device %d does not exist", id)
				}
				if err != nil {
					return err
				}
				return core.PrintID(cmd.OutOrStdout(), id)
			})
		},
	}
	archive.Flags().Int64Var(&id, "id", 0, "device id")
	return archive
}
