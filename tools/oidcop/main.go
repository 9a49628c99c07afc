// Command oidcop is a real OpenID provider for Vigil's end-to-end tests:
// the example provider of github.com/zitadel/oidc (its sign-in page, the
// code flow with PKCE, its discovery document and keys) with one client
// and one user, whose groups it asserts in the groups claim. It is a
// module of its own so that the provider and what it needs never enter
// Vigil's build.
//
// It listens on -addr and prints its issuer URL on standard output.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	host := flag.String("host", "localhost", "host of the issuer URL (the port is the one listened on)")
	clientID := flag.String("client-id", "vigil", "the client's id")
	clientSecret := flag.String("client-secret", "", "the client's secret")
	redirect := flag.String("redirect-uri", "", "the client's redirect URI")
	user := flag.String("user", "alice", "the user's name on the sign-in page")
	password := flag.String("password", "", "the user's password")
	email := flag.String("email", "alice@example.com", "the user's email")
	groups := flag.String("groups", "", "the user's groups, comma-separated")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	issuer := "http://" + net.JoinHostPort(*host, port) + "/"

	storage.RegisterClients(storage.WebClient(*clientID, *clientSecret, *redirect))
	u := &storage.User{ID: "id-" + *user, Username: *user, Password: *password, FirstName: *user, Email: *email, EmailVerified: true, PreferredLanguage: language.English}
	st := groupsStorage{Storage: storage.NewStorage(users{u}), groups: strings.Split(*groups, ",")}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	router := exampleop.SetupServer(issuer, st, logger, false)
	fmt.Println(issuer)
	log.Fatal(http.Serve(ln, router))
}

// users is a user store of one user.
type users struct{ u *storage.User }

func (s users) GetUserByID(id string) *storage.User {
	if id == s.u.ID {
		return s.u
	}
	return nil
}

func (s users) GetUserByUsername(name string) *storage.User {
	if name == s.u.Username {
		return s.u
	}
	return nil
}

func (s users) ExampleClientID() string { return storage.ServiceUserID }

// groupsStorage asserts the user's groups in the ID token and the
// userinfo, as Keycloak, Dex or Okta do once set up to.
type groupsStorage struct {
	*storage.Storage
	groups []string
}

func (s groupsStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	ui.AppendClaims("groups", s.groups)
	return nil
}

func (s groupsStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	ui.AppendClaims("groups", s.groups)
	return nil
}
