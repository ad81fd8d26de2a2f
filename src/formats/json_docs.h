/* json_docs.h - concatenated JSON documents to one document per line.
 *
 * Exports of Windows event logs (evtx dumps, SIEM exports) are often pretty-
 * printed JSON objects one after another, or a JSON array of them; ingest formats
 * are line-based. This turns such a stream into NDJSON by dropping the newlines
 * and indentation between tokens (never inside strings). Input that already is
 * NDJSON passes through unchanged. */
#ifndef CW_FORMATS_JSON_DOCS_H
#define CW_FORMATS_JSON_DOCS_H

#include <stddef.h>

#include "common/buf.h"

/* Append the documents of in[0..n) to out, one per line. A top-level array is
 * unwrapped into its elements. Returns the number of documents, or -1 when the
 * nesting is unbalanced (out then holds what was complete) or out ran out of
 * memory. */
long cw_json_docs_to_lines(const char *in, size_t n, struct cw_buf *out);

#endif
