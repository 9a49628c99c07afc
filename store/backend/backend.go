// Package backend opens the store a URL names: clickhouse://... for
// ClickHouse, or the embedded DuckDB store under the data directory when the
// URL is empty or embedded://.
package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// Open opens the store rawURL names, creating or migrating its schema.
func Open(ctx context.Context, rawURL, dataDir string) (store.Store, error) {
	scheme, _, _ := strings.Cut(rawURL, "://")
	switch {
	case rawURL == "" || rawURL == "embedded://":
		if dataDir == "" {
			return nil, fmt.Errorf("the embedded store needs a data directory (--data-dir)")
		}
		return embedded.Open(ctx, dataDir)
	case scheme == "clickhouse":
		cfg, err := clickhouse.ParseURL(rawURL)
		if err != nil {
			return nil, err
		}
		return clickhouse.Open(ctx, cfg)
	default:
		return nil, fmt.Errorf("cannot use store URL %q: want clickhouse://host:9000/db or embedded:// (or none for the embedded store)", redact(rawURL))
	}
}

// Describe names a store URL for logs without its password.
func Describe(rawURL, dataDir string) string {
	if rawURL == "" || rawURL == "embedded://" {
		return "embedded DuckDB in " + dataDir
	}
	return redact(rawURL)
}

func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return raw
	}
	userinfo := rest[:at]
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx@" + rest[at+1:]
	}
	return raw
}
