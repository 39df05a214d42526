/* shareso.c: shared objects in one sealed memory file per image per node,
 * the process's side (the holder's is holder.c).
 *
 * The first time a process needs an image it connects to its user's
 * holder ("inbuilt-so.1.UID", an abstract Unix socket) and keeps the
 * connection for its lifetime (a child after fork() makes its own).  When
 * nobody listens on the name, it binds the name itself (of processes
 * starting together exactly one succeeds; the others retry their connect
 * for up to about two seconds), listens, connects to itself, and starts
 * the holder: this executable again, through /proc/self/exe, with the
 * listening socket; the holder detaches at once and this process reaps the
 * intermediate child.
 *
 * The holder's answer must come from a process of the same user
 * (SO_PEERCRED: anyone can bind an abstract name), within
 * SHARESO_TIMEOUT seconds.  A descriptor received is then verified
 * (inb_shareso_verify): it carries the seals that make its content
 * immutable, has the image's size, and equals the image in the archive at
 * SHARESO_SAMPLES pages spread over it.  That is the line drawn: the
 * holder keeps only sealed files of the right size PUT by processes of the
 * same user, which wrote them from records of the same digest, so the
 * samples catch a broken holder or a digest collision between different
 * images, not a hostile process of the same user; such a process can
 * already ptrace this one, or rewrite its executable, its environment and
 * its cache directory.  Comparing every byte would touch the whole image
 * in the executable, the very pages sharing saves.
 *
 * A holder that runs takes (reads) a request within milliseconds (it
 * sleeps in poll(), and the scheduler runs a task that wakes from sleep
 * promptly), and answers at once unless another process is making the
 * image, which may take up to SHARESO_TIMEOUT.  So a request that the
 * holder has not taken within SHARESO_TAKE_MS (the socket's unread bytes,
 * SIOCOUTQ, say so) means a holder that is stopped (SIGSTOP, a debugger)
 * or hung: the process goes on without it after that wait, not after
 * SHARESO_TIMEOUT.  One second, not less: a holder serving the requests
 * of 64 processes starting at once on a node oversubscribed 30 times (2
 * cores, load average 60) let one wait longer than 250 ms.  Only the
 * process that starts the holder waits longer for its first answer,
 * while the holder starts.
 *
 * Whatever fails (socket denied, another user's holder, a holder gone
 * mid-answer, a time-out, a descriptor that does not verify), the process
 * stops asking and makes its images privately, as memory mode does.
 */
#define _GNU_SOURCE
#include "shareso.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "holder.h"

#define SHARESO_TIMEOUT 10   /* seconds to wait for the holder */
#define SHARESO_TAKE_MS 1000 /* ms for a running holder to take a request */
#define SHARESO_SAMPLES 8    /* pages compared with the archive */
#define SHARESO_PAGE 4096

static int enabled, disabled;
static int idle = 10;
static int conn = -1; /* the holder connection, of process conn_pid */
static int starting;  /* 1: conn's holder was started by this process and
                         has not answered yet */
static pid_t conn_pid;
static struct stat conn_st; /* to know it is still ours */

void
inb_shareso_enable(int idle_seconds)
{
    enabled = 1;
    idle = idle_seconds;
}

/* Is conn still the socket this process opened (the program may have
 * closed it and got the number back for something else)? */
static int
conn_is_ours(void)
{
    struct stat st;

    return conn >= 0 && fstat(conn, &st) == 0 && st.st_dev == conn_st.st_dev &&
           st.st_ino == conn_st.st_ino;
}

/* Stop sharing for this process. */
static void
give_up(void)
{
    if (conn_is_ours()) {
        close(conn);
    }
    conn = -1;
    disabled = 1;
}

/* Is the peer of socket s a process of this user? */
static int
same_user(int s)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    return getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           cred.uid == geteuid();
}

/* Start a holder listening on lsock: this executable again; returns 0 or
 * -1.  Waits for the intermediate process, which exits at once. */
