/* setup.c: Setup files (CPython's Modules/Setup syntax, read by its
 * makesetup script) as a manifest of built-in extension modules:
 *
 *     # comment
 *     ZLIB = -lz
 *     *static*
 *     mypkg._speedups src/speedups.c src/util.c -Iinclude -DFAST=1 $(ZLIB)
 *     *disabled*
 *     _broken broken.c
 */
#include "setup.h"

#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The variables defined so far. */
struct vars {
    struct inb_strv names, values;
};

/* The value of variable name[0..n): the file's, else the environment's, else
 * NULL. */
static const char *
var_get(const struct vars *v, const char *name, size_t n)
{
    char *key = inb_xprintf("%.*s", (int)n, name);
    const char *value = NULL;
    size_t i = v->names.n;

    while (i-- > 0) {
        if (strcmp(v->names.v[i], key) == 0) {
            value = v->values.v[i];
            break;
        }
    }
    if (value == NULL) {
        value = getenv(key);
    }
    free(key);
    return value;
}

/* New string: line with $(NAME) and ${NAME} replaced by their values. */
static char *
expand(const struct vars *v, const char *line, const char *where)
{
    struct inb_buf b = {0};
    const char *p = line;

    inb_buf_addstr(&b, "");
    while (*p) {
        const char *close, *value;

        if (p[0] != '$' || (p[1] != '(' && p[1] != '{')) {
            inb_buf_add(&b, p++, 1);
            continue;
        }
        close = strchr(p + 2, p[1] == '(' ? ')' : '}');
        if (close == NULL) {
            inb_fatal("%s: unterminated variable reference %s", where, p);
        }
        value = var_get(v, p + 2, (size_t)(close - p - 2));
        if (value == NULL) {
            inb_fatal("%s: variable %.*s is not defined in the file nor in "
                      "the environment",
                      where, (int)(close - p - 2), p + 2);
        }
        inb_buf_addstr(&b, value);
        p = close + 1;
    }
    return b.data;
}

/* If line is `NAME = value`, record it and return 1; else 0. */
static int
definition(struct vars *v, const char *line)
{
    const char *p = line, *eq;
    char *value;
    size_t n;

    if (!(isalpha((unsigned char)*p) || *p == '_')) {
        return 0;
    }
    while (isalnum((unsigned char)*p) || *p == '_') {
        p++;
    }
    n = (size_t)(p - line);
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p != '=') {
        return 0;
    }
    eq = p + 1;
    while (*eq == ' ' || *eq == '\t') {
        eq++;
    }
    value = inb_xprintf("%.*s", (int)n, line);
    inb_strv_add(&v->names, value);
    free(value);
    inb_strv_add(&v->values, eq);
    return 1;
}

/* Whether word, a dotted name, is rather a file name (a.c, x.o): its
 * last part is a suffix of a source, object or library. */
static int
is_file_name(const char *word)
{
    static const char *const suffixes[] = {"c", "C", "cc", "cpp", "cxx",
                                           "o", "a", "so", NULL};
    const char *dot = strrchr(word, '.');
    size_t i;

    for (i = 0; dot != NULL && suffixes[i] != NULL; i++) {
        if (strcmp(dot + 1, suffixes[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Declare the modules of one module line (words, NUL-separated in place)
 * found at where. */
static void
module_line(struct inb_exts *l, char *line, const char *dir, const char *where)
{
    struct inb_strv names = {0}, words = {0};
    char *word, *save = NULL;
    size_t i, j;
    int in_names = 1;

    for (word = strtok_r(line, " \t", &save); word != NULL;
         word = strtok_r(NULL, " \t", &save)) {
        /* Leading words that are names; the first other word ends them. */
        if (in_names && inb_is_dotted_name(word, strlen(word)) &&
            !is_file_name(word)) {
            inb_strv_add(&names, word);
            continue;
        }
        in_names = 0;
        inb_strv_add(&words, word);
    }
    if (names.n == 0) {
        inb_fatal("%s: a module line starts with the module's name, not %s",
                  where, words.v[0]);
    }
    for (i = 0; i < names.n; i++) {
        struct inb_ext *e = inb_ext_new(l, names.v[i], where);

        for (j = 0; j < words.n; j++) {
            if (inb_ext_word(e, words.v[j], dir) < 0) {
                inb_fatal("%s: %s is not a source (.c, .cc, .cpp, .cxx), "
                          "object (.o), library (.a, .so, -lNAME, -LDIR) or "
                          "compiler flag (-I, -D, -U, -C)",
                          where, words.v[j]);
            }
        }
    }
    inb_strv_free(&names);
    inb_strv_free(&words);
}

void
inb_setup_read(struct inb_exts *l, const char *path)
{
    struct inb_buf text = {0}, logical = {0};
    struct vars v = {{0}, {0}};
    char *copy = inb_xstrdup(path), *dir = dirname(copy), *p, *next;
    size_t lineno = 0, first = 0;
    int disabled = 0;

    if (inb_buf_readfile(&text, path) < 0) {
        inb_fatal("--setup %s: cannot read it:", path);
    }
    for (p = text.data; p != NULL && *p; p = next) {
        char *end = strchr(p, '\n'), *hash, *line, *where;
        size_t n;

        next = end ? end + 1 : NULL;
        if (end != NULL) {
            *end = '\0';
        }
        lineno++;
        if (logical.len == 0) {
            first = lineno;
        }
        hash = strchr(p, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        n = strlen(p);
        while (n > 0 && isspace((unsigned char)p[n - 1])) {
            p[--n] = '\0';
        }
        if (n > 0 && p[n - 1] == '\\' && hash == NULL) {
            p[n - 1] = ' ';
            inb_buf_addstr(&logical, p);
            continue;
        }
        inb_buf_addstr(&logical, p);
        line = logical.data;
        while (isspace((unsigned char)*line)) {
            line++;
        }
        where = inb_xprintf("%s:%zu", path, first);
        if (*line == '\0' || definition(&v, line)) {
            /* blank, comment or variable */
        }
        else if (*line == '*') {
            if (strcmp(line, "*static*") == 0 ||
                strcmp(line, "*shared*") == 0) {
                disabled = 0;
            }
            else if (strcmp(line, "*disabled*") == 0) {
                disabled = 1;
            }
            else {
                inb_fatal("%s: unknown tag line %s (expected *static*, "
                          "*shared* or *disabled*)",
                          where, line);
            }
        }
        else if (!disabled) {
            char *expanded = expand(&v, line, where);

            module_line(l, expanded, dir, where);
            free(expanded);
        }
        free(where);
        logical.len = 0;
        logical.data[0] = '\0';
    }
    inb_buf_free(&logical);
    inb_buf_free(&text);
    inb_strv_free(&v.names);
    inb_strv_free(&v.values);
    free(copy);
}
