/* util.c: diagnostics, checked allocation, buffers and temporary-file
 * clean-up for the CLI. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int inb_verbose;
const char *inb_argv0 = "inbuilt";

/* Print prefix, the message, and strerror(errno) after a trailing ':'. */
static void
vreport(const char *prefix, const char *fmt, va_list ap)
{
    int err = errno;
    size_t n = strlen(fmt);

    fprintf(stderr, "%s: %s", inb_argv0, prefix);
    vfprintf(stderr, fmt, ap);
    if (n > 0 && fmt[n - 1] == ':') {
        fprintf(stderr, " %s", strerror(err));
    }
    fputc('\n', stderr);
}

void
inb_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("error: ", fmt, ap);
    va_end(ap);
    exit(1); /* the atexit handler removes temporary files */
}

void
inb_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void
inb_note(const char *fmt, ...)
{
    va_list ap;

    if (!inb_verbose) {
        return;
    }
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void *
inb_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL) {
        inb_fatal("out of memory (%zu bytes)", size);
    }
    return p;
}

void *
inb_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL) {
        inb_fatal("out of memory (%zu bytes)", size);
    }
    return p;
}

char *
inb_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(inb_xmalloc(n), s, n);
}

char *
inb_xstrndup(const char *s, size_t n)
{
    char *d;

    n = strnlen(s, n);
    d = inb_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
inb_xprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        inb_fatal("cannot format a message");
    }
    s = inb_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void
inb_buf_add(struct inb_buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        b->data = inb_xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, data, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

void
inb_buf_addstr(struct inb_buf *b, const char *s)
{
    inb_buf_add(b, s, strlen(s));
}

void
inb_buf_free(struct inb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int
inb_buf_readfile(struct inb_buf *b, const char *path)
{
    char chunk[65536];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        return -1;
    }
    b->len = 0;
    inb_buf_add(b, "", 0);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        inb_buf_add(b, chunk, n);
    }
    if (ferror(f)) {
        int err = errno;

        fclose(f);
        errno = err;
        return -1;
    }
    fclose(f);
    return 0;
}

/* Registered temporary paths.  Signal handlers read this list, so it is
 * only changed with signals blocked. */
#define MAX_CLEANUP 16
static char *cleanup_paths[MAX_CLEANUP];
static int cleanup_installed;

/* Remove path: a file, or a directory holding only files.  Uses only
 * calls that are safe in a signal handler, but opendir; the directory
 * case runs from exit paths in practice. */
static void
remove_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    char sub[4096];

    if (lstat(path, &st) < 0) {
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    d = opendir(path);
    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 ||
                strcmp(de->d_name, "..") == 0) {
                continue;
            }
            if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) <
                sizeof(sub)) {
                unlink(sub);
            }
        }
        closedir(d);
    }
    rmdir(path);
}

void
inb_cleanup_run(void)
{
    int i;

    for (i = 0; i < MAX_CLEANUP; i++) {
        if (cleanup_paths[i] != NULL) {
            remove_path(cleanup_paths[i]);
        }
    }
}

