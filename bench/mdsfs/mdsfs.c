/* mdsfs.c: the command line of mdsfs, a FUSE filesystem that simulates one
 * contended metadata server.
 *
 *   mdsfs --backing DIR --latency-us L --slots K [--bandwidth B]
 *         [--cache[=SECONDS]] [--data-cache] [--stats FILE] [--threads N]
 *         [-o OPTS]
 *         [--foreground] MOUNTPOINT...
 *
 * Mounts DIR read-only at every MOUNTPOINT (one per simulated client node);
 * all mounts share one server of K slots that spends L microseconds on each
 * metadata operation and size/B seconds on each read.  Without --foreground
 * it returns once everything is mounted and serves in the background.
 * SIGUSR1 writes the stats file; SIGINT, SIGTERM or SIGHUP write it and
 * unmount everything; so does unmounting every mountpoint from outside.
 * See README.md.
 *
 * Threads: main mounts everything, starts each mount's workers and then only
 * waits for signals (all of which every thread blocks, so they reach main
 * through sigwaitinfo), except MOUNT_SIGNAL, which workers take to leave
 * read(2) and which main receives when a mount's workers have all exited.
 */
#define _GNU_SOURCE /* O_PATH */
#include "mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Seconds the kernel caches entries and attributes for a bare --cache. */
#define DEFAULT_CACHE_SECONDS 60.0

static struct mount_config cfg;
static struct mount *mounts;
static size_t nmounts; /* mounts[0..nmounts) are mounted */
static int started;    /* their workers are running */
static struct stats **all_stats;
static const char *stats_path; /* absolute, or NULL: stderr */

/* Print "mdsfs: PREFIX MSG" with strerror(errno) after a trailing ':'. */
static void
vreport(const char *prefix, const char *fmt, va_list ap)
{
    int err = errno;
    size_t n = strlen(fmt);

    fprintf(stderr, "mdsfs: %s", prefix);
    vfprintf(stderr, fmt, ap);
    if (n > 0 && fmt[n - 1] == ':') {
        fprintf(stderr, " %s", strerror(err));
    }
    fputc('\n', stderr);
}

/* Report an error and exit(1); the atexit handler unmounts what is mounted.
 * A trailing ':' in fmt appends strerror(errno). */
static __attribute__((noreturn, format(printf, 1, 2))) void
fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("error: ", fmt, ap);
    va_end(ap);
    exit(1);
}

/* Report a problem that does not stop the server (trailing ':' as above). */
static __attribute__((format(printf, 1, 2))) void
warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

static void
usage(FILE *f)
{
    fputs("usage: mdsfs --backing DIR --latency-us L --slots K "
          "[--bandwidth B]\n"
          "             [--cache[=SECONDS]] [--data-cache] [--stats FILE] "
          "[--threads N] "
          "[-o OPTS]\n"
          "             [--foreground] MOUNTPOINT...\n"
          "  --backing DIR      the directory tree to serve (read-only)\n"
          "  --latency-us L     server time per metadata operation, us\n"
          "  --slots K          requests the server handles at once\n"
          "  --bandwidth B      server bytes/s for file reads (0: "
          "unlimited, default)\n"
          "  --cache[=SECONDS]  let the kernel cache entries, attributes "
          "and data\n"
          "                     (default 60 s; without --cache: no "
          "caching)\n"
          "  --data-cache       keep file data across opens (metadata "
          "stays uncached)\n"
          "  --stats FILE       per-mount counters, written on SIGUSR1 "
          "and at exit\n"
          "  --threads N        requests in flight per mount (default 8)\n"
          "  -o OPTS            extra mount options, e.g. allow_other\n"
          "  --foreground       do not detach\n",
          f);
}

/* The unsigned integer `s`, or a fatal error naming the option. */
static uint64_t
parse_u64(const char *s, const char *option)
{
    unsigned long long v;
    char *end;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        fatal("%s wants a non-negative integer, not '%s'", option, s);
    }
    return (uint64_t)v;
}

