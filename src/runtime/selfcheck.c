/* selfcheck.c: the executable checks its own file.
 *
 * A copy cut short: the builder puts the archive in the last segment of
 * the file (src/builder/link.c), so a short copy still starts, and the
 * pages past the file's end raise SIGBUS when read.  Reading the archive's
 * last byte once, under a SIGBUS handler that jumps back, tells whether
 * the archive is all there, without a filesystem call (an fstat() of the
 * executable would ask the shared filesystem's metadata server, once per
 * process).  A cut inside the archive's last page is not seen here (the
 * kernel shows zeros there); the checksum of each entry catches it when
 * the entry is used.
 *
 * The whole check (INBUILT_VERIFY=1) reads /proc/self/exe and runs
 * src/common/seal.c's inb_seal_verify() on it, like `inbuilt verify`. */
#include "selfcheck.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"

static sigjmp_buf probe_jump;

static void
on_sigbus(int sig)
{
    (void)sig;
    siglongjmp(probe_jump, 1);
}

int
inb_selfcheck_readable(const volatile unsigned char *p)
{
    struct sigaction sa, old;
    int readable = 1;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &old) < 0) {
        return 1; /* cannot probe: let the checksums speak */
    }
    if (sigsetjmp(probe_jump, 1) == 0) {
        (void)*p;
    }
    else {
        readable = 0;
    }
    sigaction(SIGBUS, &old, NULL);
    return readable;
}

int
inb_selfcheck_verify(void (*report)(void *ctx, const char *line), void *ctx,
                     uint32_t *entries, size_t *size)
{
    struct stat st;
    void *file;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), problems;

    *entries = 0;
    *size = 0;
    if (fd < 0) {
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    file = st.st_size > 0
               ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
               : MAP_FAILED;
    close(fd);
    if (file == MAP_FAILED) {
        problems = inb_seal_verify((const unsigned char *)"", 0, report, ctx,
                                   entries);
        return problems;
    }
    problems = inb_seal_verify(file, (size_t)st.st_size, report, ctx, entries);
    munmap(file, (size_t)st.st_size);
    return problems;
}
