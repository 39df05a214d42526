/* compile.c: compile Python source to marshalled code objects with the
 * target interpreter itself, so the bytecode is exactly that of the
 * CPython version the executable links (and \N{...} escapes find that
 * version's own unicodedata).  The interpreter runs src/builder/compile.py
 * once per build as a server on a pair of pipes; that file documents the
 * protocol. */
#include "compile.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "spawn.h"

/* The text of src/builder/compile.py, generated into the build directory
 * by the Makefile. */
extern const char inb_compile_py[];

/* The running server: its pid, the pipe ends, the interpreter, and what
 * its hello said. */
static struct {
    pid_t pid;
    int to, from;
    char *python;
    uint32_t magic, version;
} server = {0, -1, -1, NULL, 0, 0};

/* Exit with an error: the server died or broke the protocol. */
static __attribute__((noreturn)) void
server_lost(void)
{
    inb_fatal("--python %s stopped answering while compiling (see its "
              "messages above)",
              server.python);
}

/* Write data[0..n) to the server, or read n bytes from it into data. */
static void
transfer(int writing, void *data, size_t n)
{
    char *p = data;

    while (n > 0) {
        ssize_t k = writing ? write(server.to, p, n) : read(server.from, p, n);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            server_lost();
        }
        p += k;
        n -= (size_t)k;
    }
}

static void
write_all(const void *data, size_t n)
{
    transfer(1, (void *)data, n);
}

static void
read_all(void *data, size_t n)
{
    transfer(0, data, n);
}

static uint32_t
le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

/* Send one field: its length, then data[0..n). */
static void
send_field(const void *data, size_t n)
{
    unsigned char len[4] = {(unsigned char)n, (unsigned char)(n >> 8),
                            (unsigned char)(n >> 16),
                            (unsigned char)(n >> 24)};

    if (n > UINT32_MAX) {
        inb_fatal("a file of more than 4 GB cannot be compiled");
    }
    write_all(len, 4);
    write_all(data, n);
}

/* Read one reply, appending its field to out.  Returns 0 for an ok
 * reply, -1 for an error one. */
static int
recv_reply(struct inb_buf *out)
{
    unsigned char head[5];
    size_t n, old = out->len;

    read_all(head, 5);
    n = le32(head + 1);
    if (out->cap < old + n + 1) {
        out->data = inb_xrealloc(out->data, old + n + 1);
        out->cap = old + n + 1;
    }
    read_all(out->data + old, n);
    out->len = old + n;
    out->data[out->len] = '\0';
    return head[0] == '0' ? 0 : -1;
}

void
inb_compile_init(const char *python, uint32_t magic, uint32_t version)
{
    free(server.python);
    server.python = inb_xstrdup(python);
    server.magic = magic;
    server.version = version;
}

/* Start the server on first use: a build whose bytecode all comes from
 * the build cache never starts it.  Exits unless its hello gives the magic
 * number and version inb_compile_init() was told. */
static void
server_start(void)
{
    char *argv[] = {server.python,          "-I", "-S", "-W", "ignore", "-c",
                    (char *)inb_compile_py, NULL};
    struct inb_buf hello = {0};

    if (server.pid != 0) {
        return;
    }
    if (server.python == NULL) {
        inb_fatal("internal error: compiling before inb_compile_init()");
    }
    /* A dead server shows as a failed write, not a killed builder. */
    signal(SIGPIPE, SIG_IGN);
    server.pid = inb_spawn_pipes(argv, &server.to, &server.from);
    if (recv_reply(&hello) < 0 || hello.len != 8) {
        server_lost();
    }
    if (le32((const unsigned char *)hello.data) != server.magic ||
        le32((const unsigned char *)hello.data + 4) != server.version) {
        inb_fatal("--python %s is not the interpreter it was when the build "
                  "began (another bytecode magic number or version); build "
                  "again",
                  server.python);
    }
    inb_buf_free(&hello);
}

void
inb_compile_fini(void)
{
    int rc;

    if (server.pid == 0) {
        return;
    }
    close(server.to);
    close(server.from);
    rc = inb_spawn_wait(server.pid);
    if (rc != 0) {
        inb_warn("the compile server (--python %s) exited with status %d",
                 server.python, rc);
    }
    server.pid = 0;
}

uint32_t
inb_compile_magic(void)
{
    return server.magic;
}

uint32_t
inb_compile_version(void)
{
    return server.version;
}

/* Send a compile request and take its reply: the code into out, or the
 * message printed to stderr. */
static int
compile_request(const char *src, size_t len, const char *path,
                const char *relname, int optimize, struct inb_buf *out)
{
    size_t old = out->len;
    char opt = (char)('0' + optimize);

    server_start();
    write_all(src != NULL ? "c" : "f", 1);
    send_field(path, strlen(path));
    send_field(relname, strlen(relname));
    send_field(&opt, 1);
    if (src != NULL) {
        send_field(src, len);
    }
    if (recv_reply(out) == 0) {
        return 0;
    }
    /* The message was appended to out: print it and take it back. */
    fprintf(stderr, "%s\n", out->data + old);
    out->len = old;
    out->data[old] = '\0';
    return -1;
}

int
inb_compile_source(const char *src, size_t len, const char *path,
                   const char *relname, int optimize, struct inb_buf *out)
{
    return compile_request(src, len, path, relname, optimize, out);
}

int
inb_compile_file(const char *path, const char *relname, int optimize,
                 struct inb_buf *out)
{
    return compile_request(NULL, 0, path, relname, optimize, out);
}

int
inb_compile_exec(const char *text)
{
    struct inb_buf msg = {0};
    int rc;

    server_start();
    write_all("x", 1);
    send_field(text, strlen(text));
    rc = recv_reply(&msg);
    if (rc < 0) {
        fprintf(stderr, "%s\n", msg.data);
    }
    inb_buf_free(&msg);
    return rc;
}

int
inb_compile_call(const char *function, const char *path,
                 struct inb_buf *result)
{
    server_start();
    write_all("k", 1);
    send_field(function, strlen(function));
    send_field(path, strlen(path));
    return recv_reply(result);
}

void
inb_compile_key(struct inb_cache_key *k, const char *relname, int optimize)
{
    uint32_t v[3] = {server.magic, server.version, (uint32_t)optimize};

    inb_cache_key_start(k, "bytecode");
    inb_cache_key_add(k, v, sizeof(v));
    inb_cache_key_str(k, relname);
}

int
inb_compile_cached(const char *src, size_t len, const char *path,
                   const char *relname, int optimize, struct inb_buf *out)
{
    struct inb_cache_key k;
    int rc;

    inb_compile_key(&k, relname, optimize);
    inb_cache_key_digest(&k, src, len);
    if (inb_cache_get(&k, out)) {
        return 0;
    }
    rc = compile_request(src, len, path, relname, optimize, out);
    if (rc == 0) {
        inb_cache_put(&k, out->data, out->len);
    }
    return rc;
}