/* path made absolute against the working directory (a new string). */
static char *
absolute(const char *path)
{
    char cwd[PATH_MAX], *out;
    size_t n;

    if (path[0] == '/') {
        out = strdup(path);
    }
    else {
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            fatal("cannot get the working directory:");
        }
        n = strlen(cwd) + strlen(path) + 2;
        out = malloc(n);
        if (out != NULL) {
            snprintf(out, n, "%s/%s", cwd, path);
        }
    }
    if (out == NULL) {
        fatal("out of memory");
    }
    return out;
}

/* Open the backing directory dir (O_PATH) and return its real path. */
static char *
open_backing(const char *dir)
{
    char *real;

    cfg.backing_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cfg.backing_fd < 0) {
        if (errno == ENOENT) {
            fatal("backing directory %s does not exist", dir);
        }
        if (errno == ENOTDIR) {
            fatal("backing directory %s is not a directory", dir);
        }
        fatal("cannot open backing directory %s:", dir);
    }
    real = realpath(dir, NULL);
    if (real == NULL) {
        fatal("cannot resolve backing directory %s:", dir);
    }
    return real;
}

/* Fail unless this user can open /dev/fuse, which libfuse needs (as of 3.14
 * it does not fall back to fusermount3 when the open is refused). */
static void
check_fuse(void)
{
    int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

    if (fd >= 0) {
        close(fd);
        return;
    }
    if (errno == EACCES || errno == EPERM) {
        fatal("cannot open /dev/fuse (this user may not use FUSE):");
    }
    fatal("cannot open /dev/fuse (no FUSE here? try modprobe fuse):");
}

/* Check that mountpoint mp is an empty directory outside the backing tree;
 * return its real path (a new string). */
static char *
check_mountpoint(const char *mp, const char *backing)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    char *real;
    size_t n = strlen(backing);

    if (stat(mp, &st) != 0) {
        if (errno == ENOENT) {
            fatal("mountpoint %s does not exist", mp);
        }
        if (errno == ENOTCONN) {
            fatal("mountpoint %s is a dead FUSE mount (fusermount3 -u %s)", mp,
                  mp);
        }
        fatal("cannot use mountpoint %s:", mp);
    }
    if (!S_ISDIR(st.st_mode)) {
        fatal("mountpoint %s is not a directory", mp);
    }
    d = opendir(mp);
    if (d == NULL) {
        fatal("cannot read mountpoint %s:", mp);
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            fatal("mountpoint %s is not empty", mp);
        }
    }
    closedir(d);
    real = realpath(mp, NULL);
    if (real == NULL) {
        fatal("cannot resolve mountpoint %s:", mp);
    }
    if (strcmp(real, backing) == 0 ||
        (strncmp(real, backing, n) == 0 && (real[n] == '/' || n == 1))) {
        fatal("mountpoint %s is inside the backing directory %s", mp, backing);
    }
    return real;
}

/* Write every mount's counters to the stats file, or to stderr. */
static void
dump_stats(void)
{
    size_t i;

    if (stats_path == NULL) {
        for (i = 0; i < nmounts; i++) {
            stats_print(stderr, all_stats[i]);
        }
        return;
    }
    if (stats_write(stats_path, all_stats, nmounts) != 0) {
        warn("cannot write stats file %s:", stats_path);
    }
}

/* Stop serving and unmount everything mounted; safe to call twice. */
static void
shutdown_all(void)
{
    size_t i;

    if (started) {
        server_stop(&cfg.server);
        for (i = 0; i < nmounts; i++) {
            mount_stop(&mounts[i]);
        }
        started = 0;
        dump_stats();
    }
    for (i = 0; i < nmounts; i++) {
        mount_close(&mounts[i]);
    }
    nmounts = 0;
}

static void
on_mount_signal(int sig)
{
    (void)sig;
}

