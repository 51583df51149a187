package main

import (
	"fmt"
	"os"

	"github.com/gitward/gitward/config"
	"github.com/spf13/cobra"
)

func newConfigCommand(env config.LookupEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check and describe gitward's configuration files",
		// Without Args and RunE, cobra shows help and exits 0 for a
		// mistyped subcommand such as "config valdate".
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var server bool
	validate := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a .gitward.yaml (or, with --server, a server config); exit 2 with every problem's line when invalid",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if server {
				if _, err := config.LoadServer(path, env); err != nil {
					return exitCode(2, fmt.Errorf("invalid server config:\n%w", err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid server config\n", path)
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return exitCode(2, err)
			}
			if _, err := config.ParseRepo(path, data); err != nil {
				return exitCode(2, fmt.Errorf("invalid repository config:\n%w", err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid gitward repository config (version 1)\n", path)
			return nil
		},
	}
	validate.Flags().BoolVar(&server, "server", false, "validate a server config instead of a .gitward.yaml")
	var schemaServer bool
	schema := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of .gitward.yaml (or, with --server, of the server config) for editors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := config.RepoSchema()
			if schemaServer {
				s = config.ServerSchema()
			}
			_, err := cmd.OutOrStdout().Write(s)
			return err
		},
	}
	schema.Flags().BoolVar(&schemaServer, "server", false, "print the server config's schema")
	envCmd := &cobra.Command{
		Use:   "env",
		Short: "List the GITWARD_* environment variables and the server config keys they set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for _, v := range config.EnvVars() {
				note := ""
				if v.Secret {
					note = "  (secret value; never printed)"
				}
				if _, err := fmt.Fprintf(w, "%-42s %s%s\n", v.Name, v.Key, note); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.AddCommand(validate, schema, envCmd)
	return cmd
}
