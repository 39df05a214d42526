/* shareso.h: one sealed memory file per shared-object image per node,
 * obtained from the user's holder process (holder.c). */
#ifndef INB_SHARESO_H
#define INB_SHARESO_H

#include "inb.h"
#include "records.h"

/* Allow this process to start a holder: only an executable whose main()
 * starts with inb_holder_run() may, as the holder is this executable
 * started again.  Until called, inb_shareso_get() answers -1. */
INB_HIDDEN void inb_shareso_enable(int idle_seconds);

/* Ask the holder for the image of r.  Returns 1 with a descriptor of a
 * sealed memory file holding exactly that image in *fd (the caller owns
 * it); 0 when this process is to make the memory file and pass it to
 * inb_shareso_offer() (other processes wait for it); -1 when the image
 * cannot be shared now (no holder could be reached, another user holds
 * the name, a time-out): make a private one.  After a failure the process
 * stops asking. */
INB_HIDDEN int inb_shareso_get(const inb_shobj_record *r, int *fd);

/* Answer a 0 of inb_shareso_get() for r: fd is the sealed memory file now
 * made (the caller keeps it), or -1 when it could not be made (the holder
 * asks another process). */
INB_HIDDEN void inb_shareso_offer(const inb_shobj_record *r, int fd);

/* Whether the sealed memory file fd holds the image of r: the seals that
 * make it immutable, its size and samples of its content (see
 * shareso.c).  Returns 1 or 0. */
INB_HIDDEN int inb_shareso_verify(const inb_shobj_record *r, int fd);

#endif
