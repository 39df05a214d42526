/* nomemfd: run a command in which memfd_create(2) fails with EPERM, as it
 * does under a container's or a hardened system's seccomp policy.  The end-
 * to-end tests use it to check that an executable falls back to its cache
 * directory for real, not through a test-only switch.
 *
 * Usage: nomemfd COMMAND [ARG...]
 * Exits 127 when the filter cannot be installed or COMMAND cannot run. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    scmp_filter_ctx ctx;
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: nomemfd COMMAND [ARG...]\n");
        return 2;
    }
    /* Everything is allowed but memfd_create; seccomp_load() also sets
     * no_new_privs, so no privilege is needed. */
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) {
        fprintf(stderr, "nomemfd: seccomp_init failed\n");
        return 127;
    }
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(memfd_create),
                          0);
    if (rc == 0) {
        rc = seccomp_load(ctx);
    }
    seccomp_release(ctx);
    if (rc != 0) {
        fprintf(stderr, "nomemfd: cannot install the filter: %s\n",
                strerror(-rc));
        return 127;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "nomemfd: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
