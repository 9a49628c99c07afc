// Package canary judges a canary deployment against its stable baseline
// over the same window, the way Kayenta does: per metric a statistical test
// (Mann–Whitney U for latency, a two-proportion z-test for the error rate)
// and an effect size, so a difference that is significant but too small to
// matter does not fail a canary; then a weighted score and a verdict of
// pass, marginal, fail or inconclusive. Too few requests is inconclusive,
// never pass.
//
// The statistics are pure functions over plain data, checked against
// SciPy; reading the samples from the store is the caller's job.
package canary
