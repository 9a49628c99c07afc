package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/web/client"
)

// actionsCLI are the flags every vigil actions command shares: the
// server to ask, as whom, for which tenant.
type actionsCLI struct {
	server, token, tenant string
	timeout               time.Duration
}

func newActionsCmd() *cobra.Command {
	o := &actionsCLI{}
	cmd := &cobra.Command{
		Use:   "actions",
		Short: "List, show and decide on actions, and turn the kill switch, through a running Vigil",
		Long: `Talks to a running Vigil's API (--server) as the token's owner: reads
need a viewer's token, decisions an operator's, pause and resume an admin's
of every tenant. Every decision is made on a version of the action (by
default the one read just before; --version names the one you read with
vigil actions show) and is recorded in the audit log.

Exit codes: 0 done; 1 the server refused (no such action, it changed
since its version, its state does not allow it, a missing role); 2 a
usage error, or the server could not be asked.`,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.server, "server", "http://127.0.0.1:8080", "URL of a running vigil web role")
	f.StringVar(&o.token, "token", "", "API token to send; prefer its environment twin, which stays out of the process list")
	f.StringVar(&o.tenant, "tenant", "", "tenant to act in; empty for the token's own")
	f.DurationVar(&o.timeout, "server-timeout", client.DefaultTimeout, "how long to wait for the server's answer")
	cmd.AddCommand(o.listCmd(), o.showCmd(), o.statusCmd(), o.switchCmd(true), o.switchCmd(false))
	for _, verb := range []actions.Verb{actions.VerbApprove, actions.VerbReject, actions.VerbAbort, actions.VerbRetry} {
		cmd.AddCommand(o.decideCmd(verb))
	}
	withEnvHelp(cmd)
	return cmd
}

// usage is a command used wrongly: exit code 2.
func usage(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// oneID takes the action's id as the only argument.
func oneID(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usage("want the action's id (vigil actions list shows them), got %d arguments", len(args))
	}
	return nil
}

// asked gives the server's answers their exit codes: 1 when it refused,
// 2 when it could not be asked.
func asked(err error) error {
	var apiErr *client.APIError
	if err == nil || errors.As(err, new(*exitError)) {
		return err
	}
	if errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 {
		return &exitError{code: 1, err: err}
	}
	return &exitError{code: 2, err: err}
}

func (o *actionsCLI) client() (*client.Client, error) {
	c, err := client.New(o.server, client.Options{Tenant: o.tenant, Timeout: o.timeout, Token: o.token})
	if err != nil {
		return nil, usage("--server: %w", err)
	}
	return c, nil
}

// run is a command's body with the client, its errors given exit codes.
func (o *actionsCLI) run(body func(ctx context.Context, c *client.Client, args []string, w io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := o.client()
		if err != nil {
			return err
		}
		return asked(body(cmd.Context(), c, args, cmd.OutOrStdout()))
	}
}

func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return usage("--output: want text or json, got %q", output)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (o *actionsCLI) listCmd() *cobra.Command {
	var q client.ActionQuery
	var states []string
	var since time.Duration
	var output string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the tenant's actions, newest proposal first",
		Args:  cobra.NoArgs,
		RunE: o.run(func(ctx context.Context, c *client.Client, args []string, w io.Writer) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			for _, s := range states {
				q.States = append(q.States, actions.State(s))
			}
			if since > 0 {
				q.From = time.Now().Add(-since)
			}
			page, err := c.Actions(ctx, q)
			switch {
			case err != nil:
				return err
			case output == "json":
				return writeJSON(w, page)
			}
			return writeActions(w, page)
		}),
	}
	f := c.Flags()
	f.StringSliceVar(&states, "state", nil, "only these states (proposed, approved, executing, verifying, succeeded, failed, ...)")
	f.StringVar(&q.Policy, "policy", "", "only this policy's actions")
	f.StringVar(&q.Target, "target", "", "only actions on this target, by its key (kubernetes/Deployment/NAMESPACE/NAME)")
	f.DurationVar(&since, "since", 0, "only actions proposed within this long; 0 for all the server keeps (a week)")
	f.IntVar(&q.Limit, "limit", 100, "at most this many")
	f.StringVar(&q.PageToken, "page-token", "", "the next page, as a list printed it")
	f.StringVar(&output, "output", "text", "text or json")
	withEnvHelp(c)
	return c
}

func writeActions(w io.Writer, page client.ActionsPage) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tPOLICY\tMODE\tTARGET\tCHANGE\tPROPOSED\tVERSION")
	for _, a := range page.Actions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", a.ID, a.State, a.Policy, a.Mode, a.Target, a.Change, when(a.Proposed, "-"), a.Version)
	}
	if page.NextPageToken != "" {
		fmt.Fprintf(tw, "more: --page-token %s\n", page.NextPageToken)
	}
	return tw.Flush()
}

func (o *actionsCLI) showCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Show one action: its evidence, plan and timeline",
		Args:  oneID,
		RunE: o.run(func(ctx context.Context, c *client.Client, args []string, w io.Writer) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			a, err := c.Action(ctx, args[0])
			switch {
			case err != nil:
				return err
			case output == "json":
				return writeJSON(w, a)
			}
			return writeAction(w, a)
		}),
	}
	c.Flags().StringVar(&output, "output", "text", "text or json (the evidence in full)")
	withEnvHelp(c)
	return c
}