static void
on_signal(int sig)
{
    inb_cleanup_run();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Run f on the registry with catchable signals blocked. */
static void
with_signals_blocked(void (*f)(const char *), const char *path)
{
    sigset_t all, old;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    f(path);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void
do_add(const char *path)
{
    int i;

    for (i = 0; i < MAX_CLEANUP; i++) {
        if (cleanup_paths[i] == NULL) {
            cleanup_paths[i] = inb_xstrdup(path);
            return;
        }
    }
    inb_fatal("too many temporary files");
}

static void
do_forget(const char *path)
{
    int i;

    for (i = 0; i < MAX_CLEANUP; i++) {
        if (cleanup_paths[i] != NULL &&
            (path == NULL || strcmp(cleanup_paths[i], path) == 0)) {
            free(cleanup_paths[i]);
            cleanup_paths[i] = NULL;
        }
    }
}

void
inb_cleanup_add(const char *path)
{
    if (!cleanup_installed) {
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
        size_t i;

        cleanup_installed = 1;
        atexit(inb_cleanup_run);
        for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
            signal(sigs[i], on_signal);
        }
    }
    with_signals_blocked(do_add, path);
}

void
inb_cleanup_forget(const char *path)
{
    with_signals_blocked(do_forget, path);
}

void
inb_argv_add(char ***argv, size_t *argc, const char *word)
{
    *argv = inb_xrealloc(*argv, (*argc + 2) * sizeof(**argv));
    (*argv)[(*argc)++] = inb_xstrdup(word);
    (*argv)[*argc] = NULL;
}

void
inb_argv_free(char **argv, size_t argc)
{
    size_t i;

    for (i = 0; i < argc; i++) {
        free(argv[i]);
    }
    free(argv);
}

void
inb_split_words(const char *s, char ***argv, size_t *argc)
{
    const char *p = s;

    while (*p != '\0') {
        const char *start;
        char *word;

        while (*p == ' ' || *p == '\t' || *p == '\n') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n') {
            p++;
        }
        word = inb_xmalloc((size_t)(p - start) + 1);
        memcpy(word, start, (size_t)(p - start));
        word[p - start] = '\0';
        inb_argv_add(argv, argc, word);
        free(word);
    }
}

int
inb_record_next(struct inb_buf *b, size_t *pos, char **key, char **value)
{
    while (*pos < b->len) {
        char *rec = b->data + *pos, *eq;

        /* The buffer's spare byte keeps a last record terminated. */
        *pos += strnlen(rec, b->len - *pos) + 1;
        eq = strchr(rec, '=');
        if (eq != NULL) {
            *eq = '\0';
            *key = rec;
            *value = eq + 1;
            return 1;
        }
    }
    return 0;
}

void
inb_strv_add(struct inb_strv *l, const char *s)
{
    l->v = inb_xrealloc(l->v, (l->n + 1) * sizeof(char *));
    l->v[l->n++] = inb_xstrdup(s);
}

int
inb_strv_has(const struct inb_strv *l, const char *s)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
inb_strv_sort(struct inb_strv *l)
{
    if (l->n > 1) {
        qsort(l->v, l->n, sizeof(char *), compare_strings);
    }
}

void
inb_strv_free(struct inb_strv *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int
inb_is_identifier(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!(ch == '_' || (ch >= 'a' && ch <= 'z') ||
              (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch >= 0x80)) {
            return 0;
        }
    }
    return 1;
}

int
inb_is_dotted_name(const char *s, size_t n)
{
    const char *end = s + n, *dot;

    for (;;) {
        dot = memchr(s, '.', (size_t)(end - s));
        if (!inb_is_identifier(s, (size_t)((dot ? dot : end) - s))) {
            return 0;
        }
        if (dot == NULL) {
            return 1;
        }
        s = dot + 1;
    }
}

int
inb_is_top_name(const char *s, size_t n)
{
    return n > 0 && s[0] != '-' && memchr(s, '.', n) == NULL &&
           memchr(s, '/', n) == NULL && memchr(s, '\0', n) == NULL;
}

int
inb_is_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

int
inb_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

size_t
inb_job_slots(void)
{
    const char *env = getenv("INBUILT_JOBS");
    long n = env != NULL && *env ? strtol(env, NULL, 10)
                                 : sysconf(_SC_NPROCESSORS_ONLN);

    return n >= 1 ? (size_t)n : 1;
}

int
inb_make_dirs(const char *path)
{
    char *p = inb_xstrdup(path), *s;
    int rc = 0;

    for (s = p + 1; rc == 0; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;

            *s = '\0';
            if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                rc = -1;
            }
            *s = c;
            if (c == '\0') {
                break;
            }
        }
    }
    free(p);
    return rc;
}

int
inb_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int
inb_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void
inb_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        inb_fatal("cannot write %s:", path);
    }
}

