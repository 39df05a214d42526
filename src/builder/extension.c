/* extension.c: the built-in extension modules of a build: declared by
 * --extension, --setup (setup.c) or --bundle (capture.c), compiled here,
 * isolated by isolate.c, and listed in a generated C table,
 *
 *     const struct inb_builtin inb_builtin_table[] = {
 *         {"a.b.c._ext", inb_PyInit_a_db_dc_d__ext}, ..., {0, 0}};
 *
 * that the runtime (src/runtime/builtin.c) reads through the index stored
 * in each module's archive entry.  The renamed init function is
 * inb_PyInit_ and the dotted name with '_' written "__" and '.' "_d": a
 * one-to-one mapping, so two modules never share a symbol.
 */
#include "extension.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolate.h"
#include "records.h"
#include "spawn.h"
#include "target.h"

/* Whether path is a C++ source file (Setup's rule, and common suffixes). */
static int
is_cxx_source(const char *path)
{
    return inb_ends_with(path, ".cc") || inb_ends_with(path, ".cpp") ||
           inb_ends_with(path, ".cxx") || inb_ends_with(path, ".C") ||
           inb_ends_with(path, ".c++");
}

const struct inb_ext *
inb_ext_find(const struct inb_exts *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].name, name) == 0) {
            return &l->v[i];
        }
    }
    return NULL;
}

struct inb_ext *
inb_ext_new(struct inb_exts *l, const char *name, const char *origin)
{
    const struct inb_ext *old = inb_ext_find(l, name);
    struct inb_ext *e;

    /* init_symbol() keeps the C symbol ASCII whatever the name. */
    if (!inb_is_dotted_name(name, strlen(name))) {
        inb_fatal("%s: %s is not a module name for a built-in extension "
                  "(dotted identifiers, like mypkg.core._kernels)",
                  origin, name);
    }
    if (old != NULL) {
        inb_fatal("extension module %s is declared twice: by %s and by %s; "
                  "keep one",
                  name, old->origin, origin);
    }
    l->v = inb_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    e->name = inb_xstrdup(name);
    e->origin = inb_xstrdup(origin);
    return e;
}

