package main

import "github.com/spf13/cobra"

func (m *Main) usageCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "usage",
		Short: "Find who still uses the service, which features, and when it is quiet, from access logs",
	}
}
