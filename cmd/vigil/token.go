package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
	"github.com/vigil-dev/vigil/web/client"
)

// openCredentials opens the store for a command that manages credentials.
// These commands work on the store directly, as vigil import does; the
// embedded store is open in one process at a time.
func openCredentials(ctx context.Context, g *globalOptions) (store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := backend.Open(ctx, g.storeURL, g.dataDir)
	if errors.Is(err, store.ErrLocked) {
		if sf, found, _ := readServerFile(g.dataDir); found {
			return nil, fmt.Errorf("%w: vigil serve (pid %d, at %s) holds it; stop it first: credentials are managed on the store, which is open in one process at a time", err, sf.PID, sf.URL)
		}
		return nil, fmt.Errorf("%w (is vigil serve running on %s? stop it first: the embedded store is open in one process at a time)", err, g.dataDir)
	}
	return st, err
}

// cliActor names the person running a command in the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli:unknown"
}

func newTokenCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create, list and revoke API tokens for machines"}
	cmd.AddCommand(newTokenCreateCmd(g), newTokenListCmd(g), newTokenRevokeCmd(g))
	return cmd
}

func newTokenCreateCmd(g *globalOptions) *cobra.Command {
	var tenant, role, expires, name string
	var remote serverOptions
	c := &cobra.Command{
		Use:   "create --tenant T --role R",
		Short: "Make an API token and print it once",
		Long: `Makes an API token for one tenant and one role and prints it on standard
output, alone on its line, once: only its hash is stored, so it cannot be
shown again. Send it as "Authorization: Bearer <token>" (for OTLP SDKs:
OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer <token>").

Roles: viewer (reads), editor (also silences and billing imports), operator
(also runs actions), admin (everything, including sending data and the
audit log), ingest (only sends data). --tenant '*' makes a token that holds
the role in every tenant, e.g. a viewer to scrape /metrics.

On the store, or through a running Vigil with --server (or by itself when
vigil serve holds the embedded store) and an admin's token in VIGIL_TOKEN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			now := time.Now().UTC()
			exp, err := auth.ParseExpiry(expires, now)
			if err != nil {
				return fmt.Errorf("--%w", err)
			}
			st, api, err := remote.open(cmd, g, tokenHeaderTenant(tenant))
			if err != nil {
				return err
			}
			var tok string
			var rec store.APIToken
			if api != nil {
				made, err := api.CreateToken(cmd.Context(), client.TokenRequest{Name: name, Tenant: tenant, Role: r.String(), Expires: expires})
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), made.Token)
				fmt.Fprintf(cmd.ErrOrStderr(), "token %s: %s in tenant %s, expires %s; it is shown only this once\n", made.ID, made.Role, made.Tenant, whenPtr(made.Expires, "never"))
				return nil
			}
			defer st.Close()
			tok, rec, err = auth.CreateToken(cmd.Context(), st, auth.TokenSpec{Name: name, Tenant: tenant, Role: r, Expires: exp}, cliActor(), now)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s: %s in tenant %s, expires %s; it is shown only this once\n", rec.ID, rec.Role, rec.Tenant, when(rec.Expires, "never"))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&tenant, "tenant", "", "the tenant the token acts in ('*' for every tenant)")
	f.StringVar(&role, "role", "", "viewer, editor, operator, admin or ingest")
	f.StringVar(&expires, "expires", "never", "how long the token lives: days (90d), a duration (12h) or never")
	f.StringVar(&name, "name", "", "what the token is for, shown by vigil token list")
	remote.register(f, "admin", client.DefaultTimeout)
	c.MarkFlagRequired("tenant")
	c.MarkFlagRequired("role")
	withEnvHelp(c)
	return c
}

func whenPtr(t *time.Time, zero string) string {
	if t == nil {
		return zero
	}
	return when(*t, zero)
}

// tokenHeaderTenant is the tenant a token command asks a server as: the
// token's own, or none (the caller's) for a token of every tenant, which
// is no tenant a request can act in.
func tokenHeaderTenant(t string) string {
	if t == auth.AllTenants {
		return ""
	}
	return t
}

func when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

func newTokenListCmd(g *globalOptions) *cobra.Command {
	var output, tenant string
	var remote serverOptions
	c := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Long: `Lists every API token, revoked and expired ones too (--tenant: one
tenant's). The last use is recorded at most once an hour. Through a
running Vigil (--server), the tokens its admin token manages: an admin
of every tenant sees all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output: want text or json, got %q", output)
			}
			if tenant != "" {
				if err := auth.ValidTenant(tenant); err != nil {
					return fmt.Errorf("--tenant: %w", err)
				}
			}
			st, api, err := remote.open(cmd, g, tokenHeaderTenant(tenant))
			if err != nil {
				return err
			}
			var infos []auth.TokenInfo
			if api != nil {
				if infos, err = api.Tokens(cmd.Context(), tenant); err != nil {
					return err
				}
			} else {
				defer st.Close()
				toks, err := st.Tokens(cmd.Context())
				if err != nil {
					return err
				}
				now := time.Now()
				for _, t := range toks {
					if tenant == "" || t.Tenant == tenant {
						infos = append(infos, auth.DescribeToken(t, now))
					}
				}
			}
			return writeTokens(cmd.OutOrStdout(), infos, output)
		},
	}
	c.Flags().StringVar(&output, "output", "text", "text or json")
	c.Flags().StringVar(&tenant, "tenant", "", "only this tenant's tokens ('*': the tokens of every tenant)")
	remote.register(c.Flags(), "admin", client.DefaultTimeout)
	withEnvHelp(c)
	return c
}