/* Block the signals main waits for (threads inherit the mask) and install
 * the do-nothing MOUNT_SIGNAL handler, without SA_RESTART. */
static void
setup_signals(sigset_t *set)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_mount_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(MOUNT_SIGNAL, &sa, NULL) != 0) {
        fatal("sigaction:");
    }
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, MOUNT_SIGNAL);
    errno = pthread_sigmask(SIG_BLOCK, set, NULL);
    if (errno != 0) {
        fatal("pthread_sigmask:");
    }
}

/* Accurate sleeps and enough descriptors for every open file in flight. */
static void
setup_process(void)
{
    struct rlimit rl;

    if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0) {
        warn("cannot set the timer slack; short sleeps will overrun:");
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            warn("cannot raise the open file limit:");
        }
    }
}

/* Serve until told to stop or until every mount is gone. */
static void
wait_signals(const sigset_t *set)
{
    siginfo_t info;
    size_t i, ended;
    int sig;

    for (;;) {
        sig = sigwaitinfo(set, &info);
        if (sig < 0) {
            if (errno != EINTR) {
                fatal("sigwaitinfo:");
            }
            continue;
        }
        if (sig == SIGUSR1) {
            dump_stats();
            continue;
        }
        if (sig != MOUNT_SIGNAL) {
            return;
        }
        for (ended = 0, i = 0; i < nmounts; i++) {
            ended += mount_ended(&mounts[i]) != 0;
        }
        if (ended == nmounts) {
            return;
        }
        dump_stats();
    }
}

/* The command line, beyond what goes into cfg. */
struct args {
    const char *backing;
    char **mountpoints; /* borrowed from argv */
    size_t nmountpoints;
    unsigned slots;
    int foreground;
};

/* Append option string o to the comma-separated list *list (owned). */
static void
options_add(char **list, const char *o)
{
    size_t n = (*list ? strlen(*list) + 1 : 0) + strlen(o) + 1;
    char *s = malloc(n);

    if (s == NULL) {
        fatal("out of memory");
    }
    snprintf(s, n, "%s%s%s", *list ? *list : "", *list ? "," : "", o);
    free(*list);
    *list = s;
}

