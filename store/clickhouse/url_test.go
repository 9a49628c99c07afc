package clickhouse

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		url, db, cluster, addr, user, err string
	}{
		{url: "clickhouse://127.0.0.1:9000/vigil", db: "vigil", addr: "127.0.0.1:9000"},
		{url: "clickhouse://u:p@ch:9000/metrics?cluster=prod&dial_timeout=2s", db: "metrics", cluster: "prod", addr: "ch:9000", user: "u"},
		{url: "clickhouse://ch:9000", db: DefaultDatabase, addr: "ch:9000"},
		{url: "http://ch:8123/vigil", err: "scheme must be clickhouse"},
		{url: "clickhouse:///vigil", err: "names no host"},
		{url: "clickhouse://ch:9000/a/b", err: "contains '/'"},
		{url: "clickhouse://u:secret@ch:9000/x?dial_timeout=soon", err: "dial_timeout"},
		{url: "clickhouse://ch:9000/%zz", err: "cannot parse store URL"},
	}
	for _, c := range cases {
		cfg, err := ParseURL(c.url)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseURL(%q) error = %v, want one containing %q", c.url, err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseURL(%q) error shows the password: %v", c.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.url, err)
			continue
		}
		if cfg.Database != c.db || cfg.Cluster != c.cluster || strings.Join(cfg.Options.Addr, ",") != c.addr || cfg.Options.Auth.Username != c.user {
			t.Errorf("ParseURL(%q) = db %q cluster %q addr %v user %q", c.url, cfg.Database, cfg.Cluster, cfg.Options.Addr, cfg.Options.Auth.Username)
		}
	}
}

// TestClusterDDL pins the statements cluster mode sends: Replicated tables
// on every node under Distributed tables, views on the local tables.
func TestClusterDDL(t *testing.T) {
	d := ddl{database: "vigil", cluster: "prod"}
	got := strings.Join(d.createTable(table{
		name: "cost_lines", columns: "a String", engine: "ReplacingMergeTree(version)",
		partition: "toYYYYMM(b)", order: "(a)", shard: "cityHash64(a)",
	}), ";\n")
	want := "CREATE TABLE IF NOT EXISTS `vigil`.`cost_lines_local` ON CLUSTER `prod` (\n\ta String\n) " +
		"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vigil/cost_lines_local', '{replica}', version)\n" +
		"PARTITION BY toYYYYMM(b)\nORDER BY (a);\n" +
		"CREATE TABLE IF NOT EXISTS `vigil`.`cost_lines` ON CLUSTER `prod` AS `vigil`.`cost_lines_local` " +
		"ENGINE = Distributed(`prod`, `vigil`, `cost_lines_local`, cityHash64(a))"
	if got != want {
		t.Errorf("cluster DDL:\n got %s\nwant %s", got, want)
	}
	got = d.createTable(table{name: "spans", columns: "a String", engine: "MergeTree()", order: "a"})[0]
	if !strings.Contains(got, "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/vigil/spans_local', '{replica}')") {
		t.Errorf("MergeTree without arguments: %s", got)
	}
	v := d.createView(view{name: "trace_index_mv", from: "spans", to: "trace_index", query: "SELECT x FROM %s"})
	if want := "CREATE MATERIALIZED VIEW IF NOT EXISTS `vigil`.`trace_index_mv` ON CLUSTER `prod` TO `vigil`.`trace_index_local` AS SELECT x FROM `vigil`.`spans_local`"; v != want {
		t.Errorf("cluster view:\n got %s\nwant %s", v, want)
	}
	single := ddl{database: "vigil"}
	if got := single.createTable(table{name: "spans", columns: "a String", engine: "MergeTree()", order: "a"}); len(got) != 1 || strings.Contains(got[0], "Replicated") || strings.Contains(got[0], "CLUSTER") {
		t.Errorf("single-node DDL: %v", got)
	}
}

// TestColocatedShards pins the sharding keys queries rely on: a series and
// its samples on one shard (sqlq reads samples in an IN subquery on each
// shard), and a trace's spans and its index rows on one shard, chosen by
// tenant and trace id.
func TestColocatedShards(t *testing.T) {
	for _, pair := range [][2]string{{"metric_series", "metric_samples"}, {"spans", "trace_index"}} {
		a, b := tableNamed(pair[0]), tableNamed(pair[1])
		if a.shard != b.shard {
			t.Errorf("%s is sharded by %s but %s by %s", a.name, a.shard, b.name, b.shard)
		}
	}
	if got := tableNamed("spans").shard; got != "cityHash64(tenant, trace_id)" {
		t.Errorf("spans are sharded by %s", got)
	}
}
