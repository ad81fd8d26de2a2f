/* sigma_mod.h - Sigma value modifiers that rewrite values (private to detect/).
 *
 * A value becomes a list of byte-string alternatives. Transforms run in the
 * order the rule names them, each on every alternative:
 *   wide/utf16le, utf16be, utf16 (with BOM)  - UTF-8 text to UTF-16 bytes
 *   base64                                   - standard alphabet, padded
 *   base64offset                             - the three shifted encodings of pySigma
 *   windash                                  - "-" or "/" starting a word becomes each
 *                                              of - / en-dash em-dash horizontal-bar
 * Wildcards are glob bytes (SIGMA_GLOB_STAR/ONE); base64 of a wildcard is refused
 * (the encoded wildcard would be meaningless). All output lives in the arena. */
#ifndef CW_DETECT_SIGMA_MOD_H
#define CW_DETECT_SIGMA_MOD_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"

struct sigma_strs {
    char **s;
    uint32_t *n;
    uint32_t count, cap;
};

enum sigma_xform { SX_UTF16LE = 1, SX_UTF16BE, SX_UTF16, SX_BASE64, SX_BASE64OFF, SX_WINDASH };

/* Sigma string syntax to glob bytes: '*' and '?' are wildcards, '\' escapes
 * '*', '?' and '\', any other '\' is literal. Returns 0 or -1 (*why set). */
int sigma_str_to_glob(struct cw_arena *a, const char *s, size_t n, char **out, uint32_t *outn,
                      const char **why);
/* Append one string (copied) to the list. 0 or -1. */
int sigma_strs_add(struct cw_arena *a, struct sigma_strs *l, const char *s, size_t n);
/* Apply transform x to every alternative; replaces *l. 0 or -1 with *why. */
int sigma_xform_apply(struct cw_arena *a, enum sigma_xform x, struct sigma_strs *l,
                      const char **why);

#endif
