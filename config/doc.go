// Package config owns the configuration directory (--config-dir): it
// finds the YAML files, parses each of them once with positions, hands
// every top-level key and every apiVersion/kind document to the section
// that claims it, and reports problems as file:line messages. Reloader
// reads the directory again when it changes and keeps the last good
// reading in force while an edit is broken.
//
// # Sections
//
// A domain package owns a part of the directory and says so with a value
// it exports, a *Section[T]: the top-level keys it claims (slos, budgets,
// drift, ...), the apiVersion/kind documents it claims (OpenSLO's), and
// New, which starts one reading. cmd/vigil passes the sections to
// NewRegistry; nothing registers itself, and config imports no domain
// package (they import config). A new part of the directory, such as
// actions or dashboards, is one more Section passed to the registry; two
// sections cannot claim one key or kind.
//
// For each reading the registry calls New once, then the decoder's Decode
// for every item the section claims, in file order (files sorted by path;
// documents, and keys within a document, as written), then Done, which
// returns the section's value (a T such as []*slo.SLO or
// *cost.CostConfig) and the problems only the whole directory shows (a
// name defined twice, a reference to nothing). A section checks what it
// claims and reports problems at their lines; it never sees another
// section's keys, and keeps nothing between readings, so a reading that
// fails leaves the one in force untouched.
//
// # Checks across sections
//
// What one section refers to in another (an action policy naming an SLO,
// a canary monitor or a budget) is checked once every section is Done, by
// the referring section's Check: it is given the whole reading, reads the
// other sections' values with their Of, and reports a reference to
// nothing at its own file and line. The sections it reads are handed to
// it by cmd/vigil, as config imports no domain package. LoadSection,
// which reads one section alone, runs no checks: only the whole registry
// can tell a reference to nothing from one to a section not read.
//
// A section may also claim the mapping documents of another tool whole,
// known by one key's value (Formats: Sloth's version: prometheus/v1): such
// a document is handed over as one item, as an apiVersion/kind document
// is, rather than key by key, since its keys mean what that tool says.
//
// A consumer reads a section's value from the reading in force with
// Section.Of: slos := sloSection.Of(reloader.Current()).
//
// # Nothing unclaimed
//
// What no section claims is an error, never silence: a top-level key no
// section claims (with "did you mean" for a near miss), an apiVersion no
// section reads, a kind its apiVersion does not have, a document that is
// neither a mapping nor a list of apiVersion/kind objects, and the
// formats of other tools (Sloth, Pyrra, Prometheus rule files, ...),
// which are named.
package config
