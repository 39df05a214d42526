/* Unit tests of src/runtime/shareso.c and holder.c: a real holder (this
 * test program started again, as an executable made by inbuilt would be),
 * in a network namespace of its own so that no other holder of this user
 * answers; processes forked from the test play the other ranks of a
 * node: one asks while another makes, a maker dies before it offers. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "holder.h"
#include "shareso.h"

#define IMAGE_SIZE (5 * 4096 + 123)

static int own_netns;

/* A record of a made-up image of IMAGE_SIZE bytes; seed makes it and its
 * digest differ from the others'. */
static inb_shobj_record
make_record(unsigned char *image, char *digest, int seed)
{
    inb_shobj_record r = {0};
    size_t i;

    for (i = 0; i < IMAGE_SIZE; i++) {
        image[i] = (unsigned char)(i * 7 + (size_t)seed);
    }
    memcpy(image, "\177ELF", 4);
    snprintf(digest, 17, "%016x", seed);
    r.filename = "_test.so";
    r.digest = digest;
    r.image = image;
    r.image_size = IMAGE_SIZE;
    return r;
}

/* A memory file holding size bytes of image; sealed when seal. */
static int
memfd_with(const unsigned char *image, size_t size, int seal)
{
    int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, image, size), (ssize_t)size);
    if (seal) {
        assert_int_equal(fcntl(fd, F_ADD_SEALS, INB_HOLDER_SEALS), 0);
    }
    return fd;
}

static ino_t
inode_of(int fd)
{
    struct stat st;

    assert_int_equal(fstat(fd, &st), 0);
    return st.st_ino;
}

static void
test_address_names_user_and_version(void **state)
{
    struct sockaddr_un a;
    socklen_t len = inb_holder_address(&a, 1234);

    (void)state;
    assert_int_equal(a.sun_family, AF_UNIX);
    assert_int_equal(a.sun_path[0], '\0'); /* abstract: no file */
    assert_string_equal(a.sun_path + 1, "inbuilt-so.1.1234");
    assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 1 +
                              strlen("inbuilt-so.1.1234"));
}

static void
test_run_ignores_other_invocations(void **state)
{
    char *plain[] = {"prog", "-c", "pass", NULL};
    char *stdin_fd[] = {INB_HOLDER_ARGV0, "0", "10", NULL};
    char *junk[] = {INB_HOLDER_ARGV0, "3x", "10", NULL};
    int status = -1;

    (void)state;
    assert_int_equal(inb_holder_run(3, plain, &status), 0);
    /* Descriptor 0 is not a listening socket: a user who names the
     * executable so gets the program, not a holder. */
    assert_int_equal(inb_holder_run(3, stdin_fd, &status), 0);
    assert_int_equal(inb_holder_run(3, junk, &status), 0);
    assert_int_equal(status, -1);
}

static void
test_verify_wants_seals_size_and_content(void **state)
{
    static unsigned char image[IMAGE_SIZE];
    char digest[17];
    inb_shobj_record r = make_record(image, digest, 1);
    int fd;

    (void)state;
    fd = memfd_with(image, IMAGE_SIZE, 1);
    assert_int_equal(inb_shareso_verify(&r, fd), 1);
    close(fd);
    fd = memfd_with(image, IMAGE_SIZE, 0); /* could still change */
    assert_int_equal(inb_shareso_verify(&r, fd), 0);
    close(fd);
    fd = memfd_with(image, IMAGE_SIZE - 1, 1);
    assert_int_equal(inb_shareso_verify(&r, fd), 0);
    close(fd);
    image[IMAGE_SIZE - 1] ^= 1; /* the last page is sampled */
    fd = memfd_with(image, IMAGE_SIZE, 1);
    image[IMAGE_SIZE - 1] ^= 1;
    assert_int_equal(inb_shareso_verify(&r, fd), 0);
    close(fd);
}

/* In a child: ask for the image of seed, say on the pipe what came back
 * (0 make, 1 have) and the inode, then act: offer it (offer), or exit
 * without a word after pause_ms (a maker killed mid-way). */
