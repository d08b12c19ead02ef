package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"
)

// Output formats of the listing commands, as api-keys list has them: JSON for scripts, one
// object per line, and a table for people.
const (
	outputJSON  = "json"
	outputTable = "table"
)

// outputFlag adds -o/--output to cmd.
func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", outputJSON, "json (one object per line) or table")
}

func checkOutput(output string) error {
	if output != outputJSON && output != outputTable {
		return fmt.Errorf("--output: must be %s or %s, got %q", outputJSON, outputTable, output)
	}
	return nil
}

// printRows prints rows as JSON lines, or as a table of header and the cells row gives.
func printRows[T any](w io.Writer, output string, rows []T, header string, cells func(T) []string) error {
	if output == outputJSON {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
	}
	return tw.Flush()
}

// cell is free text (a name, an e-mail) as a table shows it: quoted when it holds a space, a
// control character or nothing, so that no value can forge a column or a row.
func cell(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

func idCell(id *int64) string {
	if id == nil {
		return "-"
	}
	return strconv.FormatInt(*id, 10)
}

func timeCell(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
