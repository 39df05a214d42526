/* verify.c: `inbuilt verify EXE...`: map each file and check it with
 * src/common/seal.c (its size, the loaded segments outside the archive,
 * the archive's tables and every entry), as the executable does itself
 * with INBUILT_VERIFY=1. */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"
#include "util.h"

/* A problem of the file named ctx, on a line of its own. */
static void
print_problem(void *ctx, const char *line)
{
    printf("%s: %s\n", (const char *)ctx, line);
}

/* Check one file; returns 0 whole, 1 damaged, 2 unreadable. */
static int
verify_file(const char *path)
{
    struct stat st;
    void *file = MAP_FAILED;
    uint32_t entries;
    int fd = open(path, O_RDONLY | O_CLOEXEC), problems;

    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "%s: %s: %s\n", inb_argv0, path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return 2;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "%s: %s: not a regular file\n", inb_argv0, path);
        close(fd);
        return 2;
    }
    if (st.st_size > 0) {
        file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (file == MAP_FAILED) {
            fprintf(stderr, "%s: cannot map %s: %s\n", inb_argv0, path,
                    strerror(errno));
            close(fd);
            return 2;
        }
    }
    close(fd);
    problems = inb_seal_verify(file != MAP_FAILED ? file : (const void *)"",
                               (size_t)st.st_size, print_problem, (void *)path,
                               &entries);
    if (file != MAP_FAILED) {
        munmap(file, (size_t)st.st_size);
    }
    if (problems > 0) {
        printf("%s: damaged (%d problem%s): copy it again or rebuild it\n",
               path, problems, problems == 1 ? "" : "s");
        return 1;
    }
    printf("%s: ok: %lld bytes, %u archive entries checked\n", path,
           (long long)st.st_size, (unsigned)entries);
    return 0;
}

int
inb_verify_main(int argc, char **argv)
{
    int i, rc, worst = 0;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs("usage: inbuilt verify EXE...\n"
              "Check executables built by inbuilt against what was built: "
              "their size,\nmachine code and static data, and every entry "
              "of their archive.\nExit status 0: all whole; 1: one is "
              "damaged; 2: one cannot be read.\n(An executable checks "
              "itself the same way when run with INBUILT_VERIFY=1.)\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (i = 1; i < argc; i++) {
        rc = verify_file(argv[i]);
        if (rc > worst) {
            worst = rc;
        }
    }
    fflush(stdout);
    return worst;
}