func writeAction(w io.Writer, a *actions.Action) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "action\t%s (version %d)\n", a.ID, a.Version)
	fmt.Fprintf(tw, "policy\t%s (%s)\n", a.Policy, a.Mode)
	fmt.Fprintf(tw, "target\t%s (%s)\n", a.Target, a.Target.Executor)
	fmt.Fprintf(tw, "state\t%s, attempt %d\n", a.State, a.Attempt)
	fmt.Fprintf(tw, "change\t%s %s\n", a.Plan.Operation, a.Plan.Diff())
	fmt.Fprintf(tw, "evidence\t%s: %s\n", a.Evidence.Kind, a.Evidence.Summary)
	fmt.Fprintln(tw, "timeline")
	for _, s := range a.Timeline {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", when(s.At, "-"), s.State, s.Actor, oneLine(s.Reason))
	}
	return tw.Flush()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// decideCmd is approve, reject, abort or retry.
func (o *actionsCLI) decideCmd(verb actions.Verb) *cobra.Command {
	var reason, key string
	var version int
	short := map[actions.Verb]string{
		actions.VerbApprove: "Approve a proposed action: it executes once every guardrail allows",
		actions.VerbReject:  "Reject a proposed or approved action (--reason is required)",
		actions.VerbAbort:   "Abort an action: one not executed is rejected, one being verified fails without a revert",
		actions.VerbRetry:   "Approve a failed action's next attempt",
	}[verb]
	c := &cobra.Command{
		Use:   string(verb) + " ID",
		Short: short,
		Args:  oneID,
		RunE: o.run(func(ctx context.Context, c *client.Client, args []string, w io.Writer) error {
			if verb == actions.VerbReject && strings.TrimSpace(reason) == "" {
				return usage("reject needs --reason")
			}
			id, v, k := args[0], version, key
			if v == 0 {
				a, err := c.Action(ctx, id)
				if err != nil {
					return err
				}
				v = a.Version
			}
			if k == "" {
				k = randomKey()
			}
			a, err := c.Decide(ctx, id, verb, reason, v, k)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "action %s is %s (version %d): %s %s %s\n", a.ID, a.State, a.Version, a.Plan.Operation, a.Target, a.Plan.Diff())
			return nil
		}),
	}
	f := c.Flags()
	f.StringVar(&reason, "reason", "", "why, for the audit log")
	f.IntVar(&version, "version", 0, "the action's version the decision is made on, as vigil actions show printed it; 0 for the one read just before")
	f.StringVar(&key, "idempotency-key", "", "makes the decision once when the command is run again with the same key; empty for a random one")
	withEnvHelp(c)
	return c
}

func randomKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "cli-" + hex.EncodeToString(b)
}

// switchCmd is pause (on) or resume.
func (o *actionsCLI) switchCmd(on bool) *cobra.Command {
	var reason string
	use, short := "resume", "Turn the kill switch off: approved actions execute again"
	if on {
		use, short = "pause", "Turn the kill switch on: nothing executes or reverts, in any tenant, until resume"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: o.run(func(ctx context.Context, c *client.Client, args []string, w io.Writer) error {
			ks, err := c.SetPaused(ctx, on, reason)
			if err != nil {
				return err
			}
			return writeKillSwitch(w, ks)
		}),
	}
	c.Flags().StringVar(&reason, "reason", "", "why, for the status and the audit log")
	withEnvHelp(c)
	return c
}

func writeKillSwitch(w io.Writer, ks actions.KillSwitch) error {
	state := "running"
	if ks.Paused {
		state = "paused"
	}
	if ks.Flag {
		state += " (held by --actions.paused)"
	}
	if ks.Since != nil {
		state += fmt.Sprintf(", turned by %s at %s", ks.Actor, when(*ks.Since, "-"))
		if ks.Reason != "" {
			state += ": " + ks.Reason
		}
	}
	_, err := fmt.Fprintf(w, "actions %s\n", state)
	return err
}

func (o *actionsCLI) statusCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the kill switch and the tenant's policies, and which cannot be evaluated",
		Args:  cobra.NoArgs,
		RunE: o.run(func(ctx context.Context, c *client.Client, args []string, w io.Writer) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			st, err := c.ActionsStatus(ctx)
			switch {
			case err != nil:
				return err
			case output == "json":
				return writeJSON(w, st)
			}
			if err := writeKillSwitch(w, st.KillSwitch); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "POLICY\tMODE\tWHEN\tDO\tTARGET\tEVALUABLE\tPROBLEMS")
			for _, p := range st.Policies {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%s\n", p.Name, p.Mode, p.Trigger, p.Operation, p.Target, p.Evaluable, strings.Join(p.Problems, "; "))
			}
			return tw.Flush()
		}),
	}
	c.Flags().StringVar(&output, "output", "text", "text or json")
	withEnvHelp(c)
	return c
}
