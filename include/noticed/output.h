#pragma once
/* Output for programs: a JSON array written one element per line, so that line tools (grep,
 * wc -l) work on it as well as JSON parsers.  One writer for every array noticectl prints
 * (list, simulate, history).  Errors of the stream itself surface at fflush()/ferror(). */

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Writes o (taking the reference) as the next element: "[\n" before the first, ",\n" before
 * the others.  0, or -ENOMEM (also when o is NULL: a constructor that ran out of memory). */
int output_json_element(FILE *out, json_t *o, bool *first);
/* Closes the array: "[]" when it had no element. */
void output_json_end(FILE *out, bool first);
