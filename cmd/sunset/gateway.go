package main

import "github.com/spf13/cobra"

// gatewayCommand is `sunset gateway`: the reverse proxy enforcing a plan in front of a service.
func (m *Main) gatewayCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "gateway",
		Short: "Enforce a plan in front of a service: Deprecation/Sunset headers, brownouts, read-only, 410",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fail("sunset gateway: not wired yet")
		},
	}
}
