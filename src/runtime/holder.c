/* holder.c: the holder, one process per user per node that keeps one
 * sealed memory file per shared-object image, so that every process of the
 * node that loads the image maps the same pages.
 *
 * The first process of a user that needs an image and finds no holder
 * binds the holder's abstract Unix socket (the name carries the user id
 * and a protocol version: "inbuilt-so.1.UID"), listens, and starts the
 * executable again (/proc/self/exe) with argv INB_HOLDER_ARGV0, the
 * socket's descriptor and the idle seconds (shareso.c).  Binding the name
 * is the lock: of processes starting together exactly one binds it, the
 * others connect.  The holder forks once more so that it belongs to no
 * job (its parent exits and the starting process reaps it), starts a
 * session, closes every descriptor but the socket (the job's stdout and
 * stderr pipes, which mpirun and srun wait for), moves to / (its working
 * directory may be on a shared filesystem), and serves:
 *
 *   GET of an image it has       -> HAVE with the memory file's descriptor
 *   GET of an image nobody makes -> MAKE: the asker writes and seals a
 *                                   memory file and PUTs it
 *   GET of an image being made   -> no answer until the maker PUTs it
 *                                   (then HAVE), or disconnects before
 *                                   (then MAKE to one of the waiters)
 *   PUT                          -> kept when it is the image asked for,
 *                                   of its size, with INB_HOLDER_SEALS
 *
 * Processes keep their connection for their lifetime; connections of
 * other users (SO_PEERCRED) are closed at once, and any message that is
 * not one of the above ends its connection.  When no process has been
 * connected for the idle seconds, the holder closes the socket (the name
 * is free again) and exits; the memory of an image is freed when the last
 * process that maps it ends.  Nothing is written to any filesystem.
 *
 * Abstract socket names belong to a network namespace: processes in
 * containers with their own namespace get their own holder.
 */
#define _GNU_SOURCE
#include "holder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

/* An image: its memory file, or who is making it. */
struct image {
    char digest[16];
    uint64_t size;
    int fd;     /* the sealed memory file, or -1 */
    long maker; /* the id of the connection making it, or -1 */
};

/* A connected process. */
struct conn {
    int fd;     /* -1 once closed, until swept */
    long id;    /* unique for the holder's life */
    long image; /* the image it waits for, or -1 */
};

static struct image *images;
static size_t nimages, capimages;
static struct conn *conns;
static size_t nconns, capconns;
static long nextid;

socklen_t
inb_holder_address(struct sockaddr_un *addr, uid_t uid)
{
    int n;

    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    /* sun_path[0] == '\0': an abstract name, no file. */
    n = snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1,
                 "inbuilt-so.1.%lu", (unsigned long)uid);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

int
inb_holder_send(int sock, const struct inb_holder_msg *msg, int fd, int flags)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct iovec iov = {(void *)msg, sizeof(*msg)};
    struct msghdr mh = {0};
    struct cmsghdr *c;
    ssize_t n;

    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof(u.buf);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    do {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*msg) ? 0 : -1;
}

/* Reply op about image i on connection c; a connection that cannot take
 * it is closed. */
static void
reply(struct conn *c, size_t i, enum inb_holder_op op)
{
    struct inb_holder_msg msg = {0};

    memcpy(msg.magic, INB_HOLDER_MAGIC, sizeof(msg.magic));
    msg.op = op;
    msg.size = images[i].size;
    memcpy(msg.digest, images[i].digest, sizeof(msg.digest));
    if (inb_holder_send(c->fd, &msg, op == INB_HOLDER_HAVE ? images[i].fd : -1,
                        MSG_DONTWAIT) < 0) {
        close(c->fd);
        c->fd = -1;
    }
}

/* The image of size and digest; creates an empty one when missing.
 * Returns its index, or -1 when out of memory. */
static long
image_of(uint64_t size, const char *digest)
{
    size_t i;

    for (i = 0; i < nimages; i++) {
        if (images[i].size == size &&
            memcmp(images[i].digest, digest, sizeof(images[i].digest)) == 0) {
            return (long)i;
        }
    }
    if (nimages == capimages) {
        size_t cap = capimages ? 2 * capimages : 64;
        struct image *t = inb_realloc(images, cap * sizeof(*t));

        if (t == NULL) {
            return -1;
        }
        images = t;
        capimages = cap;
    }
    memcpy(images[nimages].digest, digest, sizeof(images[nimages].digest));
    images[nimages].size = size;
    images[nimages].fd = -1;
    images[nimages].maker = -1;
    return (long)nimages++;
}