func writeTokens(w io.Writer, toks []auth.TokenInfo, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(append([]auth.TokenInfo{}, toks...))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTENANT\tROLE\tSTATUS\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Tenant, t.Role, t.Status, when(t.Created, "-"), whenPtr(t.Expires, "never"), whenPtr(t.LastUsed, "never"))
	}
	return tw.Flush()
}

func newTokenRevokeCmd(g *globalOptions) *cobra.Command {
	var remote serverOptions
	c := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token for good",
		Long:  "Revokes a token by the id vigil token list shows. Running servers refuse it within a few seconds (they trust a token's row for 5 s).",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, api, err := remote.open(cmd, g, "")
			if err != nil {
				return err
			}
			if api != nil {
				tok, err := api.RevokeToken(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked at %s\n", tok.ID, whenPtr(tok.Revoked, "-"))
				return nil
			}
			defer st.Close()
			tok, err := auth.RevokeToken(cmd.Context(), st, args[0], cliActor(), time.Now().UTC())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked at %s\n", tok.ID, when(tok.Revoked, "-"))
			return nil
		},
	}
	remote.register(c.Flags(), "admin", client.DefaultTimeout)
	withEnvHelp(c)
	return c
}

func newAdminCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Manage the local admin account"}
	pw := &cobra.Command{
		Use:   "password",
		Short: "Change the local admin's password",
		Long: `Sets the local admin's password to one read from standard input (typed
without echo on a terminal, or the first line of a pipe). At least 12
characters. Only its argon2id hash is stored; signed-in sessions stay
signed in.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := readPassword(cmd)
			if err != nil {
				return err
			}
			st, err := openCredentials(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := auth.SetPassword(cmd.Context(), st, auth.AdminUser, password, cliActor(), time.Now().UTC()); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%w (vigil serve creates the local admin on its first start)", err)
				}
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "the password of admin is changed")
			return nil
		},
	}
	withEnvHelp(pw)
	cmd.AddCommand(pw)
	return cmd
}

// readPassword reads a new password from standard input, without echo on
// a terminal.
func readPassword(cmd *cobra.Command) (string, error) {
	if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), "New password for admin: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(b), err
	}
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("cannot read the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