int
inb_ext_word(struct inb_ext *e, const char *word, const char *dir)
{
    char *path;

    if (word[0] == '-') {
        if (strchr("IDUC", word[1]) != NULL && word[1] != '\0') {
            if (word[1] == 'I' && word[2] != '/' && dir != NULL) {
                path = inb_xprintf("-I%s/%s", dir, word + 2);
                inb_strv_add(&e->cflags, path);
                free(path);
            }
            else {
                inb_strv_add(&e->cflags, word);
            }
            return 0;
        }
        /* Other compiler options: warnings, -f and -m flags, -std. */
        if ((word[1] == 'W' && strncmp(word, "-Wl,", 4) != 0) ||
            word[1] == 'f' || word[1] == 'm' || word[1] == 'O' ||
            word[1] == 'g' || strncmp(word, "-std=", 5) == 0) {
            inb_strv_add(&e->cflags, word);
            return 0;
        }
        if (word[1] == 'l' || word[1] == 'L' || word[1] == 'R' ||
            strncmp(word, "-Wl,", 4) == 0) {
            if (word[1] == 'L' && word[2] != '/' && dir != NULL) {
                path = inb_xprintf("-L%s/%s", dir, word + 2);
                inb_strv_add(&e->libs, path);
                free(path);
            }
            else if (word[1] == 'R') {
                /* A run-time path: the executable links statically. */
            }
            else {
                inb_strv_add(&e->libs, word);
            }
            return 0;
        }
        return -1;
    }
    path = word[0] == '/' || dir == NULL ? inb_xstrdup(word)
                                         : inb_xprintf("%s/%s", dir, word);
    if (inb_ends_with(word, ".c") || inb_ends_with(word, ".o") ||
        is_cxx_source(word)) {
        inb_strv_add(&e->inputs, path);
        e->cxx |= is_cxx_source(word);
    }
    else if (inb_ends_with(word, ".a") || inb_ends_with(word, ".so") ||
             strstr(word, ".so.") != NULL) {
        inb_strv_add(&e->libs, path);
    }
    else {
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

void
inb_ext_option(struct inb_exts *l, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char *name, *origin, *files, *word, *save = NULL;
    struct inb_ext *e;

    if (eq == NULL || eq == arg || eq[1] == '\0') {
        inb_fatal("--extension %s: expected NAME=FILE[,FILE...], like "
                  "mypkg._speedups=src/a.c,src/b.c,-lz",
                  arg);
    }
    name = inb_xstrdup(arg);
    name[eq - arg] = '\0';
    origin = inb_xprintf("--extension %s", arg);
    e = inb_ext_new(l, name, origin);
    files = inb_xstrdup(eq + 1);
    for (word = strtok_r(files, ",", &save); word != NULL;
         word = strtok_r(NULL, ",", &save)) {
        if (inb_ext_word(e, word, NULL) < 0) {
            inb_fatal("%s: %s is not a source (.c, .cc, .cpp, .cxx), object "
                      "(.o), library (.a, .so, -lNAME, -LDIR) or compiler "
                      "flag (-I, -D, -U)",
                      origin, word);
        }
    }
    free(files);
    free(origin);
    free(name);
}

/* The word list of an environment variable or a default. */
static void
tool_words(const char *env, const char *dflt, char ***argv, size_t *argc)
{
    const char *v = getenv(env);

    inb_split_words(v && *v ? v : dflt, argv, argc);
}

/* One compilation: source input j of extension ext. */
struct job {
    size_t ext, input;
    char **argv;
    size_t argc;
    char *obj, *err; /* the object and the file of its error output */
    pid_t pid;
    int status;
};

/* Fill job's command: compile its source with the target's headers and
 * flags into its object. */
static void
job_command(struct job *job, const struct inb_ext *e, const char *src)
{
    size_t i;
    char *inc;

    if (is_cxx_source(src)) {
        tool_words("INBUILT_CXX", INB_CXX, &job->argv, &job->argc);
    }
    else {
        tool_words("INBUILT_CC", INB_CC, &job->argv, &job->argc);
    }
    inb_split_words(inb_py->ext_cflags, &job->argv, &job->argc);
    inc = inb_xprintf("-I%s", inb_py->include);
    inb_argv_add(&job->argv, &job->argc, inc);
    free(inc);
    inc = inb_xprintf("-I%s", inb_py->platinclude);
    inb_argv_add(&job->argv, &job->argc, inc);
    free(inc);
    for (i = 0; i < e->cflags.n; i++) {
        inb_argv_add(&job->argv, &job->argc, e->cflags.v[i]);
    }
    inb_argv_add(&job->argv, &job->argc, "-c");
    inb_argv_add(&job->argv, &job->argc, src);
    inb_argv_add(&job->argv, &job->argc, "-o");
    inb_argv_add(&job->argv, &job->argc, job->obj);
}

/* Run jobs[0..n), at most job_slots() at a time; each gets its status. */
static void
run_jobs(struct job *jobs, size_t n)
{
    size_t next = 0, running = 0, slots = inb_job_slots(), i;

    while (next < n || running > 0) {
        int status;
        pid_t pid;

        if (next < n && running < slots) {
            inb_note("compiling %s", jobs[next].argv[jobs[next].argc - 3]);
            jobs[next].pid = inb_spawn_start(jobs[next].argv, jobs[next].err);
            next++;
            running++;
            continue;
        }
        pid = inb_spawn_wait_any(&status);
        for (i = 0; i < next; i++) {
            if (jobs[i].pid == pid) {
                jobs[i].status = status;
                jobs[i].pid = 0;
                running--;
            }
        }
    }
}

/* Report the outcome of job of extension e: the compiler's messages (all
 * of them for a failure of a required extension, else only when verbose or
 * for a required one), an error that exits for a required extension, a
 * warning naming the first error for an optional one.  Returns 0 when it
 * compiled. */
static int
job_report(const struct job *job, const struct inb_ext *e)
{
    struct inb_buf msg = {0};
    const char *first;

    if (inb_buf_readfile(&msg, job->err) < 0) {
        inb_buf_addstr(&msg, "");
    }
    if (msg.len > 0 && (!e->optional || inb_verbose)) {
        fputs(msg.data, stderr);
    }
    if (job->status != 0 && !e->optional) {
        inb_spawn_print("failed command: ", job->argv);
        inb_fatal("extension %s (%s): compiling %s failed (exit status %d)",
                  e->name, e->origin, job->argv[job->argc - 3], job->status);
    }
    if (job->status != 0) {
        first = strstr(msg.data, "error:");
        inb_warn("%s: %s not built in: compiling %s failed (%.*s); it stays "
                 "a shared object",
                 e->origin, e->name, job->argv[job->argc - 3],
                 first ? (int)strcspn(first, "\n") : 6,
                 first ? first : "failed");
    }
    inb_buf_free(&msg);
    return job->status != 0 ? -1 : 0;
}

/* The renamed init function of module name (malloc'd), ASCII whatever
 * the name: "_" doubled, "." as "_d", a byte of a UTF-8 name as "_xHH". */
static char *
init_symbol(const char *name)
{
    struct inb_buf b = {0};
    const char *p;

    inb_buf_addstr(&b, "inb_PyInit_");
    for (p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (*p == '_' || *p == '.') {
            inb_buf_addstr(&b, *p == '_' ? "__" : "_d");
        }
        else if (c >= 0x80) {
            /* A byte of a UTF-8 name: the symbol stays ASCII. */
            char hex[8];

            snprintf(hex, sizeof(hex), "_x%02x", c);
            inb_buf_addstr(&b, hex);
        }
        else {
            inb_buf_add(&b, p, 1);
        }
    }
    return b.data;
}

void
inb_ext_build(struct inb_exts *l)
{
    struct job *jobs = NULL;
    size_t i, j, k, njobs = 0, kept = 0;

    if (l->n == 0) {
        return;
    }
    l->work = inb_new_temp_dir("inbuilt-ext");
    /* Every source of every extension, compiled in parallel. */
    for (i = 0; i < l->n; i++) {
        for (j = 0; j < l->v[i].inputs.n; j++) {
            struct job *job;

            if (inb_ends_with(l->v[i].inputs.v[j], ".o")) {
                continue;
            }
            jobs = inb_xrealloc(jobs, (njobs + 1) * sizeof(*jobs));
            job = &jobs[njobs++];
            memset(job, 0, sizeof(*job));
            job->ext = i;
            job->input = j;
            job->obj = inb_xprintf("%s/%s.%zu.o", l->work, l->v[i].name, j);
            job->err = inb_xprintf("%s/%s.%zu.err", l->work, l->v[i].name, j);
            job_command(job, &l->v[i], l->v[i].inputs.v[j]);
        }
    }
    run_jobs(jobs, njobs);
    for (i = 0, k = 0; i < l->n; i++) {
        struct inb_ext *e = &l->v[i];
        struct inb_strv objects = {0};
        char *init;
        int failed = 0;

        for (j = 0; j < e->inputs.n; j++) {
            if (inb_ends_with(e->inputs.v[j], ".o")) {
                inb_strv_add(&objects, e->inputs.v[j]);
                continue;
            }
            failed |= job_report(&jobs[k], e) < 0;
            inb_strv_add(&objects, jobs[k++].obj);
        }
        if (failed) {
            inb_strv_free(&objects);
            continue; /* an optional extension left out */
        }
        /* Its static libraries inside its isolated object, in order: ld -r
         * takes the members its objects need. */
        for (j = 0; e->embed_archives && j < e->libs.n; j++) {
            if (inb_ends_with(e->libs.v[j], ".a")) {
                inb_strv_add(&objects, e->libs.v[j]);
                free(e->libs.v[j]);
                memmove(&e->libs.v[j], &e->libs.v[j + 1],
                        (e->libs.n - j - 1) * sizeof(*e->libs.v));
                e->libs.n--;
                j--;
            }
        }
        init = inb_init_name(e->name);
        e->init = init_symbol(e->name);
        e->object = inb_xprintf("%s/%s.o", l->work, e->name);
        if (inb_isolate(e->name, &objects, init, e->init, e->object)) {
            e->cxx = 1;
        }
        inb_strv_free(&objects);
        free(init);
        l->v[kept++] = *e;
    }
    l->n = kept;
    for (k = 0; k < njobs; k++) {
        for (j = 0; j < jobs[k].argc; j++) {
            free(jobs[k].argv[j]);
        }
        free(jobs[k].argv);
        free(jobs[k].obj);
        free(jobs[k].err);
    }
    free(jobs);
}

void
inb_ext_add_entries(const struct inb_exts *l, inb_archive_writer *w)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        unsigned char index[INB_BUILTIN_RECORD_SIZE];

        inb_record_builtin_write(index, (uint32_t)i);

        if (inb_archive_writer_add(w, INB_NS_MODULE, INB_KIND_BUILTIN_EXT, 0,
                                   l->v[i].name, strlen(l->v[i].name), index,
                                   sizeof(index)) < 0) {
            inb_fatal("out of memory adding %s to the archive", l->v[i].name);
        }
    }
}