/* Is fd a sealed memory file of size bytes? */
static int
sealed_of_size(int fd, uint64_t size)
{
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);

    return seals >= 0 && (seals & INB_HOLDER_SEALS) == INB_HOLDER_SEALS &&
           fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
           (uint64_t)st.st_size == size;
}

/* Give image i, now made, to the connections waiting for it. */
static void
serve_waiters(size_t i)
{
    size_t k;

    for (k = 0; k < nconns; k++) {
        if (conns[k].fd >= 0 && conns[k].image == (long)i) {
            conns[k].image = -1;
            reply(&conns[k], i, INB_HOLDER_HAVE);
        }
    }
}

/* Handle one message (and the descriptor it carried, or -1) from
 * connection c.  Returns 0, or -1 when the connection must end. */
static int
handle(struct conn *c, const struct inb_holder_msg *msg, int fd)
{
    long i;

    if (memcmp(msg->magic, INB_HOLDER_MAGIC, sizeof(msg->magic)) != 0 ||
        c->image != -1) {
        return -1; /* another protocol, or a question while waiting */
    }
    i = image_of(msg->size, msg->digest);
    if (i < 0) {
        return -1;
    }
    if (msg->op == INB_HOLDER_GET && fd < 0) {
        if (images[i].fd >= 0) {
            reply(c, (size_t)i, INB_HOLDER_HAVE);
        }
        else if (images[i].maker >= 0) {
            c->image = i;
        }
        else {
            images[i].maker = c->id;
            reply(c, (size_t)i, INB_HOLDER_MAKE);
        }
        return 0;
    }
    if (msg->op == INB_HOLDER_PUT && fd >= 0 && images[i].maker == c->id &&
        images[i].fd < 0 && sealed_of_size(fd, msg->size)) {
        images[i].fd = fd;
        images[i].maker = -1;
        serve_waiters((size_t)i);
        return 0;
    }
    return -1;
}

/* Read one message from connection c and handle it; a connection that
 * ends, fails or breaks the protocol is closed. */
static void
receive(struct conn *c)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } u;
    struct inb_holder_msg msg;
    struct iovec iov = {&msg, sizeof(msg)};
    struct msghdr mh = {0};
    struct cmsghdr *cm;
    int fds[4], nfds = 0, k;
    ssize_t n;

    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof(u.buf);
    n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            size_t len = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (k = 0; k < (int)len && nfds < 4; k++) {
                memcpy(&fds[nfds++], CMSG_DATA(cm) + k * sizeof(int),
                       sizeof(int));
            }
        }
    }
    if (n == (ssize_t)sizeof(msg) && (mh.msg_flags & MSG_CTRUNC) == 0 &&
        nfds <= 1 && handle(c, &msg, nfds == 1 ? fds[0] : -1) == 0) {
        return; /* a PUT's descriptor is now the image's */
    }
    for (k = 0; k < nfds; k++) {
        close(fds[k]);
    }
    close(c->fd);
    c->fd = -1;
}

/* Forget the closed connections; the images they were making go to one
 * of their waiters (MAKE), or to the next process that asks. */
static void
sweep(void)
{
    size_t i, k, w;
    int again = 1;

    while (again) {
        again = 0;
        for (k = 0; k < nconns; k++) {
            if (conns[k].fd >= 0) {
                continue;
            }
            conns[k] = conns[--nconns];
            k--;
            again = 1;
        }
        for (i = 0; i < nimages; i++) {
            int alive = 0;

            if (images[i].maker < 0) {
                continue;
            }
            for (w = 0; w < nconns; w++) {
                alive |= conns[w].id == images[i].maker;
            }
            if (alive) {
                continue;
            }
            images[i].maker = -1;
            for (w = 0; w < nconns; w++) {
                if (conns[w].fd >= 0 && conns[w].image == (long)i) {
                    conns[w].image = -1;
                    images[i].maker = conns[w].id;
                    reply(&conns[w], i, INB_HOLDER_MAKE);
                    if (conns[w].fd < 0) {
                        again = 1; /* it went too: sweep once more */
                    }
                    break;
                }
            }
        }
    }
}

