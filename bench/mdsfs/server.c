/* server.c: the simulated metadata server.
 *
 * A real parallel filesystem has one metadata server (MDS) that every client
 * node talks to; it serves a bounded number of requests at once and each one
 * costs it some time.  Here that is a counting semaphore of K slots: a request
 * takes a slot, keeps it for its service time, and gives it back, so the
 * server completes at most K/L requests per second for a latency L, however
 * many mounts (nodes) and processes ask.
 *
 * Waiters queue in arrival order and a freed slot is handed directly to the
 * oldest one (no thundering herd, no overtaking), as an MDS request queue
 * would serve them.  Service is timed on a virtual clock: a slot handed over
 * begins its next service at the previous holder's deadline (or the waiter's
 * arrival, if later), not at the moment the waiter happened to be scheduled.
 * Wake-up jitter therefore never stretches or shrinks the server's capacity,
 * and consecutive requests on one slot never overlap: N requests through one
 * slot span at least N * L of wall time.
 *
 * Sleeps use clock_nanosleep on CLOCK_MONOTONIC absolute deadlines; the
 * caller (main) sets the timer slack to 1 ns before any thread is created so
 * that every thread inherits it and a 20 us sleep is not rounded to 70 us.
 */
#include "server.h"

#include <errno.h>
#include <time.h>

struct server_waiter {
    struct server_waiter *next;
    pthread_cond_t cond;
    int state;      /* WAITING, GRANTED or STOPPED */
    uint64_t start; /* set with GRANTED: the previous holder's deadline */
};

enum { WAITING, GRANTED, STOPPED };

uint64_t
server_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
server_init(struct server *s, unsigned slots)
{
    int err;

    if (slots == 0) {
        return EINVAL;
    }
    err = pthread_mutex_init(&s->lock, NULL);
    if (err != 0) {
        return err;
    }
    s->idle = slots;
    s->head = NULL;
    s->tail = &s->head;
    s->stopping = 0;
    return 0;
}

void
server_fini(struct server *s)
{
    pthread_mutex_destroy(&s->lock);
}

/* Give back a slot whose service ended (virtually) at `deadline`: hand it to
 * the oldest waiter, or mark it idle.  Called with s->lock held. */
static void
release_locked(struct server *s, uint64_t deadline)
{
    struct server_waiter *w = s->head;

    if (w == NULL) {
        s->idle++;
        return;
    }
    s->head = w->next;
    if (s->head == NULL) {
        s->tail = &s->head;
    }
    w->start = deadline;
    w->state = GRANTED;
    pthread_cond_signal(&w->cond);
}

/* Sleep until the CLOCK_MONOTONIC instant `deadline` (ns), unless the server
 * is stopped meanwhile. */
static void
sleep_until(struct server *s, uint64_t deadline)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(deadline / 1000000000u);
    ts.tv_nsec = (long)(deadline % 1000000000u);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
           EINTR) {
        if (__atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
            break;
        }
    }
}

uint64_t
server_hold(struct server *s, uint64_t ns)
{
    struct server_waiter w;
    uint64_t arrival, start;

    /* Arrival is read under the lock, hence after any release so far: a
     * slot found idle finished its last service (its deadline) before. */
    pthread_mutex_lock(&s->lock);
    arrival = start = server_now();
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    if (s->idle > 0 && s->head == NULL) {
        s->idle--;
    }
    else {
        pthread_cond_init(&w.cond, NULL);
        w.state = WAITING;
        w.next = NULL;
        *s->tail = &w;
        s->tail = &w.next;
        while (w.state == WAITING) {
            pthread_cond_wait(&w.cond, &s->lock);
        }
        pthread_cond_destroy(&w.cond);
        if (w.state == STOPPED) {
            pthread_mutex_unlock(&s->lock);
            return 0;
        }
        if (w.start > arrival) {
            start = w.start;
        }
    }
    pthread_mutex_unlock(&s->lock);

    sleep_until(s, start + ns);

    pthread_mutex_lock(&s->lock);
    release_locked(s, start + ns);
    pthread_mutex_unlock(&s->lock);
    return start - arrival;
}

void
server_stop(struct server *s)
{
    struct server_waiter *w, *next;

    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
    for (w = s->head; w != NULL; w = next) {
        next = w->next;
        w->state = STOPPED;
        pthread_cond_signal(&w->cond);
    }
    s->head = NULL;
    s->tail = &s->head;
    pthread_mutex_unlock(&s->lock);
}
