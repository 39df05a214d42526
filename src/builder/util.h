/* util.h: diagnostics, checked allocation, growable buffers and clean-up of
 * temporary files for the CLI.  The CLI may exit; these helpers do. */
#ifndef INB_UTIL_H
#define INB_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include "inb.h"

/* A growable byte buffer; data is NUL-terminated after len bytes. */
struct inb_buf {
    char *data;
    size_t len, cap;
};

/* A growable vector of strings it owns. */
struct inb_strv {
    char **v;
    size_t n;
};

/* Set by -v: print commands and progress. */
extern int inb_verbose;
/* The program name used in diagnostics. */
extern const char *inb_argv0;

/* Print "inbuilt: error: MSG" and exit(1); a trailing ':' in fmt appends
 * strerror(errno).  Temporary files registered below are removed. */
INB_HIDDEN __attribute__((noreturn, format(printf, 1, 2))) void
inb_fatal(const char *fmt, ...);
/* Print "inbuilt: warning: MSG" (trailing ':' as for inb_fatal). */
INB_HIDDEN __attribute__((format(printf, 1, 2))) void inb_warn(const char *fmt,
                                                               ...);
/* Print "inbuilt: MSG" when verbose. */
INB_HIDDEN __attribute__((format(printf, 1, 2))) void inb_note(const char *fmt,
                                                               ...);

/* malloc, realloc, strdup and printf-to-new-string that never fail. */
INB_HIDDEN void *inb_xmalloc(size_t size);
INB_HIDDEN void *inb_xrealloc(void *ptr, size_t size);
INB_HIDDEN char *inb_xstrdup(const char *s);
/* The first n bytes of s at most, NUL-terminated, in a new block; exits
 * when out of memory. */
INB_HIDDEN char *inb_xstrndup(const char *s, size_t n);
INB_HIDDEN __attribute__((format(printf, 1, 2))) char *
inb_xprintf(const char *fmt, ...);

/* Append n bytes (or a NUL-terminated string) to b. */
INB_HIDDEN void inb_buf_add(struct inb_buf *b, const void *data, size_t n);
INB_HIDDEN void inb_buf_addstr(struct inb_buf *b, const char *s);
/* Release b's memory and reset it to empty. */
INB_HIDDEN void inb_buf_free(struct inb_buf *b);
/* Read the whole file at path into b.  Returns 0, or -1 with errno set. */
INB_HIDDEN int inb_buf_readfile(struct inb_buf *b, const char *path);
/* Write all of data[0..n) to fd (retrying short writes and EINTR).
 * Returns 0, or -1 with errno set. */
INB_HIDDEN int inb_write_all(int fd, const void *data, size_t n);

/* Step through the NUL-terminated "key=value" records a helper script
 * printed into b (see target.c): from *pos, split the next record in place
 * and point *key and *value into it.  Returns 0 at the end of b.  Records
 * without '=' are skipped. */
INB_HIDDEN int inb_record_next(struct inb_buf *b, size_t *pos, char **key,
                               char **value);

/* Append a copy of s to l. */
INB_HIDDEN void inb_strv_add(struct inb_strv *l, const char *s);
/* Whether l holds a string equal to s. */
INB_HIDDEN int inb_strv_has(const struct inb_strv *l, const char *s);
/* Sort l's strings by strcmp(). */
INB_HIDDEN void inb_strv_sort(struct inb_strv *l);
/* Free l's strings and reset it to empty. */
INB_HIDDEN void inb_strv_free(struct inb_strv *l);

/* Remove path (a file, or a directory and the files in it) when the
 * program exits early or is interrupted.  The string is copied. */
INB_HIDDEN void inb_cleanup_add(const char *path);
/* Forget path: it is no longer temporary (renamed into place, or removed
 * by the caller).  NULL forgets every path: a forked child leaves its
 * parent's to the parent. */
INB_HIDDEN void inb_cleanup_forget(const char *path);
/* Remove every registered path now (also done at exit and on signals). */
INB_HIDDEN void inb_cleanup_run(void);

/* Split s at blanks into words appended to a NULL-terminated argv vector
 * (*argv of *argc words, reallocated). */
INB_HIDDEN void inb_split_words(const char *s, char ***argv, size_t *argc);
/* Append one word to a NULL-terminated argv vector. */
INB_HIDDEN void inb_argv_add(char ***argv, size_t *argc, const char *word);
/* Free a NULL-terminated argv vector of argc words and its words. */
INB_HIDDEN void inb_argv_free(char **argv, size_t argc);

/* Create directory path and its parents (mode 0700).  Returns 0, or -1
 * with errno set. */
INB_HIDDEN int inb_make_dirs(const char *path);
/* How many compilers run at once: $INBUILT_JOBS, else the online CPUs. */
INB_HIDDEN size_t inb_job_slots(void);

/* Whether s[0..n) is one Python identifier: ASCII letters, digits (not
 * first) and '_', and any byte of a non-ASCII character (UTF-8), which
 * CPython checks exactly when it compiles or imports the name.  The one rule
 * for what an import statement can name, everywhere in the builder. */
INB_HIDDEN int inb_is_identifier(const char *s, size_t n);
/* Whether s[0..n) is identifiers joined by dots ("a.b_c"). */
INB_HIDDEN int inb_is_dotted_name(const char *s, size_t n);
/* Whether s[0..n) can name a top-level module by its file name, as
 * importlib.import_module() can (mypyc's "81d243bd2c585b0f4821__mypyc",
 * sysconfig's "_sysconfigdata__linux_x86_64-linux-gnu"): not empty, no '.'
 * (the package separator), no '/' or NUL, not starting with '-'. */
INB_HIDDEN int inb_is_top_name(const char *s, size_t n);
/* Whether the string s is ASCII (a name that can be part of a C symbol). */
INB_HIDDEN int inb_is_ascii(const char *s);

/* Whether the string s ends with suffix (s equal to suffix included). */
INB_HIDDEN int inb_ends_with(const char *s, const char *suffix);
/* Whether path names a directory (following symbolic links). */
INB_HIDDEN int inb_is_dir(const char *path);
/* Write data[0..n) to path (replacing it).  Exits on failure. */
INB_HIDDEN void inb_write_file(const char *path, const void *data, size_t n);
/* mkdtemp(path) (path ends in "XXXXXX", replaced in place) and register the
 * directory for removal at exit.  Returns 0, or -1 with errno set. */
INB_HIDDEN int inb_try_temp_dir(char *path);
/* The same, exiting with a message naming path on failure. */
INB_HIDDEN void inb_make_temp_dir(char *path);
/* Where temporary files go: $TMPDIR, or /tmp without it. */
INB_HIDDEN const char *inb_temp_root(void);
/* A new directory $TMPDIR/prefix-XXXXXX (/tmp without TMPDIR), removed at
 * exit; a malloc'd path.  Exits on failure. */
INB_HIDDEN char *inb_new_temp_dir(const char *prefix);
/* The name of the init function of the extension module name (dotted,
 * UTF-8), malloc'd: "PyInit_" and the name's last part, or for a last part
 * that is not ASCII "PyInitU_" and its punycode with '-' made '_' (PEP
 * 489), as CPython's loader looks it up. */
INB_HIDDEN char *inb_init_name(const char *name);

/* Seconds on the monotonic clock. */
INB_HIDDEN double inb_now(void);
/* Under -v, say that step what ended and how long it took since the
 * previous step. */
INB_HIDDEN void inb_step_done(const char *what);

/* How deep the builder walks a directory tree (packages, data files,
 * metadata), one limit for every walk: deeper directories are not read. */
#define INB_MAX_DIR_DEPTH 64

#endif