/* Parse the command line into a and cfg; exit on --help or misuse. */
static void
parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        {"backing", required_argument, NULL, 'b'},
        {"latency-us", required_argument, NULL, 'l'},
        {"slots", required_argument, NULL, 'k'},
        {"bandwidth", required_argument, NULL, 'B'},
        {"cache", optional_argument, NULL, 'c'},
        {"data-cache", no_argument, NULL, 'd'},
        {"stats", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"foreground", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *latency = NULL, *slots = NULL;
    char *options = NULL, *end;
    uint64_t v;
    int c;

    memset(a, 0, sizeof(*a));
    cfg.threads = 8;
    while ((c = getopt_long(argc, argv, "fho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            a->backing = optarg;
            break;
        case 'l':
            latency = optarg;
            break;
        case 'k':
            slots = optarg;
            break;
        case 'B':
            cfg.bandwidth = parse_u64(optarg, "--bandwidth");
            break;
        case 'c':
            cfg.timeout = DEFAULT_CACHE_SECONDS;
            if (optarg != NULL) {
                cfg.timeout = strtod(optarg, &end);
                if (end == optarg || *end != '\0' || !(cfg.timeout > 0)) {
                    fatal("--cache wants a positive number of seconds, "
                          "not '%s'",
                          optarg);
                }
            }
            break;
        case 'd':
            cfg.data_cache = 1;
            break;
        case 's':
            stats_path = absolute(optarg);
            break;
        case 't':
            v = parse_u64(optarg, "--threads");
            if (v == 0 || v > 1024) {
                fatal("--threads wants 1 to 1024, not '%s'", optarg);
            }
            cfg.threads = (unsigned)v;
            break;
        case 'o':
            options_add(&options, optarg);
            break;
        case 'f':
            a->foreground = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (a->backing == NULL || latency == NULL || slots == NULL ||
        optind == argc) {
        fputs("mdsfs: error: --backing, --latency-us, --slots and at least "
              "one MOUNTPOINT are required\n",
              stderr);
        usage(stderr);
        exit(2);
    }
    v = parse_u64(latency, "--latency-us");
    if (v > UINT64_MAX / 1000) {
        fatal("--latency-us %s is too large", latency);
    }
    cfg.latency_ns = v * 1000;
    v = parse_u64(slots, "--slots");
    if (v == 0 || v > 1000000) {
        fatal("--slots wants 1 to 1000000, not '%s'", slots);
    }
    a->slots = (unsigned)v;
    cfg.options = options;
    a->mountpoints = argv + optind;
    a->nmountpoints = (size_t)(argc - optind);
}

/* Check every mountpoint of a (see check_mountpoint) and that none is given
 * twice; return their real paths (a new array of new strings). */
static char **
resolve_mountpoints(const struct args *a, const char *backing)
{
    char **real = calloc(a->nmountpoints, sizeof(*real));
    size_t i, j;

    if (real == NULL) {
        fatal("out of memory");
    }
    for (i = 0; i < a->nmountpoints; i++) {
        real[i] = check_mountpoint(a->mountpoints[i], backing);
        for (j = 0; j < i; j++) {
            if (strcmp(real[i], real[j]) == 0) {
                fatal("mountpoint %s is given twice", a->mountpoints[i]);
            }
        }
    }
    return real;
}

/* Mount the backing tree at every real[i] (each mount takes its string);
 * on failure exit, unmounting those already mounted. */
static void
mount_all(const struct args *a, char **real)
{
    size_t i;

    mounts = calloc(a->nmountpoints, sizeof(*mounts));
    all_stats = calloc(a->nmountpoints, sizeof(*all_stats));
    if (mounts == NULL || all_stats == NULL) {
        fatal("out of memory");
    }
    for (i = 0; i < a->nmountpoints; i++) {
        if (mount_open(&mounts[i], &cfg, real[i]) != 0) {
            if (errno != 0) {
                fatal("cannot mount %s:", a->mountpoints[i]);
            }
            fatal("cannot mount %s (see above)", a->mountpoints[i]);
        }
        all_stats[i] = &mounts[i].stats;
        nmounts = i + 1;
    }
}

int
main(int argc, char **argv)
{
    struct args a;
    char *backing, **real;
    sigset_t set;
    size_t i;
    int err;

    parse_args(argc, argv, &a);
    backing = open_backing(a.backing);
    check_fuse();
    real = resolve_mountpoints(&a, backing);
    free(backing);
    /* A stats file that cannot be written is an error now, not at exit. */
    if (stats_path != NULL && stats_write(stats_path, NULL, 0) != 0) {
        fatal("cannot write stats file %s:", stats_path);
    }
    err = server_init(&cfg.server, a.slots);
    if (err != 0) {
        errno = err;
        fatal("cannot set up the server:");
    }
    setup_process();
    setup_signals(&set);
    atexit(shutdown_all);
    mount_all(&a, real);
    free(real);
    if (stats_path != NULL) {
        dump_stats();
    }
    /* fork before any thread: the daemon keeps only the calling thread. */
    if (fuse_daemonize(a.foreground) != 0) {
        fatal("cannot detach from the terminal");
    }
    for (i = 0; i < nmounts; i++) {
        started = 1;
        err = mount_start(&mounts[i], pthread_self());
        if (err != 0) {
            errno = err;
            fatal("cannot start the threads serving %s:", mounts[i].path);
        }
    }
    wait_signals(&set);
    shutdown_all();
    server_fini(&cfg.server);
    free(all_stats);
    free(mounts);
    free((char *)cfg.options);
    close(cfg.backing_fd);
    return 0;
}
