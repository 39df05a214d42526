/* spawn.c: run programs with posix_spawn and wait for them. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void
inb_spawn_print(const char *prefix, char *const argv[])
{
    size_t i;

    fputs(prefix, stderr);
    for (i = 0; argv[i] != NULL; i++) {
        const char *a = argv[i];

        fputs(i ? " " : "", stderr);
        if (a[0] != '\0' && strpbrk(a, " \t\n'\"\\$`*?;&|<>()") == NULL) {
            fputs(a, stderr);
            continue;
        }
        fputc('\'', stderr);
        for (; *a; a++) {
            if (*a == '\'') {
                fputs("'\\''", stderr);
            }
            else {
                fputc(*a, stderr);
            }
        }
        fputc('\'', stderr);
    }
    fputc('\n', stderr);
}

/* Run argv; when out is not NULL, what it writes to fd (1 or 2, or both
 * when fd is 3) is appended to out. */
static int
spawn_run(char *const argv[], struct inb_buf *out, int fd)
{
    posix_spawn_file_actions_t actions;
    int fds[2] = {-1, -1}, err;
    pid_t pid;

    if (inb_verbose) {
        inb_spawn_print("+ ", argv);
    }
    if (posix_spawn_file_actions_init(&actions) != 0) {
        inb_fatal("posix_spawn_file_actions_init:");
    }
    if (out != NULL) {
        if (pipe(fds) < 0) {
            inb_fatal("pipe:");
        }
        if ((fd != 2 &&
             posix_spawn_file_actions_adddup2(&actions, fds[1], 1) != 0) ||
            (fd != 1 &&
             posix_spawn_file_actions_adddup2(&actions, fds[1], 2) != 0) ||
            posix_spawn_file_actions_addclose(&actions, fds[0]) != 0 ||
            posix_spawn_file_actions_addclose(&actions, fds[1]) != 0) {
            inb_fatal("posix_spawn_file_actions:");
        }
    }
    err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (out != NULL) {
        close(fds[1]);
    }
    if (err != 0) {
        errno = err;
        if (out != NULL) {
            close(fds[0]);
        }
        inb_spawn_print("failed command: ", argv);
        inb_fatal("cannot run %s:", argv[0]);
    }
    if (out != NULL) {
        char chunk[65536];
        ssize_t n;

        while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                inb_fatal("reading the output of %s:", argv[0]);
            }
            inb_buf_add(out, chunk, (size_t)n);
        }
        close(fds[0]);
    }
    return inb_spawn_wait(pid);
}

int
inb_spawn_run(char *const argv[], struct inb_buf *out)
{
    return spawn_run(argv, out, 1);
}

int
inb_spawn_run_stderr(char *const argv[], struct inb_buf *err)
{
    return spawn_run(argv, err, 2);
}

int
inb_spawn_run_both(char *const argv[], struct inb_buf *out)
{
    return spawn_run(argv, out, 3);
}

pid_t
inb_spawn_start(char *const argv[], const char *errpath)
{
    posix_spawn_file_actions_t actions;
    pid_t pid;
    int err;

    if (inb_verbose) {
        inb_spawn_print("+ ", argv);
    }
    if (posix_spawn_file_actions_init(&actions) != 0 ||
        posix_spawn_file_actions_addopen(
            &actions, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600) != 0) {
        inb_fatal("posix_spawn_file_actions:");
    }
    err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        errno = err;
        inb_spawn_print("failed command: ", argv);
        inb_fatal("cannot run %s:", argv[0]);
    }
    return pid;
}

pid_t
inb_spawn_pipes(char *const argv[], int *to, int *from)
{
    posix_spawn_file_actions_t actions;
    int in[2], out[2], err;
    pid_t pid;

    if (inb_verbose) {
        inb_spawn_print("+ ", argv);
    }
    /* Close-on-exec: no later child keeps the other ends open. */
    if (pipe(in) < 0 || pipe(out) < 0 ||
        fcntl(in[1], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(out[0], F_SETFD, FD_CLOEXEC) < 0) {
        inb_fatal("pipe:");
    }
    if (posix_spawn_file_actions_init(&actions) != 0 ||
        posix_spawn_file_actions_adddup2(&actions, in[0], 0) != 0 ||
        posix_spawn_file_actions_adddup2(&actions, out[1], 1) != 0 ||
        posix_spawn_file_actions_addclose(&actions, in[0]) != 0 ||
        posix_spawn_file_actions_addclose(&actions, out[1]) != 0) {
        inb_fatal("posix_spawn_file_actions:");
    }
    err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (err != 0) {
        errno = err;
        inb_spawn_print("failed command: ", argv);
        inb_fatal("cannot run %s:", argv[0]);
    }
    *to = in[1];
    *from = out[0];
    return pid;
}

/* The child set aside by inb_spawn_reserve() (0: none), and its status
 * when inb_spawn_wait_any() reaped it first (done). */
static struct {
    pid_t pid;
    int done, status;
} reserved;

/* Wait for child pid (-1: any but the reserved one); *status as
 * inb_spawn_run() returns it.  Returns the pid waited for. */
static pid_t
wait_child(pid_t pid, int *status)
{
    pid_t got;
    int st;

    for (;;) {
        while ((got = waitpid(pid, &st, 0)) < 0) {
            if (errno != EINTR) {
                inb_fatal("waitpid:");
            }
        }
        *status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
        if (pid != -1 || got != reserved.pid) {
            return got;
        }
        reserved.done = 1;
        reserved.status = *status;
    }
}

void
inb_spawn_reserve(pid_t pid)
{
    reserved.pid = pid;
    reserved.done = 0;
}

int
inb_spawn_wait(pid_t pid)
{
    int status;

    if (pid == reserved.pid) {
        reserved.pid = 0;
        if (reserved.done) {
            return reserved.status;
        }
    }
    wait_child(pid, &status);
    return status;
}

pid_t
inb_spawn_wait_any(int *status)
{
    return wait_child(-1, status);
}