void
inb_ext_link_words(const struct inb_exts *l, struct inb_strv *objects,
                   struct inb_strv *libs)
{
    struct inb_buf src = {0};
    char *path;
    size_t i, j;
    int cxx = 0;

    if (l->n == 0) {
        return;
    }
    inb_buf_addstr(&src, "/* Generated by inbuilt: the built-in extension "
                         "modules (src/runtime/builtin.h). */\n"
                         "struct _object;\n"
                         "struct inb_builtin {\n"
                         "    const char *name;\n"
                         "    struct _object *(*init)(void);\n"
                         "};\n");
    for (i = 0; i < l->n; i++) {
        path = inb_xprintf("extern struct _object *%s(void);\n", l->v[i].init);
        inb_buf_addstr(&src, path);
        free(path);
    }
    inb_buf_addstr(&src, "__attribute__((visibility(\"hidden\"))) const "
                         "struct inb_builtin inb_builtin_table[] = {\n");
    for (i = 0; i < l->n; i++) {
        path = inb_xprintf("    {\"%s\", %s},\n", l->v[i].name, l->v[i].init);
        inb_buf_addstr(&src, path);
        free(path);
    }
    inb_buf_addstr(&src, "    {0, 0},\n};\n");
    path = inb_xprintf("%s/builtin-table.c", l->work);
    inb_write_file(path, src.data, src.len);
    inb_strv_add(objects, path);
    free(path);
    inb_buf_free(&src);
    for (i = 0; i < l->n; i++) {
        inb_strv_add(objects, l->v[i].object);
        for (j = 0; j < l->v[i].libs.n; j++) {
            if (!inb_strv_has(libs, l->v[i].libs.v[j]) ||
                l->v[i].libs.v[j][0] != '-') {
                inb_strv_add(libs, l->v[i].libs.v[j]);
            }
        }
        cxx |= l->v[i].cxx;
    }
    if (cxx) {
        inb_strv_add(libs, "-lstdc++");
    }
}

