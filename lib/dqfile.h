/*
 * dqfile.h — the DQDL file rules (FileFreshness, FileSize, FileMatch,
 * FileUniqueness) evaluated on local paths, independent of the records.
 *
 *	FileFreshness "PATH" > (now() - 3 days)     last modification time
 *	FileFreshness "DIR/" between "2024-01-01" and "2024-02-01"
 *	FileSize "PATH" < 10 MB                     size in bytes
 *	FileSize "DIR/" between 1 KB and 1 GB with threshold > 0.7
 *	FileMatch "PATH1" "PATH2"                   the same contents
 *	FileMatch "PATH" in ["<hex digest>", ...] [with hashAlgorithm = "MD5"]
 *	FileUniqueness "DIR/" > 0.9                 share of distinct contents
 *
 * The files of a path.  A path that names a regular file (a symbolic link
 * to one is followed) is that one file.  A path that names a directory (a
 * link to one is followed) stands for every regular file below it, at any
 * depth, as an S3 prefix stands for every object under it; links to
 * regular files inside it are followed, links to directories are not
 * (no loops), and other kinds of files (fifos, sockets, devices) are not
 * data files and are left out.  A dangling link inside it, or a file that
 * cannot be read, makes the rule ERROR.  Files are taken in byte order of
 * their paths, so messages name the same first file every run.
 *
 * Outcomes.  FileFreshness and FileSize hold when every file satisfies the
 * condition, or, with `with threshold`, when the share of files that do
 * (Compliance, 0-1) satisfies the threshold.  FileMatch with a list holds
 * when every file's checksum is in the list (hex, any letter case;
 * `not in` / `!=`: none is); with two paths, when their files have the
 * same contents as multisets (each file of one has its own identical file
 * in the other; names do not matter), or, `with matchFileName = "true"`,
 * when the files pair up by their path below the given one and each pair
 * is identical.  FileUniqueness compares (number of distinct contents /
 * number of files) with its condition; `with matchFileName = "true"` also
 * counts files with the same base name as duplicates.
 *
 * A path that does not exist is FAIL (the file the rule is about is not
 * there: a data problem, not a tool problem), as is a path with no files
 * (an empty directory).  A path with a URL scheme (`s3://...`, any case)
 * is ERROR: "s3:// paths are not supported here: give a local path".
 *
 * Tags: hashAlgorithm = "MD5" | "SHA-1" | "SHA-256" (the default);
 * recentFiles = N (only the N most recently modified files); uriRegex =
 * "ERE" (only files whose path matches the POSIX extended regular
 * expression; Java-only syntax such as look-ahead is an ERROR);
 * filterOrder naming uriRegex before recentFiles applies the regex first
 * (default: recentFiles first); matchFileName (above).
 *
 * Metrics (names as the reference reports them; Compliance is a share,
 * 0-1; sizes in bytes):
 *	FileFreshness   Dataset.*.FileFreshness.Compliance, Dataset.*.FileCount
 *	FileSize        Dataset.*.FileSize.Compliance, Dataset.*.FileCount,
 *	                Dataset.*.MaximumFileSize, Dataset.*.MinimumFileSize
 *	FileMatch       Dataset.*.FileCount (files of both paths)
 *	FileUniqueness  Dataset.*.FileUniquenessRatio, Dataset.*.FileCount
 * A missing path or an empty directory reports FileCount 0 alone; an ERROR
 * reports no metrics.
 *
 * Checksums are computed with OpenSSL EVP, reading each file as a stream in
 * fixed-size blocks (constant memory whatever the file size).
 */
#ifndef TS_DQFILE_H
#define TS_DQFILE_H

#include <stddef.h>

#include "dqdl.h"

struct ts_dqfile_metric {
	char name[128];         /* "Dataset.*.FileSize.Compliance", ... */
	double value;
};

struct ts_dqfile_result {
	int outcome;            /* 0 PASS, 1 FAIL, 2 ERROR (the order of
	                           dq.h's enum ts_dq_outcome) */
	char message[512];      /* why it failed or errored, "" when it passed */
	struct ts_dqfile_metric metrics[8];
	size_t nmetrics;
};

/*
 * Evaluate r, a leaf rule of type FileFreshness, FileSize, FileMatch or
 * FileUniqueness, with env (now(), history and time zone for the
 * condition's operands; NULL: now() is the current time, no history).
 * Fills *res completely.  Returns 0 when the rule was evaluated, whatever
 * its outcome (a missing path, an s3:// path, an unreadable file are a FAIL
 * or ERROR in res, not a return value); -1 only when r is not a leaf file
 * rule (res then holds an ERROR saying so).  Allocates nothing that
 * outlives the call.
 *
 * A rule written without a path (`FileSize < 10 MB`: Glue infers the files
 * from the data frame) is an ERROR here; see ts_dqfile_eval_inferred().
 */
int ts_dqfile_eval(const struct ts_dq_rule *r, const struct ts_dq_env *env,
		   struct ts_dqfile_result *res);

/*
 * The same, with the files a rule without a path applies to: the inputs
 * the records came from (inferred[0..ninferred), local paths; "-" for
 * standard input is an ERROR, it is not a file).  Rules with a path ignore
 * them.  ts_dqfile_eval() is this with ninferred = 0.
 */
int ts_dqfile_eval_inferred(const struct ts_dq_rule *r, const struct ts_dq_env *env,
			    const char *const *inferred, size_t ninferred,
			    struct ts_dqfile_result *res);

#endif