int
inb_try_temp_dir(char *path)
{
    if (mkdtemp(path) == NULL) {
        return -1;
    }
    inb_cleanup_add(path);
    return 0;
}

void
inb_make_temp_dir(char *path)
{
    if (inb_try_temp_dir(path) < 0) {
        inb_fatal("cannot create a temporary directory %s:", path);
    }
}

const char *
inb_temp_root(void)
{
    const char *tmpdir = getenv("TMPDIR");

    return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

char *
inb_new_temp_dir(const char *prefix)
{
    char *path = inb_xprintf("%s/%s-XXXXXX", inb_temp_root(), prefix);

    inb_make_temp_dir(path);
    return path;
}

/* RFC 3492's bias adaptation, for punycode(). */
static unsigned long
puny_adapt(unsigned long delta, unsigned long points, int first)
{
    unsigned long k = 0;

    delta = first ? delta / 700 : delta / 2;
    delta += delta / points;
    while (delta > ((36 - 1) * 26) / 2) {
        delta /= 36 - 1;
        k += 36;
    }
    return k + (36 * delta) / (delta + 38);
}

/* Append to b the punycode (RFC 3492, as Python's "punycode" codec) of the
 * n code points cp. */
static void
punycode(struct inb_buf *b, const unsigned long *cp, size_t n)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned long code = 128, delta = 0, bias = 72, m, q, t, k;
    size_t i, h, basic = 0;

    for (i = 0; i < n; i++) {
        if (cp[i] < 128) {
            char c = (char)cp[i];

            inb_buf_add(b, &c, 1);
            basic++;
        }
    }
    if (basic > 0) {
        inb_buf_addstr(b, "-");
    }
    for (h = basic; h < n; delta++, code++) {
        for (m = ULONG_MAX, i = 0; i < n; i++) {
            if (cp[i] >= code && cp[i] < m) {
                m = cp[i];
            }
        }
        delta += (m - code) * (h + 1);
        code = m;
        for (i = 0; i < n; i++) {
            if (cp[i] < code) {
                delta++;
            }
            if (cp[i] != code) {
                continue;
            }
            for (q = delta, k = 36;; k += 36) {
                t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                if (q < t) {
                    break;
                }
                inb_buf_add(b, &digits[t + (q - t) % (36 - t)], 1);
                q = (q - t) / (36 - t);
            }
            inb_buf_add(b, &digits[q], 1);
            bias = puny_adapt(delta, (unsigned long)h + 1, h == basic);
            delta = 0;
            h++;
        }
    }
}

char *
inb_init_name(const char *name)
{
    const char *last = strrchr(name, '.'), *p;
    struct inb_buf b = {0};
    unsigned long *cp;
    size_t n = 0, i;

    last = last ? last + 1 : name;
    if (inb_is_ascii(last)) {
        return inb_xprintf("PyInit_%s", last);
    }
    /* PEP 489: "PyInitU_" and the punycode of the name, '-' made '_'.
     * The name is UTF-8 (a file name that passed inb_is_identifier). */
    cp = inb_xmalloc((strlen(last) + 1) * sizeof(*cp));
    for (p = last; *p != '\0'; n++) {
        unsigned char c = (unsigned char)*p++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

        cp[n] = more ? c & (0x3f >> more) : c;
        for (; more > 0 && ((unsigned char)*p & 0xc0) == 0x80; more--) {
            cp[n] = (cp[n] << 6) | ((unsigned char)*p++ & 0x3f);
        }
    }
    inb_buf_addstr(&b, "PyInitU_");
    punycode(&b, cp, n);
    free(cp);
    for (i = 0; i < b.len; i++) {
        if (b.data[i] == '-') {
            b.data[i] = '_';
        }
    }
    return b.data;
}

double
inb_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
inb_step_done(const char *what)
{
    static double last;
    double t = inb_now();

    if (last != 0) {
        inb_note("%s: %.3f s", what, t - last);
    }
    last = t;
}
