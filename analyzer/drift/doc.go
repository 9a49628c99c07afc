// Package drift compares a reference sample with a current one, column by
// column, and says whether the distribution moved: the statistics
// (Kolmogorov–Smirnov, chi-square, Z-test, PSI, Jensen–Shannon,
// Wasserstein, Hellinger, L∞), Evidently's automatic choice of test, a
// dataset verdict, and a reader that turns CSV files into typed columns.
//
// The statistics are pure functions over plain slices, written to give the
// same numbers as SciPy 1.10 and Evidently so results can be checked
// against published tools. Where those tools are known to misbehave — bin
// counts silently ignored, NaN or constant columns crashing, tiny samples
// giving confident answers — this package does the documented better thing:
// an explicit bin count is used, missing values are dropped and counted,
// constant columns get defined answers, and columns with fewer than
// Options.MinSamples values on either side are reported as
// StatusNotEnoughData instead of drifted or not.
package drift
