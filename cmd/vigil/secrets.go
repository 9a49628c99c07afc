package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// secretFrom is a secret given either on the command line (value, of the
// flag name) or in a file (path, of the flag name-file), as a Kubernetes
// Secret is mounted: the file keeps it out of the process list and the
// shell's history. A trailing newline in the file is not part of it. An
// error names the flags and the file, never the secret.
func secretFrom(name, value, path string) (string, error) {
	switch {
	case path == "":
		return value, nil
	case value != "":
		return "", fmt.Errorf("--%s and --%s-file both given: give the secret one way", name, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s-file: %w", name, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("--%s-file %s is empty", name, path)
	}
	return s, nil
}

// readSecretFiles reads the alert receivers' secrets given as files.
func (o *roleOptions) readSecretFiles() error {
	var err error
	if o.webhookSecret, err = secretFrom("alert.webhook-secret", o.webhookSecret, o.webhookFile); err != nil {
		return err
	}
	o.slackURL, err = secretFrom("alert.slack-url", o.slackURL, o.slackFile)
	return err
}

// withStorePassword puts the password of --store-password-file into the
// store URL's user info (the user "default" when the URL names none), so
// that it is never on the command line.
func withStorePassword(storeURL, path string) (string, error) {
	if path == "" {
		return storeURL, nil
	}
	password, err := secretFrom("store-password", "", path)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(storeURL)
	if err != nil || u.Scheme != "clickhouse" {
		return "", errors.New("--store-password-file needs a clickhouse:// --store URL")
	}
	if u.User != nil {
		if _, set := u.User.Password(); set {
			return "", errors.New("--store names a password and --store-password-file gives one: give it one way")
		}
	}
	user := "default"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, password)
	return u.String(), nil
}
