/*
 * spill.h — records split by hash into parts on disk, to be read back part
 * by part: what a join larger than memory does (ts-diff).
 *
 * A struct ts_spill has up to TS_SPILL_MAX_PARTS parts; each is an unlinked
 * temporary file (util.h: ts_tmpfile, so nothing is left behind on any path
 * out), made when the first record goes to it, written through a 32 KiB
 * buffer.  A record is opaque bytes, stored with a 4-byte length; records
 * of a part read back in the order they were added.  Memory: the buffers of
 * the parts in use, nothing per record.
 *
 * Errors: -1 with errno (ENOSPC, EIO, ENOMEM...) and a message in
 * ts_spill_error(); a part whose read fails is damaged (our own file, cut
 * short: EIO).
 */
#ifndef TS_SPILL_H
#define TS_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TS_SPILL_MAX_PARTS 256

struct ts_spill;

/* nparts from 1 to TS_SPILL_MAX_PARTS; dir NULL: ts_tmpdir().  NULL with
 * errno. */
struct ts_spill *ts_spill_new(unsigned nparts, const char *dir);
void ts_spill_free(struct ts_spill *s);
unsigned ts_spill_parts(const struct ts_spill *s);

/* Add one record to part: the a bytes then the b bytes, as one record. */
int ts_spill_add(struct ts_spill *s, unsigned part, const void *a, size_t an,
		 const void *b, size_t bn);

/* Records and bytes (lengths included) in part. */
uint64_t ts_spill_count(const struct ts_spill *s, unsigned part);
uint64_t ts_spill_bytes(const struct ts_spill *s, unsigned part);

/* Read part from its start (after the last add to it): ts_spill_rewind,
 * then ts_spill_next until it returns 0.  next: 1 with the record in out
 * (replacing what it held), 0 at the end, -1 on an error. */
int ts_spill_rewind(struct ts_spill *s, unsigned part);
int ts_spill_next(struct ts_spill *s, unsigned part, struct ts_buf *out);
/* Done with part: its file is closed and its disk space freed. */
void ts_spill_drop(struct ts_spill *s, unsigned part);

/* Buffers held now, for a memory budget. */
uint64_t ts_spill_memory(const struct ts_spill *s);

const char *ts_spill_error(const struct ts_spill *s);

#endif
