package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Command runs one subcommand: serve (the default), migrate, user create,
// apikey create. Output meant for the operator goes to out.
func Command(ctx context.Context, cfg *Config, args []string, out, errOut io.Writer) error {
	log := NewLogger(cfg)
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		svc, err := Open(cfg, log)
		if err != nil {
			return err
		}
		defer svc.Close()
		return svc.Run(ctx)
	case "migrate":
		svc, err := Open(cfg, log) // Open applies the migrations
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "migrations applied")
		return svc.Close()
	case "user":
		return userCommand(cfg, args, out)
	case "apikey":
		return apikeyCommand(cfg, args, out, errOut)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `usage: cronpulse [command]

commands:
  serve                                        start the service (default)
  migrate                                      apply database migrations and exit
  user create --email E --password P [--role admin|operator|viewer]
  apikey create --name N --permissions 'read:jobs,write:jobs'
                                               print a new API key (shown once)
`

func userCommand(cfg *Config, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: cronpulse user create --email E --password P [--role admin]")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(out)
	email := fs.String("email", "", "e-mail address (login)")
	password := fs.String("password", "", "password, at least 8 characters")
	role := fs.String("role", "admin", "admin, operator or viewer")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	svc, err := Open(cfg, NewLogger(cfg))
	if err != nil {
		return err
	}
	defer svc.Close()
	u, err := svc.Store.CreateUser(*email, *password, *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s created with role %s\n", u.Email, u.Role)
	return nil
}

// apikeyCommand prints the key alone on stdout (so KEY=$(cronpulse apikey
// create …) works) and a note about it on stderr.
func apikeyCommand(cfg *Config, args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: cronpulse apikey create --name N --permissions 'read:jobs,write:jobs'")
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(out)
	name := fs.String("name", "", "a name to recognise the key by")
	perms := fs.String("permissions", "", "comma-separated: read:projects,write:projects,read:jobs,write:jobs or *")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	svc, err := Open(cfg, NewLogger(cfg))
	if err != nil {
		return err
	}
	defer svc.Close()
	k, secret, err := svc.Store.CreateAPIKey(*name, strings.Split(*perms, ","))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n", secret)
	fmt.Fprintf(errOut, "key %q (%s) with permissions %s; it is shown only this once\n", k.Name, k.Prefix, k.Permissions)
	return nil
}