static pid_t
child_asks(int seed, int offer, int pause_ms, int pipefd)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        static unsigned char image[IMAGE_SIZE];
        char digest[17];
        inb_shobj_record r = make_record(image, digest, seed);
        long out[2] = {-1, 0};
        int fd, rc = inb_shareso_get(&r, &fd);

        if (rc == 0) {
            fd = memfd_with(image, IMAGE_SIZE, 1);
        }
        out[0] = rc;
        out[1] = fd >= 0 ? (long)inode_of(fd) : 0;
        if (write(pipefd, out, sizeof(out)) != sizeof(out)) {
            _exit(2);
        }
        usleep((useconds_t)pause_ms * 1000);
        if (rc == 0 && offer) {
            inb_shareso_offer(&r, fd);
        }
        usleep(200 * 1000); /* still connected while the parent asks */
        _exit(0);
    }
    return pid;
}

static void
read_answer(int pipefd, long *rc, long *ino)
{
    long in[2];

    assert_int_equal(read(pipefd, in, sizeof(in)), sizeof(in));
    *rc = in[0];
    *ino = in[1];
}

static void
test_one_copy_per_node(void **state)
{
    static unsigned char image[IMAGE_SIZE];
    char digest[17];
    inb_shobj_record r;
    int p[2], fd, st;
    long rc, ino;
    pid_t pid;

    (void)state;
    if (!own_netns) {
        skip();
    }
    inb_shareso_enable(1);
    assert_int_equal(pipe(p), 0);

    /* The first asker makes it and offers it; the next gets that one. */
    pid = child_asks(10, 1, 0, p[1]);
    read_answer(p[0], &rc, &ino);
    assert_int_equal(rc, 0);
    r = make_record(image, digest, 10);
    usleep(100 * 1000);
    assert_int_equal(inb_shareso_get(&r, &fd), 1);
    assert_int_equal((long)inode_of(fd), ino);
    close(fd);
    waitpid(pid, &st, 0);

    /* A maker that dies before it offers: the next asker makes it. */
    pid = child_asks(11, 0, 0, p[1]);
    read_answer(p[0], &rc, &ino);
    assert_int_equal(rc, 0);
    waitpid(pid, &st, 0);
    r = make_record(image, digest, 11);
    assert_int_equal(inb_shareso_get(&r, &fd), 0);
    inb_shareso_offer(&r, memfd_with(image, IMAGE_SIZE, 1));

    /* Asking while another process makes it: wait, then get its copy. */
    pid = child_asks(12, 1, 300, p[1]);
    read_answer(p[0], &rc, &ino);
    assert_int_equal(rc, 0);
    r = make_record(image, digest, 12);
    assert_int_equal(inb_shareso_get(&r, &fd), 1);
    assert_int_equal((long)inode_of(fd), ino);
    close(fd);
    waitpid(pid, &st, 0);

    /* Waiting while the maker dies: this process is asked to make it. */
    pid = child_asks(13, 0, 300, p[1]);
    read_answer(p[0], &rc, &ino);
    assert_int_equal(rc, 0);
    r = make_record(image, digest, 13);
    assert_int_equal(inb_shareso_get(&r, &fd), 0);
    fd = memfd_with(image, IMAGE_SIZE, 1);
    inb_shareso_offer(&r, fd);
    waitpid(pid, &st, 0);

    /* A forked child has its own connection, and gets that copy. */
    pid = child_asks(13, 1, 0, p[1]);
    read_answer(p[0], &rc, &ino);
    assert_int_equal(rc, 1);
    assert_int_equal((long)inode_of(fd), ino);
    close(fd);
    waitpid(pid, &st, 0);
    close(p[0]);
    close(p[1]);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_names_user_and_version),
        cmocka_unit_test(test_run_ignores_other_invocations),
        cmocka_unit_test(test_verify_wants_seals_size_and_content),
        cmocka_unit_test(test_one_copy_per_node),
    };
    int status;

    /* Started again as the holder, as an executable's main() does. */
    if (inb_holder_run(argc, argv, &status)) {
        return status;
    }
    own_netns = unshare(CLONE_NEWNET) == 0;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
