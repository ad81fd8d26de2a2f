#include "ship/shared.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/banned.h"

int cw_ship_shared_init(struct cw_ship_shared *sh)
{
    memset(sh, 0, sizeof(*sh));
    if (pipe2(sh->wake_fd, O_CLOEXEC | O_NONBLOCK))
        return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int r = pthread_cond_init(&sh->wake_sender, &ca);
    pthread_condattr_destroy(&ca);
    if (r || pthread_mutex_init(&sh->mu, NULL)) {
        close(sh->wake_fd[0]);
        close(sh->wake_fd[1]);
        return -1;
    }
    return 0;
}

void cw_ship_shared_release(struct cw_ship_shared *sh)
{
    pthread_mutex_destroy(&sh->mu);
    pthread_cond_destroy(&sh->wake_sender);
    close(sh->wake_fd[0]);
    close(sh->wake_fd[1]);
}

void cw_ship_shared_wake_reader(struct cw_ship_shared *sh)
{
    int e = errno;
    ssize_t w = write(sh->wake_fd[1], "w", 1); /* a full pipe already means "wake up" */
    (void)w;
    errno = e;
}

void cw_ship_shared_wake_sender(struct cw_ship_shared *sh)
{
    pthread_mutex_lock(&sh->mu);
    sh->sender_kick = true;
    pthread_cond_signal(&sh->wake_sender);
    pthread_mutex_unlock(&sh->mu);
}

void cw_ship_shared_center(struct cw_ship_shared *sh, bool up, const char *why)
{
    pthread_mutex_lock(&sh->mu);
    bool changed = sh->center_since_us == 0 || sh->center_up != up ||
                   (!up && strcmp(sh->center_why, why) != 0);
    if (changed) {
        sh->center_up = up;
        sh->center_since_us = cw_now_us();
        snprintf(sh->center_why, sizeof(sh->center_why), "%s", why);
    }
    pthread_mutex_unlock(&sh->mu);
    if (changed && up)
        cw_info("center is up: %s", why);
    else if (changed)
        cw_warn("center is down: %s; spooling and retrying", why);
}