int
inb_ext_explain_link(const struct inb_exts *l, const char *messages)
{
    const struct inb_ext *current = NULL;
    const char *line = messages, *next;
    int explained = 0;
    size_t i;

    for (; line != NULL && *line; line = next) {
        const char *end = strchr(line, '\n'), *ref, *sym, *q;
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char *copy = inb_xprintf("%.*s", (int)n, line);

        next = end ? end + 1 : NULL;
        /* A line naming an object starts its messages. */
        if (strstr(copy, ".o:") != NULL || strstr(copy, ".a(") != NULL) {
            current = NULL;
            for (i = 0; i < l->n; i++) {
                if (strstr(copy, l->v[i].object) != NULL) {
                    current = &l->v[i];
                }
            }
        }
        ref = strstr(copy, "undefined reference to ");
        if (current != NULL && ref != NULL) {
            sym = ref + strlen("undefined reference to ") + 1;
            q = strchr(sym, '\'');
            fprintf(stderr,
                    "%s: error: extension %s (%s) needs symbol %.*s, which no "
                    "object or library of the link defines; add the library "
                    "that defines it (-lNAME or a .a file) or the missing "
                    "source to the extension's description\n",
                    inb_argv0, current->name, current->origin,
                    (int)(q ? (size_t)(q - sym) : strlen(sym)), sym);
            explained++;
        }
        free(copy);
    }
    return explained;
}