/* Accept the processes waiting to connect: those of this user. */
static void
accept_all(int lsock, int *reserve)
{
    struct ucred cred;
    socklen_t len;
    int fd;

    for (;;) {
        fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE) && *reserve >= 0) {
            /* Out of descriptors: refuse the first in line (it loads
             * privately) rather than spin on it. */
            close(*reserve);
            fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                close(fd);
            }
            *reserve = dup(lsock);
            continue;
        }
        if (fd < 0) {
            return;
        }
        len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
            cred.uid != geteuid()) {
            close(fd);
            continue;
        }
        if (nconns == capconns) {
            size_t cap = capconns ? 2 * capconns : 64;
            struct conn *t = inb_realloc(conns, cap * sizeof(*t));

            if (t == NULL) {
                close(fd);
                continue;
            }
            conns = t;
            capconns = cap;
        }
        conns[nconns].fd = fd;
        conns[nconns].id = nextid++;
        conns[nconns].image = -1;
        nconns++;
    }
}

/* Serve on lsock until nobody has been connected for idle_ms.  Returns
 * when idle, or when poll() fails. */
static void
serve(int lsock, int idle_ms)
{
    struct pollfd *pfd = NULL;
    int reserve = dup(lsock);
    size_t k;
    int n;

    for (;;) {
        struct pollfd *t = inb_realloc(pfd, (nconns + 1) * sizeof(*t));

        if (t == NULL) {
            break;
        }
        pfd = t;
        pfd[0].fd = lsock;
        pfd[0].events = POLLIN;
        for (k = 0; k < nconns; k++) {
            pfd[k + 1].fd = conns[k].fd;
            pfd[k + 1].events = POLLIN;
        }
        n = poll(pfd, nconns + 1, nconns == 0 ? idle_ms : -1);
        if (n == 0) {
            break; /* idle */
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        /* Connections first: a PUT answers waiters before new GETs. */
        for (k = 0; k < nconns; k++) {
            if (pfd[k + 1].revents != 0 && conns[k].fd >= 0) {
                receive(&conns[k]);
            }
        }
        sweep();
        if (pfd[0].revents & POLLIN) {
            accept_all(lsock, &reserve);
        }
    }
    inb_free(pfd);
    if (reserve >= 0) {
        close(reserve);
    }
}

/* Is fd a listening Unix socket? */
static int
is_listening_unix(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);

    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_UNIX) {
        return 0;
    }
    len = sizeof(v);
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

int
inb_holder_run(int argc, char **argv, int *status)
{
    struct rlimit rl;
    char *end;
    long lsock, idle;
    pid_t pid;

    if (argc != 3 || strcmp(argv[0], INB_HOLDER_ARGV0) != 0) {
        return 0;
    }
    errno = 0;
    lsock = strtol(argv[1], &end, 10);
    if (errno != 0 || *end != '\0' || lsock < 0 || lsock > INT_MAX ||
        !is_listening_unix((int)lsock)) {
        return 0;
    }
    idle = strtol(argv[2], &end, 10);
    if (*end != '\0' || idle < 0 || idle > 24 * 3600) {
        idle = 10;
    }
    *status = 0;
    pid = fork();
    if (pid != 0) {
        /* The starting process reaps this one; the holder is adopted. */
        *status = pid < 0 ? 1 : 0;
        return 1;
    }
    setsid();
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (lsock > 0) {
        close_range(0, (unsigned)lsock - 1, 0);
    }
    close_range((unsigned)lsock + 1, ~0U, 0);
    if (chdir("/") < 0) {
        /* Stays where it was started: harmless, and nothing to say. */
    }
    /* One descriptor per connected process and per image. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* accept_all() takes connections until there are none. */
    if (fcntl((int)lsock, F_SETFL, O_NONBLOCK) == 0) {
        serve((int)lsock, (int)(idle * 1000));
    }
    /* Free the name first: a process connecting from now on starts a new
     * holder instead of waiting for this one. */
    close((int)lsock);
    while (nconns > 0) {
        close(conns[--nconns].fd);
    }
    while (nimages > 0) {
        if (images[--nimages].fd >= 0) {
            close(images[nimages].fd);
        }
    }
    inb_free(conns);
    inb_free(images);
    return 1;
}
