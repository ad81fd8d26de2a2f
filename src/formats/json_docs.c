/* json_docs.c - see json_docs.h. A single pass tracking string state and depth. */
#include "formats/json_docs.h"

#include <stdbool.h>

#include "common/banned.h"

static bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

long cw_json_docs_to_lines(const char *in, size_t n, struct cw_buf *out)
{
    long docs = 0;
    int depth = 0;
    bool in_str = false, esc = false, array_wrap = false;
    size_t i = 0;
    while (i < n && space(in[i]))
        i++;
    if (i < n && in[i] == '[') { /* [ {...}, {...} ]: unwrap */
        array_wrap = true;
        i++;
    }
    for (; i < n; i++) {
        char c = in[i];
        if (in_str) {
            cw_buf_addc(out, c);
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (space(c) || (depth == 0 && (c == ',' || (array_wrap && c == ']'))))
            continue;
        cw_buf_addc(out, c);
        if (c == '"') {
            in_str = true;
            esc = false;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth < 0)
                return -1;
            if (depth == 0) {
                cw_buf_addc(out, '\n');
                docs++;
            }
        }
    }
    if (depth != 0 || in_str || !cw_buf_ok(out))
        return -1;
    return docs;
}
