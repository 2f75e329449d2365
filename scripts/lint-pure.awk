# make lint-pure: one pure module's preprocessed source in, its violations out (one a line,
# FILE:LINE: message), exit 1 if there is any.  Reading the preprocessor's output rather than
# the source sees through comments, includes of includes and macros.
#
#   $(CC) $(CFLAGS) -E daemon/date.c | awk -v module=date -v headers="sqlite3.h ..." \
#           -v calls="time open ..." -f scripts/lint-pure.awk
#
# headers: path endings that must not be reached ("systemd/sd-" matches any sd-*.h); reported
# once, where the module's chain of includes first enters one.  calls: functions that read the
# clock or the disk; reported where the module's own .c or .h calls them (or uses a macro that
# does).  The line markers (# LINE "FILE" FLAGS) say which file each line comes from.

BEGIN {
        n_headers = split(headers, banned_header, " ");
        n_calls = split(calls, banned_call, " ");
        own_c = "daemon/" module ".c";
        own_h = "include/noticed/" module ".h";
        depth = 0;
        found = 0;
}

function banned(path,   i) {
        for (i = 1; i <= n_headers; i++)
                if (index("/" path, "/" banned_header[i]) > 0)
                        return banned_header[i];
        return "";
}

function short(path) {
        sub("^.*/usr/include/(x86_64-linux-gnu/)?", "", path);
        return path;
}

/^# [0-9]+ "/ {
        file = $3;
        gsub("\"", "", file);
        flags = "";
        for (i = 4; i <= NF; i++)
                flags = flags " " $i;
        if (flags ~ / 1( |$)/) {
                # Entering an include: the parent's counter is at the #include's line.
                parent[depth] = cur;
                parent_line[depth] = line;
                depth++;
                b = banned(file);
                if (b != "" && banned(cur) == "" && !(file in seen)) {
                        seen[file] = 1;
                        printf "%s:%d: pure module %s reaches %s (banned: %s)\n",
                               short(cur), parent_line[depth - 1], module, short(file), b;
                        found++;
                }
        } else if (flags ~ / 2( |$)/ && depth > 0)
                depth--;
        cur = file;
        line = $2;
        next;
}

{
        if (cur == own_c || cur == own_h) {
                s = $0;
                gsub(/"([^"\\]|\\.)*"/, "\"\"", s); # string literals are not calls
                for (i = 1; i <= n_calls; i++)
                        if (s ~ ("(^|[^A-Za-z0-9_.>])" banned_call[i] "[ \t]*\\(")) {
                                printf "%s:%d: pure module %s calls %s()\n", cur, line, module,
                                       banned_call[i];
                                found++;
                        }
        }
        line++;
}

END {
        exit found > 0;
}
