/* server.h: the one simulated metadata server that every mount of an mdsfs
 * process shares: K slots, each busy for a set time per request. */
#ifndef MDSFS_SERVER_H
#define MDSFS_SERVER_H

#include <pthread.h>
#include <stdint.h>

/* A thread queued for a slot; lives on that thread's stack. */
struct server_waiter;

/* A counting semaphore with FIFO hand-off and virtual service times. */
struct server {
    pthread_mutex_t lock;
    unsigned idle;               /* slots free right now */
    struct server_waiter *head;  /* oldest waiter, or NULL */
    struct server_waiter **tail; /* where the next waiter is linked */
    int stopping;                /* set by server_stop: holds are free */
};

/* Set up s with `slots` slots (at least 1).  Returns 0, or an errno value. */
int server_init(struct server *s, unsigned slots);
/* Release what server_init allocated; no thread may be using s. */
void server_fini(struct server *s);
/* Occupy one slot for `ns` nanoseconds, queueing first if all are busy.
 * Returns the nanoseconds spent queued before service began. */
uint64_t server_hold(struct server *s, uint64_t ns);
/* Make every current and future server_hold return without waiting. */
void server_stop(struct server *s);
/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t server_now(void);

#endif
