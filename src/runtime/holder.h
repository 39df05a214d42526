/* holder.h: the per-user, per-node process that keeps one sealed memory
 * file per shared-object image and hands it to the processes that load it
 * (see holder.c), and the messages it exchanges with them. */
#ifndef INB_HOLDER_H
#define INB_HOLDER_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "inb.h"

/* argv[0] of a holder, as started by shareso.c. */
#define INB_HOLDER_ARGV0 "inbuilt-so-holder"

/* What a message asks or answers. */
enum inb_holder_op {
    INB_HOLDER_GET = 1, /* process -> holder: the image named, please */
    INB_HOLDER_PUT,     /* process -> holder: here it is (one descriptor) */
    INB_HOLDER_HAVE,    /* holder -> process: here it is (one descriptor) */
    INB_HOLDER_MAKE,    /* holder -> process: nobody has it, make and PUT it */
};

/* One message: one SOCK_SEQPACKET packet of exactly this size, in the byte
 * order of the node (both ends run on it).  An image is known by its size
 * and its digest (the record's 16 hex digits); name is only the memory
 * file's name, shown in /proc/PID/maps. */
struct inb_holder_msg {
    char magic[8]; /* INB_HOLDER_MAGIC */
    uint32_t op;   /* enum inb_holder_op */
    uint32_t reserved;
    uint64_t size;
    char digest[16];
    char name[64]; /* NUL-terminated */
};

/* Changed whenever the messages or the address change, so that holders of
 * two versions of inbuilt on one node never talk. */
#define INB_HOLDER_MAGIC "inbso\0\0\1"

/* The seals every image carries: its content can no longer change. */
#define INB_HOLDER_SEALS \
    (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* Write the holder's abstract socket address for user uid into addr;
 * returns the length to pass to bind() or connect(). */
INB_HIDDEN socklen_t inb_holder_address(struct sockaddr_un *addr, uid_t uid);

/* Send msg on sock, with descriptor fd unless it is -1 (SCM_RIGHTS), and
 * flags besides MSG_NOSIGNAL.  Returns 0, or -1 with errno set. */
INB_HIDDEN int inb_holder_send(int sock, const struct inb_holder_msg *msg,
                               int fd, int flags);

/* When argv is a holder's invocation (argv[0] INB_HOLDER_ARGV0, argv[1]
 * the number of a listening Unix socket descriptor, argv[2] the idle
 * seconds), detach and serve on that socket until idle, then return 1 with
 * the exit status in *status; return 0 at once otherwise. */
INB_HIDDEN int inb_holder_run(int argc, char **argv, int *status);

#endif