static int
spawn_holder(int lsock)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    char fdarg[16], idlearg[16], envarg[4096];
    char *argv[4], *envp[2] = {NULL, NULL};
    const char *ldpath = getenv("LD_LIBRARY_PATH");
    int target = lsock == 3 ? 4 : 3, rc, st;
    pid_t pid;

    /* The listening socket at a fixed number, without FD_CLOEXEC. */
    snprintf(fdarg, sizeof(fdarg), "%d", target);
    snprintf(idlearg, sizeof(idlearg), "%d", idle);
    argv[0] = INB_HOLDER_ARGV0;
    argv[1] = fdarg;
    argv[2] = idlearg;
    argv[3] = NULL;
    /* The loader may need LD_LIBRARY_PATH; nothing else is passed (no
     * LD_PRELOAD'ed tracer runs in the holder). */
    if (ldpath != NULL &&
        (size_t)snprintf(envarg, sizeof(envarg), "LD_LIBRARY_PATH=%s",
                         ldpath) < sizeof(envarg)) {
        envp[0] = envarg;
    }
    sigemptyset(&none);
    sigfillset(&all);
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return -1;
    }
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    rc = posix_spawn_file_actions_adddup2(&fa, lsock, target);
    if (rc == 0) {
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF);
    }
    if (rc == 0) {
        rc = posix_spawnattr_setsigmask(&attr, &none);
    }
    if (rc == 0) {
        rc = posix_spawnattr_setsigdefault(&attr, &all);
    }
    if (rc == 0) {
        rc = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, envp);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return 0;
}

/* Bind the holder's name, listen, connect to it and start a holder.
 * Returns the connected socket; -2 when another process has the name
 * (retry the connect); -1 on failure. */
