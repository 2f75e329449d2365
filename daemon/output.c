/* JSON arrays, one element per line (see output.h). */

#include <errno.h>
#include <stdlib.h>

#include "noticed/output.h"

/* The element is serialised into a buffer and written once: json_dumpf() writes token by
 * token, which made stdio's locked fwrite() a quarter of the run time of a large simulate. */
int output_json_element(FILE *out, json_t *o, bool *first) {
        char buf[1024], *big = NULL;
        size_t n;

        if (!o)
                return -ENOMEM;
        n = json_dumpb(o, buf, sizeof(buf), JSON_COMPACT);
        if (n > sizeof(buf)) {
                big = malloc(n);
                if (!big) {
                        json_decref(o);
                        return -ENOMEM;
                }
                n = json_dumpb(o, big, n, JSON_COMPACT);
        }
        json_decref(o);
        if (n == 0) {
                free(big);
                return -ENOMEM;
        }
        fputs(*first ? "[\n" : ",\n", out);
        *first = false;
        (void) fwrite(big ? big : buf, 1, n, out); /* errors surface at fflush()/ferror() */
        free(big);
        return 0;
}

void output_json_end(FILE *out, bool first) {
        fputs(first ? "[]\n" : "\n]\n", out);
}
