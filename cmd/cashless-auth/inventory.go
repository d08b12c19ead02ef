package main

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

// listedEvent is what events list prints of an event.
type listedEvent struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func eventsListCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use: "list", Short: "List events",
		Long: "Prints one JSON object per event and line: id, name, created_at. -o table prints columns for people instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				evs, err := store.NewEvents(db).List(cmd.Context())
				if err != nil {
					return err
				}
				rows := make([]listedEvent, len(evs))
				for i, e := range evs {
					rows[i] = listedEvent{ID: e.ID, Name: e.Name, CreatedAt: e.CreatedAt}
				}
				return printRows(cmd.OutOrStdout(), output, rows, "ID\tNAME\tCREATED", func(e listedEvent) []string {
					return []string{strconv.FormatInt(e.ID, 10), cell(e.Name), timeCell(&e.CreatedAt)}
				})
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// listedDevice is what devices list prints of a device.
type listedDevice struct {
	ID         int64     `json:"id"`
	EventID    int64     `json:"event_id"`
	MAC        string    `json:"mac"`
	Name       string    `json:"name"`
	OperatorID *int64    `json:"operator_id"`
	Archived   bool      `json:"archived"`
	CreatedAt  time.Time `json:"created_at"`
}

func devicesListCmd(g *globals) *cobra.Command {
	var (
		eventID int64
		output  string
	)
	cmd := &cobra.Command{
		Use: "list", Short: "List devices, archived ones included",
		Long: "Prints one JSON object per device and line: id, event_id, mac, name, operator_id (null when none),\n" +
			"archived, created_at. -o table prints columns for people instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			var only *int64
			if cmd.Flags().Changed("event-id") {
				only = &eventID
			}
			return withStore(cmd.Context(), g, func(db *store.DB) error {
				ds, err := store.NewDevices(db).List(cmd.Context(), only)
				if err != nil {
					return err
				}
				rows := make([]listedDevice, len(ds))
				for i, d := range ds {
					rows[i] = listedDevice{ID: d.ID, EventID: d.EventID, MAC: d.MAC, Name: d.Name, OperatorID: d.OperatorID, Archived: d.Archived, CreatedAt: d.CreatedAt}
				}
				return printRows(cmd.OutOrStdout(), output, rows, "ID\tEVENT\tMAC\tNAME\tOPERATOR\tARCHIVED\tCREATED", func(d listedDevice) []string {
					return []string{strconv.FormatInt(d.ID, 10), strconv.FormatInt(d.EventID, 10), d.MAC, cell(d.Name),
						idCell(d.OperatorID), strconv.FormatBool(d.Archived), timeCell(&d.CreatedAt)}
				})
			})
		},
	}
	cmd.Flags().Int64Var(&eventID, "event-id", 0, "only the devices of this event")
	outputFlag(cmd, &output)
	return cmd
}