static int
start_holder(const struct sockaddr_un *addr, socklen_t alen)
{
    int lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int s = -1;

    if (lsock < 0) {
        return -1;
    }
    if (bind(lsock, (const struct sockaddr *)addr, alen) < 0) {
        close(lsock);
        return errno == EADDRINUSE ? -2 : -1;
    }
    /* Connected before the holder starts: it finds us in its queue, and
     * does not see itself idle. */
    if (listen(lsock, SOMAXCONN) < 0 ||
        (s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
        connect(s, (const struct sockaddr *)addr, alen) < 0 ||
        spawn_holder(lsock) < 0) {
        if (s >= 0) {
            close(s);
        }
        close(lsock);
        return -1;
    }
    close(lsock);
    return s;
}

/* Set socket option opt (SO_RCVTIMEO or SO_SNDTIMEO) of s to ms
 * milliseconds.  Returns 0 or -1. */
static int
set_timeout(int s, int opt, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    return setsockopt(s, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* Connect to this user's holder, starting one when there is none.
 * Returns the socket, or -1. */
static int
connect_holder(void)
{
    struct sockaddr_un addr;
    socklen_t alen = inb_holder_address(&addr, geteuid());
    struct timespec pause = {0, 1000000};
    int attempt, s;

    starting = 0;
    for (attempt = 0; attempt < 20; attempt++) {
        s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0) {
            return -1;
        }
        /* connect() waits, for as long as a send may, while the backlog
         * of a holder that takes no connection is full. */
        if (set_timeout(s, SO_SNDTIMEO, SHARESO_TAKE_MS) == 0 &&
            connect(s, (const struct sockaddr *)&addr, alen) == 0) {
            break;
        }
        close(s);
        if (errno != ECONNREFUSED) {
            return -1;
        }
        /* Nobody listens: start a holder, or wait for the process that
         * has the name to listen. */
        s = start_holder(&addr, alen);
        if (s >= 0) {
            starting = 1;
            break;
        }
        if (s == -1) {
            return -1;
        }
        nanosleep(&pause, NULL);
        if (pause.tv_nsec < 128000000) {
            pause.tv_nsec *= 2;
        }
    }
    if (attempt == 20) {
        return -1;
    }
    if (!same_user(s)) {
        close(s); /* another user's socket under our name */
        return -1;
    }
    if (set_timeout(s, SO_RCVTIMEO, SHARESO_TIMEOUT * 1000) < 0 ||
        set_timeout(s, SO_SNDTIMEO, SHARESO_TIMEOUT * 1000) < 0) {
        close(s);
        return -1;
    }
    return s;
}

/* The connection to the holder, made when this process has none (or
 * inherited its parent's).  Returns it, or -1. */
static int
holder(void)
{
    if (conn >= 0 && conn_pid != getpid()) {
        /* A fork()ed child: its parent's connection is not its own. */
        if (conn_is_ours()) {
            close(conn);
        }
        conn = -1;
    }
    if (conn >= 0) {
        if (conn_is_ours()) {
            return conn;
        }
        give_up();
        return -1;
    }
    conn = connect_holder();
    if (conn < 0 || fstat(conn, &conn_st) < 0) {
        give_up();
        return -1;
    }
    conn_pid = getpid();
    return conn;
}

/* Send op about r to the holder, with descriptor fd unless -1.  Returns 0
 * or -1. */
static int
send_op(const inb_shobj_record *r, enum inb_holder_op op, int fd)
{
    struct inb_holder_msg msg = {0};

    memcpy(msg.magic, INB_HOLDER_MAGIC, sizeof(msg.magic));
    msg.op = op;
    msg.size = r->image_size;
    memcpy(msg.digest, r->digest, sizeof(msg.digest));
    snprintf(msg.name, sizeof(msg.name), "%s", r->filename);
    return inb_holder_send(conn, &msg, fd, 0);
}

/* Wait for the holder's answer to the request just sent (see the top of
 * this file).  Returns 1 when it is there to read, 0 when the holder has
 * not taken the request within SHARESO_TAKE_MS or not answered within
 * SHARESO_TIMEOUT seconds, -1 on a failure. */
static int
answer_ready(void)
{
    struct pollfd p = {conn, POLLIN, 0};
    int first = starting ? SHARESO_TIMEOUT * 1000 : SHARESO_TAKE_MS;
    int n, unread = 0;

    while ((n = poll(&p, 1, first)) < 0 && errno == EINTR) {
    }
    if (n != 0 || starting) {
        return n < 0 ? -1 : n > 0;
    }
    if (ioctl(conn, SIOCOUTQ, &unread) < 0 || unread > 0) {
        return 0; /* not taken: the holder is stopped or hung */
    }
    while ((n = poll(&p, 1, SHARESO_TIMEOUT * 1000 - first)) < 0 &&
           errno == EINTR) {
    }
    return n < 0 ? -1 : n > 0;
}

/* Receive the holder's answer about r: its op, and the descriptor it
 * carried in *fd (or -1).  Returns the op, or -1 on a failure or an
 * answer about something else. */
static int
receive_op(const inb_shobj_record *r, int *fd)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct inb_holder_msg msg;
    struct iovec iov = {&msg, sizeof(msg)};
    struct msghdr mh = {0};
    struct cmsghdr *c;
    ssize_t n;

    *fd = -1;
    if (answer_ready() <= 0) {
        return -1;
    }
    starting = 0;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof(u.buf);
    do {
        n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (c != NULL && c->cmsg_level == SOL_SOCKET &&
        c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
        memcpy(fd, CMSG_DATA(c), sizeof(int));
    }
    if (n != (ssize_t)sizeof(msg) || (mh.msg_flags & MSG_CTRUNC) != 0 ||
        memcmp(msg.magic, INB_HOLDER_MAGIC, sizeof(msg.magic)) != 0 ||
        msg.size != r->image_size ||
        memcmp(msg.digest, r->digest, sizeof(msg.digest)) != 0 ||
        (msg.op != INB_HOLDER_HAVE && msg.op != INB_HOLDER_MAKE) ||
        (msg.op == INB_HOLDER_HAVE) != (*fd >= 0)) {
        if (*fd >= 0) {
            close(*fd);
            *fd = -1;
        }
        return -1;
    }
    return (int)msg.op;
}

int
inb_shareso_verify(const inb_shobj_record *r, int fd)
{
    unsigned char page[SHARESO_PAGE];
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS), i;

    if (seals < 0 || (seals & INB_HOLDER_SEALS) != INB_HOLDER_SEALS ||
        fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size != r->image_size) {
        return 0;
    }
    for (i = 0; i < SHARESO_SAMPLES; i++) {
        /* From the first page to the last, evenly. */
        size_t off = r->image_size <= SHARESO_PAGE
                         ? 0
                         : (r->image_size - SHARESO_PAGE) * (size_t)i /
                               (SHARESO_SAMPLES - 1);
        size_t len = r->image_size - off < SHARESO_PAGE ? r->image_size - off
                                                        : SHARESO_PAGE;

        if (pread(fd, page, len, (off_t)off) != (ssize_t)len ||
            memcmp(page, r->image + off, len) != 0) {
            return 0;
        }
    }
    return 1;
}

int
inb_shareso_get(const inb_shobj_record *r, int *fd)
{
    int op;

    *fd = -1;
    if (!enabled || disabled || holder() < 0) {
        return -1;
    }
    if (send_op(r, INB_HOLDER_GET, -1) < 0) {
        give_up();
        return -1;
    }
    op = receive_op(r, fd);
    if (op == INB_HOLDER_MAKE) {
        return 0;
    }
    if (op == INB_HOLDER_HAVE && inb_shareso_verify(r, *fd)) {
        return 1;
    }
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    give_up();
    return -1;
}

void
inb_shareso_offer(const inb_shobj_record *r, int fd)
{
    if (fd < 0 || conn < 0 || !conn_is_ours() ||
        send_op(r, INB_HOLDER_PUT, fd) < 0) {
        give_up();
    }
}
