// Package dashboards owns Vigil's Grafana dashboards: generating them from
// what Vigil knows (the SLOs of the config directory, the services and
// models its spans name, their costs, and Vigil's own metrics), checking
// them as Grafana's schema would, writing them for Grafana's file
// provisioning or grafana-operator, pushing them through Grafana's HTTP
// API, and keeping a Grafana's SLO dashboards in step with the config
// directory from the analyzer (Sync records a reload's changed SLO
// dashboards as events, Pusher delivers them through the dispatcher).
//
// Every dashboard reads Vigil through two data sources with fixed uids:
// vigil-prometheus (Vigil's Prometheus API, /prometheus) and vigil-jaeger
// (Vigil's Jaeger query API), chosen through the dashboard variables
// ${datasource} and ${traces} so a user can point a copy elsewhere.
// Generation is a pure function of its Inventory: the same input gives
// the same bytes, and each dashboard keeps its uid across runs, so a push
// is an upsert and an unchanged dashboard is not written again.
package dashboards
