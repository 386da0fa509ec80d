/*
 * dqfile.h — the DQDL file rules (FileFreshness, FileSize, FileMatch,
 * FileUniqueness) evaluated on local paths, independent of the records.
 *
 * A path parameter names a file or a directory.  A file given by name is
 * followed if it is a symbolic link.  A directory applies to the regular
 * files directly in it (semantics, recursion, thresholds and the metrics
 * reported are written down in dqfile.c and the man page).  A path with a
 * URL scheme (`s3://...`) is Result ERROR: these rules read local files.
 *
 * Checksums (FileMatch, FileUniqueness) are computed with OpenSSL EVP,
 * reading each file as a stream in fixed-size blocks (constant memory).
 */
#ifndef TS_DQFILE_H
#define TS_DQFILE_H

#include <stddef.h>

#include "dqdl.h"

struct ts_dqfile_metric {
	char name[128];         /* "Dataset.*.FileSize", ... */
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
 * FileUniqueness, with env (now() and history for the condition's
 * operands).  Fills *res completely.  Returns 0 when the rule was evaluated
 * (whatever its outcome: an unreadable or missing path, an s3:// path and
 * the like are an ERROR or FAIL outcome in res, not a return value), -1
 * only when r is not a file rule (res then holds an ERROR saying so).
 * Allocates nothing that outlives the call.
 */
int ts_dqfile_eval(const struct ts_dq_rule *r, const struct ts_dq_env *env,
		   struct ts_dqfile_result *res);

#endif
