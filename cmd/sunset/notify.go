package main

import "github.com/spf13/cobra"

// notifyCommand groups the commands that preview, test and follow notices.
func (m *Main) notifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "notify",
		Short: "Preview, test and follow the notices that tell users about a sunset",
		Args:  cobra.NoArgs,
	}
}
